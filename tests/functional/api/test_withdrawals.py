"""Withdrawals through the API: filing, the withdrawn version refused at once (links issued before too), the
patched version published and served instead, every licensee told once (mail and webhook), signed confirmations
by the licensee's members only, reminders and overdue by the clock, and what verification reports."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from marketplace.accounts.models import OrgKind
from marketplace.audit import service as audit_service
from marketplace.audit.models import AuditEntry
from marketplace.jobs.handlers import HANDLERS
from marketplace.jobs.models import JobKind
from marketplace.licenses import services as licenses
from marketplace.webhooks import services as hooks
from marketplace.webhooks.models import WebhookDelivery
from marketplace.withdrawals.models import WithdrawalNotice
from tests.factories import OrganisationFactory
from tests.functional.api.conftest import bearer, work
from tests.support.clock import Clock
from tests.support.withdrawals import add_kept_file

FILING = {
    "dataset": "speech",
    "version": "1.0.0",
    "reason": "consent_withdrawn",
    "details": "Speaker 17 withdrew consent.",
    "files": ["data/train.csv"],
    "record_ids": ["spk17-0001", "spk17-0002"],
    "deletion_days": 30,
}


@pytest.fixture()
def clock(app: Any) -> Clock:
    clock = Clock()
    app.extensions["marketplace.context"].clock = clock
    return clock


@pytest.fixture()
def recall(world, clock) -> Any:
    """The world's version 1.0.0 gets a second stored file (kept by the patch); the buyer subscribes to
    ``dataset.withdrawal``; each party gets a key."""
    add_kept_file(world)
    uow = work(world.app, world.session)
    endpoint, _ = hooks.create_endpoint(
        uow, world.people["buyer_admin"], world.orgs["buy"], url="http://127.0.0.1:9/h", events=["dataset.withdrawal"]
    )
    world.session.flush()
    world.objects["endpoint"] = endpoint
    return world


def _keys(world) -> dict[str, dict[str, str]]:
    return {
        "clerk": bearer(world.key("clerk")),
        "seller": bearer(world.key("seller", org="prov")),
        "purchaser": bearer(world.key("purchaser")),
        "outsider": bearer(world.key("outsider", org="rival")),
    }


def _file(client, headers, **changes: Any) -> Any:
    return client.post("/api/v1/provider/withdrawals", json={**FILING, **changes}, headers=headers)


def _sweep(world) -> None:
    uow = work(world.app, world.session)
    HANDLERS[JobKind.WITHDRAWAL_SWEEP].run(uow, {})
    uow.commit()


def test_the_whole_flow(recall, client, outbox, clock) -> None:
    world = recall
    keys = _keys(world)
    grant = world.objects["grants"]["buy"]
    train = world.objects["file"]
    # A link issued before the withdrawal works until the withdrawal is filed.
    before = client.post(f"/api/v1/licenses/{grant.id}/download-links", json={"file_ids": [train.id]},
                         headers=keys["purchaser"]).get_json()["data"][0]["url"]  # fmt: skip

    # A member of another organisation cannot file; the provider's member can.
    assert _file(client, keys["outsider"]).status_code == 403
    filed = _file(client, keys["clerk"])
    assert filed.status_code == 201, filed.get_json()
    body = filed.get_json()
    assert body["state"] == "filed" and body["withdrawn_version"] == "1.0.0"
    assert body["patched_version"] == "1.0.1" and body["patched_version_status"] == "draft"
    assert body["files"] == ["data/train.csv"] and body["record_ids"] == ["spk17-0001", "spk17-0002"]

    # The withdrawn version is refused at once, with its own code; the link issued before stops too.
    refused = client.post(f"/api/v1/licenses/{grant.id}/download-links", json={"file_ids": [train.id]},
                          headers=keys["purchaser"])  # fmt: skip
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "version_withdrawn"
    by_label = client.post(f"/api/v1/licenses/{grant.id}/download-links", json={"version": "1.0.0"},
                           headers=keys["purchaser"])  # fmt: skip
    assert by_label.get_json()["error"]["code"] == "version_withdrawn"
    assert client.get(before.removeprefix("http://localhost")).status_code == 410

    # Publishing the patch notifies each licensee once: a notice, mail, one webhook delivery to the buyer.
    wid = body["id"]
    published = client.post(f"/api/v1/provider/withdrawals/{wid}/publish", headers=keys["clerk"])
    assert published.status_code == 200, published.get_json()
    shown = published.get_json()
    assert shown["state"] == "licensees_notified" and shown["patched_version_status"] == "published"
    assert shown["counts"] == {"notified": 2, "confirmed": 0, "overdue": 0}
    assert {row["licensee"]["slug"] for row in shown["licensees"]} == {"buy", "rival"}
    again = client.post(f"/api/v1/provider/withdrawals/{wid}/publish", headers=keys["clerk"])
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "illegal_transition"
    mails = [m for m in outbox.messages_to("owner@example.org") if m.subject.startswith("Withdrawal:")]
    assert len(mails) == 1 and "spk17" not in mails[0].subject and "/withdrawal-notices/" in mails[0].body
    assert len([m for m in outbox.messages_to("outsider@example.org") if m.subject.startswith("Withdrawal:")]) == 1
    deliveries = world.session.exec(
        select(WebhookDelivery).where(WebhookDelivery.endpoint_id == world.objects["endpoint"].id)
    ).all()
    assert [d.event_type for d in deliveries] == ["dataset.withdrawal"]
    assert json.loads(deliveries[0].payload)["data"]["license_ids"] == [grant.id]
    assert json.loads(deliveries[0].payload)["data"]["patched_version"] == "1.0.1"

    # The license serves the patched version instead (it keeps the extra file).
    manifest = client.get(f"/api/v1/licenses/{grant.id}/manifest", headers=bearer(world.key("purchaser")))
    assert [v["version"] for v in manifest.get_json()["versions"]] == ["1.0.1"]
    assert [f["path"] for f in manifest.get_json()["versions"][0]["files"]] == ["data/extra.csv"]
    links = client.post(f"/api/v1/licenses/{grant.id}/download-links", json={}, headers=keys["purchaser"])
    assert [link["version"] for link in links.get_json()["data"]] == ["1.0.1"]

    # Verification reports the withdrawal notice.
    verified = client.get(f"/api/v1/licenses/{grant.id}/verify").get_json()
    [notice] = verified["withdrawals"]
    assert notice["withdrawn_version"] == "1.0.0" and notice["patched_version"] == "1.0.1"
    assert notice["reason"] == "consent_withdrawn" and notice["status"] == "notified" and notice["deadline"]

    # The buyer's notice: other organisations cannot read or confirm it; the provider reads but cannot sign.
    [mine] = client.get("/api/v1/withdrawal-notices", headers=keys["purchaser"]).get_json()["data"]
    assert mine["license_ids"] == [grant.id] and mine["status"] == "notified"
    nid = mine["id"]
    signed = {"signer_name": "Ada Buyer", "signer_role": "DPO", "statement": "Deleted train.csv from all stores.",
              "deleted_on": clock().date().isoformat()}  # fmt: skip
    assert client.get(f"/api/v1/withdrawal-notices/{nid}", headers=keys["outsider"]).status_code == 404
    assert client.post(f"/api/v1/withdrawal-notices/{nid}/confirmation", json=signed,
                       headers=keys["outsider"]).status_code == 404  # fmt: skip
    assert client.get(f"/api/v1/withdrawal-notices/{nid}", headers=keys["seller"]).status_code == 200
    by_provider = client.post(f"/api/v1/withdrawal-notices/{nid}/confirmation", json=signed, headers=keys["seller"])
    assert by_provider.status_code == 403
    # Bad input names the field; a future date is refused.
    future = {**signed, "deleted_on": (clock() + timedelta(days=2)).date().isoformat()}
    bad = client.post(f"/api/v1/withdrawal-notices/{nid}/confirmation", json=future, headers=keys["purchaser"])
    assert bad.status_code == 422 and bad.get_json()["error"]["details"][0]["field"] == "deleted_on"
    done = client.post(f"/api/v1/withdrawal-notices/{nid}/confirmation", json=signed, headers=keys["purchaser"])
    assert done.status_code == 201 and done.get_json()["status"] == "confirmed"
    assert done.get_json()["signer_name"] == "Ada Buyer"
    twice = client.post(f"/api/v1/withdrawal-notices/{nid}/confirmation", json=signed, headers=keys["purchaser"])
    assert twice.status_code == 409

    # Another provider's key cannot read the withdrawal; the provider sees each licensee's status.
    assert client.get(f"/api/v1/provider/withdrawals/{wid}", headers=keys["outsider"]).status_code == 404
    assert client.get(f"/api/v1/provider/withdrawals/{wid}/licensees", headers=keys["outsider"]).status_code == 404
    assert client.post(f"/api/v1/provider/withdrawals/{wid}/publish", headers=keys["outsider"]).status_code == 404
    assert client.get(f"/api/v1/provider/withdrawals/{wid}", headers=keys["purchaser"]).status_code == 404
    assert client.get("/api/v1/provider/withdrawals", headers=keys["outsider"]).get_json()["data"] == []
    assert client.get("/api/v1/withdrawal-notices", headers=keys["seller"]).get_json()["data"] == []
    statuses = client.get(f"/api/v1/provider/withdrawals/{wid}/licensees", headers=keys["seller"]).get_json()
    assert {r["licensee"]["slug"]: r["status"] for r in statuses["data"]} == {"buy": "confirmed", "rival": "notified"}

    # Reminders once, before the deadline; overdue once, after it; the confirmed licensee is left alone.
    outbox.clear()
    clock.advance(days=24)
    _sweep(world)
    _sweep(world)
    assert [m.subject.split(":")[0] for m in outbox.messages_to("outsider@example.org")] == ["Reminder"]
    assert outbox.messages_to("owner@example.org") == []
    clock.advance(days=7)
    _sweep(world)
    _sweep(world)
    assert [m.subject.split(":")[0] for m in outbox.messages_to("outsider@example.org")] == ["Reminder", "Overdue"]
    # The provider's admins hear of it once, naming the licensee.
    told = [m.subject for m in outbox.messages_to("seller@example.org") if m.subject.startswith("Overdue")]
    assert told == ["Overdue: Rival Co has not confirmed deleting Speech commands 1.0.0"]
    statuses = client.get(f"/api/v1/provider/withdrawals/{wid}/licensees", headers=keys["seller"]).get_json()
    assert {r["licensee"]["slug"]: r["status"] for r in statuses["data"]} == {"buy": "confirmed", "rival": "overdue"}
    # An overdue licensee may still confirm (late, and recorded as such).
    rival_notice = world.session.exec(
        select(WithdrawalNotice).where(WithdrawalNotice.licensee_org_id == world.orgs["rival"].id)
    ).one()
    late = client.post(f"/api/v1/withdrawal-notices/{rival_notice.id}/confirmation",
                       json={**signed, "deleted_on": clock().date().isoformat()}, headers=keys["outsider"])  # fmt: skip
    assert late.status_code == 201 and late.get_json()["status"] == "confirmed"

    # Every step is in the audit log: filing and the patch in the provider's chain; each notice, confirmation and
    # lapse in both parties' chains; every chain still verifies.
    kinds = {slug: _withdrawal_kinds(world, slug) for slug in ("prov", "buy", "rival")}
    assert kinds["prov"] == [
        "withdrawal.filed", "withdrawal.patch_published", "withdrawal.licensee_notified",
        "withdrawal.licensee_notified", "withdrawal.deletion_confirmed", "withdrawal.overdue",
        "withdrawal.deletion_confirmed",
    ]  # fmt: skip
    assert kinds["buy"] == ["withdrawal.licensee_notified", "withdrawal.deletion_confirmed"]
    assert kinds["rival"] == ["withdrawal.licensee_notified", "withdrawal.overdue", "withdrawal.deletion_confirmed"]
    [signature] = [e for e in _chain(world, "buy") if e.kind == "withdrawal.deletion_confirmed"]
    assert signature.data["signer_name"] == "Ada Buyer" and signature.data["licenses"] == [grant.id]
    # Through the API, the actor is the credential (the key the purchaser signed with), not the bare user.
    assert signature.actor.startswith("api-key:")


def _chain(world, slug: str) -> list[Any]:
    organisation = world.orgs[slug]
    assert audit_service.check_chain(world.session, organisation).ok
    return list(world.session.exec(
        select(AuditEntry).where(AuditEntry.organisation_id == organisation.id).order_by(AuditEntry.seq)
    ).all())  # fmt: skip


def _withdrawal_kinds(world, slug: str) -> list[str]:
    return [entry.kind for entry in _chain(world, slug) if entry.kind.startswith("withdrawal.")]


def test_bad_filings_name_their_fields(recall, client) -> None:
    keys = _keys(recall)
    unknown = _file(client, keys["clerk"], files=["data/nope.csv"])
    assert unknown.status_code == 422
    assert "data/nope.csv" in unknown.get_json()["error"]["details"][0]["message"]
    nothing = _file(client, keys["clerk"], files=[], record_ids=[])
    assert nothing.status_code == 422 and nothing.get_json()["error"]["details"][0]["field"] == "files"
    reason = _file(client, keys["clerk"], reason="because")
    assert reason.status_code == 422 and reason.get_json()["error"]["details"][0]["field"] == "reason"
    missing = _file(client, keys["clerk"], version="9.9.9")
    assert missing.status_code == 422 and missing.get_json()["error"]["details"][0]["field"] == "version"
    assert _file(client, keys["clerk"]).status_code == 201
    twice = _file(client, keys["clerk"])
    assert twice.status_code == 409 and twice.get_json()["error"]["code"] == "version_already_withdrawn"


def test_records_only_needs_a_replaced_file_before_publishing(recall, client) -> None:
    keys = _keys(recall)
    filed = _file(client, keys["clerk"], files=[], record_ids=["spk17-0001"]).get_json()
    assert filed["patched_version"] == "1.0.1"
    # Same files as the withdrawn version: the patch is not ready.
    publish = f"/api/v1/provider/withdrawals/{filed['id']}/publish"
    refused = client.post(publish, headers=keys["clerk"])
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "patched_version_not_ready"
    # The file without the withdrawn record is uploaded into the patched draft (the ordinary upload API) ...
    content = b"id,text\n1,hello (speaker 3)\n"
    upload = client.post(
        "/api/v1/provider/datasets/speech/versions/1.0.1/uploads",
        json={"path": "data/train.csv", "size": len(content), "media_type": "text/csv",
              "sha256": hashlib.sha256(content).hexdigest()},
        headers=keys["clerk"],
    )  # fmt: skip
    assert upload.status_code == 201, upload.get_json()
    upload_id = upload.get_json()["id"]
    urls = client.post(f"/api/v1/provider/uploads/{upload_id}/links", json={}, headers=keys["clerk"]).get_json()
    put = client.put(urls["urls"]["0"].removeprefix("http://localhost"), data=content,
                     headers=upload.get_json()["headers"])  # fmt: skip
    assert put.status_code in (200, 201, 204)
    done = client.post(f"/api/v1/provider/uploads/{upload_id}/complete", headers=keys["clerk"])
    assert done.get_json()["status"] == "verified", done.get_json()
    # ... and then the patch publishes, and the licensee downloads the corrected file.
    assert client.post(publish, headers=keys["clerk"]).status_code == 200
    grant = recall.objects["grants"]["buy"]
    links = client.post(f"/api/v1/licenses/{grant.id}/download-links", json={}, headers=keys["purchaser"]).get_json()
    train = next(link for link in links["data"] if link["path"] == "data/train.csv")
    assert train["version"] == "1.0.1"
    assert client.get(train["url"].removeprefix("http://localhost")).data == content


def test_a_file_only_withdrawal_of_every_file_waits_for_uploads(recall, client) -> None:
    keys = _keys(recall)
    filed = _file(client, keys["clerk"], files=["data/train.csv", "data/extra.csv"], record_ids=[]).get_json()
    refused = client.post(f"/api/v1/provider/withdrawals/{filed['id']}/publish", headers=keys["clerk"])
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "patched_version_not_ready"


def test_a_license_issued_after_the_filing_gets_no_notice(recall, client, clock) -> None:
    keys = _keys(recall)
    filed = _file(client, keys["clerk"]).get_json()
    clock.advance(minutes=5)
    late = OrganisationFactory(slug="late", name="Late Co", kind=OrgKind.BUYER)
    licenses.issue_grant(work(recall.app, recall.session), recall.objects["free"], licensee=late, acquired_by=None)
    recall.session.flush()
    published = client.post(f"/api/v1/provider/withdrawals/{filed['id']}/publish", headers=keys["clerk"]).get_json()
    assert {row["licensee"]["slug"] for row in published["licensees"]} == {"buy", "rival"}
