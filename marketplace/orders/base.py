"""What every part of the orders service shares: its errors, the payment backend, and the order row's locking and
forward-only status moves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

import licensing
from marketplace.db import UnitOfWork
from marketplace.errors import Conflict, DomainError, ServiceUnavailable
from marketplace.orders.errors import OrderErrorCode
from marketplace.orders.models import (
    RANK,
    Order,
    OrderLine,
    OrderStatus,
    ProviderAccount,
)
from marketplace.orders.payments import (
    PaymentBackend,
    PaymentError,
    PaymentProviderUnavailable,
)


@dataclass
class PaymentUnavailable(ServiceUnavailable):
    """The payment provider cannot be reached now; the request may be retried."""

    message: str = "The payment provider is not reachable right now. Please try again in a minute."
    code: str = OrderErrorCode.PAYMENT_UNAVAILABLE


@dataclass
class WebhookRejected(DomainError):
    """A webhook that failed verification: nothing was read from it, nothing changed."""

    code: str = OrderErrorCode.WEBHOOK_REJECTED


def backend(uow: UnitOfWork) -> PaymentBackend:
    payments = uow.context.payments
    if payments is None:
        raise RuntimeError("no payment backend configured")
    return payments


def format_money(amount: int, currency: str) -> str:
    return licensing.Money(amount, currency).format()


def payment_failure(error: PaymentError) -> DomainError:
    if isinstance(error, PaymentProviderUnavailable):
        return PaymentUnavailable()
    return Conflict(message=f"The payment provider refused: {error.message}", code=OrderErrorCode.PAYMENT_REFUSED)


def provider_account(session: Session, org_id: int) -> ProviderAccount | None:
    return session.exec(select(ProviderAccount).where(ProviderAccount.organisation_id == org_id)).first()


def lines_of(session: Session, order: Order) -> list[OrderLine]:
    return list(session.exec(select(OrderLine).where(OrderLine.order_id == order.id).order_by(col(OrderLine.id))).all())


def locked_order(session: Session, **where: Any) -> Order | None:
    statement = select(Order).with_for_update()
    for name, value in where.items():
        statement = statement.where(getattr(Order, name) == value)
    return session.exec(statement).first()


def advance(order: Order, status: OrderStatus, reason: str, now: datetime) -> bool:
    """Move ``order`` to ``status`` unless that would go backwards; say whether it moved."""
    if RANK[status] <= RANK[order.status]:
        return False
    order.status = status
    order.status_reason = reason
    order.updated_at = now
    return True
