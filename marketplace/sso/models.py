"""An organisation's OpenID Connect provider, and the e-mail domains it signs people in for."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from marketplace.db import utc_column, utcnow


class SsoConnection(SQLModel, table=True):
    """One organisation's OpenID provider. The client secret is kept encrypted (it must be sent to the provider).

    ``revision`` changes whenever the settings do, so the cached Authlib client of the old settings is not reused.
    """

    __tablename__ = "sso_connection"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(
        foreign_key="organisation.id", ondelete="CASCADE", sa_column_kwargs={"unique": True}, nullable=False
    )
    issuer: str = Field(max_length=512)
    client_id: str = Field(max_length=255)
    client_secret_ciphertext: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    enabled: bool = Field(default=True)
    revision: int = Field(default=1)
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class SsoDomain(SQLModel, table=True):
    """An e-mail domain (lower-case) whose people sign in through one connection; a domain has one connection."""

    __tablename__ = "sso_domain"

    id: int | None = Field(default=None, primary_key=True)
    connection_id: int = Field(foreign_key="sso_connection.id", index=True, ondelete="CASCADE")
    domain: str = Field(max_length=253, sa_column_kwargs={"unique": True}, nullable=False)
    claimed_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
