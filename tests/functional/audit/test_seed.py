"""The demo shows the audit log: the buyer's free license and a download in both organisations' chains."""

from __future__ import annotations

from sqlmodel import col, select

from marketplace.audit.models import AuditEntry
from marketplace.db import UnitOfWork
from marketplace.seed import DEMO_PASSWORD, seed_demo
from tests.helpers import log_in


def test_the_demo_seed_fills_both_audit_logs_once(app, client, db_session) -> None:  # type: ignore[no-untyped-def]
    work = UnitOfWork(db_session, app.extensions["marketplace.context"])
    with app.app_context():
        first = seed_demo(work)
        db_session.flush()
        again = seed_demo(work)
        db_session.flush()
    assert any("/orgs/globex-ai/audit" in line for line in first)
    assert not any("audit" in line for line in again)
    kinds = {
        (org, kind)
        for org, kind in db_session.exec(
            select(AuditEntry.organisation_id, AuditEntry.kind).order_by(col(AuditEntry.id))
        )
    }
    assert {kind for _org, kind in kinds} >= {"license.issued", "download.link_issued", "access.request_submitted"}
    log_in(client, "buyer@example.com", DEMO_PASSWORD)
    page = client.get("/orgs/globex-ai/audit").get_data(as_text=True)
    assert "license.issued" in page and "download.link_issued" in page
    provider = app.test_client()
    log_in(provider, "provider@example.com", DEMO_PASSWORD)
    page = provider.get("/orgs/northwind-data/audit").get_data(as_text=True)
    assert "license.issued" in page and "download.link_issued" in page
