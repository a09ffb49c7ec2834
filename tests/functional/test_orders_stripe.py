"""The application on the Stripe backend, against a loopback fake of Stripe's API: the exact parameters sent."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from marketplace.accounts.models import OrgKind, Role
from marketplace.licenses.models import Grant
from marketplace.orders.models import Order, OrderLine, ProviderAccount
from tests.factories import PASSWORD, OrganisationFactory, member
from tests.functional.test_licenses import _offer, market, published_dataset  # noqa: F401
from tests.helpers import log_in, post_form
from tests.support.fake_stripe import FakeStripe, fake_stripe  # noqa: F401


@pytest.fixture()
def app_settings(app_settings, fake_stripe: FakeStripe):  # noqa: F811
    app_settings.update(
        STRIPE_SECRET_KEY=fake_stripe.secret_key,
        STRIPE_WEBHOOK_SECRET=fake_stripe.webhook_secret,
        STRIPE_API_BASE=fake_stripe.url,
        PLATFORM_FEE_BPS=1500,
    )
    return app_settings


def _account(db_session: Session, org, account_id: str) -> None:
    db_session.add(ProviderAccount(organisation_id=org.id, account_id=account_id, backend="stripe",
                                   charges_enabled=True, payouts_enabled=True))  # fmt: skip
    db_session.flush()


def _checkout(client, offers, licensee: str = "buy"):
    for offer in offers:
        post_form(client, "/cart/add", {"offer_id": str(offer.id), "licensee": licensee}, token_from="/settings")
    data = {"licensee": licensee, "currency": "EUR"} | {f"accept_{o.id}": o.terms_hash for o in offers}
    return post_form(client, "/checkout", data, token_from="/cart")


def test_single_provider_order_is_a_destination_charge(app, client, db_session, market, fake_stripe) -> None:  # noqa: F811
    _account(db_session, market["provider"], "acct_provider1")
    offer = _offer(db_session, market, title="Commercial", license_id="LicenseRef-standard-commercial-1.0",
                   price_amount=20000)  # fmt: skip
    log_in(client, "purchaser@example.org", PASSWORD)
    response = _checkout(client, [offer])
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    order = db_session.exec(select(Order)).one()
    sent = fake_stripe.last("POST", "/v1/checkout/sessions")
    assert sent.idempotency_key == f"checkout:{order.id}"
    p = sent.params
    assert p["mode"] == "payment"
    assert p["metadata"]["order_id"] == str(order.id) and p["client_reference_id"] == str(order.id)
    assert p["customer_email"] == "purchaser@example.org"
    assert p["payment_intent_data"]["transfer_data"]["destination"] == "acct_provider1"
    assert p["payment_intent_data"]["application_fee_amount"] == "3000"  # 15 % of 200.00
    item = p["line_items"][0]
    assert item["price_data"]["unit_amount"] == "20000" and item["price_data"]["currency"] == "eur"
    assert "Speech Corpus" in item["price_data"]["product_data"]["name"]
    assert "{CHECKOUT_SESSION_ID}" in p["success_url"]
    assert response.headers["Location"] == order.checkout_url

    # Stripe tells us it was paid, signed with the endpoint secret.
    fake_stripe.pay_session(order.checkout_session_id)
    body, header = fake_stripe.signed(fake_stripe.event("checkout.session.completed",
                                                        fake_stripe.sessions[order.checkout_session_id]))  # fmt: skip
    hook = app.test_client().post("/webhooks/stripe", data=body, headers={"Stripe-Signature": header})
    assert hook.status_code == 200, hook.get_data(as_text=True)
    db_session.refresh(order)
    assert order.status == "paid"
    assert fake_stripe.requests_to("POST", "/v1/transfers") == []  # a destination charge pays out by itself

    # Refund: reverses the transfer and the platform's fee.
    seller = app.test_client()
    log_in(seller, "seller@example.org", PASSWORD)
    assert post_form(seller, f"/orders/{order.id}/refund", {"reason": "duplicate purchase"},
                     token_from="/settings").status_code == 302  # fmt: skip
    refund = fake_stripe.last("POST", "/v1/refunds")
    assert refund.params["payment_intent"] == order.payment_intent_id
    assert refund.params["reverse_transfer"] == "true" and refund.params["refund_application_fee"] == "true"
    assert refund.idempotency_key == f"refund:{order.id}"
    assert db_session.exec(select(Grant)).one().status == "revoked"


def test_multi_provider_order_pays_each_provider_by_transfer(app, client, db_session, market, fake_stripe) -> None:  # noqa: F811
    _account(db_session, market["provider"], "acct_provider1")
    second = OrganisationFactory(slug="prov2", name="Second Provider", kind=OrgKind.PROVIDER)
    other_seller = member(second, Role.OWNER, email="seller2@example.org")
    _account(db_session, second, "acct_provider2")
    dataset2, _ = published_dataset(db_session, second, slug="images")
    first = _offer(db_session, market, title="A", license_id="LicenseRef-standard-commercial-1.0", price_amount=10000)
    from marketplace.db import ServiceContext, UnitOfWork
    from marketplace.licenses import services as licenses
    from marketplace.mail import ConsoleMailer

    uow = UnitOfWork(db_session, ServiceContext({"BASE_URL": "http://localhost"}, ConsoleMailer()))
    second_offer = licenses.create_offer(uow, other_seller, dataset2, title="B", price_amount=30000, currency="EUR",
                                         license_id="LicenseRef-standard-commercial-1.0")  # fmt: skip
    db_session.flush()
    log_in(client, "purchaser@example.org", PASSWORD)
    assert _checkout(client, [first, second_offer]).status_code == 303
    order = db_session.exec(select(Order)).one()
    p = fake_stripe.last("POST", "/v1/checkout/sessions").params
    assert p["payment_intent_data"]["transfer_group"] == f"order_{order.id}"
    assert "transfer_data" not in p["payment_intent_data"]
    assert order.platform_fee_amount == 6000  # 15 % of 400.00

    fake_stripe.pay_session(order.checkout_session_id)
    body, header = fake_stripe.signed(fake_stripe.event("checkout.session.completed",
                                                        fake_stripe.sessions[order.checkout_session_id]))  # fmt: skip
    assert (
        app.test_client().post("/webhooks/stripe", data=body, headers={"Stripe-Signature": header}).status_code == 200
    )
    db_session.refresh(order)
    assert order.status == "paid" and order.charge_id
    transfers = {r.params["destination"]: r for r in fake_stripe.requests_to("POST", "/v1/transfers")}
    assert set(transfers) == {"acct_provider1", "acct_provider2"}
    assert transfers["acct_provider1"].params["amount"] == "8500"  # 100.00 less its 15.00 share of the fee
    assert transfers["acct_provider2"].params["amount"] == "25500"
    for account, request in transfers.items():
        assert request.params["transfer_group"] == f"order_{order.id}"
        assert request.params["source_transaction"] == order.charge_id
        assert request.idempotency_key == f"transfer:{order.id}:{account}"
    lines = db_session.exec(select(OrderLine)).all()
    assert {ln.payout_status for ln in lines} == {"transferred"}
    assert len(db_session.exec(select(Grant)).all()) == 2


def test_provider_without_a_payout_account_cannot_sell(app, client, db_session, market) -> None:  # noqa: F811
    offer = _offer(db_session, market, title="C", license_id="LicenseRef-standard-commercial-1.0", price_amount=500)
    log_in(client, "purchaser@example.org", PASSWORD)
    response = _checkout(client, [offer])
    assert response.status_code == 422
    assert "cannot take payments yet" in response.get_data(as_text=True)


def test_connect_onboarding_and_account_updated(app, client, db_session, market, fake_stripe) -> None:  # noqa: F811
    log_in(client, "seller@example.org", PASSWORD)
    response = post_form(client, "/orgs/prov/payouts", {"country": "DE"}, token_from="/settings")
    assert response.status_code == 303
    created = fake_stripe.last("POST", "/v1/accounts")
    assert created.params["type"] == "express"
    link = fake_stripe.last("POST", "/v1/account_links")
    assert link.params["type"] == "account_onboarding"
    account = db_session.exec(select(ProviderAccount)).one()
    assert account.charges_enabled is False
    obj = {"id": account.account_id, "object": "account", "charges_enabled": True, "payouts_enabled": True,
           "requirements": {"currently_due": []}}  # fmt: skip
    body, header = fake_stripe.signed(fake_stripe.event("account.updated", obj, account=account.account_id))
    assert (
        app.test_client().post("/webhooks/stripe", data=body, headers={"Stripe-Signature": header}).status_code == 200
    )
    db_session.refresh(account)
    assert account.charges_enabled is True and account.payouts_enabled is True


def test_payment_provider_down_at_checkout_is_503_and_leaves_no_order(client, db_session, market, fake_stripe) -> None:  # noqa: F811
    _account(db_session, market["provider"], "acct_provider1")
    offer = _offer(db_session, market, title="D", license_id="LicenseRef-standard-commercial-1.0", price_amount=700)
    log_in(client, "purchaser@example.org", PASSWORD)
    fake_stripe.fail_next(500, times=10)
    response = _checkout(client, [offer])
    assert response.status_code == 503
    assert "not reachable" in response.get_data(as_text=True)
    assert db_session.exec(select(Order)).all() == []
