"""Tables of a contract's money and deliveries: the buyer's payments into escrow and each delivered version.

A :class:`ContractPayment` is one checkout the buyer pays: the whole price (payment plan ``upfront``) or one
milestone (``per_milestone``). The platform is charged and holds the money; it reaches the provider only by
transfers made when a milestone is accepted (:mod:`marketplace.custom.settlement`). A
:class:`MilestoneDelivery` is one delivery of a milestone (the first one, then each redelivery): the immutable
version of the contract's private dataset that was delivered, and the time-boxed review grant the buyer reviewed it
under.
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from marketplace.db import enum_column, utc_column, utcnow


class PaymentState(enum.StrEnum):
    """A contract payment: ``pending`` until the payment provider says ``paid``, ``failed`` or ``expired``."""

    PENDING = "pending"
    PAID = "paid"
    FAILED = "failed"
    EXPIRED = "expired"


class ContractPayment(SQLModel, table=True):
    """One checkout of a contract: the whole price (``milestone_id`` None) or one milestone's amount.

    ``refunded_amount`` grows with each partial refund (a cancelled milestone, a rejection settled as a refund).
    """

    __tablename__ = "custom_contract_payment"
    __table_args__ = (sa.CheckConstraint("amount > 0", name="amount_positive"),)

    id: int | None = Field(default=None, primary_key=True)
    contract_id: int = Field(foreign_key="custom_contract.id", index=True, ondelete="CASCADE")
    milestone_id: int | None = Field(default=None, foreign_key="custom_milestone.id", index=True)
    amount: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False))
    currency: str = Field(max_length=3)
    state: PaymentState = Field(default=PaymentState.PENDING, sa_column=enum_column(PaymentState))
    backend: str = Field(max_length=20)
    attempt: int = Field(default=1)
    checkout_session_id: str | None = Field(default=None, max_length=255, sa_column_kwargs={"unique": True})
    checkout_url: str | None = Field(default=None, sa_column=sa.Column(sa.Text(), nullable=True))
    payment_intent_id: str | None = Field(default=None, max_length=255, index=True)
    charge_id: str | None = Field(default=None, max_length=255)
    refunded_amount: int = Field(default=0, sa_column=sa.Column(sa.BigInteger(), nullable=False, default=0))
    paid_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    paid_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class MilestoneDelivery(SQLModel, table=True):
    """One delivery of a milestone (``attempt`` 0 is the first, 1 the first redelivery …), never changed but for
    its review grant's end."""

    __tablename__ = "custom_milestone_delivery"
    __table_args__ = (sa.UniqueConstraint("milestone_id", "attempt"),)

    id: int | None = Field(default=None, primary_key=True)
    milestone_id: int = Field(foreign_key="custom_milestone.id", index=True, ondelete="CASCADE")
    attempt: int
    version_id: int = Field(foreign_key="dataset_version.id")
    manifest_digest: str = Field(max_length=80)
    review_grant_id: str | None = Field(default=None, foreign_key="license_grant.id", max_length=26)
    delivered_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    delivered_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    review_deadline: datetime = Field(sa_column=utc_column())
