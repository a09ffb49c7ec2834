"""A web request's statements run under PostgreSQL's ``statement_timeout`` (DATABASE_STATEMENT_TIMEOUT_MS): a search
that runs past it answers 503 with a clear message and ``Retry-After``, as a page and in the API's error shape, and
the connection serves the next request. SQLite has no statement timeout: nothing is limited there."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from marketplace import create_app
from marketplace.accounts.models import OrgKind, Role
from marketplace.apikeys import services as keys
from marketplace.catalog import search_cache
from marketplace.catalog.services import pages  # where the search pages and the API run the search
from marketplace.db import UnitOfWork, unit_of_work
from marketplace.errors import ErrorCode, StatementTimedOut
from tests.conftest import is_postgres
from tests.factories import OrganisationFactory, member

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(not is_postgres(), reason="statement_timeout is PostgreSQL's; SQLite has none"),
]


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    """No search page kept by an earlier test: each request here runs the (slow) search."""
    search_cache.CACHE.clear()
    yield
    search_cache.CACHE.clear()


def _slow_search(uow: Any, *args: Any, **kwargs: Any) -> Any:
    uow.session.execute(sa.text("SELECT pg_sleep(1)"))
    raise AssertionError("the statement should have been cancelled")


@pytest.fixture()
def app_settings(app_settings):  # type: ignore[no-untyped-def]
    return {**app_settings, "DATABASE_STATEMENT_TIMEOUT_MS": 50}


def test_a_slow_search_page_answers_503_and_the_next_request_works(client, monkeypatch) -> None:
    monkeypatch.setattr(pages, "search_catalog", _slow_search)
    response = client.get("/datasets?q=speech")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == str(StatementTimedOut.retry_after)
    assert "The search took too long" in response.get_data(as_text=True)
    monkeypatch.undo()
    assert client.get("/datasets?q=speech").status_code == 200
    assert client.get("/readyz").status_code == 200


def _api_key(app: Any, db_session: Any) -> dict[str, str]:
    org = OrganisationFactory(slug="buy", kind=OrgKind.BUYER)
    user = member(org, Role.OWNER, email="owner@example.org")
    db_session.flush()
    context = app.extensions["marketplace.context"]
    _row, secret = keys.create_key(UnitOfWork(db_session, context), user, name="robot", scopes=["catalog:read"])
    db_session.flush()
    return {"Authorization": f"Bearer {secret}"}


def test_a_slow_search_in_the_api_answers_503_in_its_shape(app, client, db_session, monkeypatch) -> None:
    headers = _api_key(app, db_session)
    monkeypatch.setattr(pages, "search_catalog", _slow_search)
    response = client.get("/api/v1/datasets?q=speech", headers=headers)
    assert response.status_code == 503
    # The rate limiter sends the later of its own window's reset and the error's own wait.
    assert int(response.headers["Retry-After"]) >= StatementTimedOut.retry_after
    error = response.get_json()["error"]
    assert error["code"] == ErrorCode.STATEMENT_TIMEOUT
    assert error["message"].startswith("The search took too long")
    monkeypatch.undo()
    assert client.get("/api/v1/datasets?q=speech", headers=headers).status_code == 200


def test_statements_within_the_limit_are_untouched(client) -> None:
    # The default search runs well within 50 ms on an empty catalog: the limit stops only what runs past it.
    assert client.get("/datasets?q=speech").status_code == 200


def test_the_limit_is_the_requests_own_and_the_pooled_connection_comes_back_clean(
    app_settings, migrated_engine, monkeypatch
) -> None:
    """Without the test's shared transaction: a real pool, as in production. The limit is set on the pooled
    connection once (not in every request's transaction), and a session outside a request (the CLI, jobs) that
    takes the same connection next runs without it."""
    app = create_app({**app_settings, "DATABASE_STATEMENT_TIMEOUT_MS": 50})
    database = app.extensions["marketplace.db"]
    engine = database.engine
    statements: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda _c, _cur, statement, *_a: statements.append(statement))
    try:
        monkeypatch.setattr(pages, "search_catalog", _slow_search)
        client = app.test_client()
        assert client.get("/datasets?q=speech").status_code == 503
        monkeypatch.undo()
        assert client.get("/datasets?q=speech").status_code == 200
        assert client.get("/datasets?q=speech").status_code == 200
        assert engine.pool.checkedout() == 0
        # Set in the first request, undone by its rollback, set again by the second; the third pays nothing.
        assert [s for s in statements if "statement_timeout" in s] == ["SET SESSION statement_timeout = 50"] * 2
        with unit_of_work(database, app.extensions["marketplace.context"]) as work:  # the pool's one connection
            assert work.session.execute(sa.text("SHOW statement_timeout")).scalar() == "0"
            assert work.session.execute(sa.text("SELECT 1")).scalar() == 1
        assert client.get("/datasets?q=speech").status_code == 200
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SHOW statement_timeout").scalar() == "50ms"
    finally:
        database.dispose()


@pytest.mark.parametrize(("setting", "shown"), [(0, "0"), (1500, "1500ms")])
def test_the_setting_is_the_requests_limit(app_settings, connection, monkeypatch, setting, shown) -> None:
    app = create_app({**app_settings, "DATABASE_STATEMENT_TIMEOUT_MS": setting})
    app.extensions["marketplace.db"].bind_to_connection(connection)
    seen: list[str] = []

    def _show(uow: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(uow.session.execute(sa.text("SHOW statement_timeout")).scalar())
        raise StatementTimedOut()

    monkeypatch.setattr(pages, "search_catalog", _show)
    app.test_client().get("/datasets?q=x")
    assert seen == [shown]
