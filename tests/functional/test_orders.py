"""Cart, checkout, webhooks applied once, refunds and disputes, payouts and the ledger, on the sandbox backend."""

from __future__ import annotations

import json
import time

import pytest
from sqlmodel import Session, select

from marketplace import create_app, metrics
from marketplace.config import ConfigError
from marketplace.licenses.models import Grant, Offer
from marketplace.orders.models import Order, OrderLine, PaymentEventRecord
from marketplace.orders.payments.signing import sign_payload
from tests.factories import PASSWORD
from tests.functional.test_licenses import _offer, market  # noqa: F401  (the shared marketplace fixture)
from tests.helpers import log_in, post_form


def _buy(client, db_session: Session, offer: Offer, licensee: str = "buy") -> Order:
    assert post_form(client, "/cart/add", {"offer_id": str(offer.id), "licensee": licensee},
                     token_from="/settings").status_code == 302  # fmt: skip
    response = post_form(
        client, "/checkout", {"licensee": licensee, "currency": offer.currency, f"accept_{offer.id}": offer.terms_hash},
        token_from="/cart",
    )  # fmt: skip
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    assert "/sandbox/checkout/" in response.headers["Location"]
    return db_session.exec(select(Order).order_by(Order.id.desc())).first()  # type: ignore[union-attr]


def _events_counted(outcome: str, event_type: str = "checkout.session.completed") -> float:
    labels = {"type": event_type, "outcome": outcome}
    return metrics.sample_value("marketplace_payment_events_total", labels) or 0.0


def _sandbox(app):
    return app.extensions["marketplace.context"].payments


def _pay(client, order: Order, outcome: str = "paid"):
    path = f"/sandbox/checkout/{order.checkout_session_id}"
    return post_form(client, path, {"outcome": outcome}, token_from=path)


@pytest.fixture()
def paid_offer(db_session, market):  # noqa: F811
    return _offer(db_session, market, title="Commercial", license_id="LicenseRef-standard-commercial-1.0",
                  price_amount=125000)  # fmt: skip


def test_buy_through_the_sandbox_issues_one_license_and_a_receipt(app, client, outbox, db_session, market,  # noqa: F811
                                                                   paid_offer) -> None:  # fmt: skip
    log_in(client, "purchaser@example.org", PASSWORD)
    order = _buy(client, db_session, paid_offer)
    assert order.status == "pending_payment" and order.total_amount == 125000
    assert order.platform_fee_amount == 12500  # 10 % by default
    response = _pay(client, order)
    assert response.status_code == 303
    assert f"/orders/{order.id}/complete?session_id=" in response.headers["Location"]
    assert client.get(response.headers["Location"]).status_code == 302
    db_session.refresh(order)
    assert order.status == "paid"
    line = db_session.exec(select(OrderLine).where(OrderLine.order_id == order.id)).one()
    grant = db_session.get(Grant, line.grant_id)
    assert grant is not None and grant.status == "active" and grant.price_amount == 125000
    assert grant.payment_reference == order.payment_intent_id
    assert outbox.messages_to("purchaser@example.org")[-1].subject == f"Receipt for order {order.reference}"
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "view license" in page
    # Paying again changes nothing.
    _pay(client, order)
    assert len(db_session.exec(select(Grant)).all()) == 1


def test_the_same_event_twice_issues_one_license(app, client, db_session, market, paid_offer) -> None:  # noqa: F811
    log_in(client, "purchaser@example.org", PASSWORD)
    order = _buy(client, db_session, paid_offer)
    signed = _sandbox(app).complete_checkout(order.checkout_session_id, "paid")
    webhook = app.test_client()
    headers = {"Stripe-Signature": signed.signature_header, "Content-Type": "application/json"}
    applied, duplicate = _events_counted("applied"), _events_counted("duplicate")
    first = webhook.post("/webhooks/stripe", data=signed.payload, headers=headers)
    second = webhook.post("/webhooks/stripe", data=signed.payload, headers=headers)
    assert first.status_code == 200 and first.get_json()["status"] == "ok"
    assert second.status_code == 200 and second.get_json()["status"] == "duplicate"
    assert (_events_counted("applied"), _events_counted("duplicate")) == (applied + 1, duplicate + 1)
    assert len(db_session.exec(select(Grant)).all()) == 1
    assert len(db_session.exec(select(PaymentEventRecord)).all()) == 1


