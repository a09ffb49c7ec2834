"""Probes for the process manager and the load balancer: ``/healthz`` (liveness) and ``/readyz`` (readiness).

``/healthz`` answers 200 whenever the process serves requests and touches nothing else, so an orchestrator does
not restart healthy processes because the database is down. ``/readyz`` checks each backend a request may need
(the database always; Redis when ``REDIS_URL`` is set; object storage; the job queue's broker) and answers 200
when every one answers, 503 with ``Retry-After`` otherwise, with one JSON entry per component:
``{"status": "ready", "checks": {"database": {"status": "ok", "ms": 1.2}, ...}}``. A failed check names the
exception's class only; the details (host names, addresses) go to the log, not to a public endpoint.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Flask, current_app, jsonify
from werkzeug.wrappers import Response

from marketplace.errors import DatabaseUnavailable
from marketplace.web import uow

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)

PROBE_TIMEOUT_SECONDS = 2
# The object every storage check asks about; it need not exist (asking is the check).
STORAGE_PROBE_KEY = "readyz/probe"


@bp.get("/healthz")
def healthz() -> Response:
    """Liveness: the process answers requests. It does not touch the database or any other backend."""
    return _no_store(jsonify({"status": "ok"}))


@bp.get("/readyz")
def readyz() -> Response:
    """Readiness: 200 when every configured backend answers, else 503 naming the ones that do not."""
    checks = {name: _run(name, probe) for name, probe in _probes(current_app).items()}
    ready = all(check["status"] == "ok" for check in checks.values())
    response = jsonify({"status": "ready" if ready else "unavailable", "checks": checks})
    if not ready:
        response.status_code = 503
        response.headers["Retry-After"] = str(DatabaseUnavailable.retry_after)
    return _no_store(response)


def _probes(app: Flask) -> dict[str, Callable[[], None]]:
    probes: dict[str, Callable[[], None]] = {"database": _database}
    redis_url = str(app.config.get("REDIS_URL") or "")
    if redis_url:
        probes["redis"] = lambda: _redis(redis_url)
    storage = app.extensions["marketplace.context"].storage
    if storage is not None:
        probes["storage"] = lambda: _storage(storage)
    probes.update(app.extensions.get("marketplace.probes", {}))
    return probes


def register_probe(app: Flask, name: str, probe: Callable[[], None]) -> None:
    """Add a readiness check (e.g. the job queue's broker): ``probe`` raises when its backend is unavailable."""
    app.extensions.setdefault("marketplace.probes", {})[name] = probe


def _run(name: str, probe: Callable[[], None]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        probe()
    except Exception as error:  # a probe reports any failure of its backend; it never raises
        log.warning("readiness: %s is unavailable: %s", name, str(error).strip().splitlines()[:1])
        return {"status": "unavailable", "error": type(error).__name__}
    return {"status": "ok", "ms": round((time.perf_counter() - started) * 1000, 1)}


def _database() -> None:
    # Through the request's unit of work, like any view (the pool's pre-ping replaces a dead connection). A
    # failure leaves the session needing a rollback, which the request's teardown does.
    uow().session.execute(sa.text("SELECT 1"))


def _redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(
        url, socket_connect_timeout=PROBE_TIMEOUT_SECONDS, socket_timeout=PROBE_TIMEOUT_SECONDS
    )
    try:
        client.ping()
    finally:
        client.close()


def _storage(storage: Any) -> None:
    # Every region's backend: a listing may keep its files in any of them.
    backends = {id(backend): backend for backend in map(storage.for_region, storage.regions)}
    for backend in backends.values():
        backend.exists(STORAGE_PROBE_KEY)


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    """Register ``/healthz`` and ``/readyz``."""
    app.register_blueprint(bp)
