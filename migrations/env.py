"""Alembic environment: runs migrations against the URL the application passes in."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import marketplace.models  # noqa: F401  (registers every table on SQLModel.metadata)
from marketplace.catalog.fts import include_object
from marketplace.db import make_engine

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    url = config.attributes.get("database_url")
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(url)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def render_item(type_: str, obj: object, autogen_context) -> str | bool:  # type: ignore[no-untyped-def]
    """Render SQLModel's AutoString as plain String and our UTCDateTime by its import path."""
    if type_ == "type":
        from sqlmodel.sql.sqltypes import AutoString

        from marketplace.db import UTCDateTime

        if isinstance(obj, AutoString):
            return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
        if isinstance(obj, UTCDateTime):
            autogen_context.imports.add("import marketplace.db")
            return "marketplace.db.UTCDateTime()"
    return False


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=render_item,
        include_object=include_object,  # the dialect-specific full-text index is not in the models
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `marketplace db upgrade`")
run_migrations_online()
