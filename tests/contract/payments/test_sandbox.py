"""The sandbox backend: local checkout pages, Stripe-shaped signed events, simulated money movements."""

from __future__ import annotations

import json

import pytest

from marketplace.orders.payments import (
    IdempotencyConflict,
    InvalidPaymentRequest,
    PaymentError,
    PaymentObjectNotFound,
    SandboxBackend,
    SignatureFailure,
    SignatureInvalid,
)

from .conftest import BASE_URL, SANDBOX_SECRET, Clock, checkout_request, line


def paid_session(backend: SandboxBackend, **kw: object) -> str:
    session = backend.create_checkout(checkout_request(**kw))  # type: ignore[arg-type]
    backend.complete_checkout(session.id, "paid")
    return session.id


def test_checkout_points_at_the_local_payment_page(sandbox_backend: SandboxBackend) -> None:
    session = sandbox_backend.create_checkout(checkout_request(line("a", 1999, "acct_a"), line("b", 1, "acct_b")))
    assert session.id.startswith("cs_sandbox_")
    assert session.url == f"{BASE_URL}/sandbox/checkout/{session.id}"
    assert (session.status, session.payment_status, session.payment_intent_id) == ("open", "unpaid", None)
    assert (session.amount_total, session.currency, session.order_id) == (2000, "usd", "ord_123")
    assert session.customer_email == "buyer@example.org"
    assert session.success_redirect() == f"{BASE_URL}/orders/ord_123/paid?session_id={session.id}"
    assert sandbox_backend.name == "sandbox" and sandbox_backend.is_sandbox is True


def test_same_key_same_session_other_parameters_conflict(sandbox_backend: SandboxBackend) -> None:
    first = sandbox_backend.create_checkout(checkout_request())
    assert sandbox_backend.create_checkout(checkout_request()).id == first.id
    assert sandbox_backend.create_checkout(checkout_request(idempotency_key="checkout:ord_123")).id == first.id
    assert sandbox_backend.create_checkout(checkout_request(idempotency_key="checkout:ord_123:2")).id != first.id
    with pytest.raises(IdempotencyConflict):
        sandbox_backend.create_checkout(checkout_request(line(amount=5)))


@pytest.mark.parametrize(
    ("outcome", "event_type", "status", "payment_status", "has_intent"),
    [
        ("paid", "checkout.session.completed", "complete", "paid", True),
        ("failed", "checkout.session.async_payment_failed", "complete", "unpaid", True),
        ("cancelled", "checkout.session.expired", "expired", "unpaid", False),
    ],
)
def test_completing_a_checkout_emits_the_event_stripe_would(
    sandbox_backend: SandboxBackend,
    outcome: str,
    event_type: str,
    status: str,
    payment_status: str,
    has_intent: bool,
) -> None:
    session = sandbox_backend.create_checkout(checkout_request())
    payload, header = sandbox_backend.complete_checkout(session.id, outcome)  # type: ignore[arg-type]

    raw = json.loads(payload)
    assert raw["object"] == "event" and raw["livemode"] is False and raw["api_version"]
    event = sandbox_backend.parse_webhook(payload, header)
    assert event.type == event_type
    obj = event.object
    assert (obj["object"], obj["id"], obj["status"], obj["payment_status"]) == (
        "checkout.session",
        session.id,
        status,
        payment_status,
    )
    assert obj["metadata"] == {"order_id": "ord_123"} and obj["client_reference_id"] == "ord_123"
    assert (obj["amount_total"], obj["currency"]) == (1000, "usd")
    assert (obj["payment_intent"] is not None) is has_intent
    current = sandbox_backend.retrieve_checkout(session.id)
    assert (current.status, current.payment_status, current.url) == (status, payment_status, None)


def test_repeating_an_outcome_repeats_the_event_id_and_another_outcome_is_refused(
    sandbox_backend: SandboxBackend,
) -> None:
    session = sandbox_backend.create_checkout(checkout_request())
    first = sandbox_backend.parse_webhook(*sandbox_backend.complete_checkout(session.id, "paid"))
    again = sandbox_backend.parse_webhook(*sandbox_backend.complete_checkout(session.id, "paid"))
    assert first.id == again.id
    with pytest.raises(PaymentError, match="already paid"):
        sandbox_backend.complete_checkout(session.id, "cancelled")
    with pytest.raises(InvalidPaymentRequest):
        sandbox_backend.complete_checkout(session.id, "maybe")  # type: ignore[arg-type]


