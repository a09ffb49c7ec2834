"""Payment events: verified, stored by their id, applied once.

The payment provider's events are the source of truth for money. Each event is stored by its id in the same
transaction that applies it (inside a savepoint), so a second delivery of the same event (even at the same moment,
from another worker) fails on the primary key, is reported as a duplicate, and changes nothing.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

import licensing
from licensing import GrantAction, GrantStatus
from marketplace import metrics
from marketplace.db import UnitOfWork
from marketplace.errors import NotFound
from marketplace.events import emit
from marketplace.licenses import services as licenses
from marketplace.licenses.models import Grant
from marketplace.mail import send_after_commit
from marketplace.orders.base import WebhookRejected, advance, backend, lines_of, locked_order
from marketplace.orders.fulfilment import fulfil_checkout
from marketplace.orders.models import (
    RANK,
    Order,
    OrderStatus,
    PaymentEventRecord,
    PayoutStatus,
    ProviderAccount,
)
from marketplace.orders.payments import (
    EventType,
    PaymentError,
    PaymentEvent,
    SignatureInvalid,
)

#: Grants a buyer still holds (a refund or a lost dispute revokes these).
_HELD = {GrantStatus.ACTIVE, GrantStatus.SUSPENDED}
#: How the buyer's e-mail names a change of their licenses.
_VERB = {GrantAction.REVOKE: "revoked", GrantAction.SUSPEND: "suspended", GrantAction.REINSTATE: "reinstated"}


@dataclass(frozen=True)
class EventHandled:
    """What became of one delivery of a payment event: applied now (``duplicate`` False) or already before."""

    outcome: str
    duplicate: bool = False


def handle_event(uow: UnitOfWork, payload: bytes, signature_header: str | None) -> EventHandled:
    """Verify and apply one payment event exactly once; say what was done.

    Verification comes before anything else: a forged, stale or malformed event raises
    :class:`WebhookRejected` having read nothing. The event is stored by its id inside a savepoint: a delivery of
    an event already stored (even one committed a moment ago by another worker) fails there on the primary key,
    only the savepoint is rolled back, and the result says ``duplicate`` so the provider stops retrying. Any other
    failure propagates, the transaction rolls back, and the provider's retry applies the event later.
    """
    try:
        event = backend(uow).parse_webhook(payload, signature_header or "")
    except SignatureInvalid as error:
        metrics.count_payment_event("unknown", "rejected")  # nothing to roll back: counted at once
        raise WebhookRejected(message=f"Webhook signature rejected: {error.reason}.") from error
    except PaymentError as error:
        metrics.count_payment_event("unknown", "rejected")
        raise WebhookRejected(message=f"Webhook rejected: {error.message}") from error
    session = uow.session
    record = PaymentEventRecord(
        id=event.id, type=event.type, backend=backend(uow).name, received_at=uow.now(), payload=dict(event.object)
    )
    try:
        # The primary key makes this the one delivery that applies the event: a concurrent duplicate waits here
        # for the first delivery's transaction, then fails on the key and changes nothing.
        with session.begin_nested():
            session.add(record)
            session.flush()
    except IntegrityError:
        if session.get(PaymentEventRecord, event.id) is None:
            raise  # some other constraint failed: not a duplicate, let the provider retry
        _count_after_commit(uow, event, "duplicate")
        return EventHandled(outcome="duplicate: already applied", duplicate=True)
    outcome, order = _apply(uow, event)
    _count_after_commit(uow, event, "ignored" if outcome.startswith("ignored") else "applied")
    record.outcome = outcome[:200]
    record.order_id = order.id if order else None
    session.add(record)
    return EventHandled(outcome=outcome)


def _count_after_commit(uow: UnitOfWork, event: PaymentEvent, outcome: str) -> None:
    """Count the event in the metrics once its effect is committed (a known type by name, any other as `other`)."""
    known = event.type in {kind.value for kind in EventType}
    uow.after_commit(functools.partial(metrics.count_payment_event, event.type if known else "other", outcome))


def _apply(uow: UnitOfWork, event: PaymentEvent) -> tuple[str, Order | None]:
    try:
        kind = EventType(event.type)
    except ValueError:
        return f"ignored: {event.type} is not handled", None
    if kind.value.startswith("checkout.session."):
        from marketplace.custom import escrow

        facts = event.checkout_session()
        if escrow.is_contract_session(facts):
            # A custom-data contract's payment into escrow: the same verified, stored-once event; its own effect.
            return escrow.apply_checkout_event(uow, kind.value, facts), None
    if kind in (EventType.CHECKOUT_COMPLETED, EventType.CHECKOUT_ASYNC_SUCCEEDED):
        facts = event.checkout_session()
        try:
            order = fulfil_checkout(uow, facts.id, facts)
        except NotFound:
            return "ignored: no order for this session", None
        return f"order {order.status}", order
    if kind in (EventType.CHECKOUT_ASYNC_FAILED, EventType.CHECKOUT_EXPIRED):
        facts = event.checkout_session()
        pending = locked_order(uow.session, checkout_session_id=facts.id)
        if pending is None:
            return "ignored: no order for this session", None
        target = OrderStatus.FAILED if kind is EventType.CHECKOUT_ASYNC_FAILED else OrderStatus.EXPIRED
        moved = advance(pending, target, kind.value, uow.now())
        uow.session.add(pending)
        return (f"order {pending.status}" if moved else f"ignored: order already {pending.status}"), pending
    if kind is EventType.CHARGE_REFUNDED:
        return _on_refund(uow, event.object)
    if kind is EventType.DISPUTE_CREATED:
        return _on_dispute_opened(uow, event.object)
    if kind is EventType.DISPUTE_CLOSED:
        return _on_dispute_closed(uow, event.object)
    assert kind is EventType.ACCOUNT_UPDATED
    return _on_account_updated(uow, event), None


def _order_by_payment_intent(session: Session, obj: Any) -> Order | None:
    intent = obj.get("payment_intent")
    if isinstance(intent, dict):
        intent = intent.get("id")
    if not intent:
        return None
    return locked_order(session, payment_intent_id=intent)


def _grants_of(session: Session, order: Order) -> list[Grant]:
    ids = [ln.grant_id for ln in lines_of(session, order) if ln.grant_id]
    if not ids:
        return []
    return list(session.exec(select(Grant).where(col(Grant.id).in_(ids))).all())


def _change_grants(
    uow: UnitOfWork, order: Order, action: licensing.GrantAction, reason: str, from_statuses: set[GrantStatus]
) -> int:
    changed = 0
    for grant in _grants_of(uow.session, order):
        if grant.status in from_statuses:
            licenses.transition_grant(uow, grant, action, reason=reason, actor=f"order:{order.id}")
            changed += 1
    if changed:
        verb = _VERB[action]
        send_after_commit(
            uow,
            order.buyer_email,
            f"Your licenses from order {order.reference} were {verb}",
            f"{changed} license(s) from order {order.reference} were {verb}: {reason}.\n"
            f"Details: {uow.settings['BASE_URL']}/orders/{order.id}\n",
        )
    return changed


def apply_full_refund(uow: UnitOfWork, order: Order, reason: str, amount: int) -> str:
    order.refunded_amount = max(order.refunded_amount, amount)
    if RANK[order.status] < RANK[OrderStatus.PAID]:
        uow.session.add(order)
        return "ignored: order was not paid"
    moved = advance(order, OrderStatus.REFUNDED, reason, uow.now())
    for line in lines_of(uow.session, order):
        line.payout_status = PayoutStatus.REVERSED
        uow.session.add(line)
    uow.session.add(order)
    revoked = _change_grants(uow, order, licensing.GrantAction.REVOKE, reason, _HELD)
    if not moved:  # already refunded (the provider's refund, then the payment provider's event): told once
        return f"order refunded; {revoked} license(s) revoked"
    emit(
        uow,
        "order.refunded",
        {
            "order_id": order.id,
            "reference": order.reference,
            "refunded": order.refunded_amount,
            "currency": order.currency,
            "reason": reason,
            "license_ids": [ln.grant_id for ln in lines_of(uow.session, order) if ln.grant_id],
        },
        audience=[order.buyer_org_id],
    )
    return f"order refunded; {revoked} license(s) revoked"


def _on_refund(uow: UnitOfWork, charge: Any) -> tuple[str, Order | None]:
    order = _order_by_payment_intent(uow.session, charge)
    if order is None:
        return "ignored: no order for this charge", None
    refunded = int(charge.get("amount_refunded") or 0)
    if charge.get("refunded") or refunded >= order.total_amount:
        return apply_full_refund(uow, order, "payment refunded", refunded or order.total_amount), order
    order.refunded_amount = max(order.refunded_amount, refunded)
    uow.session.add(order)
    return f"partial refund of {refunded} recorded; licenses unchanged", order


def _on_dispute_opened(uow: UnitOfWork, dispute: Any) -> tuple[str, Order | None]:
    order = _order_by_payment_intent(uow.session, dispute)
    if order is None:
        return "ignored: no order for this dispute", None
    if order.status is not OrderStatus.PAID:
        return f"ignored: order is {order.status}", order
    advance(order, OrderStatus.DISPUTED, "payment disputed", uow.now())
    uow.session.add(order)
    n = _change_grants(uow, order, licensing.GrantAction.SUSPEND, "payment disputed", {GrantStatus.ACTIVE})
    return f"order disputed; {n} license(s) suspended", order


def _on_dispute_closed(uow: UnitOfWork, dispute: Any) -> tuple[str, Order | None]:
    order = _order_by_payment_intent(uow.session, dispute)
    if order is None:
        return "ignored: no order for this dispute", None
    if order.status is not OrderStatus.DISPUTED:
        return f"ignored: order is {order.status}", order
    if dispute.get("status") == "won":
        # The one move back: a dispute decided for the provider restores the paid state.
        order.status = OrderStatus.PAID
        order.status_reason = "dispute won"
        order.updated_at = uow.now()
        uow.session.add(order)
        n = _change_grants(uow, order, licensing.GrantAction.REINSTATE, "dispute closed in the provider's favour",
                           {GrantStatus.SUSPENDED})  # fmt: skip
        return f"dispute won; {n} license(s) reinstated", order
    advance(order, OrderStatus.REFUNDED, "dispute lost", uow.now())
    uow.session.add(order)
    n = _change_grants(uow, order, licensing.GrantAction.REVOKE, "dispute lost", _HELD)
    return f"dispute lost; {n} license(s) revoked", order


def _on_account_updated(uow: UnitOfWork, event: PaymentEvent) -> str:
    facts = event.connect_account()
    account = uow.session.exec(select(ProviderAccount).where(ProviderAccount.account_id == facts.id)).first()
    if account is None:
        return "ignored: unknown account"
    account.charges_enabled = facts.charges_enabled
    account.payouts_enabled = facts.payouts_enabled
    account.requirements_due = list(facts.requirements_due)
    account.updated_at = uow.now()
    uow.session.add(account)
    return f"account {facts.id}: charges {facts.charges_enabled}, payouts {facts.payouts_enabled}"
