"""A custom-data contract on the Stripe backend, against the loopback fake of Stripe's API: the platform's own
charge, one transfer per accepted milestone to the provider's connected account (transfer group, fee taken), and a
partial refund of a cancelled milestone."""

from __future__ import annotations

import pytest

from marketplace.accounts.models import OrgKind, Role
from marketplace.apikeys import services as keys
from marketplace.custom import escrow
from tests.factories import OrganisationFactory, member
from tests.functional.api.conftest import bearer, work
from tests.support.contracts import make_contract, upload_version
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


def test_charge_held_transfer_on_acceptance_and_refund_of_a_cancelled_milestone(
    app,
    client,
    db_session,
    fake_stripe,  # noqa: F811
) -> None:
    provider_org = OrganisationFactory(slug="prov", name="Provider Co", kind=OrgKind.PROVIDER)
    buyer_org = OrganisationFactory(slug="buy", name="Buyer Co", kind=OrgKind.BUYER)
    seller = member(provider_org, Role.ADMIN, email="seller@example.org")
    purchaser = member(buyer_org, Role.MEMBER, email="purchaser@example.org")
    db_session.flush()
    uow = work(app, db_session)
    contract = make_contract(uow, seller=seller, buyer=buyer_org, provider=provider_org, amounts=(30000, 70000),
                             account_id="acct_provider1")  # fmt: skip
    buyer = bearer(keys.create_key(uow, purchaser, name="buyer", scopes=["orders:write"], environment="live")[1])
    provider = bearer(keys.create_key(uow, seller, name="seller", scopes=["provider:write"], environment="live")[1])
    db_session.flush()

    started = client.post(f"/api/v1/contracts/{contract.id}/checkout", json={}, headers=buyer)
    assert started.status_code == 200, started.get_json()
    payment = started.get_json()
    sent = fake_stripe.last("POST", "/v1/checkout/sessions")
    reference = f"contract-{contract.id}-p{payment['payment_id']}"
    assert sent.idempotency_key == f"contract-checkout:{payment['payment_id']}:1"
    assert sent.params["metadata"]["order_id"] == reference and sent.params["client_reference_id"] == reference
    assert sent.params["line_items"][0]["price_data"]["unit_amount"] == "100000"
    # The platform's own charge: no destination, no application fee; the money is held.
    intent = sent.params.get("payment_intent_data", {})
    assert "transfer_data" not in intent and "application_fee_amount" not in intent
    assert intent["transfer_group"] == f"contract_{contract.id}"  # tagged for the transfers made on acceptance
    assert started.get_json()["checkout_url"].startswith("https://checkout.stripe.com/")

    session_id = started.get_json()["checkout_url"].rsplit("/", 1)[1]
    fake_stripe.pay_session(session_id)
    body, header = fake_stripe.signed(fake_stripe.event("checkout.session.completed", fake_stripe.sessions[session_id]))
    hook = app.test_client().post("/webhooks/stripe", data=body, headers={"Stripe-Signature": header})
    assert hook.status_code == 200, hook.get_data(as_text=True)
    assert fake_stripe.requests_to("POST", "/v1/transfers") == []  # nothing reaches the provider before acceptance

    upload_version(client, provider, "custom-speech", "1.0.0", b"id,text\n1,moi\n")
    path = f"/api/v1/contracts/{contract.id}/milestones"
    assert client.post(f"{path}/1/deliver", json={"version": "1.0.0"}, headers=provider).status_code == 200
    accepted = client.post(f"{path}/1/accept", json={}, headers=buyer)
    assert accepted.status_code == 200, accepted.get_json()
    (transfer,) = fake_stripe.requests_to("POST", "/v1/transfers")
    first = accepted.get_json()["milestones"][0]
    charge = fake_stripe.payment_intents[fake_stripe.sessions[session_id]["payment_intent"]]["latest_charge"]
    assert transfer.params["destination"] == "acct_provider1"
    assert transfer.params["amount"] == "25500"  # 300.00 less the 15 % platform fee
    assert transfer.params["currency"] == "eur"
    assert transfer.params["transfer_group"] == f"contract_{contract.id}"
    assert transfer.params["source_transaction"] == charge
    assert transfer.idempotency_key == f"transfer:contract-{contract.id}-m{first['id']}:acct_provider1"
    assert first["transfer_reference"] in fake_stripe.transfers

    cancelled = client.post(f"{path}/2/cancel", json={"reason": "Budget cut"}, headers=buyer)
    assert cancelled.status_code == 200, cancelled.get_json()
    (refund,) = fake_stripe.requests_to("POST", "/v1/refunds")
    second = cancelled.get_json()["milestones"][1]
    assert refund.params["amount"] == "70000"
    assert refund.params["payment_intent"] == fake_stripe.sessions[session_id]["payment_intent"]
    assert refund.params["reverse_transfer"] == "false" and refund.params["refund_application_fee"] == "false"
    assert refund.idempotency_key == f"contract-refund:{second['id']}"
    assert fake_stripe.charges[charge]["amount_refunded"] == 70000
    state = cancelled.get_json()
    assert state["state"] == "completed" and state["amount_refunded"] == 70000
    assert state["amount_paid_out"] == 25500 and state["fees_amount"] == 4500 and state["amount_held"] == 0
    # Reconcile finds nothing left to pay or transfer.
    assert escrow.reconcile(work(app, db_session)) == []
