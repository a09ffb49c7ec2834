"""Choosing and configuring the backend from settings."""

from __future__ import annotations

from typing import Any

import pytest

from marketplace.orders.payments import (
    PAYMENT_SETTINGS,
    PaymentConfigError,
    SandboxBackend,
    StripeBackend,
    payment_backend_from_settings,
    platform_fee_bps_from_settings,
)
from marketplace.orders.payments.factory import platform_fee

BASE = {"SECRET_KEY": "x" * 40, "BASE_URL": "http://localhost:5000"}


def test_no_stripe_key_means_the_sandbox() -> None:
    backend = payment_backend_from_settings({**BASE, "STRIPE_SECRET_KEY": ""})
    assert isinstance(backend, SandboxBackend) and backend.is_sandbox
    assert backend.base_url == "http://localhost:5000"


def test_the_sandbox_secret_is_its_own_setting_or_the_secret_key() -> None:
    a = payment_backend_from_settings({**BASE, "SANDBOX_PAYMENTS_SECRET": "s" * 32})
    b = payment_backend_from_settings(BASE)
    assert isinstance(a, SandboxBackend) and isinstance(b, SandboxBackend)
    assert a.webhook_secret != b.webhook_secret


def test_a_stripe_key_means_stripe() -> None:
    backend = payment_backend_from_settings(
        {
            **BASE,
            "STRIPE_SECRET_KEY": "sk_test_abc",
            "STRIPE_WEBHOOK_SECRET": "whsec_abc",
            "STRIPE_CONNECT_WEBHOOK_SECRET": "whsec_connect",
            "STRIPE_API_BASE": "http://127.0.0.1:12111/",
            "STRIPE_WEBHOOK_TOLERANCE": "120",
        }
    )
    assert isinstance(backend, StripeBackend) and not backend.is_sandbox
    assert backend.api_base == "http://127.0.0.1:12111"


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"STRIPE_SECRET_KEY": "sk_test_abc"}, "STRIPE_WEBHOOK_SECRET"),
        ({"STRIPE_SECRET_KEY": "pk_test_abc", "STRIPE_WEBHOOK_SECRET": "whsec_x"}, "STRIPE_SECRET_KEY"),
        ({"STRIPE_SECRET_KEY": "sk_test_abc", "STRIPE_WEBHOOK_SECRET": "abc"}, "STRIPE_WEBHOOK_SECRET"),
        (
            {"STRIPE_SECRET_KEY": "sk_x", "STRIPE_WEBHOOK_SECRET": "whsec_x", "STRIPE_CONNECT_WEBHOOK_SECRET": "c"},
            "STRIPE_CONNECT_WEBHOOK_SECRET",
        ),
        ({"STRIPE_SECRET_KEY": "sk_x", "STRIPE_WEBHOOK_SECRET": "whsec_x", "STRIPE_API_BASE": "ftp://x"}, "API_BASE"),
        ({"STRIPE_WEBHOOK_TOLERANCE": "soon"}, "STRIPE_WEBHOOK_TOLERANCE"),
        ({"STRIPE_WEBHOOK_TOLERANCE": "0"}, "STRIPE_WEBHOOK_TOLERANCE"),
        ({"SECRET_KEY": None}, "SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"BASE_URL": ""}, "BASE_URL"),
    ],
)
def test_bad_settings_are_refused_by_name(settings: dict[str, Any], named: str) -> None:
    with pytest.raises(PaymentConfigError, match=named):
        payment_backend_from_settings({**BASE, **settings})


def test_platform_fee_setting() -> None:
    assert platform_fee_bps_from_settings({}) == PAYMENT_SETTINGS["PLATFORM_FEE_BPS"][0] == 1000
    assert platform_fee_bps_from_settings({"PLATFORM_FEE_BPS": "250"}) == 250
    with pytest.raises(PaymentConfigError, match="PLATFORM_FEE_BPS"):
        platform_fee_bps_from_settings({"PLATFORM_FEE_BPS": "12000"})
    assert platform_fee(2000, 250) == 50


def test_every_setting_says_why() -> None:
    assert all(why.strip() for _, why in PAYMENT_SETTINGS.values())
