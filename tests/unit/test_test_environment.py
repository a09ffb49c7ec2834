"""The suite never reads the developer's environment for services: a ``REDIS_URL`` (or Stripe key, S3 bucket,
database URL, production switch) exported in the shell must not reach the applications the tests build."""

from __future__ import annotations

import os

from flask import Flask

from marketplace.config import SETTINGS
from tests.conftest import forget_service_environment


def test_every_setting_and_sdk_variable_is_forgotten_and_test_variables_are_kept() -> None:
    environ = {
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "STRIPE_SECRET_KEY": "sk_live_x",
        "STRIPE_WEBHOOK_SECRET": "whsec_x",
        "S3_BUCKET": "real-bucket",
        "DATABASE_URL": "postgresql://prod/db",
        "MARKETPLACE_ENV": "production",
        "SECRET_KEY": "developer-secret",
        "AWS_PROFILE": "prod",
        "TEST_DATABASE_URL": "postgresql://postgres@127.0.0.1/test_x",
        "TEST_REDIS_URL": "redis://127.0.0.1:6379/15",
        "HOME": "/home/dev",
    }
    removed = forget_service_environment(environ)
    assert environ == {
        "TEST_DATABASE_URL": "postgresql://postgres@127.0.0.1/test_x",
        "TEST_REDIS_URL": "redis://127.0.0.1:6379/15",
        "HOME": "/home/dev",
    }
    assert "REDIS_URL" in removed and "AWS_PROFILE" in removed


def test_no_setting_is_left_in_the_process_environment() -> None:
    assert not [setting.name for setting in SETTINGS if setting.name in os.environ]


def test_the_test_app_counts_rate_limits_in_its_own_memory(app: Flask) -> None:
    # With REDIS_URL exported by the developer, counters used to go to that shared Redis and leak between tests.
    assert app.config["REDIS_URL"] == ""
    assert app.config["MARKETPLACE_ENV"] == "development"
    assert app.extensions["marketplace.context"].payments.is_sandbox