@pytest.mark.parametrize("tamper", ["forged", "stale", "missing", "body"])
def test_bad_webhooks_get_400_and_change_nothing(app, client, db_session, market, paid_offer, tamper) -> None:  # noqa: F811
    log_in(client, "purchaser@example.org", PASSWORD)
    order = _buy(client, db_session, paid_offer)
    signed = _sandbox(app).complete_checkout(order.checkout_session_id, "paid")
    payload, header = signed.payload, signed.signature_header
    if tamper == "forged":
        header = sign_payload(payload, "whsec_not_the_secret", int(time.time()))
    elif tamper == "stale":
        header = sign_payload(payload, _sandbox(app).webhook_secret, int(time.time()) - 3600)
    elif tamper == "missing":
        header = ""
    else:
        payload = payload.replace(b'"paid"', b'"unpaid"', 1)
    rejected = _events_counted("rejected", "unknown")
    response = app.test_client().post("/webhooks/stripe", data=payload, headers={"Stripe-Signature": header})
    assert response.status_code == 400
    assert _events_counted("rejected", "unknown") == rejected + 1
    assert response.get_json()["error"]["code"] == "webhook_rejected"
    db_session.refresh(order)
    assert order.status == "pending_payment"
    assert db_session.exec(select(Grant)).all() == []
    assert db_session.exec(select(PaymentEventRecord)).all() == []


def test_events_out_of_order_do_no_harm(app, client, db_session, market, paid_offer) -> None:  # noqa: F811
    log_in(client, "purchaser@example.org", PASSWORD)
    order = _buy(client, db_session, paid_offer)
    sandbox = _sandbox(app)
    paid = sandbox.complete_checkout(order.checkout_session_id, "paid")
    expired = sandbox.sandbox_event("checkout.session.expired", sandbox.session_object(order.checkout_session_id))
    hook = app.test_client()
    assert (
        hook.post(
            "/webhooks/stripe", data=paid.payload, headers={"Stripe-Signature": paid.signature_header}
        ).status_code
        == 200
    )
    response = hook.post(
        "/webhooks/stripe", data=expired.payload, headers={"Stripe-Signature": expired.signature_header}
    )
    assert response.status_code == 200 and response.get_json()["outcome"].startswith("ignored")
    db_session.refresh(order)
    assert order.status == "paid"


def test_unknown_events_are_acknowledged(app, db_session) -> None:
    event = _sandbox(app).sandbox_event("customer.created", {"id": "cus_1", "object": "customer"})
    response = app.test_client().post("/webhooks/stripe", data=event.payload,
                                      headers={"Stripe-Signature": event.signature_header})  # fmt: skip
    assert response.status_code == 200
    assert "not handled" in response.get_json()["outcome"]


def _paid_order(app, client, db_session, offer) -> tuple[Order, Grant]:
    log_in(client, "purchaser@example.org", PASSWORD)
    order = _buy(client, db_session, offer)
    _pay(client, order)
    db_session.refresh(order)
    line = db_session.exec(select(OrderLine).where(OrderLine.order_id == order.id)).one()
    return order, db_session.get(Grant, line.grant_id)


def test_refund_by_provider_revokes_the_license(app, client, outbox, db_session, market, paid_offer) -> None:  # noqa: F811
    order, grant = _paid_order(app, client, db_session, paid_offer)
    seller = app.test_client()
    log_in(seller, "seller@example.org", PASSWORD)
    # A buyer cannot refund their own order; the provider's admin can.
    assert (
        post_form(client, f"/orders/{order.id}/refund", {"reason": "please"}, token_from="/settings").status_code == 403
    )
    response = post_form(seller, f"/orders/{order.id}/refund", {"reason": "wrong dataset"}, token_from="/settings")
    assert response.status_code == 302
    db_session.refresh(order)
    db_session.refresh(grant)
    assert order.status == "refunded" and grant.status == "revoked"
    assert "revoked" in outbox.messages_to("purchaser@example.org")[-1].subject
    verify = client.get(f"/licenses/{grant.id}/verify?format=json").get_json()
    assert verify["valid"] is False and verify["status"] == "revoked"


