"""Revision ``0008_dates`` moves the bias-review date between the JSON document and its DATE column, both ways."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlmodel import Session

import marketplace.models  # noqa: F401
from marketplace import migrate
from marketplace.accounts.models import Organisation, OrgKind
from marketplace.catalog.models import Dataset
from marketplace.db import make_engine
from tests.conftest import drop_scratch_database, scratch_database_url


def _stored(url: str) -> dict[str, tuple[object, dict[str, object]]]:
    """Each listing's bias-review date column (None before the revision) and its AI Act document."""
    engine = make_engine(url)
    with engine.connect() as conn:
        has_column = "bias_reviewed_on" in {c["name"] for c in sa.inspect(conn).get_columns("dataset")}
        columns = [sa.column("slug"), sa.column("ai_act", sa.JSON())]
        if has_column:
            columns.append(sa.column("bias_reviewed_on", sa.Date()))
        rows = conn.execute(sa.select(*columns).select_from(sa.table("dataset"))).all()
    engine.dispose()
    return {row[0]: (row[2] if has_column else None, row[1]) for row in rows}


def test_bias_review_dates_survive_downgrade_and_upgrade(tmp_path) -> None:
    url = scratch_database_url(tmp_path, "dates_migration")
    try:
        migrate.upgrade(url)
        engine = make_engine(url)
        with Session(engine) as session:
            org = Organisation(slug="northwind", name="Northwind", kind=OrgKind.PROVIDER)
            session.add(org)
            session.flush()
            assert org.id is not None
            session.add(
                Dataset(slug="reviewed", organisation_id=org.id, title="Reviewed", ai_act={"known_gaps": "Few."})
            )
            session.add(Dataset(slug="unreviewed", organisation_id=org.id, title="Unreviewed", ai_act={}))
            session.flush()
            session.execute(
                sa.update(Dataset).where(Dataset.slug == "reviewed").values(bias_reviewed_on=date(2024, 2, 14))  # type: ignore[arg-type]
            )
            session.commit()
        engine.dispose()

        migrate.downgrade(url, "0007_webhooks_sso")
        before = _stored(url)
        assert before["reviewed"][1] == {"known_gaps": "Few.", "bias_reviewed_on": "2024-02-14"}
        assert before["unreviewed"][1] == {"bias_reviewed_on": None}

        migrate.upgrade(url)
        after = _stored(url)
        assert after["reviewed"] == (date(2024, 2, 14), {"known_gaps": "Few."})
        assert after["unreviewed"] == (None, {})
    finally:
        drop_scratch_database(url)
