"""Webhook endpoints, the deliveries owed to them (the outbox), and each attempt made (the delivery log)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from marketplace.db import utc_column, utcnow


class DeliveryStatus(enum.StrEnum):
    """Where a delivery stands: ``pending`` (due at ``next_attempt_at``), ``delivering`` (claimed by a worker until
    ``claimed_until``), ``delivered`` (a 2xx answer) or ``failed`` (out of attempts, or the endpoint is gone)."""

    PENDING = "pending"
    DELIVERING = "delivering"
    DELIVERED = "delivered"
    FAILED = "failed"


def _json_list() -> Any:
    return sa.Column(sa.JSON(), nullable=False, default=list)


class WebhookEndpoint(SQLModel, table=True):
    """An organisation's HTTPS endpoint subscribed to some event types.

    The signing secret is kept encrypted (the ``ENCRYPTION_KEYS`` ring, :mod:`marketplace.crypto`), never in the
    clear: it must be readable to sign. During a rotation the previous secret stays valid until
    ``previous_secret_expires_at``.
    """

    __tablename__ = "webhook_endpoint"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    url: str = Field(max_length=2048)
    description: str = Field(default="", max_length=500)
    events: list[str] = Field(default_factory=list, sa_column=_json_list())
    active: bool = Field(default=True)
    secret_ciphertext: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    previous_secret_ciphertext: str | None = Field(default=None, sa_column=sa.Column(sa.Text(), nullable=True))
    previous_secret_expires_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())

    def subscribes_to(self, event_type: str) -> bool:
        return event_type in (self.events or [])


class WebhookDelivery(SQLModel, table=True):
    """One event owed to one endpoint: the exact body to send, and its progress.

    ``payload`` is the JSON body, fixed when the event happened, so every attempt sends the same bytes (only the
    signature's timestamp changes). A manual redelivery is a new row with the same ``event_id``.
    """

    __tablename__ = "webhook_delivery"
    __table_args__ = (sa.Index("ix_webhook_delivery_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    endpoint_id: int = Field(foreign_key="webhook_endpoint.id", index=True, ondelete="CASCADE")
    event_id: str = Field(max_length=40, index=True)
    event_type: str = Field(max_length=64)
    payload: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    status: str = Field(default=DeliveryStatus.PENDING.value, max_length=16)
    attempts: int = Field(default=0)
    next_attempt_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    claimed_until: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    last_status_code: int | None = Field(default=None)
    last_error: str = Field(default="", max_length=500)
    redelivery_of_id: int | None = Field(default=None, foreign_key="webhook_delivery.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    delivered_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class WebhookAttempt(SQLModel, table=True):
    """One HTTP attempt of a delivery, for the endpoint's delivery log."""

    __tablename__ = "webhook_attempt"

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(foreign_key="webhook_delivery.id", index=True, ondelete="CASCADE")
    number: int
    started_at: datetime = Field(sa_column=utc_column())
    duration_ms: int = Field(default=0)
    status_code: int | None = Field(default=None)
    response_snippet: str = Field(default="", max_length=1000)
    error: str = Field(default="", max_length=500)
