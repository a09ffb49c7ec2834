"""A database outage while the app runs: every page and API call answers 503 with Retry-After, on the site's own
error page (for a logged-in member too) or in the API's error shape; ``/healthz`` stays 200, ``/readyz`` says 503;
and the app recovers by itself once the database is back.

On PostgreSQL (``TEST_DATABASE_URL``) the app reaches a scratch database through a TCP proxy the test cuts: the
outage is real (refused and dropped connections). SQLite has no network, so there the database refuses every new
connection (the driver's own error, at connect time) after the pool was emptied.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy import event

from marketplace import create_app, migrate
from marketplace.accounts.models import User
from marketplace.accounts.passwords import hasher_for
from marketplace.apikeys import services as keys
from marketplace.db import unit_of_work, utcnow
from tests.conftest import base_settings, drop_scratch_database, is_postgres, scratch_database_url
from tests.helpers import log_in
from tests.support.tcp_proxy import TcpProxy

PASSWORD = "correct horse battery"
MEMBER_PAGES = ("/", "/datasets", "/orders", "/no/such/page")  # each looks the member up; "/" only for the menu
VISITOR_PAGES = ("/datasets", "/datasets/no-such-listing")  # a visitor's "/" or 404 needs no database
API_CALLS = ("/api/v1/datasets", "/api/v1/orders")


class Outage:
    """Cuts the app off its database and restores it."""

    def __init__(self, app: Flask, proxy: TcpProxy | None) -> None:
        self.proxy = proxy
        self.engine: sa.Engine = app.extensions["marketplace.db"].engine
        self.down = False
        if proxy is None:
            event.listen(self.engine, "do_connect", self._refuse)

    def _refuse(self, *_args: Any) -> None:
        if self.down:
            raise sqlite3.OperationalError("unable to open database file")

    def cut(self) -> None:
        self.down = True
        if self.proxy is not None:
            self.proxy.cut()  # pooled connections die with it; pre-ping notices
        else:
            self.engine.pool.dispose()  # a file database keeps open connections working: drop them

    def restore(self) -> None:
        self.down = False
        if self.proxy is not None:
            self.proxy.restore()


@pytest.fixture()
def outage(tmp_path) -> Iterator[tuple[Flask, Outage]]:
    url = scratch_database_url(tmp_path, "outage")
    migrate.upgrade(url)
    proxy = None
    app_url = url
    if is_postgres():
        parsed = sa.engine.make_url(url)
        proxy = TcpProxy(parsed.host or "127.0.0.1", parsed.port or 5432).start()
        app_url = parsed.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    app = create_app(base_settings(tmp_path, app_url))
    try:
        yield app, Outage(app, proxy)
    finally:
        if proxy is not None:
            proxy.close()
        app.extensions["marketplace.db"].dispose()
        drop_scratch_database(url)


def _member_with_key(app: Flask) -> str:
    database = app.extensions["marketplace.db"]
    context = app.extensions["marketplace.context"]
    with unit_of_work(database, context) as uow:
        user = User(
            email="member@example.org",
            display_name="Mia Member",
            password_hash=hasher_for("CHEAPEST").hash(PASSWORD),
            email_verified_at=utcnow(),
        )
        uow.session.add(user)
        uow.session.flush()
        _row, secret = keys.create_key(uow, user, name="outage", scopes=["catalog:read", "orders:write"])
    return secret


def _assert_outage_page(response: Any, path: str) -> None:
    assert response.status_code == 503, (path, response.status_code)
    assert int(response.headers["Retry-After"]) > 0, path
    assert response.mimetype == "text/html", path
    html = response.get_data(as_text=True)
    assert 'data-status="503"' in html, path
    assert "cannot reach its database" in html, path


def _assert_outage_json(response: Any, path: str) -> None:
    assert response.status_code == 503, (path, response.status_code)
    assert int(response.headers["Retry-After"]) > 0, path
    assert response.get_json()["error"]["code"] == "service_unavailable", path


def test_database_outage_is_503_everywhere_and_the_app_recovers(outage) -> None:
    app, db = outage
    secret = _member_with_key(app)
    auth = {"Authorization": f"Bearer {secret}"}
    member = app.test_client()
    assert log_in(member, "member@example.org", PASSWORD).status_code == 302
    visitor = app.test_client()
    assert "Mia Member" in member.get("/").get_data(as_text=True)
    assert visitor.get("/readyz").status_code == 200

    db.cut()
    for path in MEMBER_PAGES:
        _assert_outage_page(member.get(path), path)
    for path in VISITOR_PAGES:
        _assert_outage_page(visitor.get(path), path)
    for path in API_CALLS:
        _assert_outage_json(visitor.get(path, headers=auth), path)
    assert visitor.get("/healthz").status_code == 200
    ready = visitor.get("/readyz")
    assert ready.status_code == 503 and int(ready.headers["Retry-After"]) > 0
    assert ready.get_json()["checks"]["database"]["status"] == "unavailable"
    assert ready.get_json()["checks"]["storage"]["status"] == "ok"

    db.restore()
    home = member.get("/")
    assert home.status_code == 200 and "Mia Member" in home.get_data(as_text=True)  # still logged in
    assert member.get("/orders").status_code == 200
    assert visitor.get("/datasets").status_code == 200
    for path in API_CALLS:
        assert visitor.get(path, headers=auth).status_code == 200, path
    ready = visitor.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["status"] == "ready"
    assert {check["status"] for check in ready.get_json()["checks"].values()} == {"ok"}
