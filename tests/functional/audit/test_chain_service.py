"""Appending to the audit chains, and the events hooked in where they are recorded: licenses, access, downloads."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session, col, select

import licensing
from marketplace import audit
from marketplace.access import audit as access_audit
from marketplace.audit import service
from marketplace.audit.chain import GENESIS
from marketplace.audit.models import AuditChainHead, AuditEntry
from marketplace.audit.signing import verify_export
from marketplace.delivery.downloads import Requester, issue_download_links
from marketplace.errors import PermissionDenied
from marketplace.licenses import services as licenses
from tests.conftest import is_postgres
from tests.functional.audit.conftest import uow_for


def chain(session: Session, org: Any) -> list[AuditEntry]:
    rows = session.exec(select(AuditEntry).where(AuditEntry.organisation_id == org.id).order_by(col(AuditEntry.seq)))
    return list(rows.all())


def test_append_chains_entries_per_organisation(app: Flask, db_session: Session, market) -> None:
    uow = uow_for(app, db_session)
    provider, buyer = market["provider"], market["buyer"]
    first = audit.append(uow, organisation_ids=[provider.id], kind="test.first", subject_type="thing", subject_id=1,
                         actor="system", data={"n": 1})  # fmt: skip
    both = audit.append(uow, organisation_ids=[buyer.id, provider.id, provider.id, None], kind="test.both",
                        subject_type="thing", subject_id="x", actor=audit.actor_of(market["seller"]))  # fmt: skip
    assert [(e.organisation_id, e.seq) for e in both] == sorted([(provider.id, 2), (buyer.id, 1)])
    assert first[0].prev_hash == GENESIS
    ours = chain(db_session, provider)
    assert [e.kind for e in ours] == ["test.first", "test.both"]
    assert ours[1].prev_hash == ours[0].hash and ours[1].actor == f"user:{market['seller'].id}"
    head = db_session.get(AuditChainHead, provider.id)
    assert head is not None and (head.seq, head.hash) == (2, ours[1].hash)
    assert service.check_chain(db_session, provider).ok and service.check_chain(db_session, buyer).ok


def test_entries_with_any_text_hash_as_the_chain_check_does(app, db_session, market) -> None:
    # On PostgreSQL the database computes the hash around the canonical JSON written here: non-ASCII text, escapes
    # and nested values must hash exactly as marketplace.audit.chain does.
    uow = uow_for(app, db_session)
    provider, buyer = market["provider"], market["buyer"]
    data = {"title": 'Ünïcode "quoted" \\ 日本 \u2028 😀', "nested": {"b": [1, True, None], "a": "x"}, "n": -3}
    for n in range(3):
        audit.append(uow, organisation_ids=[provider.id, buyer.id], kind="test.text", subject_type="thing",
                     subject_id=f"ç-{n}", actor="system", data={**data, "round": n})  # fmt: skip
    assert [e.seq for e in chain(db_session, provider)] == [1, 2, 3]
    assert service.check_chain(db_session, provider).ok and service.check_chain(db_session, buyer).ok


@pytest.mark.skipif(not is_postgres(), reason="the database hashes entries on PostgreSQL only")
def test_an_entry_the_database_hashed_differently_is_refused(app, db_session, market, monkeypatch) -> None:
    from marketplace.audit import postgres

    def _wrong(entry: dict[str, Any]) -> tuple[bytes, bytes]:
        before, after = real(entry)
        return before.replace(b'"kind":', b'"kind": '), after

    real = postgres._hash_parts
    monkeypatch.setattr(postgres, "_hash_parts", _wrong)
    with pytest.raises(RuntimeError, match="hashed an entry differently"):
        audit.append(uow_for(app, db_session), organisation_ids=[market["provider"].id], kind="test.bad",
                     subject_type="thing", subject_id=1, actor="system")  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": "Issued"}, "audit kind"),
        ({"subject_type": "License Grant"}, "subject_type"),
        ({"subject_id": ""}, "subject_id"),
        ({"actor": ""}, "actor"),
        ({"data": {"price": 1.5}}, "canonical JSON"),
    ],
)
def test_append_refuses_an_entry_it_could_not_hash(app, db_session, market, fields, message) -> None:
    arguments: dict[str, Any] = {"kind": "test.ok", "subject_type": "thing", "subject_id": 1, "actor": "system",
                                 "data": {}, **fields}  # fmt: skip
    with pytest.raises(ValueError, match=message):
        audit.append(uow_for(app, db_session), organisation_ids=[market["provider"].id], **arguments)
    assert chain(db_session, market["provider"]) == []


def test_the_stored_chain_check_notices_tampering_and_missing_tail(app, db_session, market) -> None:
    uow = uow_for(app, db_session)
    provider = market["provider"]
    for n in range(4):
        audit.append(uow, organisation_ids=[provider.id], kind="test.n", subject_type="thing", subject_id=n,
                     actor="system", data={"n": n})  # fmt: skip
    rows = chain(db_session, provider)
    rows[1].data = {"n": 99}
    db_session.add(rows[1])
    db_session.flush()
    verdict = service.check_chain(db_session, provider)
    assert (verdict.line, verdict.problem.split(" (")[0]) == (2, "hash mismatch")
    rows[1].data = {"n": 1}
    db_session.delete(rows[3])
    db_session.flush()
    verdict = service.check_chain(db_session, provider)
    assert verdict.line == 4 and verdict.problem.startswith("missing entries")


def test_license_issue_and_revocation_are_in_both_parties_chains(app, db_session, licensed) -> None:
    grant = licensed["grant"]
    licenses.transition_grant(uow_for(app, db_session), grant, licensing.GrantAction.REVOKE, reason="refund",
                              actor="order:7")  # fmt: skip
    for org in (licensed["provider"], licensed["buyer"]):
        entries = [e for e in chain(db_session, org) if e.kind.startswith("license.")]
        assert [e.kind for e in entries] == ["license.issued", "license.revoked"]
        issued, revoked = entries
        assert issued.subject_type == "license" and issued.subject_id == grant.id
        assert issued.actor == f"user:{licensed['purchaser'].id}" and revoked.actor == "order:7"
        assert revoked.data["to_status"] == "revoked" and revoked.data["reason"] == "refund"
        assert issued.data["terms_hash"] == grant.terms_hash and issued.data["dataset"] == "speech-corpus"
        assert service.check_chain(db_session, org).ok


def test_a_download_link_is_in_both_chains(app, db_session, licensed) -> None:
    requester = Requester(user=licensed["purchaser"], ip="203.0.113.9", user_agent="pytest")
    links = issue_download_links(uow_for(app, db_session), grant=licensed["grant"], requester=requester)
    for org in (licensed["provider"], licensed["buyer"]):
        entry = chain(db_session, org)[-1]
        assert entry.kind == "download.link_issued" and entry.subject_id == licensed["grant"].id
        assert entry.data["link"] == f"dl-{links[0].event.id}" and entry.data["path"] == "data/train.csv"
        assert entry.data["ip_address"] == "203.0.113.9"


def test_a_refused_download_appends_nothing(app, db_session, licensed) -> None:
    before = len(chain(db_session, licensed["buyer"]))
    with pytest.raises(PermissionDenied):
        issue_download_links(uow_for(app, db_session), grant=licensed["grant"],
                             requester=Requester(user=licensed["outsider"]))  # fmt: skip
    assert len(chain(db_session, licensed["buyer"])) == before


def test_an_access_decision_is_in_the_provider_and_requester_chains(app, db_session, market) -> None:
    uow = uow_for(app, db_session)
    access_audit.record(uow, actor=market["seller"], subject="request", subject_id=5, action="approved",
                        reason="fits", dataset_id=market["dataset"].id, provider_org_id=market["provider"].id,
                        requester_org_id=market["buyer"].id)  # fmt: skip
    access_audit.record(uow, actor=None, subject="credential", subject_id=3, action="mode changed")
    for org in (market["provider"], market["buyer"]):
        (entry,) = chain(db_session, org)
        assert (entry.kind, entry.subject_type, entry.subject_id) == ("access.request_approved", "access_request", "5")
        assert entry.data["reason"] == "fits" and entry.actor == f"user:{market['seller'].id}"


def test_only_the_organisations_admins_read_its_chain(app, db_session, licensed) -> None:
    provider = licensed["provider"]
    assert [e.kind for e in service.recent_entries(db_session, licensed["seller"], provider)] == ["license.issued"]
    for user in (licensed["clerk"], licensed["outsider"], licensed["purchaser"]):
        with pytest.raises(PermissionDenied):
            service.recent_entries(db_session, user, provider)
        with pytest.raises(PermissionDenied):
            service.export_lines(uow_for(app, db_session), user, provider)
    lines = list(service.export_lines(uow_for(app, db_session), licensed["seller"], provider))
    jwks = app.extensions["marketplace.context"].keyring.public_jwks()
    verdict = verify_export(lines, jwks)
    assert verdict.ok and verdict.count == 1 and verdict.head == chain(db_session, provider)[-1].hash
    assert "signature valid" in verdict.note and lines[-1].startswith('{"signed_head":')
