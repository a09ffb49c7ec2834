"""StripeBackend against the loopback fake: the exact parameters sent, idempotency, and error mapping."""

from __future__ import annotations

import socket

import pytest

from marketplace.orders.payments import (
    IdempotencyConflict,
    PaymentError,
    PaymentObjectNotFound,
    PaymentProviderUnavailable,
    StripeBackend,
)
from tests.support.fake_stripe import FakeStripe

from .conftest import checkout_request, line

SUCCESS = "http://localhost:5000/orders/ord_123/paid?session_id={CHECKOUT_SESSION_ID}"
CANCEL = "http://localhost:5000/orders/ord_123"


def test_single_provider_checkout_is_a_destination_charge_with_the_fee(
    stripe_backend: StripeBackend, fake_stripe: FakeStripe
) -> None:
    request = checkout_request(line("offer-1", 1999, "acct_a"), line("offer-2", 1006, "acct_a"), bps=1000)
    session = stripe_backend.create_checkout(request)

    sent = fake_stripe.last("POST", "/v1/checkout/sessions")
    assert sent.idempotency_key == "checkout:ord_123"
    assert sent.stripe_account is None
    assert sent.params == {
        "mode": "payment",
        "line_items": [
            {
                "quantity": "1",
                "price_data": {
                    "currency": "usd",
                    "unit_amount": "1999",
                    "product_data": {
                        "name": "Dataset offer-1 — Commercial licence",
                        "description": "CC-BY-4.0, commercial use",
                        "metadata": {"offer_id": "offer-1", "provider_id": "provider-of-acct_a"},
                    },
                },
            },
            {
                "quantity": "1",
                "price_data": {
                    "currency": "usd",
                    "unit_amount": "1006",
                    "product_data": {
                        "name": "Dataset offer-2 — Commercial licence",
                        "description": "CC-BY-4.0, commercial use",
                        "metadata": {"offer_id": "offer-2", "provider_id": "provider-of-acct_a"},
                    },
                },
            },
        ],
        "metadata": {"order_id": "ord_123"},
        "client_reference_id": "ord_123",
        "customer_email": "buyer@example.org",
        "success_url": SUCCESS,
        "cancel_url": CANCEL,
        "payment_intent_data": {
            "transfer_data": {"destination": "acct_a"},
            "application_fee_amount": "301",  # 3005 * 10 % = 300.5, rounded half up
            "metadata": {"order_id": "ord_123"},
        },
    }
    assert session.id.startswith("cs_test_")
    assert session.url == f"https://checkout.stripe.com/c/pay/{session.id}"
    assert (session.status, session.payment_status, session.amount_total, session.currency) == (
        "open",
        "unpaid",
        3005,
        "usd",
    )
    assert session.order_id == "ord_123"


def test_multi_provider_checkout_uses_a_transfer_group_and_no_destination(
    stripe_backend: StripeBackend, fake_stripe: FakeStripe
) -> None:
    stripe_backend.create_checkout(checkout_request(line("a", 1000, "acct_a"), line("b", 505, "acct_b")))
    intent = fake_stripe.last("POST", "/v1/checkout/sessions").params["payment_intent_data"]
    assert intent == {"transfer_group": "order_ord_123", "metadata": {"order_id": "ord_123"}}


def test_platform_owned_checkout_sends_neither_destination_nor_group(
    stripe_backend: StripeBackend, fake_stripe: FakeStripe
) -> None:
    stripe_backend.create_checkout(checkout_request(line("a", 1000, None), buyer_email=None))
    params = fake_stripe.last("POST", "/v1/checkout/sessions").params
    assert params["payment_intent_data"] == {"metadata": {"order_id": "ord_123"}}
    assert "customer_email" not in params


def test_no_description_is_sent_when_there_is_none(stripe_backend: StripeBackend, fake_stripe: FakeStripe) -> None:
    stripe_backend.create_checkout(checkout_request(line(description=None)))
    product = fake_stripe.last().params["line_items"][0]["price_data"]["product_data"]
    assert "description" not in product


