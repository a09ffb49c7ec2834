"""The audit log page: recent entries, the head, the download that verifies; a link from the organisation page."""

from __future__ import annotations

from marketplace.audit.models import AuditChainHead
from marketplace.audit.signing import verify_export
from tests.factories import PASSWORD
from tests.helpers import log_in


def test_an_admin_sees_recent_entries_and_downloads_a_chain_that_verifies(client, db_session, licensed) -> None:
    log_in(client, "purchaser@example.org", PASSWORD)
    org_page = client.get("/orgs/buy").get_data(as_text=True)
    assert "/orgs/buy/audit" in org_page
    page = client.get("/orgs/buy/audit")
    html = page.get_data(as_text=True)
    head = db_session.get(AuditChainHead, licensed["buyer"].id)
    assert page.status_code == 200 and head is not None
    assert "license.issued" in html and licensed["grant"].id in html and head.hash in html
    assert "/orgs/buy/audit.jsonl" in html
    download = client.get("/orgs/buy/audit.jsonl")
    assert download.status_code == 200 and download.mimetype == "application/jsonl"
    assert 'filename="audit-buy.jsonl"' in download.headers["Content-Disposition"]
    jwks = client.get("/.well-known/jwks.json").get_json()
    verdict = verify_export(download.get_data(as_text=True).splitlines(), jwks)
    assert verdict.ok and (verdict.count, verdict.head) == (head.seq, head.hash)


def test_a_member_sees_no_link_and_is_refused(client, licensed) -> None:
    log_in(client, "clerk@example.org", PASSWORD)
    assert "/orgs/prov/audit" not in client.get("/orgs/prov").get_data(as_text=True)
    assert client.get("/orgs/prov/audit").status_code == 403
    assert client.get("/orgs/prov/audit.jsonl").status_code == 403


def test_an_unknown_organisation_is_not_found(client, licensed) -> None:
    log_in(client, "purchaser@example.org", PASSWORD)
    assert client.get("/orgs/nobody/audit").status_code == 404


def test_older_entries_are_one_link_away(app, client, db_session, licensed) -> None:
    from marketplace import audit
    from tests.functional.audit.conftest import uow_for

    uow = uow_for(app, db_session)
    for n in range(60):
        audit.append(uow, organisation_ids=[licensed["buyer"].id], kind="test.page", subject_type="thing",
                     subject_id=n, actor="system")  # fmt: skip
    log_in(client, "purchaser@example.org", PASSWORD)
    html = client.get("/orgs/buy/audit").get_data(as_text=True)
    assert "<td>61</td>" in html and "<td>12</td>" in html and "<td>11</td>" not in html
    assert "/orgs/buy/audit?before=12" in html
    older = client.get("/orgs/buy/audit?before=12").get_data(as_text=True)
    assert "<td>11</td>" in older and "<td>1</td>" in older and "?before=" not in older
