"""After the migrations, every state column carries the CHECK constraint of its enum (on SQLite and PostgreSQL)."""

from __future__ import annotations

import sqlalchemy as sa

from marketplace import migrate
from marketplace.db import make_engine
from tests.conftest import drop_scratch_database, scratch_database_url

EXPECTED = {
    "customer_order": {"ck_customer_order_orderstatus", "ck_customer_order_chargekind"},
    "order_line": {"ck_order_line_payoutstatus"},
    "license_grant": {"ck_license_grant_grantstatus"},
    "license_grant_event": {"ck_license_grant_event_from_status", "ck_license_grant_event_to_status"},
}


def _checks(url: str) -> dict[str, set[str]]:
    engine = make_engine(url)
    inspector = sa.inspect(engine)
    found = {table: {c["name"] for c in inspector.get_check_constraints(table)} for table in EXPECTED}
    engine.dispose()
    return found


def test_state_columns_are_checked_and_the_downgrade_removes_the_checks(tmp_path) -> None:
    url = scratch_database_url(tmp_path, "state_enums")
    try:
        migrate.upgrade(url, "0009_state_enums")
        found = _checks(url)
        assert all(EXPECTED[table] <= found[table] for table in EXPECTED), found
        migrate.downgrade(url, "-1")
        found = _checks(url)
        assert all(not (EXPECTED[table] & found[table]) for table in EXPECTED), found
    finally:
        drop_scratch_database(url)
