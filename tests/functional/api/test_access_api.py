"""Governed access through the JSON API: providers set policies and agreements, requesters ask, sign and follow,
reviewers decide in batches, seats are enforced, paid offers sell only after approval, credentials stay with their
owner and verifiers, reviewers of one provider never see another's requests, and the sweep runs from the CLI."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
from datetime import timedelta

from marketplace.access import policy
from marketplace.access.states import AccessMode, HolderKind
from marketplace.accounts.models import OrgKind, Role
from marketplace.licenses import services as licenses
from marketplace.orders.models import Order
from tests.factories import DatasetFactory, OrganisationFactory, member
from tests.functional.api.access_world import (
    ACCESS_SCOPES,
    PDF,
    Clock,
    ask_and_sign,
    credential_body,
    form,
    govern,
    requester,
    use_clock,
)
from tests.functional.api.conftest import COMMERCIAL, bearer, work


def _error(response, status: int) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:500])
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    return dict(body["error"])


def _fields(error: dict) -> set[str]:  # type: ignore[type-arg]
    return {d["field"] for d in error["details"]}


def test_a_provider_sets_the_policy_and_publishes_agreement_versions(world, client) -> None:
    seller = bearer(world.key("seller", ["provider:write"]))
    made = client.post(
        "/api/v1/provider/agreements",
        json={"organisation": "prov", "template": "credentialed-research"},
        headers=seller,
    )
    assert made.status_code == 201, made.get_json()
    agreement = made.get_json()
    [v1] = agreement["versions"]
    assert v1["sha256"] == hashlib.sha256(v1["body"].encode()).hexdigest()
    listed = client.get("/api/v1/provider/agreements?organisation=prov", headers=seller).get_json()
    assert [a["id"] for a in listed["data"]] == [agreement["id"]] and "research-only" in listed["templates"]

    # Credentialed needs an agreement; errors name the field in the provider's words.
    refused = client.put("/api/v1/provider/datasets/speech/access", json={"mode": "credentialed"}, headers=seller)
    assert _fields(_error(refused, 422)) == {"Agreement"}
    bad = client.put(
        "/api/v1/provider/datasets/speech/access",
        json={"form_fields": [{"key": "x", "label": "X", "kind": "checkbox"}]},
        headers=seller,
    )
    assert _fields(_error(bad, 422)) == {"Extra field 1"}
    extra = [
        {"key": "irb", "label": "Ethics approval number", "kind": "text", "required": True},
        {"key": "site", "label": "Site country", "kind": "country"},
    ]
    policy_body = {"mode": "credentialed", "agreement_id": agreement["id"], "form_fields": extra,
                   "default_expiry_days": 90, "samples_public": False}  # fmt: skip
    configured = client.put("/api/v1/provider/datasets/speech/access", json=policy_body, headers=seller)
    assert configured.status_code == 200, configured.get_json()
    assert client.get("/api/v1/provider/datasets/speech/access", headers=seller).get_json() == configured.get_json()

    # What a requester reads: the mode, the fields, the exact text and its hash.
    seen = client.get("/api/v1/datasets/speech/access", headers=requester(world, "reader")).get_json()
    assert seen["mode"] == "credentialed" and seen["credential_required"] and not seen["samples_public"]
    assert [f["label"] for f in seen["form_fields"]] == ["Ethics approval number", "Site country"]
    assert seen["agreement"]["sha256"] == v1["sha256"] and seen["agreement"]["version"] == 1
    assert "research" in seen["intended_uses"]

    published = client.post(
        f"/api/v1/provider/agreements/{agreement['id']}/versions",
        json={"body": "# Version two\n\nNo sharing.", "resign_policy": "at_renewal"},
        headers=seller,
    )
    assert published.status_code == 201, published.get_json()
    assert [v["version"] for v in published.get_json()["versions"]] == [1, 2]
    assert published.get_json()["resign_policy"] == "at_renewal"
    same = client.post(f"/api/v1/provider/agreements/{agreement['id']}/versions",
                       json={"body": "# Version two\n\nNo sharing."}, headers=seller)  # fmt: skip
    assert _error(same, 409)["code"] == "agreement_unchanged"
    assert client.get(f"/api/v1/provider/agreements/{agreement['id']}", headers=seller).status_code == 200

    # A plain member of the provider may not change the policy; another provider never sees it.
    clerk = bearer(world.key("clerk", ["provider:write"]))
    assert (
        client.put("/api/v1/provider/datasets/speech/access", json={"mode": "open"}, headers=clerk).status_code == 403
    )
    other = _other_provider(world)
    for path in ("/api/v1/provider/datasets/speech/access", f"/api/v1/provider/agreements/{agreement['id']}"):
        assert client.get(path, headers=other["write"]).status_code == 404, path


def _other_provider(world) -> dict:  # type: ignore[no-untyped-def]
    """Provider B: its own admin (with both review and provider scopes) and a governed dataset."""
    org = OrganisationFactory(slug="prov-b", name="Provider B", kind=OrgKind.PROVIDER)
    admin = member(org, Role.ADMIN, email="admin-b@example.org")
    world.people["admin_b"] = admin
    DatasetFactory(organisation=org, slug="other-notes", title="Other notes")
    world.session.flush()
    return {
        "review": bearer(world.key("admin_b", ["access:review"])),
        "write": bearer(world.key("admin_b", ["provider:write"])),
    }


def test_a_requester_asks_signs_follows_and_withdraws(world, client) -> None:
    govern(world, AccessMode.GATED_MANUAL)
    headers = requester(world, "pat")
    bad = client.post(
        "/api/v1/datasets/speech/access-requests",
        json=form(full_name="", intended_uses=["fly"], intended_use_text="short", country="XX"),
        headers=headers,
    )
    assert _fields(_error(bad, 422)) == {"Full name", "Intended use", "Describe your intended use", "Country"}
    unknown = client.post("/api/v1/datasets/speech/access-requests", json=form(surprise=1), headers=headers)
    assert _fields(_error(unknown, 422)) == {"surprise"}

    asked = client.post("/api/v1/datasets/speech/access-requests", json=form(), headers=headers)
    assert asked.status_code == 201 and asked.headers["Location"].endswith(f"/access-requests/{asked.get_json()['id']}")
    request = asked.get_json()
    assert request["state"] == "submitted" and request["signature"] is None
    again = client.post("/api/v1/datasets/speech/access-requests", json=form(), headers=headers)
    assert _error(again, 409)["code"] == "request_pending"

    wrong = client.post(f"/api/v1/access-requests/{request['id']}/signature",
                        json={"full_name": "Pat Purchaser", "sha256": "0" * 64}, headers=headers)  # fmt: skip
    assert _fields(_error(wrong, 422)) == {"Agreement"}
    signed = client.post(
        f"/api/v1/access-requests/{request['id']}/signature",
        json={"full_name": "Pat  Purchaser", "sha256": request["agreement"]["sha256"]},
        headers={**headers, "User-Agent": "research-client/1.0"},
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )
    assert signed.status_code == 201, signed.get_json()
    signature = signed.get_json()["signature"]
    assert signature["full_name"] == "Pat Purchaser" and signature["sha256"] == request["agreement"]["sha256"]
    assert signature["ip_address"] == "203.0.113.9" and signature["user_agent"] == "research-client/1.0"

    listed = client.get("/api/v1/access-requests", headers=headers).get_json()
    assert [r["id"] for r in listed["data"]] == [request["id"]]
    withdrawn = client.post(f"/api/v1/access-requests/{request['id']}/withdraw", headers=headers)
    assert withdrawn.get_json()["state"] == "withdrawn"
    read = client.get(f"/api/v1/access-requests/{request['id']}", headers=headers).get_json()
    assert [(h["action"], h["by"]) for h in read["history"]] == [
        ("submitted", "pat@example.org"), ("withdrawn", "pat@example.org"),
    ]  # fmt: skip
    assert _error(client.post(f"/api/v1/access-requests/{request['id']}/withdraw", headers=headers), 409)
    # Without the scope: refused before anything is read.
    no_scope = bearer(world.key("pat", ["catalog:read"]))
    assert _error(client.get("/api/v1/access-requests", headers=no_scope), 403)["code"] == "insufficient_scope"


def test_batch_review_approves_three_and_rejects_two_with_reasons_requesters_see(world, client) -> None:
    govern(world, AccessMode.GATED_MANUAL, default_expiry_days=30)
    clock = Clock()
    use_clock(world.app, clock)
    people = {name: requester(world, name) for name in ("ann", "ben", "cy", "dee", "eve")}
    asked = {name: ask_and_sign(client, headers) for name, headers in people.items()}
    # A flagged reviewer (a plain member of the provider otherwise) works the queue.
    policy.set_reviewer(work(world.app, world.session), world.people["seller"], world.orgs["prov"],
                        world.people["clerk"])  # fmt: skip
    world.session.flush()
    reviewer = bearer(world.key("clerk", ["access:review"]))
    queue = client.get("/api/v1/provider/access-requests?organisation=prov&limit=2", headers=reviewer).get_json()
    seen = [r["id"] for r in queue["data"]]
    following = client.get(f"/api/v1/provider/access-requests?organisation=prov&cursor={queue['next_cursor']}",
                           headers=reviewer).get_json()  # fmt: skip
    seen += [r["id"] for r in following["data"]]
    assert seen == [asked[n]["id"] for n in people]  # oldest first, each once
    assert queue["data"][0]["answers"] == {} and queue["data"][0]["signature"]["user_agent"] == "research-client/1.0"

    clock.now += timedelta(hours=2)
    chosen = clock.now + timedelta(days=7)
    approved = client.post(
        "/api/v1/provider/access-requests/approve",
        json={
            "reason": "Ethics approval checked.",
            "requests": [
                {"id": asked["ann"]["id"]},
                {"id": asked["ben"]["id"], "expires_at": chosen.isoformat()},
                {"id": asked["cy"]["id"], "reason": "Known research group."},
            ],
        },
        headers={**reviewer, "Idempotency-Key": "approve-batch-1"},
    )
    assert approved.status_code == 200, approved.get_json()
    assert [r["state"] for r in approved.get_json()["data"]] == ["approved"] * 3
    rejected = client.post(
        "/api/v1/provider/access-requests/reject",
        json={
            "reason": "No ethics approval given.",
            "requests": [{"id": asked["dee"]["id"]}, {"id": asked["eve"]["id"]}],
        },
        headers=reviewer,
    )
    assert [r["state"] for r in rejected.get_json()["data"]] == ["rejected"] * 2
    # The same batch again is a replay, not a second decision; a new key finds them decided (409, by id).
    replay = client.post("/api/v1/provider/access-requests/approve", json={
        "reason": "Ethics approval checked.", "requests": [{"id": asked["ann"]["id"]}, {"id": asked["ben"]["id"],
        "expires_at": chosen.isoformat()}, {"id": asked["cy"]["id"], "reason": "Known research group."}]},
        headers={**reviewer, "Idempotency-Key": "approve-batch-1"})  # fmt: skip
    assert replay.headers.get("Idempotent-Replayed") == "true"
    twice = client.post("/api/v1/provider/access-requests/approve", json={"requests": [{"id": asked["dee"]["id"]}]},
                        headers=reviewer)  # fmt: skip
    assert f"Request {asked['dee']['id']}" in _error(twice, 409)["message"]
    no_reason = client.post("/api/v1/provider/access-requests/reject",
                            json={"requests": [{"id": asked["ann"]["id"]}]}, headers=reviewer)  # fmt: skip
    assert _fields(_error(no_reason, 422)) == {"Reason"}

    # Requesters see their decision and reason; the approvals carry the expiry asked for (or the default).
    mine = {name: client.get(f"/api/v1/access-requests/{asked[name]['id']}", headers=h).get_json()
            for name, h in people.items()}  # fmt: skip
    assert mine["dee"]["reason"] == mine["eve"]["reason"] == "No ethics approval given."
    assert mine["dee"]["history"][-1] == {**mine["dee"]["history"][-1], "action": "rejected", "by": "clerk@example.org"}
    assert mine["cy"]["reason"] == "Known research group." and mine["ann"]["reason"] == "Ethics approval checked."
    approval = client.get("/api/v1/access-approvals", headers=people["ben"]).get_json()["data"][0]
    assert approval["id"] == mine["ben"]["approval_id"] and approval["in_force"]
    assert approval["expires_at"].startswith(chosen.isoformat()[:19])
    default = client.get(f"/api/v1/access-approvals/{mine['ann']['approval_id']}", headers=people["ann"]).get_json()
    assert default["expires_at"].startswith((clock.now + timedelta(days=30)).isoformat()[:19])
    queue = client.get("/api/v1/provider/access-requests?organisation=prov&state=rejected", headers=reviewer)
    assert [r["id"] for r in queue.get_json()["data"]] == [asked["dee"]["id"], asked["eve"]["id"]]

    report = client.get("/api/v1/provider/access-report?organisation=prov", headers=reviewer)
    assert report.status_code == 200 and report.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(report.get_data(as_text=True))))
    decisions = [(r["action"], r["person"], r["reason"]) for r in rows if r["subject"] == "request"]
    assert ("rejected", "eve@example.org", "No ethics approval given.") in decisions
    assert sum(1 for d in decisions if d[0] == "approved") == 3
    assert client.get("/api/v1/provider/access-report?organisation=prov",
                      headers=bearer(world.key("ann", ["access:review"]))).status_code == 403  # fmt: skip


def test_gated_and_paid_sells_only_after_approval_and_names_the_agreement(app, world, client) -> None:
    dua = govern(world, AccessMode.GATED_MANUAL)
    offer = world.objects["extra"]
    buyer = bearer(world.key("purchaser", ["access:request", "orders:write", "licenses:read"]))
    body = {"licensee": "buy", "lines": [{"offer_id": offer.id, "accepted_terms_hash": offer.terms_hash}]}
    refused = client.post("/api/v1/orders", json=body, headers=buyer)
    assert "requested and approved" in _error(refused, 422)["message"]
    request = ask_and_sign(client, buyer)
    assert "waiting for review" in _error(client.post("/api/v1/orders", json=body, headers=buyer), 422)["message"]
    seller = bearer(world.key("seller", ["access:review"]))
    decided = client.post("/api/v1/provider/access-requests/approve",
                          json={"requests": [{"id": request["id"]}]}, headers=seller)  # fmt: skip
    assert decided.status_code == 200, decided.get_json()

    placed = client.post("/api/v1/orders", json=body, headers=buyer)
    assert placed.status_code == 201, placed.get_json()
    order = world.session.get(Order, placed.get_json()["id"])
    signed = app.extensions["marketplace.context"].payments.complete_checkout(order.checkout_session_id, "paid")
    hook = client.post("/webhooks/stripe", data=signed.payload, headers={"Stripe-Signature": signed.signature_header})
    assert hook.status_code == 200, hook.get_data(as_text=True)
    paid = client.get(f"/api/v1/orders/{order.id}", headers=buyer).get_json()
    license_id = paid["lines"][0]["license_id"]
    grant = client.get(f"/api/v1/licenses/{license_id}", headers=buyer).get_json()
    version = request["agreement"]
    assert grant["agreement"] == {"id": str(dua.id), "version": "1", "sha256": version["sha256"]}
    verified = client.get(f"/api/v1/licenses/{license_id}/verify").get_json()
    assert verified["valid"] and verified["agreement"]["sha256"] == version["sha256"]


def test_seats_of_an_organisations_access_are_enforced(world, client) -> None:
    govern(world, AccessMode.GATED_MANUAL, holder=HolderKind.ORGANISATION)
    dataset = world.objects["dataset"]
    uow = work(world.app, world.session)
    # The buyer's license for the dataset allows two seats.
    two = licenses.create_offer(uow, world.people["seller"], dataset, title="Two seats", license_id=COMMERCIAL,
                                price_amount=1000, currency="EUR", overrides={"seats": 2})  # fmt: skip
    for grant in world.objects["grants"].values():
        grant.status = "revoked"
        world.session.add(grant)
    licenses.issue_grant(uow, two, licensee=world.orgs["buy"], acquired_by=None)
    world.session.flush()
    asker = requester(world, "asker")
    request = ask_and_sign(client, asker)
    seller = bearer(world.key("seller", ["access:review"]))
    client.post("/api/v1/provider/access-requests/approve", json={"requests": [{"id": request["id"]}]}, headers=seller)
    admin = bearer(world.key("buyer_admin", ["access:request"]))
    [held] = client.get("/api/v1/access-approvals", headers=admin).get_json()["data"]
    assert held["holder"] == "organisation" and held["seat_limit"] == 2
    assert [s["email"] for s in held["seats"]] == ["asker@example.org"]
    seats = f"/api/v1/access-approvals/{held['id']}/seats"
    requester(world, "colleague")
    requester(world, "third")
    # A plain member manages no seats.
    assert client.post(seats, json={"email": "colleague@example.org"}, headers=asker).status_code == 403
    added = client.post(seats, json={"email": "colleague@example.org"}, headers=admin)
    assert added.status_code == 201 and len(added.get_json()["seats"]) == 2
    full = client.post(seats, json={"email": "third@example.org"}, headers=admin)
    assert _error(full, 409)["code"] == "seats_exhausted"
    stranger = client.post(seats, json={"email": "outsider@example.org"}, headers=admin)
    assert _fields(_error(stranger, 422)) == {"Member"}
    colleague_id = world.people["colleague"].id
    assert client.delete(f"{seats}/{colleague_id}", headers=admin).status_code == 204
    assert client.post(seats, json={"email": "third@example.org"}, headers=admin).status_code == 201
    # Another organisation never sees the approval.
    rival = bearer(world.key("outsider", ["access:request"]))
    assert client.get(f"/api/v1/access-approvals/{held['id']}", headers=rival).status_code == 404
    assert client.post(seats, json={"email": "outsider@example.org"}, headers=rival).status_code == 404


def test_reset_revoke_and_grant_without_request_stop_and_start_downloads(world, client) -> None:
    govern(world, AccessMode.GATED_MANUAL)
    buyer = bearer(world.key("purchaser", ["access:request", "downloads"]))
    grant = world.objects["grants"]["buy"]
    links = f"/api/v1/licenses/{grant.id}/download-links"
    assert "requested and approved" in _error(client.post(links, json={}, headers=buyer), 403)["message"]
    seller = bearer(world.key("seller", ["access:review"]))
    given = client.post(
        "/api/v1/provider/datasets/speech/access-grants",
        json={"email": "purchaser@example.org", "organisation": "buy", "reason": "Consortium partner."},
        headers=seller,
    )
    assert given.status_code == 201, given.get_json()
    approval = given.get_json()
    assert approval["request_id"] is None and approval["problem"] == "sign the data-use agreement first"
    unknown = client.post("/api/v1/provider/datasets/speech/access-grants",
                          json={"email": "nobody@example.org", "organisation": "buy"}, headers=seller)  # fmt: skip
    assert _fields(_error(unknown, 422)) == {"email"}

    # A signed request approved: downloads work; reset: they stop, and the person must ask again.
    request = ask_and_sign(client, buyer)
    approved = client.post("/api/v1/provider/access-requests/approve",
                           json={"requests": [{"id": request["id"]}]}, headers=seller)  # fmt: skip
    approval_id = approved.get_json()["data"][0]["approval_id"]
    assert client.post(links, json={}, headers=buyer).status_code == 201
    reset = client.post(f"/api/v1/provider/access-approvals/{approval_id}/reset", json={"reason": "re-check"},
                        headers=seller)  # fmt: skip
    assert reset.get_json()["state"] == "reset"
    listed = client.get("/api/v1/provider/access-approvals?organisation=prov&state=reset", headers=seller).get_json()
    assert [a["id"] for a in listed["data"]] == [approval_id]
    revoked = client.post(f"/api/v1/provider/access-approvals/{approval['id']}/revoke", json={}, headers=seller)
    assert _fields(_error(revoked, 422)) == {"Reason"}
    revoked = client.post(f"/api/v1/provider/access-approvals/{approval['id']}/revoke",
                          json={"reason": "Breach of clause 3."}, headers=seller)  # fmt: skip
    assert revoked.get_json()["state"] == "revoked"
    refused = _error(client.post(links, json={}, headers=buyer), 403)
    assert "access" in refused["message"]


def test_credentials_are_read_only_by_their_owner_and_verifiers(world, client) -> None:
    govern(world, AccessMode.CREDENTIALED)
    owner = requester(world, "pat")
    bad = client.post("/api/v1/credentials", json=credential_body(content_base64="not base64!"), headers=owner)
    assert _fields(_error(bad, 422)) == {"content_base64"}
    future = client.post("/api/v1/credentials", json=credential_body(completed_on="2999-01-01"), headers=owner)
    assert _fields(_error(future, 422)) == {"Completion date"}
    uploaded = client.post("/api/v1/credentials", json=credential_body(), headers=owner)
    assert uploaded.status_code == 201, uploaded.get_json()
    credential = uploaded.get_json()
    assert credential["state"] == "submitted" and credential["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert [c["id"] for c in client.get("/api/v1/credentials", headers=owner).get_json()["data"]] == [credential["id"]]
    assert client.get(f"/api/v1/credentials/{credential['id']}", headers=owner).get_json() == credential
    own_file = client.get(f"/api/v1/credentials/{credential['id']}/file", headers=owner)
    assert own_file.status_code == 200 and own_file.data == PDF and own_file.mimetype == "application/pdf"
    assert own_file.headers["Content-Disposition"] == f'attachment; filename="credential-{credential["id"]}.pdf"'

    # The person asks the provider for access: its trusted reviewer may verify; nobody else sees the file.
    ask_and_sign(client, owner)
    clerk = bearer(world.key("clerk", ACCESS_SCOPES))
    requester(world, "nosy")
    others = {
        "another requester": bearer(world.key("nosy", ACCESS_SCOPES)),
        "untrusted reviewer": clerk,
        "other organisation": bearer(world.key("outsider", ACCESS_SCOPES)),
        "platform admin's key": bearer(world.key("admin", ACCESS_SCOPES)),
    }
    for who, headers in others.items():
        for path in (f"/api/v1/credentials/{credential['id']}/file",
                     f"/api/v1/provider/credentials/{credential['id']}/file"):  # fmt: skip
            assert client.get(path, headers=headers).status_code == 404, (who, path)
    assert client.post(f"/api/v1/provider/credentials/{credential['id']}/verify", json={},
                       headers=clerk).status_code == 404  # fmt: skip
    policy.set_reviewer(work(world.app, world.session), world.people["seller"], world.orgs["prov"],
                        world.people["clerk"], verifies_credentials=True)  # fmt: skip
    world.session.flush()
    assert [c["id"] for c in client.get("/api/v1/provider/credentials", headers=clerk).get_json()["data"]] == [
        credential["id"]
    ]
    verifier_file = client.get(f"/api/v1/provider/credentials/{credential['id']}/file", headers=clerk)
    assert verifier_file.status_code == 200 and verifier_file.data == PDF
    refuse = client.post(f"/api/v1/provider/credentials/{credential['id']}/refuse", json={}, headers=clerk)
    assert _fields(_error(refuse, 422)) == {"Reason"}
    verified = client.post(f"/api/v1/provider/credentials/{credential['id']}/verify", json={}, headers=clerk)
    assert verified.get_json()["state"] == "verified"
    again = client.post(f"/api/v1/provider/credentials/{credential['id']}/refuse", json={"reason": "late"},
                        headers=clerk)  # fmt: skip
    assert _error(again, 409)["code"] == "illegal_transition"
    assert client.get(f"/api/v1/credentials/{credential['id']}", headers=owner).get_json()["state"] == "verified"
    # The owner cannot verify their own credential.
    owner_review = bearer(world.key("pat", ["access:review"]))
    mine = client.post(f"/api/v1/provider/credentials/{credential['id']}/verify", json={}, headers=owner_review)
    assert _error(mine, 403)["code"] == "permission_denied"


def test_a_reviewer_of_another_provider_and_other_requesters_get_404(world, client) -> None:
    govern(world, AccessMode.GATED_MANUAL)
    owner = requester(world, "pat")
    request = ask_and_sign(client, owner)
    seller = bearer(world.key("seller", ["access:review"]))
    other = _other_provider(world)["review"]
    rid = request["id"]
    # Provider B's admin: every id-addressed route to provider A's request is 404; its queue names nothing of A's.
    assert client.get(f"/api/v1/provider/access-requests/{rid}", headers=other).status_code == 404
    for decision in ("approve", "reject"):
        response = client.post(f"/api/v1/provider/access-requests/{decision}",
                               json={"requests": [{"id": rid}], "reason": "x"}, headers=other)  # fmt: skip
        assert response.status_code == 404, response.get_json()
    assert client.get("/api/v1/provider/access-requests?organisation=prov", headers=other).status_code == 403
    assert client.get("/api/v1/provider/access-requests?organisation=prov-b", headers=other).get_json()["data"] == []
    assert client.get("/api/v1/provider/access-report?organisation=prov", headers=other).status_code == 403
    grant = client.post("/api/v1/provider/datasets/speech/access-grants",
                        json={"email": "outsider@example.org", "organisation": "rival"}, headers=other)  # fmt: skip
    assert grant.status_code == 404
    approved = client.post("/api/v1/provider/access-requests/approve", json={"requests": [{"id": rid}]},
                           headers=seller)  # fmt: skip
    approval_id = approved.get_json()["data"][0]["approval_id"]
    for action in ("reset", "revoke"):
        response = client.post(f"/api/v1/provider/access-approvals/{approval_id}/{action}",
                               json={"reason": "x"}, headers=other)  # fmt: skip
        assert response.status_code == 404
    # Another requester (same organisation) sees nothing of pat's request or approval.
    nosy = requester(world, "nosy")
    assert client.get(f"/api/v1/access-requests/{rid}", headers=nosy).status_code == 404
    assert client.post(f"/api/v1/access-requests/{rid}/withdraw", headers=nosy).status_code == 404
    sign = client.post(f"/api/v1/access-requests/{rid}/signature",
                       json={"full_name": "Nosy", "sha256": request["agreement"]["sha256"]}, headers=nosy)  # fmt: skip
    assert sign.status_code == 404
    assert client.get(f"/api/v1/access-approvals/{approval_id}", headers=nosy).status_code == 404
    assert client.get("/api/v1/access-requests", headers=nosy).get_json()["data"] == []
    assert client.get("/api/v1/access-approvals", headers=nosy).get_json()["data"] == []
    # The owner sees their own, and an organisation key of another organisation does not reach it.
    assert client.get(f"/api/v1/access-requests/{rid}", headers=owner).status_code == 200
    rival_org_key = bearer(world.key("outsider", ["access:request"], org="rival"))
    assert client.get(f"/api/v1/access-requests/{rid}", headers=rival_org_key).status_code == 404


def test_the_sweep_runs_from_the_cli_with_a_moved_clock(app, world, client) -> None:
    govern(world, AccessMode.GATED_MANUAL)
    clock = Clock()
    use_clock(app, clock)
    buyer = bearer(world.key("purchaser", ["access:request", "downloads"]))
    request = ask_and_sign(client, buyer)
    seller = bearer(world.key("seller", ["access:review"]))
    expiry = clock.now + timedelta(days=20)
    approved = client.post("/api/v1/provider/access-requests/approve",
                           json={"requests": [{"id": request["id"]}], "expires_at": expiry.isoformat()},
                           headers=seller)  # fmt: skip
    approval_id = approved.get_json()["data"][0]["approval_id"]
    runner = app.test_cli_runner()

    clock.now += timedelta(days=10)  # ten days left: the notice goes out once
    first = runner.invoke(args=["access", "sweep"])
    assert first.exit_code == 0, first.output
    assert "approvals expired: 0" in first.output and "notices: 1 approvals" in first.output
    assert "notices: 0 approvals" in runner.invoke(args=["access", "sweep"]).output

    clock.now += timedelta(days=11)
    links = client.post(f"/api/v1/licenses/{world.objects['grants']['buy'].id}/download-links", json={},
                        headers=buyer)  # fmt: skip
    assert "access expired" in _error(links, 403)["message"]  # at once, before any sweep
    swept = runner.invoke(args=["access", "sweep"])
    assert swept.exit_code == 0 and "approvals expired: 1" in swept.output, swept.output
    held = client.get(f"/api/v1/access-approvals/{approval_id}", headers=buyer).get_json()
    assert held["state"] == "expired" and held["problem"] == "access expired" and not held["in_force"]


def test_credential_files_are_base64_round_trips(world, client) -> None:
    owner = bearer(world.key("buyer_admin", ["access:request"]))
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    body = credential_body(filename="cert.png", media_type="image/png", content_base64=base64.b64encode(png).decode())
    made = client.post("/api/v1/credentials", json=body, headers=owner).get_json()
    fetched = client.get(f"/api/v1/credentials/{made['id']}/file", headers=owner)
    assert fetched.data == png and fetched.mimetype == "image/png"
    org_key = bearer(world.key("buyer_admin", ["access:request"], org="buy"))
    # Credentials are personal: an organisation's key does not reach them.
    assert client.get(f"/api/v1/credentials/{made['id']}", headers=org_key).status_code == 404
