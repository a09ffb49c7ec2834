"""Refunds asked for on the marketplace, and reconciling orders whose payment events never came."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, col, select

from marketplace.accounts.models import User
from marketplace.db import UnitOfWork
from marketplace.errors import Conflict, PermissionDenied, ValidationFailed
from marketplace.orders.base import advance, backend, lines_of, locked_order, payment_failure
from marketplace.orders.errors import OrderErrorCode
from marketplace.orders.events import apply_full_refund
from marketplace.orders.fulfilment import fulfil_checkout
from marketplace.orders.models import (
    Order,
    OrderStatus,
)
from marketplace.orders.payments import (
    ChargeKind,
    PaymentError,
)
from marketplace.permissions import Action, can

# --- refunds, reconcile -----------------------------------------------------------------------------------------------


def may_refund(session: Session, user: User | None, order: Order) -> bool:
    """Platform admins may refund any order; a provider's admins may refund orders only of their datasets."""
    return can(session, user, Action.ORDER_REFUND, order)


def refund_order(uow: UnitOfWork, actor: User, order: Order, *, reason: str) -> Order:
    """Refund a paid order in full: reverse the provider's transfer and the platform fee as the charge allows,
    revoke its licenses (their links stop working) and tell the licensee."""
    session = uow.session
    if not can(session, actor, Action.ORDER_REFUND, order):
        raise PermissionDenied(message="You cannot refund this order.")
    locked = locked_order(session, id=order.id)
    assert locked is not None
    order = locked
    if not order.is_refundable:
        raise Conflict(message=f"Order {order.reference} is {order.status}; only paid orders are refunded.",
                       code=OrderErrorCode.NOT_REFUNDABLE)  # fmt: skip
    if not reason.strip():
        raise ValidationFailed.for_field("reason", "say why the order is refunded")
    if not order.payment_intent_id:
        raise Conflict(message="This order has no payment to refund.", code=OrderErrorCode.NOT_REFUNDABLE)
    pay = backend(uow)
    destination = order.settlement is ChargeKind.DESTINATION
    try:
        pay.refund(
            order.payment_intent_id,
            reverse_transfer=destination,
            refund_application_fee=destination,
            idempotency_key=f"refund:{order.id}",
            reason="requested_by_customer",
        )
        for line in lines_of(session, order):
            if line.transfer_id:
                pay.reverse_transfer(line.transfer_id, idempotency_key=f"reversal:{line.id}")
    except PaymentError as error:
        raise payment_failure(error) from error
    apply_full_refund(uow, order, f"refunded by {actor.email}: {reason.strip()}", order.total_amount)
    return order


def reconcile(uow: UnitOfWork, *, older_than: timedelta = timedelta(minutes=5)) -> list[str]:
    """Ask the provider about orders still waiting for payment, for webhooks that never came."""
    session = uow.session
    cutoff = uow.now() - older_than
    pending = session.exec(
        select(Order).where(
            col(Order.status).in_([OrderStatus.PENDING_PAYMENT, OrderStatus.PROCESSING]),
            col(Order.checkout_session_id).is_not(None),
            col(Order.created_at) <= cutoff,
        )
    ).all()
    report = []
    for order in pending:
        assert order.checkout_session_id is not None
        try:
            facts = backend(uow).retrieve_checkout(order.checkout_session_id)
        except PaymentError as error:
            report.append(f"{order.reference}: provider unavailable ({error.message})")
            continue
        if facts.is_paid:
            fulfil_checkout(uow, order.checkout_session_id, facts)
            report.append(f"{order.reference}: paid, fulfilled")
        elif facts.status == "expired":
            advance(order, OrderStatus.EXPIRED, "checkout expired (reconciled)", uow.now())
            session.add(order)
            report.append(f"{order.reference}: expired")
        else:
            report.append(f"{order.reference}: still {facts.status}/{facts.payment_status}")
    return report
