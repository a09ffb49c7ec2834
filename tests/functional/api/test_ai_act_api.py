"""The AI Act documentation pack in the API: read it, sign it off as the provider (and only as the provider), and
find complete packs with the dataset search's ``ai_act`` facet."""

from __future__ import annotations

from typing import Any

import pytest

from marketplace.accounts.models import Role
from tests.factories import MembershipFactory
from tests.functional.aiact.support import documented_record, publish_listing
from tests.functional.api.conftest import bearer, work
from tests.functional.catalog.conftest import record

SIGN = "/api/v1/provider/datasets/{slug}/versions/1.0.0/ai-act/sign-off"
BODY = {"name": "Sam Seller", "role": "Data governance lead", "confirm": True}


@pytest.fixture()
def listings(world) -> dict[str, Any]:
    uow = work(world.app, world.session)
    seller, admin = world.people["seller"], world.people["admin"]
    documented, _ = publish_listing(
        world.app, uow, seller, admin, organisation="prov", slug="documented", data=documented_record()
    )
    sparse, _ = publish_listing(world.app, uow, seller, admin, organisation="prov", slug="sparse", data=record())
    return {"documented": documented, "sparse": sparse}


def test_the_provider_signs_off_through_the_api_and_search_finds_it(world, client, listings) -> None:
    reader = bearer(world.key("purchaser", ["catalog:read"]))
    before = client.get("/api/v1/datasets/documented/versions/1.0.0/ai-act", headers=reader)
    assert before.status_code == 200 and before.get_json()["state"] == "draft"
    assert client.get("/api/v1/datasets?ai_act=complete", headers=reader).get_json()["total"] == 0

    signed = client.post(SIGN.format(slug="documented"), json=BODY, headers=bearer(world.key("clerk")))
    assert signed.status_code == 201, signed.get_json()
    pack = signed.get_json()
    assert pack["complete"] is True and pack["sign_off"]["name"] == "Sam Seller"

    found = client.get("/api/v1/datasets?ai_act=complete", headers=reader).get_json()
    assert [hit["slug"] for hit in found["data"]] == ["documented"]
    assert found["data"][0]["ai_act_documentation_complete"] == ["1.0.0"]
    facet = next(f for f in found["facets"] if f["name"] == "ai_act")
    assert [(v["value"], v["label"], v["count"]) for v in facet["values"]] == [
        ("complete", "AI Act documentation complete", 1)
    ]
    again = client.post(SIGN.format(slug="documented"), json=BODY, headers=bearer(world.key("clerk")))
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "ai_act_already_signed_off"


def test_an_incomplete_pack_is_refused_naming_each_missing_part(world, client, listings) -> None:
    response = client.post(SIGN.format(slug="sparse"), json=BODY, headers=bearer(world.key("seller")))
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "ai_act_pack_incomplete"
    fields = {d["field"] for d in error["details"]}
    assert {"gaps", "bias", "suitability", "assumptions"} <= fields


def test_the_body_must_confirm(world, client, listings) -> None:
    response = client.post(
        SIGN.format(slug="documented"), json={**BODY, "confirm": False}, headers=bearer(world.key("seller"))
    )
    assert response.status_code == 422
    assert [d["field"] for d in response.get_json()["error"]["details"]] == ["confirm"]


@pytest.mark.parametrize("who", ["outsider", "admin", "purchaser"])
def test_others_cannot_sign_off_and_learn_nothing(world, client, listings, who) -> None:
    response = client.post(SIGN.format(slug="documented"), json=BODY, headers=bearer(world.key(who)))
    assert response.status_code == 404
    read = client.get("/api/v1/datasets/documented/versions/1.0.0/ai-act", headers=bearer(world.key(who)))
    assert read.status_code == 200 and read.get_json()["state"] == "draft"  # reading a published pack is anyone's


def test_an_organisation_key_of_another_organisation_cannot_sign_for_the_provider(world, client, listings) -> None:
    # The clerk is a member of the provider and an admin of "buy": a key limited to "buy" stays out of the provider.
    MembershipFactory(organisation=world.orgs["buy"], user=world.people["clerk"], role=Role.ADMIN)
    world.session.flush()
    response = client.post(SIGN.format(slug="documented"), json=BODY, headers=bearer(world.key("clerk", org="buy")))
    assert response.status_code == 404