def test_repeated_checkout_replays_the_same_session(stripe_backend: StripeBackend, fake_stripe: FakeStripe) -> None:
    first = stripe_backend.create_checkout(checkout_request())
    second = stripe_backend.create_checkout(checkout_request())
    assert first.id == second.id
    assert len(fake_stripe.sessions) == 1
    assert [r.replayed for r in fake_stripe.requests_to("POST", "/v1/checkout/sessions")] == [False, True]


def test_a_changed_order_under_the_same_key_is_an_idempotency_conflict(stripe_backend: StripeBackend) -> None:
    stripe_backend.create_checkout(checkout_request(line(amount=1000)))
    with pytest.raises(IdempotencyConflict):
        stripe_backend.create_checkout(checkout_request(line(amount=2000)))


def test_a_new_attempt_key_opens_a_new_session(stripe_backend: StripeBackend) -> None:
    first = stripe_backend.create_checkout(checkout_request())
    second = stripe_backend.create_checkout(checkout_request(idempotency_key="checkout:ord_123:2"))
    assert first.id != second.id


def test_sdk_retries_after_a_500_reuse_our_key_and_create_one_session(fake_stripe: FakeStripe) -> None:
    backend = StripeBackend(
        fake_stripe.secret_key, fake_stripe.webhook_secret, api_base=fake_stripe.url, max_network_retries=1
    )
    fake_stripe.fail_next(500)
    session = backend.create_checkout(checkout_request())
    attempts = fake_stripe.requests_to("POST", "/v1/checkout/sessions")
    assert [r.status for r in attempts] == [500, 200]
    assert {r.idempotency_key for r in attempts} == {"checkout:ord_123"}
    assert list(fake_stripe.sessions) == [session.id]


def test_retrieve_checkout_expands_the_payment_intent_for_the_charge_id(
    stripe_backend: StripeBackend, fake_stripe: FakeStripe
) -> None:
    created = stripe_backend.create_checkout(checkout_request(line("a", 1000, "acct_a")))
    assert stripe_backend.retrieve_checkout(created.id).payment_intent_id is None
    fake_stripe.pay_session(created.id)

    paid = stripe_backend.retrieve_checkout(created.id)

    sent = fake_stripe.last("GET", f"/v1/checkout/sessions/{created.id}")
    assert sent.params == {"expand": ["payment_intent"]}
    intent = fake_stripe.payment_intents[paid.payment_intent_id or ""]
    assert (paid.status, paid.payment_status, paid.is_paid) == ("complete", "paid", True)
    assert paid.charge_id == intent["latest_charge"]
    assert intent["application_fee_amount"] == 100
    assert intent["transfer_data"] == {"destination": "acct_a"}


def test_transfers_of_a_multi_provider_order(stripe_backend: StripeBackend, fake_stripe: FakeStripe) -> None:
    request = checkout_request(line("a", 1000, "acct_a"), line("b", 505, "acct_b"), line("c", 333, "acct_c"))
    session = stripe_backend.create_checkout(request)
    fake_stripe.pay_session(session.id)
    paid = stripe_backend.retrieve_checkout(session.id)
    plan = request.settlement
    assert paid.charge_id is not None and plan.transfer_group is not None

    transfers = stripe_backend.create_transfers("ord_123", paid.charge_id, plan.transfer_group, plan.payouts)

    sent = fake_stripe.requests_to("POST", "/v1/transfers")
    assert [r.idempotency_key for r in sent] == [
        "transfer:ord_123:acct_a",
        "transfer:ord_123:acct_b",
        "transfer:ord_123:acct_c",
    ]
    assert [r.params for r in sent] == [
        {
            "amount": amount,
            "currency": "usd",
            "destination": account,
            "transfer_group": "order_ord_123",
            "source_transaction": paid.charge_id,
            "metadata": {"order_id": "ord_123"},
        }
        for account, amount in [("acct_a", "900"), ("acct_b", "454"), ("acct_c", "300")]
    ]
    assert sum(t.amount for t in transfers) == 1838 - 184 == request.total - plan.platform_fee
    assert [(t.destination, t.transfer_group, t.source_transaction) for t in transfers] == [
        (account, "order_ord_123", paid.charge_id) for account in ("acct_a", "acct_b", "acct_c")
    ]


