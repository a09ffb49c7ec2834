"""``/readyz`` checks each configured backend and names the one that does not answer; ``/healthz`` checks none."""

from __future__ import annotations

import socket

from storage import StorageUnavailable


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_readyz_reports_each_backend(client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ready"
    # No REDIS_URL: Redis is not checked; the queue runs in process here, so its check is always ok.
    assert set(body["checks"]) == {"database", "storage", "queue"}
    assert all(check["status"] == "ok" for check in body["checks"].values())
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_is_503_naming_an_unreachable_redis(app, client) -> None:
    app.config["REDIS_URL"] = f"redis://127.0.0.1:{_closed_port()}/0"
    response = client.get("/readyz")
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    checks = response.get_json()["checks"]
    assert checks["redis"] == {"status": "unavailable", "error": "ConnectionError"}
    assert checks["database"]["status"] == "ok"
    assert "127.0.0.1" not in response.get_data(as_text=True)  # details go to the log, not to the public


def test_readyz_is_503_naming_unavailable_storage(app, client, monkeypatch) -> None:
    storage = app.extensions["marketplace.context"].storage

    def unreachable(key: str) -> bool:
        raise StorageUnavailable("object storage did not answer")

    monkeypatch.setattr(storage.for_region(None), "exists", unreachable)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["storage"] == {"status": "unavailable", "error": "StorageUnavailable"}


def test_healthz_is_liveness_only(app, client, monkeypatch) -> None:
    def no_database() -> None:
        raise AssertionError("/healthz must not touch the database")

    monkeypatch.setattr(app.extensions["marketplace.db"], "session", no_database)
    assert client.get("/healthz").get_json() == {"status": "ok"}


QUEUE_COMPONENT = "queue"


def test_a_registered_check_is_one_more_component(app, client) -> None:
    from marketplace.health import register_probe

    register_probe(app, QUEUE_COMPONENT, lambda: None)
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["checks"][QUEUE_COMPONENT]["status"] == "ok"

    def queue_down() -> None:
        raise ConnectionError("broker at 10.0.0.5 refused")

    register_probe(app, QUEUE_COMPONENT, queue_down)
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.headers["Retry-After"]
    assert ready.get_json()["checks"][QUEUE_COMPONENT] == {"status": "unavailable", "error": "ConnectionError"}
    assert "10.0.0.5" not in ready.get_data(as_text=True)
