"""The authorisation matrix: every endpoint × every scope (and no credential, a revoked and an expired one) is
allowed or refused as designed; and no credential ever sees another organisation's orders, licenses or files."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from marketplace.accounts.models import Role
from marketplace.api.core import OPERATIONS, Operation
from marketplace.apikeys import services as keys
from marketplace.catalog import services as catalog
from marketplace.catalog.manifest import compute_manifest_digest
from marketplace.catalog.vocab import VersionStatus
from marketplace.db import utcnow
from marketplace.delivery import services as uploads
from marketplace.events import emit
from marketplace.notifications import services as notices
from marketplace.notifications.kinds import NotificationKind
from marketplace.notifications.models import Notification
from marketplace.webhooks import services as hooks
from marketplace.webhooks.models import WebhookDelivery
from tests.contract.storage.conftest import s3rver_endpoint  # noqa: F401 (a fixture)
from tests.factories import DatasetFileFactory, DatasetVersionFactory, MembershipFactory
from tests.functional.aiact.support import documented_record, publish_listing
from tests.functional.api.access_world import governed_access
from tests.functional.api.conftest import ALL_SCOPES, bearer, work
from tests.functional.api.custom_support import CUSTOM_REQUIRED, custom_for_matrix
from tests.functional.catalog.conftest import ALL_FIELDS, manifest, record
from tests.support.contracts import contracts_for_matrix
from tests.support.exports import exports_for_matrix
from tests.support.invoices import invoiced_order
from tests.support.withdrawals import withdrawals_for_matrix

#: What each route requires, written out (not read from the route table), so a route that loses its scope check
#: fails here: a scope, ``public`` (no credential needed) or ``any`` (any valid credential).
REQUIRED: dict[str, str] = {
    "GET /v1/datasets": "catalog:read",
    "GET /v1/datasets/{slug}": "catalog:read",
    "GET /v1/datasets/{slug}/versions": "catalog:read",
    "GET /v1/datasets/{slug}/versions/{version}": "catalog:read",
    "GET /v1/datasets/{slug}/croissant": "catalog:read",
    "GET /v1/datasets/{slug}/versions/{version}/spdx": "catalog:read",
    "GET /v1/datasets/{slug}/offers": "catalog:read",
    "GET /v1/datasets/{slug}/versions/{version}/ai-act": "catalog:read",
    "POST /v1/provider/datasets/{slug}/versions/{version}/ai-act/sign-off": "provider:write",
    "GET /v1/licenses": "licenses:read",
    "GET /v1/licenses/{license_id}": "licenses:read",
    "GET /v1/licenses/{license_id}/certificate": "licenses:read",
    "GET /v1/licenses/{license_id}/training-summary": "licenses:read",
    "GET /v1/licenses/{license_id}/verify": "public",
    "GET /v1/licenses/{license_id}/manifest": "downloads",
    "POST /v1/licenses/{license_id}/download-links": "downloads",
    "POST /v1/licenses/{license_id}/sharing-profiles": "downloads",
    "GET /v1/destinations": "downloads",
    "POST /v1/destinations": "downloads",
    "DELETE /v1/destinations/{destination_id}": "downloads",
    "POST /v1/licenses/{license_id}/exports": "downloads",
    "GET /v1/licenses/{license_id}/exports": "downloads",
    "GET /v1/exports/{export_id}": "downloads",
    "GET /v1/me": "any",
    "POST /v1/orders": "orders:write",
    "GET /v1/orders": "orders:write",
    "GET /v1/orders/{order_id}": "orders:write",
    "GET /v1/orders/{order_id}/checkout": "orders:write",
    "POST /v1/orders/{order_id}/checkout": "orders:write",
    "GET /v1/orders/{order_id}/invoice.pdf": "orders:write",
    "GET /v1/orders/{order_id}/credit-notes/{credit_note_id}.pdf": "orders:write",
    "POST /v1/offers/{offer_id}/acquire": "orders:write",
    "GET /v1/provider/datasets": "provider:write",
    "POST /v1/provider/datasets": "provider:write",
    "GET /v1/provider/datasets/{slug}": "provider:write",
    "PUT /v1/provider/datasets/{slug}/sections/{section}": "provider:write",
    "POST /v1/provider/datasets/{slug}/submit": "provider:write",
    "POST /v1/provider/datasets/{slug}/versions": "provider:write",
    "GET /v1/provider/datasets/{slug}/versions/{version}": "provider:write",
    "PUT /v1/provider/datasets/{slug}/versions/{version}": "provider:write",
    "POST /v1/provider/datasets/{slug}/versions/{version}/publish": "provider:write",
    "POST /v1/provider/datasets/{slug}/versions/{version}/uploads": "provider:write",
    "GET /v1/provider/uploads/{upload_id}": "provider:write",
    "POST /v1/provider/uploads/{upload_id}/links": "provider:write",
    "POST /v1/provider/uploads/{upload_id}/complete": "provider:write",
    "DELETE /v1/provider/uploads/{upload_id}": "provider:write",
    "POST /v1/provider/datasets/{slug}/offers": "provider:write",
    "POST /v1/provider/offers/{offer_id}/retire": "provider:write",
    "POST /v1/provider/imports": "provider:write",
    "GET /v1/provider/imports/{job_id}": "provider:write",
    "GET /v1/webhooks/endpoints": "webhooks:manage",
    "POST /v1/webhooks/endpoints": "webhooks:manage",
    "GET /v1/webhooks/endpoints/{endpoint_id}": "webhooks:manage",
    "DELETE /v1/webhooks/endpoints/{endpoint_id}": "webhooks:manage",
    "POST /v1/webhooks/endpoints/{endpoint_id}/rotate-secret": "webhooks:manage",
    "GET /v1/webhooks/endpoints/{endpoint_id}/deliveries": "webhooks:manage",
    "POST /v1/webhooks/deliveries/{delivery_id}/redeliver": "webhooks:manage",
    "GET /v1/contracts/{contract_id}": "any",
    "POST /v1/contracts/{contract_id}/checkout": "orders:write",
    "POST /v1/contracts/{contract_id}/milestones/{position}/deliver": "provider:write",
    "POST /v1/contracts/{contract_id}/milestones/{position}/redeliver": "provider:write",
    "POST /v1/contracts/{contract_id}/milestones/{position}/accept": "orders:write",
    "POST /v1/contracts/{contract_id}/milestones/{position}/reject": "orders:write",
    "POST /v1/contracts/{contract_id}/milestones/{position}/cancel": "orders:write",
    "POST /v1/contracts/{contract_id}/milestones/{position}/escalate": "any",
    **CUSTOM_REQUIRED,
    "GET /v1/datasets/{slug}/access": "access:request",
    "POST /v1/datasets/{slug}/access-requests": "access:request",
    "GET /v1/access-requests": "access:request",
    "GET /v1/access-requests/{request_id}": "access:request",
    "POST /v1/access-requests/{request_id}/signature": "access:request",
    "POST /v1/access-requests/{request_id}/withdraw": "access:request",
    "GET /v1/access-approvals": "access:request",
    "GET /v1/access-approvals/{approval_id}": "access:request",
    "POST /v1/access-approvals/{approval_id}/signature": "access:request",
    "POST /v1/access-approvals/{approval_id}/seats": "access:request",
    "DELETE /v1/access-approvals/{approval_id}/seats/{user_id}": "access:request",
    "POST /v1/credentials": "access:request",
    "GET /v1/credentials": "access:request",
    "GET /v1/credentials/{credential_id}": "access:request",
    "GET /v1/credentials/{credential_id}/file": "access:request",
    "GET /v1/provider/access-requests": "access:review",
    "GET /v1/provider/access-requests/{request_id}": "access:review",
    "POST /v1/provider/access-requests/approve": "access:review",
    "POST /v1/provider/access-requests/reject": "access:review",
    "GET /v1/provider/access-approvals": "access:review",
    "POST /v1/provider/access-approvals/{approval_id}/reset": "access:review",
    "POST /v1/provider/access-approvals/{approval_id}/revoke": "access:review",
    "POST /v1/provider/datasets/{slug}/access-grants": "access:review",
    "GET /v1/provider/access-report": "access:review",
    "GET /v1/audit/entries": "audit:read",
    "GET /v1/audit/export": "audit:read",
    "GET /v1/providers/{org}/analytics": "analytics:read",
    "GET /v1/provider/credentials": "access:review",
    "GET /v1/provider/credentials/{credential_id}": "access:review",
    "GET /v1/provider/credentials/{credential_id}/file": "access:review",
    "POST /v1/provider/credentials/{credential_id}/verify": "access:review",
    "POST /v1/provider/credentials/{credential_id}/refuse": "access:review",
    "GET /v1/provider/datasets/{slug}/access": "provider:write",
    "PUT /v1/provider/datasets/{slug}/access": "provider:write",
    "GET /v1/provider/agreements": "provider:write",
    "POST /v1/provider/agreements": "provider:write",
    "GET /v1/provider/agreements/{agreement_id}": "provider:write",
    "POST /v1/provider/agreements/{agreement_id}/versions": "provider:write",
    "POST /v1/provider/withdrawals": "withdrawals:write",
    "GET /v1/provider/withdrawals": "withdrawals:read",
    "GET /v1/provider/withdrawals/{withdrawal_id}": "withdrawals:read",
    "GET /v1/provider/withdrawals/{withdrawal_id}/licensees": "withdrawals:read",
    "POST /v1/provider/withdrawals/{withdrawal_id}/publish": "withdrawals:write",
    "GET /v1/withdrawal-notices": "withdrawals:read",
    "GET /v1/withdrawal-notices/{notice_id}": "withdrawals:read",
    "POST /v1/withdrawal-notices/{notice_id}/confirmation": "withdrawals:write",
    "GET /v1/datasets/{slug}/samples/{sample_id}/rows": "catalog:read",
    "GET /v1/datasets/{slug}/samples/{sample_id}/search": "catalog:read",
    "GET /v1/datasets/{slug}/samples/{sample_id}/statistics": "catalog:read",
    "GET /v1/datasets/{slug}/versions/{version}/files/{file_id}/rows": "downloads",
    "GET /v1/datasets/{slug}/versions/{version}/files/{file_id}/search": "downloads",
    "GET /v1/datasets/{slug}/versions/{version}/files/{file_id}/statistics": "downloads",
    "GET /v1/notifications": "notifications",
    "POST /v1/notifications/{notification_id}/read": "notifications",
    "POST /v1/notifications/read-all": "notifications",
}


@pytest.fixture()
def app_settings(app_settings: dict[str, Any]) -> dict[str, Any]:
    # Every route × every credential is more requests than one address may make in a minute: rate limits have
    # their own test (test_rate_limits.py); here they would only hide what each route allows.
    app_settings["API_RATE_LIMIT_PER_KEY"] = "1000000 per minute"
    app_settings["API_RATE_LIMIT_PER_ADDRESS"] = "1000000 per minute"
    return app_settings


@dataclass
class Request:
    """A request that must succeed (2xx) for a credential allowed to make it: real ids, a valid body."""

    values: dict[str, Any]
    bodies: dict[str, Any]
    queries: dict[str, str]


def _key(op: Operation) -> str:
    return f"{op.method} {op.path}"


def _path(op: Operation, request: Request) -> str:
    values = {**request.values, **request.values.get(_key(op), {})}
    path = "/api" + re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), op.path)
    query = request.queries.get(_key(op))
    return f"{path}?{query}" if query else path


def _call(client: Any, op: Operation, request: Request, headers: dict[str, str]) -> Any:
    body = request.bodies.get(_key(op), {} if op.body is not None else None)
    return client.open(_path(op, request), method=op.method, json=body, headers=headers)


def _refused_for_scope(response: Any) -> bool:
    return response.status_code == 403 and response.get_json()["error"]["code"] == "insufficient_scope"


def _expected(op: Operation, credential: str) -> str:
    """``allowed`` (a 2xx), ``401`` or ``403 insufficient_scope`` for ``credential`` (named after its scope)."""
    required = REQUIRED[_key(op)]
    if credential in ("revoked", "expired", "malformed", "basic"):
        return "401"
    if required == "public":
        return "allowed"
    if credential == "none":
        return "401"
    if required == "any" or credential in (required, "all"):
        return "allowed"
    return "403 insufficient_scope"


@pytest.fixture()
def credentials(world) -> dict[str, dict[str, str]]:
    # One person who administers the provider and owns the buyer, so scope is what decides.
    MembershipFactory(organisation=world.orgs["prov"], user=world.people["buyer_admin"], role=Role.ADMIN)
    world.session.flush()
    made = {scope: bearer(world.key("buyer_admin", [scope])) for scope in ALL_SCOPES}
    made["all"] = bearer(world.key("buyer_admin"))
    made["none"] = {}
    revoked = world.key("buyer_admin")
    row = world.last_key
    keys.revoke_key(work(world.app, world.session), world.people["buyer_admin"], row.id)
    made["revoked"] = bearer(revoked)
    expiring = world.key("buyer_admin", expires_at=utcnow() + timedelta(seconds=1))
    row = world.last_key
    row.expires_at = utcnow() - timedelta(seconds=1)
    world.session.add(row)
    world.session.flush()
    made["expired"] = bearer(expiring)
    made["malformed"] = {"Authorization": "Bearer mkp_live_not-a-real-key"}
    made["basic"] = {"Authorization": "Basic dXNlcjpwYXNz"}
    return made


@pytest.fixture()
def request_for(world, client, credentials, s3rver_endpoint) -> Request:  # noqa: F811
    """Everything each route needs to succeed: a draft listing and version, an upload, a job, a webhook endpoint
    with a delivery, and bodies that pass validation."""
    uow = work(world.app, world.session)
    seller, dataset = world.people["seller"], world.objects["dataset"]
    # 2.0.0 declares its file (nothing uploaded), so it may be published; 3.0.0 takes uploads.
    to_publish = DatasetVersionFactory(dataset=dataset, version="2.0.0", status=VersionStatus.DRAFT)
    files = [DatasetFileFactory(version=to_publish, path="data/train.csv")]
    to_publish.manifest_digest = compute_manifest_digest(files)
    to_publish.file_count = 1
    to_publish.total_bytes = files[0].size_bytes
    world.session.add(to_publish)
    receiving = DatasetVersionFactory(dataset=dataset, version="3.0.0", status=VersionStatus.DRAFT)
    # A complete draft listing, ready to be submitted for review.
    draft = catalog.create_dataset(uow, seller, organisation="prov", title="Draft listing", slug="draft-listing")
    catalog.apply_record(uow, draft, record(title="Draft listing"), ALL_FIELDS)
    catalog.add_version(uow, seller, draft, version="1.0.0", files=manifest("draft-listing"))
    world.session.flush()
    upload = uploads.start_upload(uow, seller, dataset, receiving, path="data/new.csv", size=3)
    endpoint, _secret = hooks.create_endpoint(
        uow, seller, world.orgs["prov"], url="http://127.0.0.1:9/hook", events=["license.issued"]
    )
    emit(uow, "license.issued", {"license_id": "l"}, audience=[world.orgs["prov"].id])
    world.session.flush()
    delivery = world.session.exec(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)).one()
    job = client.post(
        "/api/v1/provider/imports",
        json={"organisation": "prov", "format": "jsonl", "content": "{}"},
        headers=credentials["all"],
    )
    assert job.status_code == 202, job.get_json()
    extra, free = world.objects["extra"], world.objects["free"]
    contracts = contracts_for_matrix(
        uow, client, credentials["all"], world.people, world.orgs["buy"], world.orgs["prov"]
    )
    custom = custom_for_matrix(uow, world.people["buyer_admin"], seller)
    invoiced, credit_note_id = invoiced_order(world)  # before the dataset's access is governed
    access = governed_access(world, client, credentials["all"])
    withdrawn = withdrawals_for_matrix(world)
    exports = exports_for_matrix(world, s3rver_endpoint)
    notices.deliver(uow, [world.people["buyer_admin"]], notices.Notice(NotificationKind.SALE, "A sale", "Paid."))
    notification = world.session.exec(
        select(Notification).where(Notification.recipient_id == world.people["buyer_admin"].id)
    ).first()
    # A published listing whose AI Act documentation is complete but not yet signed off.
    publish_listing(
        world.app, uow, seller, world.people["admin"], organisation="prov", slug="documented", data=documented_record()
    )
    sample = catalog.add_sample(uow, seller, dataset, filename="preview.csv", content=b"id,text\n1,hello\n",
                                media_type="text/csv")  # fmt: skip
    return Request(
        values={
            **contracts["values"],
            **custom["values"],
            **access.values,
            **withdrawn,
            **exports["values"],
            "slug": "speech",
            "org": "prov",
            "version": "1.0.0",
            "section": "identity",
            "license_id": world.objects["grants"]["buy"].id,
            "order_id": world.objects["orders"]["buy"].id,
            "offer_id": free.id,
            "upload_id": upload.id,
            "job_id": job.get_json()["id"],
            "endpoint_id": endpoint.id,
            "delivery_id": delivery.id,
            "sample_id": sample.id,
            "file_id": world.objects["file"].id,
            "notification_id": notification.id,  # type: ignore[union-attr]
            "POST /v1/provider/datasets/{slug}/submit": {"slug": draft.slug},
            "GET /v1/orders/{order_id}/invoice.pdf": {"order_id": invoiced.id},
            "GET /v1/orders/{order_id}/credit-notes/{credit_note_id}.pdf": {
                "order_id": invoiced.id,
                "credit_note_id": credit_note_id,
            },
            "PUT /v1/provider/datasets/{slug}/versions/{version}": {"version": "3.0.0"},
            "POST /v1/provider/datasets/{slug}/versions/{version}/publish": {"version": "2.0.0"},
            "POST /v1/provider/datasets/{slug}/versions/{version}/uploads": {"version": "3.0.0"},
            "POST /v1/provider/datasets/{slug}/versions/{version}/ai-act/sign-off": {"slug": "documented"},
        },
        bodies={
            **contracts["bodies"],
            **custom["bodies"],
            **access.bodies,
            **exports["bodies"],
            "POST /v1/orders": {
                "licensee": "buy",
                "lines": [{"offer_id": extra.id, "accepted_terms_hash": extra.terms_hash}],
            },
            "POST /v1/offers/{offer_id}/acquire": {"licensee": "buy", "accepted_terms_hash": free.terms_hash},
            "POST /v1/provider/datasets": {"organisation": "prov", "record": {"title": "A new listing"}},
            "POST /v1/provider/datasets/{slug}/versions": {"version": "9.0.0"},
            "PUT /v1/provider/datasets/{slug}/versions/{version}": {"changelog": "More speakers."},
            "POST /v1/provider/datasets/{slug}/versions/{version}/uploads": {"path": "a.csv", "size": 3},
            "POST /v1/provider/uploads/{upload_id}/links": {"parts": [1]},
            "POST /v1/provider/datasets/{slug}/offers": {
                "title": "X",
                "license_id": "CC-BY-4.0",
                "price_amount": 0,
                "currency": "EUR",
            },
            "POST /v1/provider/imports": {"organisation": "prov", "format": "jsonl", "content": "{}"},
            "POST /v1/webhooks/endpoints": {
                "organisation": "prov",
                "url": "http://127.0.0.1:9/hook",
                "events": ["order.paid"],
            },
            "PUT /v1/provider/datasets/{slug}/sections/{section}": {"record": {"title": "Speech commands"}},
            "POST /v1/provider/withdrawals": {
                "dataset": "speech",
                "version": "1.0.0",
                "reason": "legal_takedown",
                "record_ids": ["r1"],
            },
            "POST /v1/withdrawal-notices/{notice_id}/confirmation": {
                "signer_name": "Ada Owner",
                "signer_role": "Owner",
                "statement": "Deleted a.csv everywhere.",
                "deleted_on": utcnow().date().isoformat(),
            },
            "POST /v1/provider/datasets/{slug}/versions/{version}/ai-act/sign-off": {
                "name": "Sam Seller",
                "role": "Data governance",
                "confirm": True,
            },
        },
        queries={
            **access.queries,
            **exports["queries"],
            "GET /v1/provider/datasets": "organisation=prov",
            "GET /v1/webhooks/endpoints": "organisation=prov",
            "GET /v1/audit/entries": "organisation=buy",
            "GET /v1/audit/export": "organisation=buy",
            "GET /v1/datasets/{slug}/samples/{sample_id}/search": "q=hello",
            "GET /v1/datasets/{slug}/versions/{version}/files/{file_id}/search": "q=hello",
        },
    )


def test_every_route_is_in_the_table() -> None:
    assert {_key(op) for op in OPERATIONS} == set(REQUIRED)


def test_every_endpoint_for_every_scope(world, client, credentials, request_for, connection) -> None:
    problems = []
    for op in OPERATIONS:
        for name, headers in credentials.items():
            # Each call in a savepoint rolled back afterwards: a DELETE or a publish must not change what the next
            # credential finds, so an allowed call is a 2xx every time.
            savepoint = connection.begin_nested()
            response = _call(client, op, request_for, headers)
            savepoint.rollback()
            status = response.status_code
            expected = _expected(op, name)
            if expected == "allowed":
                ok = 200 <= status < 300
            elif expected == "401":
                ok = status == 401 and response.headers.get("WWW-Authenticate", "").startswith("Bearer")
            else:
                ok = _refused_for_scope(response)
            if not ok:
                problems.append(
                    f"{op.method} {op.path} with {name}: expected {expected}, got {status} "
                    f"{response.get_data(as_text=True)[:200]}"
                )
    assert not problems, "\n".join(problems)


def test_error_codes_say_why_a_credential_is_refused(world, client, credentials) -> None:
    codes = {
        name: client.get("/api/v1/me", headers=credentials[name]).get_json()["error"]["code"]
        for name in ("none", "revoked", "expired", "malformed", "basic")
    }
    assert codes == {
        "none": "authentication_required",
        "revoked": "credential_revoked",
        "expired": "credential_expired",
        "malformed": "invalid_credential",
        "basic": "invalid_authorization_header",
    }


# --- isolation between organisations ----------------------------------------------------------------------------


def _ids(response: Any) -> set[Any]:
    assert response.status_code == 200, response.get_json()
    return {item["id"] for item in response.get_json()["data"]}


@pytest.mark.parametrize("credential", ["rival_user", "rival_org_of_a_buy_member", "provider_org", "admin_user"])
def test_other_organisations_orders_licenses_and_files_are_never_visible(world, client, credential) -> None:
    own = world.objects["grants"]["buy"]
    own_order = world.objects["orders"]["buy"]
    if credential == "rival_org_of_a_buy_member":
        # Its creator also belongs to "buy"; the organisation key for "rival" must still not reach "buy".
        MembershipFactory(organisation=world.orgs["buy"], user=world.people["outsider"], role=Role.ADMIN)
        world.session.flush()
    who, org = {
        "rival_user": ("outsider", None),
        "rival_org_of_a_buy_member": ("outsider", "rival"),
        "provider_org": ("seller", "prov"),
        "admin_user": ("admin", None),  # a platform admin's key carries no admin powers
    }[credential]
    headers = bearer(world.key(who, org=org))
    invoiced, credit_note_id = invoiced_order(world)
    documents = (
        f"/api/v1/orders/{invoiced.id}/invoice.pdf",
        f"/api/v1/orders/{invoiced.id}/credit-notes/{credit_note_id}.pdf",
    )
    for path in documents:
        # The seller's members read the invoice of an order of their dataset; nobody else outside the buyer does.
        response = client.get(path, headers=headers)
        assert response.status_code == (200 if credential == "provider_org" else 404), (path, response.status_code)
    if credential != "provider_org":
        # The license, its certificate, its files and the order: 404, as if they did not exist.
        for path in (
            f"/api/v1/licenses/{own.id}",
            f"/api/v1/licenses/{own.id}/certificate",
            f"/api/v1/licenses/{own.id}/training-summary",
            f"/api/v1/licenses/{own.id}/manifest",
            f"/api/v1/orders/{own_order.id}",
            f"/api/v1/orders/{own_order.id}/checkout",
        ):
            response = client.get(path, headers=headers)
            assert response.status_code == 404, (path, response.get_json())
        links = client.post(f"/api/v1/licenses/{own.id}/download-links", json={}, headers=headers)
        assert links.status_code == 404
        profile = client.post(f"/api/v1/licenses/{own.id}/sharing-profiles", headers=headers)
        assert profile.status_code == 404
    assert own_order.id not in _ids(client.get("/api/v1/orders", headers=headers))
    assert own.id not in _ids(client.get("/api/v1/licenses", headers=headers))
    if credential == "provider_org":
        # The licensor sees the license it granted, but gets no download link for the licensee's files.
        assert own.id in _ids(client.get("/api/v1/licenses?role=licensor", headers=headers))
        refused = client.post(f"/api/v1/licenses/{own.id}/download-links", json={}, headers=headers)
        assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "not_licensee"
        # Nor a Delta Sharing profile, which reads the same files.
        assert client.post(f"/api/v1/licenses/{own.id}/sharing-profiles", headers=headers).status_code == 403
        # Nor the licensee's training-content summary: that is the licensee's compliance record.
        summary = client.get(f"/api/v1/licenses/{own.id}/training-summary", headers=headers)
        assert summary.status_code == 403, summary.get_json()


def test_a_user_key_acts_through_every_membership_and_an_org_key_for_one(world, client) -> None:
    both = world.people["outsider"]
    MembershipFactory(organisation=world.orgs["buy"], user=both, role=Role.MEMBER)
    world.session.flush()
    user_key, org_key = bearer(world.key("outsider")), bearer(world.key("outsider", org="rival"))
    everything = _ids(client.get("/api/v1/licenses", headers=user_key))
    assert everything == {world.objects["grants"]["buy"].id, world.objects["grants"]["rival"].id}
    assert _ids(client.get("/api/v1/licenses", headers=org_key)) == {world.objects["grants"]["rival"].id}
    me = client.get("/api/v1/me", headers=org_key).get_json()
    assert me["organisation"] == {"slug": "rival", "name": "Rival Co"}
    assert [o["slug"] for o in me["organisations"]] == ["rival"]
    # Buying for the other organisation with the organisation key is refused.
    offer = world.objects["free"]
    refused = client.post(
        f"/api/v1/offers/{offer.id}/acquire",
        headers=org_key,
        json={"licensee": "buy", "accepted_terms_hash": offer.terms_hash},
    )
    assert refused.status_code == 403


def test_downloads_are_audited_with_the_key(world, client) -> None:
    from marketplace.delivery.models import DownloadEvent

    grant = world.objects["grants"]["buy"]
    key = world.key("purchaser", ["downloads"])
    row = world.last_key
    response = client.post(f"/api/v1/licenses/{grant.id}/download-links", json={}, headers=bearer(key))
    assert response.status_code == 201, response.get_json()
    link = response.get_json()["data"][0]
    assert link["path"] == "data/train.csv" and link["sha256"] == world.objects["file"].sha256
    event = world.session.exec(select(DownloadEvent)).one()
    assert event.api_key_id == row.id and event.licensee_org_id == world.orgs["buy"].id
    # The link serves the exact bytes.
    fetched = client.get(link["url"].removeprefix("http://localhost"))
    assert fetched.status_code == 200 and fetched.data == b"id,text\n1,hello\n"