def test_transfers_resume_after_a_partial_failure_without_paying_twice(
    stripe_backend: StripeBackend, fake_stripe: FakeStripe
) -> None:
    intent = fake_stripe.add_payment_intent(2000)
    payouts = [("acct_a", 900, "usd"), ("acct_b", 900, "usd")]
    stripe_backend.create_transfers("ord_1", intent["latest_charge"], "order_ord_1", payouts[:1])
    fake_stripe.fail_next(503)
    with pytest.raises(PaymentProviderUnavailable):
        stripe_backend.create_transfers("ord_1", intent["latest_charge"], "order_ord_1", payouts)

    retried = stripe_backend.create_transfers("ord_1", intent["latest_charge"], "order_ord_1", payouts)

    assert len(fake_stripe.transfers) == 2
    assert {t.id for t in retried} == set(fake_stripe.transfers)


def test_transfers_refuse_duplicate_accounts_and_empty_batches(stripe_backend: StripeBackend) -> None:
    with pytest.raises(PaymentError, match="twice"):
        stripe_backend.create_transfers("o", "ch_1", "order_o", [("acct_a", 1, "usd"), ("acct_a", 2, "usd")])
    with pytest.raises(PaymentError, match="nothing"):
        stripe_backend.create_transfers("o", "ch_1", "order_o", [])


def test_refund_of_a_destination_charge_reverses_transfer_and_fee(
    stripe_backend: StripeBackend, fake_stripe: FakeStripe
) -> None:
    intent = fake_stripe.add_payment_intent(3005, transfer_data={"destination": "acct_a"})

    refund = stripe_backend.refund(
        intent["id"],
        reverse_transfer=True,
        refund_application_fee=True,
        idempotency_key="refund:ord_123",
        reason="requested_by_customer",
    )

    sent = fake_stripe.last("POST", "/v1/refunds")
    assert sent.idempotency_key == "refund:ord_123"
    assert sent.params == {
        "payment_intent": intent["id"],
        "reverse_transfer": "true",
        "refund_application_fee": "true",
        "reason": "requested_by_customer",
    }
    assert (refund.amount, refund.currency, refund.payment_intent_id, refund.status) == (
        3005,
        "usd",
        intent["id"],
        "succeeded",
    )
    assert refund.charge_id == intent["latest_charge"]


def test_partial_refund_sends_the_amount_and_a_retry_returns_the_same_refund(
    stripe_backend: StripeBackend, fake_stripe: FakeStripe
) -> None:
    intent = fake_stripe.add_payment_intent(3000)
    kwargs = {"reverse_transfer": False, "refund_application_fee": False, "idempotency_key": "refund:x:1"}
    first = stripe_backend.refund(intent["id"], amount=1000, **kwargs)  # type: ignore[arg-type]
    again = stripe_backend.refund(intent["id"], amount=1000, **kwargs)  # type: ignore[arg-type]
    assert first == again
    assert len(fake_stripe.refunds) == 1
    assert fake_stripe.last("POST", "/v1/refunds").params["amount"] == "1000"


