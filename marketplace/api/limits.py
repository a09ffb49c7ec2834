"""Rate limits of the API with flask-limiter: per credential and per address, from the settings.

Counters live in Redis when ``REDIS_URL`` is set (shared by every worker), else in the process's memory. A 429
carries ``Retry-After`` and the ``X-RateLimit-*`` headers, in the API's error shape. If Redis cannot be reached the
limiter falls back to memory rather than failing requests.
"""

from __future__ import annotations

import logging
import time

from flask import Flask, current_app, request
from flask_limiter import Limiter
from limits.storage import MemoryStorage

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


class SweptMemoryStorage(MemoryStorage):
    """The process's counters (``marketplace-memory://``): limits' in-memory storage, whose expired counters are
    swept at most once a second by the request that finds a sweep due, instead of by a timer thread started whenever
    none is running (with requests more than 10 ms apart, a new thread for nearly every request). A counter past its
    expiry counts as zero when read either way, so the limits are the same."""

    STORAGE_SCHEME = ["marketplace-memory"]
    SWEEP_SECONDS = 1.0
    _swept = 0.0

    def _MemoryStorage__schedule_expiry(self) -> None:  # replaces the timer of MemoryStorage.incr and the others
        now = time.monotonic()
        if now - self._swept >= self.SWEEP_SECONDS:
            self._swept = now
            self._MemoryStorage__expire_events()  # type: ignore[attr-defined]


MEMORY = "marketplace-memory://"


def init_limiter(app: Flask) -> Limiter:
    storage = str(app.config.get("REDIS_URL") or "") or MEMORY
    if storage == MEMORY and app.config.get("MARKETPLACE_ENV") == "production":
        log.warning("REDIS_URL is not set: each worker process counts API rate limits on its own")
    limiter = Limiter(
        key_func=_address,
        app=app,
        storage_uri=storage,
        headers_enabled=True,
        strategy="fixed-window",
        key_prefix=str(app.config.get("RATELIMIT_KEY_PREFIX", "marketplace")),
        in_memory_fallback_enabled=storage != MEMORY,
        default_limits=[],
    )
    # Only these blueprints have limits: every other request (the site's pages) skips the limiter's per-request
    # work of finding which limits apply (none).
    limited = frozenset({bp.name, oauth_bp.name})
    limiter.request_filter(lambda: request.blueprint not in limited)
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
