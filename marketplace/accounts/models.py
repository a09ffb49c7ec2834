"""Users, organisations, memberships, invitations, one-time tokens and failed log-ins."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from marketplace.db import utc_column, utcnow


class OrgKind(enum.StrEnum):
    """What an organisation does on the marketplace."""

    PROVIDER = "provider"
    BUYER = "buyer"


class Role(enum.StrEnum):
    """A member's role in an organisation; owners can do everything admins can, and manage owners."""

    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"

    @property
    def rank(self) -> int:
        return {Role.OWNER: 3, Role.ADMIN: 2, Role.MEMBER: 1}[self]


class TokenPurpose(enum.StrEnum):
    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"  # noqa: S105 - a purpose name, not a password
    CHANGE_EMAIL = "change_email"
    INVITATION = "invitation"


def _enum_column(enum_cls: type[enum.StrEnum], *, nullable: bool = False, index: bool = False) -> Any:
    # Stored as text with a CHECK constraint: portable across SQLite and PostgreSQL, readable in SQL.
    return sa.Column(
        sa.Enum(enum_cls, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e]),
        nullable=nullable,
        index=index,
    )


class User(SQLModel, table=True):
    """A person with a log-in. The e-mail is stored lower-cased; the password only as an argon2 hash."""

    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, sa_column_kwargs={"unique": True}, nullable=False)
    display_name: str = Field(default="", max_length=120)
    password_hash: str = Field(max_length=255)
    email_verified_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    is_platform_admin: bool = Field(default=False)
    # Bumped when the password changes, which ends every other session of this user.
    session_version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    last_login_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))

    @property
    def is_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def label(self) -> str:
        return self.display_name or self.email


class Organisation(SQLModel, table=True):
    """A provider or buyer organisation; members act on its behalf according to their role."""

    __tablename__ = "organisation"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=64, sa_column_kwargs={"unique": True}, nullable=False)
    name: str = Field(max_length=120)
    kind: OrgKind = Field(sa_column=_enum_column(OrgKind))
    description: str = Field(default="", max_length=2000)
    website: str = Field(default="", max_length=255)
    # Printed on invoices and credit notes when given: the legal name, postal address and tax (e.g. VAT) id.
    billing_name: str = Field(default="", max_length=200)
    billing_address: str = Field(default="", max_length=1000)
    tax_id: str = Field(default="", max_length=64)
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class Membership(SQLModel, table=True):
    """A user's membership of an organisation with one role."""

    __tablename__ = "membership"
    __table_args__ = (sa.UniqueConstraint("organisation_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    role: Role = Field(sa_column=_enum_column(Role))
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class Invitation(SQLModel, table=True):
    """An invitation for an e-mail address to join an organisation; accepted once, through a token link."""

    __tablename__ = "invitation"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    email: str = Field(max_length=254, index=True)
    role: Role = Field(sa_column=_enum_column(Role))
    invited_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    expires_at: datetime = Field(sa_column=utc_column())
    accepted_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    accepted_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    revoked_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))

    def is_pending(self, now: datetime) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > now


class ActionToken(SQLModel, table=True):
    """The server-side half of an e-mailed link: makes it single-use and expiring.

    The link carries a signed token naming this row; the row is marked used in the same transaction as the
    action, with a conditional UPDATE, so two clicks at once cannot both succeed.
    """

    __tablename__ = "action_token"

    id: str = Field(primary_key=True, max_length=43)
    purpose: TokenPurpose = Field(sa_column=_enum_column(TokenPurpose))
    user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True, ondelete="CASCADE")
    subject: str = Field(default="", max_length=254)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    expires_at: datetime = Field(sa_column=utc_column())
    used_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class LoginFailure(SQLModel, table=True):
    """One failed log-in, kept for the throttling window (by account and by address)."""

    __tablename__ = "login_failure"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, index=True)
    ip_address: str = Field(max_length=64, index=True)
    at: datetime = Field(default_factory=utcnow, sa_column=utc_column(index=True))
