"""A withdrawal of files or records from a published version, and one notice per licensee organisation.

The withdrawn version itself never changes (a published version is immutable): it stops serving downloads because
a :class:`Withdrawal` names it (see :mod:`marketplace.withdrawals.lookup`, which delivery asks), and the patched
version is an ordinary version of the listing, published through the catalog.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from marketplace.db import enum_column, utc_column, utcnow
from marketplace.withdrawals.states import NoticeState, WithdrawalReason, WithdrawalState


class Withdrawal(SQLModel, table=True):
    """Files (by path) and/or records (by id) taken out of one published version, for a reason, with the time
    licensees are given to delete them. ``organisation_id`` is the provider's (who may see and act on it)."""

    __tablename__ = "withdrawal"

    id: int | None = Field(default=None, primary_key=True)
    dataset_id: int = Field(foreign_key="dataset.id", index=True, ondelete="CASCADE")
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    # One withdrawal per version: a second problem with the same version is withdrawn from its patched version.
    version_id: int = Field(foreign_key="dataset_version.id", sa_column_kwargs={"unique": True})
    version_label: str = Field(max_length=64)
    patched_version_id: int | None = Field(default=None, foreign_key="dataset_version.id", ondelete="SET NULL")
    reason: WithdrawalReason = Field(sa_column=enum_column(WithdrawalReason))
    details: str = Field(default="", sa_column=sa.Column(sa.Text(), nullable=False, default=""))
    # Paths of the withdrawn version's manifest, and record ids (the provider's own identifiers), withdrawn.
    files: list[str] = Field(default_factory=list, sa_column=sa.Column(sa.JSON(), nullable=False))
    record_ids: list[str] = Field(default_factory=list, sa_column=sa.Column(sa.JSON(), nullable=False))
    deletion_days: int = Field(default=30)
    state: WithdrawalState = Field(default=WithdrawalState.FILED, sa_column=enum_column(WithdrawalState, index=True))
    filed_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    filed_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    patch_published_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    notified_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    deadline_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class WithdrawalNotice(SQLModel, table=True):
    """What one licensee organisation was told, and where it stands: told, confirmed (signed by a named member),
    or overdue. ``grant_ids`` are its licenses that cover the withdrawn version."""

    __tablename__ = "withdrawal_notice"
    __table_args__ = (sa.UniqueConstraint("withdrawal_id", "licensee_org_id"),)

    id: int | None = Field(default=None, primary_key=True)
    withdrawal_id: int = Field(foreign_key="withdrawal.id", index=True, ondelete="CASCADE")
    licensee_org_id: int = Field(foreign_key="organisation.id", index=True)
    # The provider's organisation (the withdrawal's), so the permission table needs no join to answer for it.
    provider_org_id: int = Field(foreign_key="organisation.id", index=True)
    grant_ids: list[str] = Field(default_factory=list, sa_column=sa.Column(sa.JSON(), nullable=False))
    state: NoticeState = Field(default=NoticeState.NOTIFIED, sa_column=enum_column(NoticeState, index=True))
    notified_at: datetime = Field(sa_column=utc_column())
    deadline_at: datetime = Field(sa_column=utc_column(index=True))
    reminders_sent: int = Field(default=0)
    last_reminder_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    overdue_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    confirmed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    confirmed_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    signer_name: str = Field(default="", max_length=200)
    signer_role: str = Field(default="", max_length=200)
    statement: str = Field(default="", sa_column=sa.Column(sa.Text(), nullable=False, default=""))
    deleted_on: date | None = Field(default=None)
