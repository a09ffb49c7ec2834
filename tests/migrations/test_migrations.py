"""The migrations match the models (no drift) and survive downgrade to base and upgrade to head."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

import marketplace.models  # noqa: F401
from marketplace import migrate
from marketplace.catalog.fts import include_object, is_full_text_table
from marketplace.db import make_engine
from tests.conftest import drop_scratch_database, scratch_database_url


def _diff(url: str) -> list[object]:
    engine = make_engine(url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": include_object})
        diff = compare_metadata(context, SQLModel.metadata)
    engine.dispose()
    return diff


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    names = {name for name in sa.inspect(engine).get_table_names() if not is_full_text_table(name)}
    engine.dispose()
    return names - {"alembic_version"}


def test_no_drift_and_round_trip(tmp_path) -> None:
    url = scratch_database_url(tmp_path, "migrations")
    try:
        migrate.upgrade(url)
        assert _diff(url) == [], "models and migrations differ: write a migration"
        assert _tables(url) == set(SQLModel.metadata.tables)

        migrate.downgrade(url, "base")
        assert _tables(url) == set()

        migrate.upgrade(url)
        assert _diff(url) == []
    finally:
        drop_scratch_database(url)


def test_every_revision_steps_down_and_up(tmp_path) -> None:
    url = scratch_database_url(tmp_path, "migration_steps")
    try:
        script = ScriptDirectory.from_config(migrate.alembic_config(url))
        revisions = [r.revision for r in reversed(list(script.walk_revisions()))]
        assert len(script.get_heads()) == 1, "migration history has branched"
        for revision in revisions:
            migrate.upgrade(url, revision)
            migrate.downgrade(url, "-1")
            migrate.upgrade(url, revision)
    finally:
        drop_scratch_database(url)