def test_charge_refunded_event_revokes(app, client, db_session, market, paid_offer) -> None:  # noqa: F811
    order, grant = _paid_order(app, client, db_session, paid_offer)
    sandbox = _sandbox(app)
    charge = sandbox.charge_object(order.payment_intent_id)
    charge.update({"refunded": True, "amount_refunded": order.total_amount})
    event = sandbox.sandbox_event("charge.refunded", charge)
    response = app.test_client().post(
        "/webhooks/stripe", data=event.payload, headers={"Stripe-Signature": event.signature_header}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    db_session.refresh(grant)
    assert grant.status == "revoked"


def test_dispute_suspends_and_a_won_dispute_reinstates(app, client, db_session, market, paid_offer) -> None:  # noqa: F811
    order, grant = _paid_order(app, client, db_session, paid_offer)
    sandbox = _sandbox(app)
    hook = app.test_client()
    opened = sandbox.dispute_event(order.payment_intent_id, "charge.dispute.created")
    assert (
        hook.post(
            "/webhooks/stripe", data=opened.payload, headers={"Stripe-Signature": opened.signature_header}
        ).status_code
        == 200
    )
    db_session.refresh(grant)
    assert grant.status == "suspended"
    assert client.get(f"/licenses/{grant.id}/verify?format=json").get_json()["status"] == "suspended"
    closed = sandbox.dispute_event(order.payment_intent_id, "charge.dispute.closed", status="won")
    assert (
        hook.post(
            "/webhooks/stripe", data=closed.payload, headers={"Stripe-Signature": closed.signature_header}
        ).status_code
        == 200
    )
    db_session.refresh(grant)
    db_session.refresh(order)
    assert grant.status == "active" and order.status == "paid"


def test_lost_dispute_revokes(app, client, db_session, market, paid_offer) -> None:  # noqa: F811
    order, grant = _paid_order(app, client, db_session, paid_offer)
    sandbox = _sandbox(app)
    hook = app.test_client()
    for event in (sandbox.dispute_event(order.payment_intent_id, "charge.dispute.created"),
                  sandbox.dispute_event(order.payment_intent_id, "charge.dispute.closed", status="lost")):  # fmt: skip
        assert (
            hook.post(
                "/webhooks/stripe", data=event.payload, headers={"Stripe-Signature": event.signature_header}
            ).status_code
            == 200
        )
    db_session.refresh(grant)
    assert grant.status == "revoked"


def test_checkout_refuses_unaccepted_terms_and_other_peoples_orgs(app, client, db_session, market, paid_offer) -> None:  # noqa: F811
    log_in(client, "purchaser@example.org", PASSWORD)
    post_form(client, "/cart/add", {"offer_id": str(paid_offer.id), "licensee": "buy"}, token_from="/settings")
    response = post_form(client, "/checkout", {"licensee": "buy", "currency": "EUR"}, token_from="/cart")
    assert response.status_code == 422
    assert "Accept the terms" in response.get_data(as_text=True)
    assert db_session.exec(select(Order)).all() == []
    other = post_form(
        client, "/cart/add", {"offer_id": str(paid_offer.id), "licensee": "rival"}, token_from="/settings"
    )
    assert other.status_code == 403


def test_orders_of_other_organisations_are_invisible(app, client, db_session, market, paid_offer) -> None:  # noqa: F811
    order, _grant = _paid_order(app, client, db_session, paid_offer)
    outsider = app.test_client()
    log_in(outsider, "outsider@example.org", PASSWORD)
    assert outsider.get(f"/orders/{order.id}").status_code == 404
    assert outsider.get(f"/orders/{order.id}/complete?session_id={order.checkout_session_id}").status_code == 404
    assert post_form(outsider, f"/orders/{order.id}/refund", {"reason": "x"}, token_from="/settings").status_code == 403
    assert f"ORD-{order.id:06d}" not in outsider.get("/orders").get_data(as_text=True)


def test_sales_ledger_shows_gross_fee_and_net(app, client, db_session, market, paid_offer) -> None:  # noqa: F811
    _paid_order(app, client, db_session, paid_offer)
    seller = app.test_client()
    log_in(seller, "seller@example.org", PASSWORD)
    page = seller.get("/orgs/prov/sales").get_data(as_text=True)
    assert "€1,250.00" in page and "€125.00" in page and "€1,125.00" in page
    assert "<svg" in page
    outsider = app.test_client()
    log_in(outsider, "outsider@example.org", PASSWORD)
    assert outsider.get("/orgs/prov/sales").status_code == 403


def test_failed_payment_then_retry(app, client, db_session, market, paid_offer) -> None:  # noqa: F811
    log_in(client, "purchaser@example.org", PASSWORD)
    order = _buy(client, db_session, paid_offer)
    _pay(client, order, "failed")
    db_session.refresh(order)
    assert order.status == "failed"
    response = post_form(client, f"/orders/{order.id}/pay", {}, token_from=f"/orders/{order.id}")
    assert response.status_code == 303
    db_session.refresh(order)
    assert order.status == "pending_payment" and order.checkout_attempt == 2
    _pay(client, order)
    db_session.refresh(order)
    assert order.status == "paid"


def test_production_refuses_sandbox_payments(tmp_path) -> None:
    with pytest.raises(ConfigError, match="STRIPE_SECRET_KEY"):
        create_app(
            {
                "MARKETPLACE_ENV": "production", "INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "k" * 40,
                "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/test", "MAIL_BACKEND": "smtp",
                "BASE_URL": "https://data.example.org", "LICENSE_SIGNING_KEY_FILE": str(tmp_path / "k.json"),
            }
        )  # fmt: skip


def test_reconcile_fulfils_orders_whose_webhook_never_came(app, client, db_session, market, paid_offer) -> None:  # noqa: F811
    log_in(client, "purchaser@example.org", PASSWORD)
    order = _buy(client, db_session, paid_offer)
    _sandbox(app).complete_checkout(order.checkout_session_id, "paid")  # paid, but the event is lost
    result = app.test_cli_runner().invoke(args=["payments", "reconcile", "--older-than", "0"])
    assert result.exit_code == 0, result.output
    assert "paid, fulfilled" in result.output
    db_session.refresh(order)
    assert order.status == "paid"
    assert json.loads(json.dumps(order.id)) == order.id


def test_sandbox_page_refuses_sessions_it_did_not_sign(client) -> None:
    assert client.get("/sandbox/checkout/cs_sandbox_forged").status_code == 404
    assert client.get("/sandbox/checkout/" + "x" * 500).status_code == 404