def test_a_paid_session_has_a_payment_intent_and_charge(sandbox_backend: SandboxBackend) -> None:
    session = sandbox_backend.retrieve_checkout(paid_session(sandbox_backend))
    assert session.payment_intent_id is not None and session.payment_intent_id.startswith("pi_sandbox_")
    assert session.charge_id is not None and session.charge_id.startswith("ch_sandbox_")


def test_ids_survive_a_restart_or_another_worker(sandbox_backend: SandboxBackend, clock: Clock) -> None:
    session = sandbox_backend.create_checkout(checkout_request())
    other_process = SandboxBackend(SANDBOX_SECRET, BASE_URL, clock=clock)
    seen = other_process.retrieve_checkout(session.id)
    assert (seen.order_id, seen.amount_total, seen.currency, seen.status) == ("ord_123", 1000, "usd", "open")
    event = sandbox_backend.parse_webhook(*other_process.complete_checkout(session.id, "paid"))
    assert event.checkout_session().is_paid


def test_forged_or_foreign_ids_are_not_found(sandbox_backend: SandboxBackend, clock: Clock) -> None:
    session = sandbox_backend.create_checkout(checkout_request())
    stranger = SandboxBackend(b"another-secret-entirely-32-bytes", BASE_URL, clock=clock)
    forged = session.id[:-1] + ("0" if session.id[-1] != "0" else "1")
    for backend, session_id in [(stranger, session.id), (sandbox_backend, forged), (sandbox_backend, "cs_test_x")]:
        with pytest.raises(PaymentObjectNotFound):
            backend.retrieve_checkout(session_id)
        with pytest.raises(PaymentObjectNotFound):
            backend.complete_checkout(session_id, "paid")


def test_events_of_another_sandbox_do_not_verify(sandbox_backend: SandboxBackend, clock: Clock) -> None:
    stranger = SandboxBackend(b"another-secret-entirely-32-bytes", BASE_URL, clock=clock)
    payload, header = stranger.sandbox_event("charge.refunded", {"object": "charge", "id": "ch_1"})
    with pytest.raises(SignatureInvalid) as caught:
        sandbox_backend.parse_webhook(payload, header)
    assert caught.value.reason is SignatureFailure.BAD_SIGNATURE


def test_sandbox_events_go_stale_like_stripes(sandbox_backend: SandboxBackend, clock: Clock) -> None:
    payload, header = sandbox_backend.sandbox_event("charge.refunded", {"object": "charge", "id": "ch_1"})
    clock.now += 301
    with pytest.raises(SignatureInvalid) as caught:
        sandbox_backend.parse_webhook(payload, header)
    assert caught.value.reason is SignatureFailure.STALE_TIMESTAMP


def test_refunds_and_the_charge_refunded_event(sandbox_backend: SandboxBackend) -> None:
    session = sandbox_backend.retrieve_checkout(paid_session(sandbox_backend, bps=1000))
    assert session.payment_intent_id is not None
    common = {"reverse_transfer": True, "refund_application_fee": True}

    partial = sandbox_backend.refund(session.payment_intent_id, amount=400, idempotency_key="refund:1", **common)
    assert (
        sandbox_backend.refund(session.payment_intent_id, amount=400, idempotency_key="refund:1", **common) == partial
    )
    rest = sandbox_backend.refund(session.payment_intent_id, idempotency_key="refund:2", reason="fraudulent", **common)

    assert (partial.amount, rest.amount, rest.currency, rest.status) == (400, 600, "usd", "succeeded")
    assert partial.id.startswith("re_sandbox_") and partial.id != rest.id
    assert rest.charge_id == session.charge_id
    with pytest.raises(PaymentError, match="already been refunded"):
        sandbox_backend.refund(session.payment_intent_id, idempotency_key="refund:3", **common)
    with pytest.raises(IdempotencyConflict):
        sandbox_backend.refund(session.payment_intent_id, amount=1, idempotency_key="refund:1", **common)

    event = sandbox_backend.parse_webhook(*sandbox_backend.refund_event(rest))
    assert event.type == "charge.refunded"
    charge = event.object
    assert (charge["object"], charge["id"], charge["payment_intent"]) == (
        "charge",
        session.charge_id,
        session.payment_intent_id,
    )
    assert (charge["amount"], charge["amount_refunded"], charge["refunded"]) == (1000, 1000, True)