def test_reverse_transfer(stripe_backend: StripeBackend, fake_stripe: FakeStripe) -> None:
    intent = fake_stripe.add_payment_intent(2000)
    (transfer,) = stripe_backend.create_transfers("o", intent["latest_charge"], "order_o", [("acct_a", 1800, "usd")])

    partial = stripe_backend.reverse_transfer(transfer.id, amount=800, idempotency_key="reversal:o:acct_a:1")
    rest = stripe_backend.reverse_transfer(transfer.id, idempotency_key="reversal:o:acct_a:2")

    sent = fake_stripe.requests_to("POST", f"/v1/transfers/{transfer.id}/reversals")
    assert [(r.params, r.idempotency_key) for r in sent] == [
        ({"amount": "800"}, "reversal:o:acct_a:1"),
        ({}, "reversal:o:acct_a:2"),
    ]
    assert (partial.amount, rest.amount, rest.transfer_id, rest.currency) == (800, 1000, transfer.id, "usd")


def test_express_account_onboarding(stripe_backend: StripeBackend, fake_stripe: FakeStripe) -> None:
    account = stripe_backend.create_express_account("p@example.org", "de", idempotency_key="account:provider-1")

    sent = fake_stripe.last("POST", "/v1/accounts")
    assert sent.idempotency_key == "account:provider-1"
    assert sent.params == {
        "type": "express",
        "email": "p@example.org",
        "country": "DE",
        "capabilities": {"card_payments": {"requested": "true"}, "transfers": {"requested": "true"}},
    }
    assert (account.charges_enabled, account.payouts_enabled) == (False, False)
    assert "external_account" in account.requirements_due

    url = stripe_backend.account_onboarding_link(account.id, "https://m.example/refresh", "https://m.example/back")
    assert url.startswith(f"https://connect.stripe.com/setup/e/{account.id}/")
    assert fake_stripe.last("POST", "/v1/account_links").params == {
        "account": account.id,
        "refresh_url": "https://m.example/refresh",
        "return_url": "https://m.example/back",
        "type": "account_onboarding",
    }

    fake_stripe.update_account(
        account.id, charges_enabled=True, payouts_enabled=True, requirements={"currently_due": []}
    )
    current = stripe_backend.retrieve_account(account.id)
    assert (current.charges_enabled, current.payouts_enabled, current.requirements_due) == (True, True, ())


@pytest.mark.parametrize(
    ("status", "options", "error", "code"),
    [
        (500, {}, PaymentProviderUnavailable, None),
        (503, {}, PaymentProviderUnavailable, None),
        (429, {}, PaymentProviderUnavailable, "rate_limit"),
        (402, {"message": "Your card was declined."}, PaymentError, "card_declined"),
        (400, {"code": "parameter_invalid_integer"}, PaymentError, "parameter_invalid_integer"),
        (401, {"message": "Invalid API Key provided."}, PaymentError, None),
        (404, {"code": "resource_missing"}, PaymentObjectNotFound, "resource_missing"),
    ],
)
def test_stripe_errors_are_mapped(
    stripe_backend: StripeBackend,
    fake_stripe: FakeStripe,
    status: int,
    options: dict[str, str],
    error: type[PaymentError],
    code: str | None,
) -> None:
    fake_stripe.fail_next(status, **options)
    with pytest.raises(error) as caught:
        stripe_backend.create_checkout(checkout_request())
    assert type(caught.value) is error
    assert caught.value.http_status == status
    assert caught.value.code == code
    assert caught.value.request_id is not None and caught.value.request_id.startswith("req_")
    if "message" in options:
        assert options["message"] in caught.value.message


def test_an_unknown_session_is_not_found(stripe_backend: StripeBackend) -> None:
    with pytest.raises(PaymentObjectNotFound):
        stripe_backend.retrieve_checkout("cs_test_nope")


def test_an_unreachable_stripe_is_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    backend = StripeBackend("sk_test_x", "whsec_x", api_base=f"http://127.0.0.1:{port}", max_network_retries=0)
    with pytest.raises(PaymentProviderUnavailable):
        backend.create_checkout(checkout_request())


def test_the_backend_never_shows_its_keys() -> None:
    backend = StripeBackend("sk_live_secret", "whsec_secret", api_base="http://127.0.0.1:9")
    assert "secret" not in repr(backend)
    assert backend.name == "stripe" and backend.is_sandbox is False
