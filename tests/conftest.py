"""Shared fixtures: a migrated database (SQLite by default, PostgreSQL when ``TEST_DATABASE_URL`` is set), one
rolled-back transaction per test, the application bound to it, a client, and factories.

The schema is built by running the Alembic migrations, not ``create_all``, so every test also exercises them.

Tests never read the developer's environment for services: every application setting (``REDIS_URL``,
``STRIPE_*``, ``S3_*``, ``DATABASE_URL``, ``MARKETPLACE_ENV``, …) and the cloud SDKs' own variables are removed
from ``os.environ`` before any test runs. What the tests may use comes from ``TEST_*`` variables only
(``TEST_DATABASE_URL``, ``TEST_REDIS_URL``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from marketplace import create_app
from marketplace.catalog import search_cache
from marketplace.config import SETTINGS, normalise_database_url
from marketplace.db import make_engine
from marketplace.mail import ConsoleMailer
from tests import factories

#: Variables read by the SDKs the app uses (boto3, stripe, redis clients) rather than by ``load_settings``.
SDK_PREFIXES = ("AWS_", "STRIPE_", "S3_", "REDIS_", "MARKETPLACE_")


def forget_service_environment(environ: MutableMapping[str, str]) -> list[str]:
    """Remove every application setting and SDK variable from ``environ``; returns the names removed."""
    names = {setting.name for setting in SETTINGS}
    removed = sorted(name for name in environ if name in names or name.startswith(SDK_PREFIXES))
    for name in removed:
        del environ[name]
    return removed


# At import, before any application (or subprocess of a test) is created.
forget_service_environment(os.environ)

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "")


def is_postgres() -> bool:
    return bool(POSTGRES_URL)


def reset_database(url: str) -> None:
    """Empty the database at ``url`` (drop every table) so a run starts from nothing."""
    engine = make_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
        else:
            meta = sa.MetaData()
            meta.reflect(conn)
            meta.drop_all(conn)
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    engine.dispose()


def scratch_database_url(tmp_path: Path, name: str) -> str:
    """A new, empty database for tests that need their own (migrations, live servers, concurrency).

    On PostgreSQL it is a separate database next to the test database, created fresh; on SQLite a file.
    """
    if not is_postgres():
        return f"sqlite:///{tmp_path / (name + '.db')}"
    base = normalise_database_url(POSTGRES_URL)
    url = sa.engine.make_url(base)
    db_name = f"{url.database}_{re.sub(r'[^a-z0-9_]', '_', name.lower())}"[:60]
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{db_name}"'))
    admin.dispose()
    return url.set(database=db_name).render_as_string(hide_password=False)


def drop_scratch_database(url: str) -> None:
    if not url.startswith("postgresql"):
        return
    parsed = sa.engine.make_url(url)
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(autouse=True)
def empty_search_cache() -> Iterator[None]:
    """No test is served a search, a page or an answer kept by an earlier test (kept by the process, not the
    database, so a rolled-back test's index could otherwise still be shown)."""
    search_cache.CACHE.clear()
    yield
    search_cache.CACHE.clear()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    if is_postgres():
        return normalise_database_url(POSTGRES_URL)
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def migrated_engine(database_url: str) -> Iterator[Engine]:
    from marketplace import migrate

    reset_database(database_url)
    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture()
def connection(migrated_engine: Engine) -> Iterator[Connection]:
    """One connection with an open transaction that is rolled back after the test, whatever it committed."""
    conn = migrated_engine.connect()
    transaction = conn.begin()
    yield conn
    transaction.rollback()
    conn.close()


def base_settings(tmp_path: Path, database_url: str) -> dict[str, Any]:
    return {
        "TESTING": True,
        "MARKETPLACE_ENV": "development",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "PASSWORD_HASHER_PROFILE": "CHEAPEST",
        "MAIL_BACKEND": "console",
        "BASE_URL": "http://localhost",
    }


@pytest.fixture()
def app_settings(tmp_path: Path, database_url: str) -> dict[str, Any]:
    """Settings for the test app; a test may change them before ``app`` is first used."""
    return base_settings(tmp_path, database_url)


@pytest.fixture()
def app(app_settings: dict[str, Any], connection: Connection) -> Iterator[Flask]:
    application = create_app(app_settings)
    application.extensions["marketplace.db"].bind_to_connection(connection)
    yield application
    application.extensions["marketplace.db"].dispose()


@pytest.fixture()
def db_session(app: Flask, connection: Connection) -> Iterator[Session]:
    """A session on the test's transaction, for arranging data and checking what the app wrote."""
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    factories.bind(session)
    yield session
    session.close()


@pytest.fixture()
def client(app: Flask, db_session: Session) -> FlaskClient:
    return app.test_client()


@pytest.fixture()
def outbox(app: Flask) -> ConsoleMailer:
    mailer = app.extensions["marketplace.mailer"]
    assert isinstance(mailer, ConsoleMailer)
    return mailer


@pytest.fixture()
def csrf_client(app: Flask, db_session: Session) -> FlaskClient:
    """A client for an app whose CSRF check is on (it is on in every app; this just names the intent)."""
    return app.test_client()