def test_refund_of_more_than_was_paid_is_refused(sandbox_backend: SandboxBackend) -> None:
    intent = sandbox_backend.retrieve_checkout(paid_session(sandbox_backend)).payment_intent_id
    assert intent is not None
    with pytest.raises(PaymentError, match="greater than"):
        sandbox_backend.refund(
            intent, amount=1001, reverse_transfer=False, refund_application_fee=False, idempotency_key="r"
        )


def test_dispute_events(sandbox_backend: SandboxBackend) -> None:
    session = sandbox_backend.retrieve_checkout(paid_session(sandbox_backend))
    assert session.payment_intent_id is not None
    opened = sandbox_backend.parse_webhook(*sandbox_backend.dispute_event(session.payment_intent_id))
    closed = sandbox_backend.parse_webhook(
        *sandbox_backend.dispute_event(session.payment_intent_id, "charge.dispute.closed", status="won")
    )
    assert (opened.type, opened.object["status"], opened.object["charge"]) == (
        "charge.dispute.created",
        "needs_response",
        session.charge_id,
    )
    assert (closed.type, closed.object["status"], closed.object["payment_intent"]) == (
        "charge.dispute.closed",
        "won",
        session.payment_intent_id,
    )
    assert opened.object["id"] == closed.object["id"] and opened.id != closed.id


def test_transfers_and_reversals(sandbox_backend: SandboxBackend) -> None:
    request = checkout_request(line("a", 1000, "acct_a"), line("b", 505, "acct_b"))
    session = sandbox_backend.create_checkout(request)
    sandbox_backend.complete_checkout(session.id, "paid")
    charge_id = sandbox_backend.retrieve_checkout(session.id).charge_id
    plan = request.settlement
    assert charge_id is not None and plan.transfer_group is not None

    transfers = sandbox_backend.create_transfers("ord_123", charge_id, plan.transfer_group, plan.payouts)
    again = sandbox_backend.create_transfers("ord_123", charge_id, plan.transfer_group, plan.payouts)

    assert transfers == again
    assert [(t.destination, t.amount, t.source_transaction) for t in transfers] == [
        ("acct_a", 900, charge_id),
        ("acct_b", 454, charge_id),
    ]
    reversal = sandbox_backend.reverse_transfer(transfers[1].id, idempotency_key="reversal:1")
    assert (reversal.transfer_id, reversal.amount, reversal.currency) == (transfers[1].id, 454, "usd")
    assert reversal.id.startswith("trr_sandbox_")
    with pytest.raises(PaymentError):
        sandbox_backend.create_transfers("ord_123", charge_id, "g", [("acct_z", 1506, "usd")])
    with pytest.raises(PaymentObjectNotFound):
        sandbox_backend.create_transfers("ord_123", "ch_real_charge", "g", [("acct_z", 1, "usd")])
    with pytest.raises(PaymentObjectNotFound):
        sandbox_backend.reverse_transfer("tr_elsewhere", idempotency_key="reversal:2")


def test_accounts_are_enabled_at_once_and_onboarding_returns_straight_away(sandbox_backend: SandboxBackend) -> None:
    account = sandbox_backend.create_express_account("p@example.org", "FR", idempotency_key="account:p1")
    assert account.id.startswith("acct_sandbox_")
    assert sandbox_backend.create_express_account("p@example.org", "FR", idempotency_key="account:p1") == account
    assert (account.charges_enabled, account.payouts_enabled, account.requirements_due) == (True, True, ())
    assert sandbox_backend.account_onboarding_link(account.id, f"{BASE_URL}/r", f"{BASE_URL}/back") == (
        f"{BASE_URL}/back"
    )
    assert sandbox_backend.retrieve_account(account.id) == account
    with pytest.raises(PaymentObjectNotFound):
        sandbox_backend.retrieve_account("acct_1234")

    event = sandbox_backend.parse_webhook(
        *sandbox_backend.account_updated_event(account.id, charges_enabled=False, requirements_due=["individual.dob"])
    )
    assert (event.type, event.account) == ("account.updated", account.id)
    updated = event.connect_account()
    assert (updated.charges_enabled, updated.requirements_due) == (False, ("individual.dob",))


@pytest.mark.parametrize(("secret", "base_url"), [(b"short", BASE_URL), (SANDBOX_SECRET, "localhost:5000")])
def test_bad_configuration_is_refused(secret: bytes, base_url: str) -> None:
    with pytest.raises(PaymentError):
        SandboxBackend(secret, base_url)
