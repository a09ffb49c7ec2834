"""The authorisation matrix: every endpoint × every scope (and no credential, a revoked and an expired one) is
allowed or refused as designed; and no credential ever sees another organisation's orders, licenses or files."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from marketplace.accounts.models import Role
from marketplace.api.core import OPERATIONS, Operation
from marketplace.apikeys import services as keys
from marketplace.db import utcnow
from tests.factories import MembershipFactory
from tests.functional.api.conftest import ALL_SCOPES, bearer, work

BODIES: dict[str, dict[str, Any]] = {
    "POST /v1/orders": {"licensee": "buy", "lines": [{"offer_id": 1, "accepted_terms_hash": "x"}]},
    "POST /v1/offers/{offer_id}/acquire": {"licensee": "buy", "accepted_terms_hash": "x"},
    "POST /v1/provider/datasets": {"organisation": "prov", "record": {"title": "A new listing"}},
    "POST /v1/provider/datasets/{slug}/versions": {"version": "9.0.0"},
    "POST /v1/provider/datasets/{slug}/versions/{version}/uploads": {"path": "a.csv", "size": 3},
    "POST /v1/provider/datasets/{slug}/offers": {
        "title": "X",
        "license_id": "CC-BY-4.0",
        "price_amount": 0,
        "currency": "EUR",
    },
    "POST /v1/provider/imports": {"organisation": "prov", "format": "jsonl", "content": "{}"},
    "POST /v1/webhooks/endpoints": {"organisation": "prov", "url": "http://127.0.0.1:9/hook", "events": ["order.paid"]},
    "PUT /v1/provider/datasets/{slug}/sections/{section}": {"record": {"title": "Speech commands"}},
}


def _path(op: Operation, values: dict[str, Any]) -> str:
    return "/api" + re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), op.path)


def _call(client: Any, op: Operation, values: dict[str, Any], headers: dict[str, str]) -> Any:
    body = BODIES.get(f"{op.method} {op.path}", {} if op.body is not None else None)
    return client.open(_path(op, values), method=op.method, json=body, headers=headers)


def _refused_for_scope(response: Any) -> bool:
    return response.status_code == 403 and response.get_json()["error"]["code"] == "insufficient_scope"


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


def test_every_endpoint_for_every_scope(world, client, credentials) -> None:
    values = {
        "slug": "speech",
        "version": "1.0.0",
        "section": "identity",
        "license_id": world.objects["grants"]["buy"].id,
        "order_id": world.objects["orders"]["buy"].id,
        "offer_id": world.objects["extra"].id,
        "upload_id": 1,
        "job_id": 1,
        "endpoint_id": 1,
        "delivery_id": 1,
    }
    assert len(OPERATIONS) >= 40
    problems = []
    for op in OPERATIONS:
        for name, headers in credentials.items():
            response = _call(client, op, values, headers)
            status = response.status_code
            assert status < 500, (op.method, op.path, name, response.get_data(as_text=True)[:500])
            if name in ("revoked", "expired", "malformed", "basic"):
                expected = "401"
                ok = status == 401 and response.headers.get("WWW-Authenticate", "").startswith("Bearer")
            elif op.public:
                expected, ok = "allowed", status not in (401, 403)
            elif name == "none":
                expected, ok = "401", status == 401
            elif op.scope is None or name in (op.scope, "all"):
                expected, ok = "allowed", status != 401 and not _refused_for_scope(response)
            else:
                expected, ok = "403 insufficient_scope", _refused_for_scope(response)
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
    if credential != "provider_org":
        # The license, its certificate, its files and the order: 404, as if they did not exist.
        for path in (
            f"/api/v1/licenses/{own.id}",
            f"/api/v1/licenses/{own.id}/certificate",
            f"/api/v1/licenses/{own.id}/manifest",
            f"/api/v1/orders/{own_order.id}",
            f"/api/v1/orders/{own_order.id}/checkout",
        ):
            response = client.get(path, headers=headers)
            assert response.status_code == 404, (path, response.get_json())
        links = client.post(f"/api/v1/licenses/{own.id}/download-links", json={}, headers=headers)
        assert links.status_code == 404
    assert own_order.id not in _ids(client.get("/api/v1/orders", headers=headers))
    assert own.id not in _ids(client.get("/api/v1/licenses", headers=headers))
    if credential == "provider_org":
        # The licensor sees the license it granted, but gets no download link for the licensee's files.
        assert own.id in _ids(client.get("/api/v1/licenses?role=licensor", headers=headers))
        refused = client.post(f"/api/v1/licenses/{own.id}/download-links", json={}, headers=headers)
        assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "not_licensee"


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
