"""Private offers through the API: created with an expiry by the provider, listed and ordered by the named buyer
organisation only (another organisation's member, the member of another provider and anonymous callers are
refused), and refused after expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from marketplace.accounts.models import OrgKind, Role
from marketplace.db import utcnow
from marketplace.licenses.models import Offer
from tests.factories import OrganisationFactory, member
from tests.functional.api.conftest import World, bearer

COMMERCIAL = "LicenseRef-standard-commercial-1.0"


def _expire(session, offer: Offer) -> None:
    offer.expires_at = utcnow() - timedelta(minutes=1)
    session.add(offer)
    session.flush()


def _api_private(api, world: World, **extra) -> object:
    body = {"title": "For Buyer Co", "license_id": COMMERCIAL, "price_amount": 70000, "currency": "EUR",
            "audience_org_slug": "buy", "expires_at": (utcnow() + timedelta(days=7)).isoformat(), **extra}  # fmt: skip
    return api.post("/api/v1/provider/datasets/speech/offers", json=body, headers=bearer(world.key("seller")))


def test_api_creates_a_private_offer_with_its_expiry(api, world: World) -> None:
    response = _api_private(api, world)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["private"] is True and body["audience_organisation"] == "buy" and body["expires_at"]


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"expires_at": None}, "expires_at"),
        ({"expires_at": "2001-01-01T00:00:00+00:00"}, "expires_at"),
        ({"expires_at": "2099-01-01T00:00:00"}, "expires_at"),  # no time zone
        ({"audience_org_slug": "prov"}, "audience_org_slug"),
    ],
)
def test_api_refuses_bad_private_offers_naming_the_field(api, world: World, extra, field) -> None:
    response = _api_private(api, world, **extra)
    assert response.status_code == 422, response.get_json()
    assert field in {d["field"].split(".")[-1] for d in response.get_json()["error"]["details"]}
    assert world.session.exec(select(Offer).where(Offer.title == "For Buyer Co")).first() is None


def _order(api, world: World, who: str, licensee: str, offer_id: int, terms_hash: str, **key_args):
    body = {"licensee": licensee, "lines": [{"offer_id": offer_id, "accepted_terms_hash": terms_hash}]}
    return api.post("/api/v1/orders", json=body, headers=bearer(world.key(who, **key_args)))


def test_api_the_named_org_orders_it_and_nobody_else_can(api, world: World) -> None:
    created = _api_private(api, world).get_json()
    offer_id, terms_hash = created["id"], created["terms_hash"]
    listed = api.get("/api/v1/datasets/speech/offers", headers=bearer(world.key("purchaser"))).get_json()["data"]
    assert offer_id in {o["id"] for o in listed}
    # another organisation's member, and a member of another provider: neither sees it nor can order it
    other_provider = OrganisationFactory(slug="prov2", name="Other Provider", kind=OrgKind.PROVIDER)
    world.people["other_seller"] = member(other_provider, Role.OWNER, email="other@example.org")
    world.session.flush()
    for who in ("outsider", "other_seller"):
        listed = api.get("/api/v1/datasets/speech/offers", headers=bearer(world.key(who))).get_json()["data"]
        assert offer_id not in {o["id"] for o in listed}
    refused = _order(api, world, "outsider", "rival", offer_id, terms_hash)
    assert refused.status_code == 422 and "another buyer" in refused.get_json()["error"]["message"]
    assert _order(api, world, "other_seller", "buy", offer_id, terms_hash).status_code == 403
    anonymous = api.post("/api/v1/orders", json={"licensee": "buy", "lines": [
        {"offer_id": offer_id, "accepted_terms_hash": terms_hash}]})  # fmt: skip
    assert anonymous.status_code == 401
    assert api.get("/api/v1/datasets/speech/offers").status_code == 401  # the API needs a key for anything
    ordered = _order(api, world, "purchaser", "buy", offer_id, terms_hash)
    assert ordered.status_code == 201, ordered.get_json()


def test_api_refuses_an_expired_private_offer(api, world: World) -> None:
    created = _api_private(api, world).get_json()
    offer = world.session.get(Offer, created["id"])
    assert offer is not None
    _expire(world.session, offer)
    response = _order(api, world, "purchaser", "buy", created["id"], created["terms_hash"])
    assert response.status_code == 422
    assert "has expired" in response.get_json()["error"]["message"]
    listed = api.get("/api/v1/datasets/speech/offers", headers=bearer(world.key("purchaser"))).get_json()["data"]
    assert created["id"] not in {o["id"] for o in listed}
