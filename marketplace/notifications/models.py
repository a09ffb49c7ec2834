"""Notification rows, each person's preferences per kind, and the record of notices that must go only once."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from marketplace.db import enum_column, utc_column, utcnow
from marketplace.notifications.kinds import NotificationKind


class Notification(SQLModel, table=True):
    """One notice in the site for one person; unread while ``read_at`` is empty."""

    __tablename__ = "notification"
    # The bell's count (unread of one person) and the page (one person's, newest first) read this index only.
    __table_args__ = (sa.Index("ix_notification_recipient_read", "recipient_id", "read_at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    recipient_id: int = Field(foreign_key="user_account.id", ondelete="CASCADE")
    kind: NotificationKind = Field(sa_column=enum_column(NotificationKind))
    title: str = Field(max_length=300)
    body: str = Field(default="", sa_column=sa.Column(sa.Text(), nullable=False, default=""))
    link: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    read_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class NotificationPreference(SQLModel, table=True):
    """A person's choice for one kind; without a row the kind's defaults apply."""

    __tablename__ = "notification_preference"
    __table_args__ = (sa.UniqueConstraint("user_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    kind: NotificationKind = Field(sa_column=enum_column(NotificationKind))
    in_site: bool = Field(default=True)
    by_mail: bool = Field(default=True)


class NotificationOnce(SQLModel, table=True):
    """A notice that must be given once only (e.g. "license ends in 14 days"), by its key, whoever it reached."""

    __tablename__ = "notification_once"

    key: str = Field(primary_key=True, max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
