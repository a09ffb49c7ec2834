"""The settings that must not reach production: :func:`unsafe_for_production` names each one (a placeholder or
too-short secret key, a Stripe test key, SQLite, console mail, local storage, plain http…) with what to change.
The application refuses to start in ``MARKETPLACE_ENV=production`` while any is left.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

DEFAULT_SECRET_MARKERS = ("dev", "change-me", "changeme", "secret")
# Words that give a secret away as a placeholder copied from an example (`changeme-…`, `replace-with-…`), looked for
# in the lower-cased key without separators; each is long enough not to turn up in a random key.
PLACEHOLDER_SECRET_WORDS = (
    "changeme",
    "replace",
    "placeholder",
    "example",
    "insecure",
    "notsecret",
    "yoursecret",
    "secretkey",
    "dummy",
    "fixme",
    "password",
    "default",
)
# A random key of 32 or more characters has far more distinct characters than this; "k" * 40 does not.
MIN_DISTINCT_SECRET_CHARACTERS = 10
STRIPE_TEST_KEY = re.compile(r"^(sk|rk)_test_")


def unsafe_for_production(settings: Mapping[str, Any]) -> list[str]:
    """Return one message per setting that must not be used with ``MARKETPLACE_ENV=production``.

    Each message starts with the setting's name, so an operator knows exactly what to change; no message repeats
    a secret's value.
    """
    from marketplace.crypto import key_material_problems

    problems = [problem for problem in (_secret_key_problem(settings), _stripe_key_problem(settings)) if problem]
    problems += key_material_problems(settings, required=True)
    if str(settings.get("DATABASE_URL", "")).startswith("sqlite"):
        problems.append("DATABASE_URL points at SQLite: production runs on PostgreSQL")
    if settings.get("MAIL_BACKEND") == "console":
        problems.append("MAIL_BACKEND is `console`: production must send real mail (`smtp`)")
    if settings.get("PASSWORD_HASHER_PROFILE") == "CHEAPEST":
        problems.append("PASSWORD_HASHER_PROFILE is `CHEAPEST`: it is for tests only")
    if not settings.get("LICENSE_SIGNING_KEY") and not settings.get("LICENSE_SIGNING_KEY_FILE"):
        problems.append(
            "LICENSE_SIGNING_KEY is not set (nor LICENSE_SIGNING_KEY_FILE): production signs licenses with its own key"
        )
    if str(settings.get("STORAGE_BACKEND", "local")).lower() == "local":
        problems.append("STORAGE_BACKEND is `local`: production keeps dataset files in S3 (`s3`)")
    if str(settings.get("BASE_URL", "")).startswith("http://"):
        problems.append("BASE_URL uses http://: production must be served over https")
    workers = int(settings.get("WEB_CONCURRENCY") or 1)
    if workers > 1 and not settings.get("REDIS_URL"):
        problems.append(
            f"REDIS_URL is not set with WEB_CONCURRENCY={workers}: each worker would keep its own rate-limit "
            "counters (a client would get several times the limit); set REDIS_URL or run one worker"
        )
    token = str(settings.get("METRICS_TOKEN") or "")
    if token and len(token) < 32:
        problems.append("METRICS_TOKEN is shorter than 32 characters: set a random token or leave it empty")
    if not settings.get("JOB_BROKER_URL"):
        problems.append(
            "JOB_BROKER_URL is not set: production runs background jobs on `marketplace worker` through Redis"
        )
    if settings.get("PUBLISH_DECLARED_MANIFESTS"):
        problems.append(
            "PUBLISH_DECLARED_MANIFESTS is true: production publishes only uploaded, verified files; unset it"
        )
    return problems


def _secret_key_problem(settings: Mapping[str, Any]) -> str | None:
    key = str(settings.get("SECRET_KEY") or "")
    if not key:
        return "SECRET_KEY is not set: production needs its own secret key (at least 32 characters)"
    squashed = re.sub(r"[^a-z0-9]", "", key.lower())
    if (
        settings.get("SECRET_KEY_GENERATED")
        or key.lower() in DEFAULT_SECRET_MARKERS
        or any(word in squashed for word in PLACEHOLDER_SECRET_WORDS)
        or len(set(key)) < MIN_DISTINCT_SECRET_CHARACTERS
    ):
        return (
            "SECRET_KEY looks like a placeholder or default: set a random value of at least 32 characters "
            "(python -c 'import secrets; print(secrets.token_urlsafe(48))')"
        )
    if len(key) < 32:
        return "SECRET_KEY is too short: set a random value of at least 32 characters"
    return None


def _stripe_key_problem(settings: Mapping[str, Any]) -> str | None:
    key = str(settings.get("STRIPE_SECRET_KEY") or "")
    if not key:
        return "STRIPE_SECRET_KEY is not set: production refuses the sandbox payment backend"
    if STRIPE_TEST_KEY.match(key):
        return f"STRIPE_SECRET_KEY is a test-mode key ({key[:8]}…): production takes payments with a live key"
    return None
