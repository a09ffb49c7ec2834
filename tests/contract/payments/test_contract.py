"""What every payment backend promises, run against Stripe (through the fake) and the sandbox alike."""

from __future__ import annotations

import pytest

from marketplace.orders.payments import (
    IdempotencyConflict,
    PaymentBackend,
    PaymentObjectNotFound,
    SignatureFailure,
    SignatureInvalid,
    sign_payload,
)

from .conftest import Clock, Harness, checkout_request, line


def test_it_is_a_payment_backend(harness: Harness) -> None:
    assert isinstance(harness.backend, PaymentBackend)
    assert harness.backend.name in {"stripe", "sandbox"}
    assert harness.backend.is_sandbox is (harness.backend.name == "sandbox")


def test_create_checkout_returns_an_open_session_with_id_and_url(harness: Harness) -> None:
    session = harness.backend.create_checkout(checkout_request(line("a", 1500, "acct_a"), line("b", 500, "acct_b")))
    assert session.id.startswith("cs_")
    assert session.url is not None and session.url.startswith(("http://", "https://")) and session.id in session.url
    assert (session.status, session.payment_status, session.is_paid) == ("open", "unpaid", False)
    assert (session.amount_total, session.currency, session.order_id) == (2000, "usd", "ord_123")


def test_the_same_order_gets_the_same_session(harness: Harness) -> None:
    first = harness.backend.create_checkout(checkout_request())
    assert harness.backend.create_checkout(checkout_request()).id == first.id
    with pytest.raises(IdempotencyConflict):
        harness.backend.create_checkout(checkout_request(line(amount=999)))


def test_retrieve_checkout_before_and_after_payment(harness: Harness) -> None:
    session = harness.backend.create_checkout(checkout_request())
    assert harness.backend.retrieve_checkout(session.id).status == "open"
    harness.pay(session.id)
    paid = harness.backend.retrieve_checkout(session.id)
    assert (paid.status, paid.payment_status, paid.order_id) == ("complete", "paid", "ord_123")
    assert paid.payment_intent_id is not None and paid.charge_id is not None


def test_unknown_session_is_not_found(harness: Harness) -> None:
    with pytest.raises(PaymentObjectNotFound):
        harness.backend.retrieve_checkout("cs_nobody_knows_this_one")


def test_checkout_completed_event_carries_order_id_and_paid_status(harness: Harness) -> None:
    session = harness.backend.create_checkout(checkout_request(order_id="ord_77"))
    payload, header = harness.pay(session.id)

    event = harness.backend.parse_webhook(payload, header)

    assert event.type == "checkout.session.completed"
    assert event.id.startswith("evt_") and event.livemode is False
    completed = event.checkout_session()
    assert completed.id == session.id
    assert completed.metadata["order_id"] == "ord_77" and completed.order_id == "ord_77"
    assert (completed.status, completed.payment_status) == ("complete", "paid")
    assert completed.payment_intent_id is not None
    assert completed.amount_total == 1000 and completed.currency == "usd"


def test_parse_webhook_accepts_any_event_signed_with_the_backends_secret(harness: Harness) -> None:
    payload, header = harness.sign("charge.dispute.created", {"object": "dispute", "id": "dp_1", "status": "lost"})
    event = harness.backend.parse_webhook(payload, header)
    assert (event.type, event.object["id"], event.object["status"]) == ("charge.dispute.created", "dp_1", "lost")


def test_parse_webhook_refuses_what_is_not_signed_with_its_secret(harness: Harness, clock: Clock) -> None:
    payload, header = harness.sign("charge.refunded", {"object": "charge", "id": "ch_1"})
    forged = sign_payload(payload, "whsec_not_ours", int(clock.now))
    with pytest.raises(SignatureInvalid) as caught:
        harness.backend.parse_webhook(payload, forged)
    assert caught.value.reason is SignatureFailure.BAD_SIGNATURE
    with pytest.raises(SignatureInvalid):
        harness.backend.parse_webhook(payload.replace(b"ch_1", b"ch_2"), header)
    with pytest.raises(SignatureInvalid) as caught:
        harness.backend.parse_webhook(payload, None)
    assert caught.value.reason is SignatureFailure.MALFORMED_HEADER
    assert harness.backend.parse_webhook(payload, sign_payload(payload, harness.webhook_secret, int(clock.now)))


def test_full_refund_of_a_paid_checkout(harness: Harness) -> None:
    session = harness.backend.create_checkout(checkout_request(line("a", 2500, "acct_a")))
    harness.pay(session.id)
    intent = harness.backend.retrieve_checkout(session.id).payment_intent_id
    assert intent is not None
    refund = harness.backend.refund(
        intent, reverse_transfer=True, refund_application_fee=True, idempotency_key="refund:ord_123"
    )
    assert (refund.amount, refund.currency, refund.payment_intent_id, refund.status) == (
        2500,
        "usd",
        intent,
        "succeeded",
    )
    again = harness.backend.refund(
        intent, reverse_transfer=True, refund_application_fee=True, idempotency_key="refund:ord_123"
    )
    assert again.id == refund.id


def test_multi_provider_transfers_add_up(harness: Harness) -> None:
    request = checkout_request(line("a", 1000, "acct_a"), line("b", 505, "acct_b"), line("c", 1, "acct_c"))
    session = harness.backend.create_checkout(request)
    harness.pay(session.id)
    charge_id = harness.backend.retrieve_checkout(session.id).charge_id
    plan = request.settlement
    assert charge_id is not None and plan.transfer_group == "order_ord_123"

    transfers = harness.backend.create_transfers(request.order_id, charge_id, plan.transfer_group, plan.payouts)

    assert sum(t.amount for t in transfers) == request.total - plan.platform_fee
    assert [t.destination for t in transfers] == ["acct_a", "acct_b", "acct_c"]
    assert {(t.transfer_group, t.source_transaction, t.currency) for t in transfers} == {
        ("order_ord_123", charge_id, "usd")
    }
    retried = harness.backend.create_transfers(request.order_id, charge_id, plan.transfer_group, plan.payouts)
    assert [t.id for t in retried] == [t.id for t in transfers]


def test_express_account_and_onboarding_link(harness: Harness) -> None:
    account = harness.backend.create_express_account("p@example.org", "NL", idempotency_key="account:p1")
    assert account.id.startswith("acct_")
    again = harness.backend.create_express_account("p@example.org", "NL", idempotency_key="account:p1")
    assert again.id == account.id
    link = harness.backend.account_onboarding_link(account.id, "https://m.example/r", "https://m.example/back")
    assert link.startswith("https://")
    assert harness.backend.retrieve_account(account.id).id == account.id
