"""API keys, the responses kept for ``Idempotency-Key`` replays, and background jobs started through the API.

A key is stored only as ``HMAC-SHA256(pepper, key)`` with the id of its pepper (``API_KEY_PEPPERS``), never in the
clear; what the owner sees later is its non-secret prefix and last four characters.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from marketplace.db import utc_column, utcnow


class ApiKey(SQLModel, table=True):
    """A bearer key acting as one user (``user_id``) or for one organisation (``organisation_id``), never both.

    ``scopes`` is a space-separated list (the OAuth convention); ``environment`` is ``live`` or ``test`` and is
    also spelled in the key's prefix (``mkp_live_`` / ``mkp_test_``).
    """

    __tablename__ = "api_key"
    __table_args__ = (sa.CheckConstraint("(user_id IS NULL) <> (organisation_id IS NULL)", name="one_owner"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    environment: str = Field(default="live", max_length=8)
    key_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True}, nullable=False)
    # The id of the pepper in API_KEY_PEPPERS the hash was made with (``legacy``: derived from SECRET_KEY).
    pepper_id: str = Field(default="legacy", max_length=32, sa_column_kwargs={"server_default": "legacy"})
    # The first characters of the key (``mkp_live_AbCd``) and its last four: enough to recognise, useless to use.
    key_prefix: str = Field(max_length=24)
    key_last4: str = Field(max_length=4)
    user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True, ondelete="CASCADE")
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id", index=True, ondelete="CASCADE")
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    scopes: str = Field(default="", max_length=255)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    expires_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    revoked_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    last_used_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    last_used_ip: str = Field(default="", max_length=64)

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()


class IdempotencyRecord(SQLModel, table=True):
    """The first successful response to a POST carrying an ``Idempotency-Key``, kept for replays (24 hours).

    ``(principal, key)`` is unique: two concurrent requests with the same key cannot both insert a row, which is
    what makes a concurrent duplicate safe (no check-then-insert). ``request_hash`` fingerprints method, path and
    body, so the same key with another request is refused.
    """

    __tablename__ = "idempotency_record"
    __table_args__ = (sa.UniqueConstraint("principal", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    # ``key:<api key id>`` or ``client:<oauth client id>``: keys are scoped per caller.
    principal: str = Field(max_length=64)
    key: str = Field(max_length=255)
    request_hash: str = Field(max_length=64)
    status_code: int | None = Field(default=None)
    response_body: str | None = Field(default=None, sa_column=sa.Column(sa.Text(), nullable=True))
    response_headers: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(sa.JSON(), nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    expires_at: datetime = Field(sa_column=utc_column(index=True))


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class ApiJob(SQLModel, table=True):
    """A long task started through the API (a catalog import), run after the request's commit.

    The row is the job's status resource: queued → running → succeeded | failed, with the result or the error.
    """

    __tablename__ = "api_job"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)
    status: JobStatus = Field(
        default=JobStatus.QUEUED,
        sa_column=sa.Column(
            sa.Enum(JobStatus, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]),
            nullable=False,
            index=True,
        ),
    )
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    # The API key or OAuth client that started it (no foreign key: keys may be deleted, the record stays).
    api_key_id: int | None = Field(default=None)
    oauth_client_id: int | None = Field(default=None)
    input: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(sa.JSON(), nullable=False))
    result: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(sa.JSON(), nullable=True))
    error: str = Field(default="", max_length=2000)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    started_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    finished_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
