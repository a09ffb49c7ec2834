"""The value types and the settlement rules shared by every backend: fees, splits, validation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketplace.orders.payments import (
    ChargeKind,
    CheckoutSession,
    ConnectAccount,
    InvalidEvent,
    InvalidPaymentRequest,
    PaymentEvent,
    Payout,
    plan_settlement,
    platform_fee,
    split_fee,
)
from marketplace.orders.payments.stripe_backend import checkout_params

from .conftest import checkout_request, line


@pytest.mark.parametrize(
    ("total", "bps", "fee"),
    [(1000, 1000, 100), (1005, 1000, 101), (1004, 1000, 100), (999, 250, 25), (1, 5000, 1), (1, 4999, 0), (0, 1000, 0)],
)
def test_platform_fee_rounds_half_up_with_integers(total: int, bps: int, fee: int) -> None:
    assert platform_fee(total, bps) == fee


@pytest.mark.parametrize(("total", "bps"), [(1000, -1), (1000, 10_001), (-5, 100), (10.0, 100), (1000, True)])
def test_platform_fee_refuses_bad_input(total: object, bps: object) -> None:
    with pytest.raises(InvalidPaymentRequest):
        platform_fee(total, bps)  # type: ignore[arg-type]


@given(st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=8), st.integers(0, 10_000))
def test_fee_shares_add_up_exactly_and_never_exceed_a_subtotal(subtotals: list[int], bps: int) -> None:
    shares = split_fee(subtotals, bps)
    assert sum(shares) == platform_fee(sum(subtotals), bps)
    assert all(0 <= share <= amount for share, amount in zip(shares, subtotals, strict=True))


def test_single_provider_is_a_destination_charge() -> None:
    plan = plan_settlement(checkout_request(line("a", 1000, "acct_a"), line("b", 2005, "acct_a"), bps=1000))
    assert plan.kind is ChargeKind.DESTINATION
    assert plan.destination == "acct_a"
    assert (plan.total, plan.platform_fee) == (3005, 301)
    assert plan.payouts == (Payout("acct_a", 2704, "usd"),)
    assert plan.transfer_group is None


def test_several_providers_are_separate_charges_and_transfers() -> None:
    request = checkout_request(line("a", 1000, "acct_a"), line("b", 505, "acct_b"), line("c", 333, "acct_a"))
    plan = plan_settlement(request)
    assert plan.kind is ChargeKind.SEPARATE_TRANSFERS
    assert plan.transfer_group == "order_ord_123"
    assert plan.platform_fee == 184  # 1838 * 10 % = 183.8
    assert plan.payouts == (Payout("acct_a", 1200, "usd"), Payout("acct_b", 454, "usd"))
    assert sum(p.amount for p in plan.payouts) == plan.total - plan.platform_fee


def test_platform_owned_lines_are_neither_transferred_nor_charged_to_a_destination() -> None:
    only_platform = plan_settlement(checkout_request(line("a", 1000, None)))
    assert only_platform.kind is ChargeKind.PLATFORM and only_platform.payouts == ()
    mixed = plan_settlement(checkout_request(line("a", 1000, None), line("b", 1000, "acct_b")))
    assert mixed.kind is ChargeKind.SEPARATE_TRANSFERS
    assert mixed.payouts == (Payout("acct_b", 900, "usd"),)


def test_a_held_charge_keeps_everything_and_carries_its_transfer_group() -> None:
    held = plan_settlement(checkout_request(line("a", 1000, None), hold_for_transfer_group="contract_7"))
    assert held.kind is ChargeKind.PLATFORM and held.payouts == () and held.transfer_group == "contract_7"
    assert plan_settlement(checkout_request(line("a", 1000, None))).transfer_group is None
    params = checkout_params(checkout_request(line("a", 1000, None), hold_for_transfer_group="contract_7"))
    assert params["payment_intent_data"].get("transfer_group") == "contract_7"
    assert "transfer_data" not in params["payment_intent_data"]
    with pytest.raises(InvalidPaymentRequest, match="held charge"):
        checkout_request(line("a", 1000, "acct_a"), hold_for_transfer_group="contract_7")


def test_full_fee_leaves_nothing_to_pay_out() -> None:
    plan = plan_settlement(checkout_request(line("a", 1000, "acct_a"), bps=10_000))
    assert plan.platform_fee == 1000 and plan.payouts == ()


def test_currency_is_normalised_to_lower_case() -> None:
    assert line(currency="EUR").currency == "eur"


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: line(amount=-1), "amount"),
        (lambda: line(amount=10.5), "amount"),  # type: ignore[arg-type]
        (lambda: line(currency="euro"), "currency"),
        (lambda: line(offer_id=""), "offer_id"),
        (lambda: checkout_request(line("a", 0)), "lines"),
        (lambda: checkout_request(line("a", currency="usd"), line("b", currency="eur")), "lines"),
        (lambda: checkout_request(bps=20_000), "platform_fee_bps"),
        (lambda: checkout_request(success_url="http://localhost/paid"), "success_url"),
        (lambda: checkout_request(cancel_url="/relative"), "cancel_url"),
        (lambda: checkout_request(order_id=""), "order_id"),
        (lambda: checkout_request(buyer_email="nobody"), "buyer_email"),
    ],
)
def test_invalid_requests_are_refused_naming_the_field(make: object, field: str) -> None:
    with pytest.raises(InvalidPaymentRequest, match=field):
        make()  # type: ignore[operator]


def test_empty_description_becomes_none_and_default_key_is_per_order() -> None:
    request = checkout_request(line(description="  "), order_id="ord_9")
    assert request.lines[0].description is None
    assert request.key == "checkout:ord_9"
    assert checkout_request(idempotency_key="checkout:ord_9:2").key == "checkout:ord_9:2"


def test_checkout_session_reads_an_expanded_payment_intent() -> None:
    session = CheckoutSession.from_stripe(
        {
            "id": "cs_1",
            "object": "checkout.session",
            "status": "complete",
            "payment_status": "paid",
            "payment_intent": {"id": "pi_1", "object": "payment_intent", "latest_charge": "ch_1"},
            "amount_total": 500,
            "currency": "usd",
            "metadata": {"order_id": "ord_1"},
            "success_url": "https://m.example/paid?s={CHECKOUT_SESSION_ID}",
        }
    )
    assert (session.payment_intent_id, session.charge_id, session.order_id) == ("pi_1", "ch_1", "ord_1")
    assert session.is_paid
    assert session.success_redirect() == "https://m.example/paid?s=cs_1"


def test_events_and_accounts_refuse_what_they_are_not() -> None:
    with pytest.raises(InvalidEvent):
        PaymentEvent.from_json({"object": "event", "id": "evt_1", "type": "x", "created": "yesterday", "data": {}})
    with pytest.raises(InvalidEvent):
        PaymentEvent.from_json([1, 2])
    with pytest.raises(InvalidEvent):
        ConnectAccount.from_stripe({"object": "charge", "id": "ch_1"})
