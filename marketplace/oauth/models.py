"""OAuth clients (an organisation's service accounts) and the short-lived access tokens issued to them.

Authlib's stock mixins keep client secrets and tokens in the clear; these rows keep only HMAC-SHA256 digests
(peppered from ``API_KEY_PEPPERS``, each row naming its pepper), so a copy of the database lets nobody call the API.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from marketplace.db import utc_column, utcnow


class OAuthClient(SQLModel, table=True):
    """A service account of one organisation: ``client_id`` is public, the secret is shown once and kept hashed."""

    __tablename__ = "oauth_client"

    id: int | None = Field(default=None, primary_key=True)
    client_id: str = Field(max_length=64, sa_column_kwargs={"unique": True}, nullable=False)
    secret_hash: str = Field(max_length=64)
    # The id of the pepper in API_KEY_PEPPERS the hash was made with (``legacy``: derived from SECRET_KEY).
    pepper_id: str = Field(default="legacy", max_length=32, sa_column_kwargs={"server_default": "legacy"})
    secret_last4: str = Field(max_length=4)
    name: str = Field(max_length=120)
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    environment: str = Field(default="live", max_length=8)
    scopes: str = Field(default="", max_length=255)
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    revoked_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    last_used_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    last_used_ip: str = Field(default="", max_length=64)

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()


class OAuthToken(SQLModel, table=True):
    """A bearer access token issued by the client-credentials grant; only its digest is stored."""

    __tablename__ = "oauth_token"

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="oauth_client.id", index=True, ondelete="CASCADE")
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True}, nullable=False)
    # The id of the pepper in API_KEY_PEPPERS the hash was made with (``legacy``: derived from SECRET_KEY).
    pepper_id: str = Field(default="legacy", max_length=32, sa_column_kwargs={"server_default": "legacy"})
    scopes: str = Field(default="", max_length=255)
    issued_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    expires_at: datetime = Field(sa_column=utc_column(index=True))
    revoked_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()
