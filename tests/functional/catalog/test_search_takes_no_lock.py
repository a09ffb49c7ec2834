"""On SQLite, searching the catalog (the page and ``GET /api/v1/datasets``) takes no write lock: its transaction
begins deferred, so a search neither waits for a writer nor holds up the other workers' requests behind it."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

import pytest

from marketplace import create_app, migrate
from marketplace.accounts.models import User
from marketplace.apikeys import services as keys
from marketplace.db import unit_of_work, utcnow
from tests.conftest import base_settings


@pytest.fixture()
def sqlite_app(tmp_path: Any) -> Any:
    url = f"sqlite:///{tmp_path / 'locks.db'}"
    migrate.upgrade(url)
    app = create_app(base_settings(tmp_path, url))
    yield app, tmp_path / "locks.db"
    app.extensions["marketplace.db"].dispose()


def _api_key(app: Any) -> str:
    with unit_of_work(app.extensions["marketplace.db"], app.extensions["marketplace.context"]) as uow:
        user = User(email="reader@example.org", password_hash="x", email_verified_at=utcnow())
        uow.session.add(user)
        uow.session.flush()
        return keys.create_key(uow, user, name="reader", scopes=["catalog:read"])[1]


def test_a_search_runs_while_another_connection_holds_the_write_lock(sqlite_app: Any) -> None:
    app, path = sqlite_app
    secret = _api_key(app)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/datasets", headers=headers).status_code == 200  # the key's use is now recorded
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another worker in the middle of a write
    try:
        started = time.monotonic()
        page = client.get("/datasets?q=speech")
        api = client.get("/api/v1/datasets?q=speech", headers=headers)
        waited = time.monotonic() - started
    finally:
        writer.rollback()
        writer.close()
    assert page.status_code == 200 and api.status_code == 200, (page.status_code, api.get_data(as_text=True)[:300])
    assert waited < 5  # with BEGIN IMMEDIATE they waited busy_timeout (10 s), then answered 503
