"""Rate limits of the API with flask-limiter: per credential and per address, from the settings.

Counters live in Redis when ``REDIS_URL`` is set (shared by every worker), else in the process's memory. A 429
carries ``Retry-After`` and the ``X-RateLimit-*`` headers, in the API's error shape. If Redis cannot be reached the
limiter falls back to memory rather than failing requests.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app
from flask_limiter import Limiter

from marketplace.api.core import bp, credential_rate_key
from marketplace.oauth.server import bp as oauth_bp
from marketplace.web import client_ip

log = logging.getLogger(__name__)


def _address() -> str:
    return f"ip:{client_ip()}"


def _per_key() -> str:
    return str(current_app.config["API_RATE_LIMIT_PER_KEY"])


def _per_address() -> str:
    return str(current_app.config["API_RATE_LIMIT_PER_ADDRESS"])


def init_limiter(app: Flask) -> Limiter:
    storage = str(app.config.get("REDIS_URL") or "") or "memory://"
    if storage == "memory://" and app.config.get("MARKETPLACE_ENV") == "production":
        log.warning("REDIS_URL is not set: each worker process counts API rate limits on its own")
    limiter = Limiter(
        key_func=_address,
        app=app,
        storage_uri=storage,
        headers_enabled=True,
        strategy="fixed-window",
        key_prefix=str(app.config.get("RATELIMIT_KEY_PREFIX", "marketplace")),
        in_memory_fallback_enabled=storage != "memory://",
        default_limits=[],
    )
    limiter.shared_limit(_per_address, scope="api-address", key_func=_address)(bp)
    limiter.shared_limit(_per_address, scope="api-address", key_func=_address)(oauth_bp)
    limiter.shared_limit(
        _per_key,
        scope="api-credential",
        key_func=credential_rate_key,
        exempt_when=lambda: credential_rate_key() == "",
    )(bp)
    app.extensions["marketplace.limiter"] = limiter
    return limiter
