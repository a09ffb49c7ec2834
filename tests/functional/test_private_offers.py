"""Private offers on ordinary listings: made by the provider for one buyer organisation with an expiry, shown only
to that organisation's members ("Offers for you"), bought through the normal cart and checkout, and refused to
anyone else and after expiry, on the server."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from marketplace.db import utcnow
from marketplace.licenses.models import Grant, Offer
from marketplace.orders.models import Order
from tests.factories import PASSWORD
from tests.functional.test_licenses import _offer, market  # noqa: F401  (the shared marketplace fixture)
from tests.functional.test_orders import _buy, _pay
from tests.helpers import log_in, post_form

COMMERCIAL = "LicenseRef-standard-commercial-1.0"


def _private(db_session: Session, market, **kw) -> Offer:  # noqa: F811
    fields = {"title": "For Buyer Co", "license_id": COMMERCIAL, "price_amount": 90000,
              "audience_org_slug": "buy", "expires_at": utcnow() + timedelta(days=10), **kw}  # fmt: skip
    return _offer(db_session, market, **fields)


def _expire(db_session: Session, offer: Offer) -> None:
    """Time passes: the offer's expiry is now behind us."""
    offer.expires_at = utcnow() - timedelta(minutes=1)
    db_session.add(offer)
    db_session.flush()


# --- the provider's offers page --------------------------------------------------------------------------------


def test_provider_creates_a_private_offer_with_an_expiry_on_the_offers_page(client, market, db_session) -> None:  # noqa: F811
    log_in(client, "seller@example.org", PASSWORD)
    last_day = (utcnow() + timedelta(days=14)).date()
    data = {"title": "Buyer Co special", "license_id": COMMERCIAL, "price": "800.00", "currency": "EUR",
            "audience_org_slug": "buy", "expires_on": last_day.isoformat()}  # fmt: skip
    response = post_form(client, "/datasets/speech-corpus/offers", data, token_from="/settings")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    offer = db_session.exec(select(Offer).where(Offer.title == "Buyer Co special")).one()
    assert offer.audience_org_id == market["buyer"].id and offer.price_amount == 80000
    assert offer.expires_at is not None and offer.expires_at.date() == last_day + timedelta(days=1)
    page = client.get("/datasets/speech-corpus/offers").get_data(as_text=True)
    assert "private: Buyer Co" in page


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"audience_org_slug": "buy"}, "expires_on", "give the last day on which the private offer can be bought"),
        ({"audience_org_slug": "buy", "expires_on": "2001-01-01"}, "expires_on", "must be in the future"),
        ({"audience_org_slug": "nobody", "expires_on": "2099-01-01"}, "audience_org_slug", "no buyer organisation"),
        ({"audience_org_slug": "prov", "expires_on": "2099-01-01"}, "audience_org_slug", "no buyer organisation"),
    ],
)
def test_bad_private_offers_get_a_field_error_and_nothing_is_stored(
    client,
    market,  # noqa: F811
    db_session,
    fields,
    field,
    message,
) -> None:
    log_in(client, "seller@example.org", PASSWORD)
    data = {"title": "Special", "license_id": COMMERCIAL, "price": "800.00", "currency": "EUR", **fields}
    response = post_form(client, "/datasets/speech-corpus/offers", data, token_from="/settings")
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert f'id="e-{field}"' in response.get_data(as_text=True)
    assert db_session.exec(select(Offer).where(Offer.title == "Special")).first() is None


def test_only_admins_of_the_provider_create_offers(app, market, db_session) -> None:  # noqa: F811
    for email in ("clerk@example.org", "outsider@example.org"):
        client = app.test_client()
        log_in(client, email, PASSWORD)
        data = {"title": "Sneaky", "license_id": COMMERCIAL, "price": "1", "currency": "EUR",
                "audience_org_slug": "buy", "expires_on": "2099-01-01"}  # fmt: skip
        response = post_form(client, "/datasets/speech-corpus/offers", data, token_from="/settings")
        assert response.status_code == 403
    assert db_session.exec(select(Offer).where(Offer.title == "Sneaky")).first() is None


# --- who sees it ------------------------------------------------------------------------------------------------


def test_offers_for_you_on_the_listing_and_my_licenses_only_for_the_named_org(app, market, db_session) -> None:  # noqa: F811
    _private(db_session, market)
    client = app.test_client()
    log_in(client, "purchaser@example.org", PASSWORD)
    page = client.get("/datasets/speech-corpus").get_data(as_text=True)
    assert 'data-testid="offers-for-you"' in page and "For Buyer Co" in page
    mine = client.get("/licenses").get_data(as_text=True)
    assert 'data-testid="offers-for-you"' in mine and "For Buyer Co" in mine
    for email in ("outsider@example.org", None):
        client = app.test_client()
        if email:
            log_in(client, email, PASSWORD)
            assert "For Buyer Co" not in client.get("/licenses").get_data(as_text=True)
        page = client.get("/datasets/speech-corpus").get_data(as_text=True)
        assert "For Buyer Co" not in page and "offers-for-you" not in page


def test_expired_private_offer_disappears_for_the_buyer(client, market, db_session) -> None:  # noqa: F811
    offer = _private(db_session, market)
    _expire(db_session, offer)
    log_in(client, "purchaser@example.org", PASSWORD)
    assert "For Buyer Co" not in client.get("/datasets/speech-corpus").get_data(as_text=True)
    assert "For Buyer Co" not in client.get("/licenses").get_data(as_text=True)


# --- buying it ------------------------------------------------------------------------------------------------


def test_the_named_org_buys_it_through_cart_and_checkout(app, client, market, db_session) -> None:  # noqa: F811
    offer = _private(db_session, market)
    log_in(client, "purchaser@example.org", PASSWORD)
    order = _buy(client, db_session, offer)
    assert _pay(client, order).status_code in (302, 303)
    grant = db_session.exec(select(Grant).where(Grant.offer_id == offer.id)).one()
    assert grant.licensee_org_id == market["buyer"].id and grant.price_amount == 90000


def test_another_org_cannot_put_it_in_the_cart(client, market, db_session) -> None:  # noqa: F811
    offer = _private(db_session, market)
    log_in(client, "outsider@example.org", PASSWORD)
    response = post_form(client, "/cart/add", {"offer_id": str(offer.id), "licensee": "rival"}, token_from="/settings")
    assert response.status_code == 403
    assert db_session.exec(select(Order)).all() == []


def test_after_expiry_cart_and_checkout_refuse_it(client, market, db_session) -> None:  # noqa: F811
    offer = _private(db_session, market)
    log_in(client, "purchaser@example.org", PASSWORD)
    assert post_form(client, "/cart/add", {"offer_id": str(offer.id), "licensee": "buy"},
                     token_from="/settings").status_code == 302  # fmt: skip
    _expire(db_session, offer)  # it expires while in the cart
    response = post_form(
        client, "/checkout", {"licensee": "buy", "currency": "EUR", f"accept_{offer.id}": offer.terms_hash},
        token_from="/cart",
    )  # fmt: skip
    assert response.status_code in (409, 422)
    assert "has expired" in response.get_data(as_text=True)
    assert db_session.exec(select(Order)).all() == []
    again = post_form(client, "/cart/add", {"offer_id": str(offer.id), "licensee": "buy"}, token_from="/settings")
    assert again.status_code == 409
