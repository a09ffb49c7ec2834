"""Carts, orders and their lines, payment events received, and providers' payout accounts.

Money is integer minor units with an ISO 4217 currency; one order has one currency (a Checkout Session can
only charge one), so a cart with several currencies is checked out once per currency.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from marketplace.db import enum_column, utc_column, utcnow
from marketplace.orders.payments.base import ChargeKind


class OrderStatus(enum.StrEnum):
    """Where an order stands. Payment events may only move it forward (see ``RANK``)."""

    PENDING_PAYMENT = "pending_payment"
    PROCESSING = "processing"  # paid with a delayed method; waiting for the money
    PAID = "paid"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    DISPUTED = "disputed"


class PayoutStatus(enum.StrEnum):
    """Where a line's money stands on its way to the provider."""

    PENDING = "pending"  # not paid yet, or paid by separate transfers not yet made
    HELD = "held"  # the platform sold its own data: nothing to transfer
    TRANSFERRED = "transferred"  # the provider has its share (destination charge, or a transfer made)
    TRANSFER_FAILED = "transfer_failed"  # reconcile retries it
    REVERSED = "reversed"  # refunded: the provider's share was pulled back


#: How far along each status is; an event that would move an order backwards is ignored.
RANK: dict[OrderStatus, int] = {
    OrderStatus.PENDING_PAYMENT: 0,
    OrderStatus.PROCESSING: 1,
    OrderStatus.FAILED: 2,
    OrderStatus.EXPIRED: 2,
    OrderStatus.CANCELLED: 2,
    OrderStatus.PAID: 3,
    OrderStatus.DISPUTED: 4,
    OrderStatus.REFUNDED: 5,
}


#: Statuses from which the buyer may start a new checkout.
PAYABLE = frozenset({OrderStatus.PENDING_PAYMENT, OrderStatus.EXPIRED, OrderStatus.FAILED, OrderStatus.CANCELLED})
#: Statuses in which an order may be refunded (a disputed payment too: refunding settles the dispute).
REFUNDABLE = frozenset({OrderStatus.PAID, OrderStatus.DISPUTED})


class CartItem(SQLModel, table=True):
    """An offer a user means to buy for one of their buyer organisations."""

    __tablename__ = "cart_item"
    __table_args__ = (sa.UniqueConstraint("user_id", "offer_id", "licensee_org_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    offer_id: int = Field(foreign_key="offer.id", ondelete="CASCADE")
    licensee_org_id: int = Field(foreign_key="organisation.id", ondelete="CASCADE")
    added_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class Order(SQLModel, table=True):
    """One checkout: lines in one currency, paid once, fulfilled once."""

    __tablename__ = "customer_order"

    id: int | None = Field(default=None, primary_key=True)
    buyer_org_id: int = Field(foreign_key="organisation.id", index=True)
    buyer_user_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    buyer_email: str = Field(max_length=254)
    status: OrderStatus = Field(default=OrderStatus.PENDING_PAYMENT, sa_column=enum_column(OrderStatus, index=True))
    currency: str = Field(max_length=3)
    total_amount: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False))
    platform_fee_amount: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False))
    refunded_amount: int = Field(default=0, sa_column=sa.Column(sa.BigInteger(), nullable=False, default=0))
    payment_backend: str = Field(max_length=20)
    # How the charge reaches the providers; None until a checkout session was created.
    settlement: ChargeKind | None = Field(default=None, sa_column=enum_column(ChargeKind, nullable=True))
    checkout_session_id: str | None = Field(default=None, max_length=255, sa_column_kwargs={"unique": True})
    checkout_url: str | None = Field(default=None, sa_column=sa.Column(sa.Text(), nullable=True))
    checkout_attempt: int = Field(default=0)
    payment_intent_id: str | None = Field(default=None, max_length=255, index=True)
    charge_id: str | None = Field(default=None, max_length=255)
    status_reason: str = Field(default="", max_length=1000)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(index=True))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    paid_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True, index=True))

    @property
    def reference(self) -> str:
        return f"ORD-{self.id:06d}" if self.id is not None else "ORD-?"

    @property
    def is_paid(self) -> bool:
        return self.status is OrderStatus.PAID

    @property
    def is_awaiting_payment(self) -> bool:
        """The buyer has not paid yet, or paid with a delayed method whose money has not arrived."""
        return self.status in (OrderStatus.PENDING_PAYMENT, OrderStatus.PROCESSING)

    @property
    def is_processing(self) -> bool:
        return self.status is OrderStatus.PROCESSING

    @property
    def is_payable(self) -> bool:
        """A new checkout may be started: nothing was paid and the last checkout (if any) is over."""
        return self.status in PAYABLE

    @property
    def is_refundable(self) -> bool:
        return self.status in REFUNDABLE


class OrderLine(SQLModel, table=True):
    """One offer in an order, for the price and terms the buyer accepted; at most one grant each."""

    __tablename__ = "order_line"
    __table_args__ = (sa.UniqueConstraint("order_id", "offer_id"),)

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="customer_order.id", index=True, ondelete="CASCADE")
    offer_id: int = Field(foreign_key="offer.id")
    dataset_id: int = Field(foreign_key="dataset.id", index=True)
    provider_org_id: int = Field(foreign_key="organisation.id", index=True)
    description: str = Field(max_length=300)
    amount: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False))
    currency: str = Field(max_length=3)
    platform_fee_amount: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False))
    terms_hash: str = Field(max_length=64)
    provider_account_id: str | None = Field(default=None, max_length=255)
    transfer_id: str | None = Field(default=None, max_length=255)
    payout_status: PayoutStatus = Field(default=PayoutStatus.PENDING, sa_column=enum_column(PayoutStatus))
    # Unique: a line yields one grant, however many times fulfilment is attempted.
    grant_id: str | None = Field(
        default=None, foreign_key="license_grant.id", max_length=26, sa_column_kwargs={"unique": True}
    )

    @property
    def net_amount(self) -> int:
        return self.amount - self.platform_fee_amount


class PaymentEventRecord(SQLModel, table=True):
    """A payment provider's event, stored by its id: inserting it is what makes applying it happen once."""

    __tablename__ = "payment_event"

    id: str = Field(primary_key=True, max_length=255)
    type: str = Field(max_length=100, index=True)
    backend: str = Field(max_length=20)
    received_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    outcome: str = Field(default="", max_length=200)
    order_id: int | None = Field(default=None, foreign_key="customer_order.id", index=True)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(sa.JSON(), nullable=False))


class ProviderAccount(SQLModel, table=True):
    """A provider organisation's connected payout account (Stripe Connect Express, or a sandbox one)."""

    __tablename__ = "provider_account"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", sa_column_kwargs={"unique": True})
    account_id: str = Field(max_length=255, sa_column_kwargs={"unique": True})
    backend: str = Field(max_length=20)
    charges_enabled: bool = Field(default=False)
    payouts_enabled: bool = Field(default=False)
    requirements_due: list[str] = Field(default_factory=list, sa_column=sa.Column(sa.JSON(), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
