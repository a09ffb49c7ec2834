"""``/v1/audit/…``: an organisation's admins read and export its chain; nobody else, whatever the key."""

from __future__ import annotations

import pytest

from marketplace.accounts.models import Role
from marketplace.audit.signing import verify_export
from tests.factories import MembershipFactory
from tests.functional.api.conftest import bearer


def test_admins_read_the_chain_newest_first_and_page_back(world, client) -> None:
    headers = bearer(world.key("buyer_admin", ["audit:read"], org="buy"))
    body = client.get("/api/v1/audit/entries?limit=1", headers=headers).get_json()
    assert body["organisation"] == "buy" and body["head"]["seq"] >= 1
    (newest,) = body["data"]
    assert newest["seq"] == body["head"]["seq"] and newest["hash"] == body["head"]["hash"]
    assert newest["subject"]["type"] == "license"
    if body["next_before_seq"] is not None:
        older = client.get(f"/api/v1/audit/entries?limit=1&before_seq={body['next_before_seq']}", headers=headers)
        assert older.get_json()["data"][0]["seq"] == newest["seq"] - 1


def test_the_export_is_json_lines_that_verify(world, client) -> None:
    headers = bearer(world.key("seller", ["audit:read"], org="prov"))
    response = client.get("/api/v1/audit/export", headers=headers)
    assert response.status_code == 200 and response.mimetype == "application/jsonl"
    assert response.headers["Content-Disposition"] == 'attachment; filename="audit-prov.jsonl"'
    lines = response.get_data(as_text=True).splitlines(keepends=True)
    jwks = client.get("/.well-known/jwks.json").get_json()
    verdict = verify_export(lines, jwks)
    assert verdict.ok and verdict.count == len(lines) - 1 >= 2  # both licenses the provider granted, a signed head
    assert "signature valid" in verdict.note
    head = client.get("/api/v1/audit/entries?organisation=prov", headers=headers).get_json()["head"]
    assert head == {"seq": verdict.count, "hash": verdict.head}


@pytest.mark.parametrize(
    ("who", "org", "query"),
    [
        ("outsider", None, "organisation=buy"),  # another organisation's owner
        ("outsider", "rival", "organisation=buy"),  # an organisation key naming another organisation
        ("purchaser", None, "organisation=buy"),  # a member, not an admin
        ("clerk", None, "organisation=prov"),  # a provider member, not an admin
        ("admin", None, "organisation=buy"),  # a platform admin's key carries no admin powers
        ("seller", "prov", "organisation=buy"),  # the licensor's admin does not read the licensee's chain
    ],
)
def test_nobody_else_reads_or_exports_a_chain(world, client, who, org, query) -> None:
    headers = bearer(world.key(who, ["audit:read"], org=org))
    for path in ("/api/v1/audit/entries", "/api/v1/audit/export"):
        response = client.get(f"{path}?{query}", headers=headers)
        assert response.status_code == 403, (path, response.get_json())
        assert response.get_json()["error"]["code"] == "permission_denied"


def test_an_org_key_of_a_member_of_both_stays_in_its_organisation(world, client) -> None:
    MembershipFactory(organisation=world.orgs["buy"], user=world.people["outsider"], role=Role.ADMIN)
    world.session.flush()
    headers = bearer(world.key("outsider", ["audit:read"], org="rival"))
    assert client.get("/api/v1/audit/entries?organisation=buy", headers=headers).status_code == 403
    own = client.get("/api/v1/audit/entries", headers=headers).get_json()
    assert own["organisation"] == "rival" and all(e["organisation"] == world.orgs["rival"].id for e in own["data"])


def test_a_bad_query_is_refused_naming_the_field(world, client) -> None:
    headers = bearer(world.key("buyer_admin", ["audit:read"], org="buy"))
    response = client.get("/api/v1/audit/entries?before_seq=0", headers=headers)
    assert response.status_code == 422
    assert [d["field"] for d in response.get_json()["error"]["details"]] == ["before_seq"]
    unknown = client.get("/api/v1/audit/entries?organisation=nobody", headers=bearer(world.key("buyer_admin")))
    assert unknown.status_code == 422 and "no organisation called" in unknown.get_json()["error"]["message"]
