"""The job table (the outbox every background job goes through) and the periodic schedules.

A job row is written in the same transaction as the change that calls for it, so a rolled-back change leaves no
job and a committed one always has its job: the broker only ever carries the row's id. The row is the truth about
the job (its state, attempts and last error); the broker is a fast way to wake a worker, and anything it loses
(a Redis restart, a crash between commit and publish) is published again from the table by the scheduler.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from marketplace.db import enum_column, utc_column, utcnow


class JobKind(enum.StrEnum):
    """Every kind of background job; each has exactly one handler in :mod:`marketplace.jobs.handlers`."""

    SEND_MAIL = "send_mail"
    CATALOG_IMPORT = "catalog_import"
    WEBHOOK_DELIVERY = "webhook_delivery"
    GRANT_EXPIRY = "grant_expiry"
    ACCESS_SWEEP = "access_sweep"
    ACCESS_DIGEST = "access_digest"
    CUSTOM_SWEEP = "custom_sweep"
    PAYMENTS_RECONCILE = "payments_reconcile"
    PURGE_EXPIRED = "purge_expired"
    VERIFY_UPLOAD = "verify_upload"
    WITHDRAWAL_SWEEP = "withdrawal_sweep"
    BUCKET_EXPORT = "bucket_export"
    VIEWER_STATS = "viewer_stats"
    PARQUET_CONVERSION = "parquet_conversion"


class JobState(enum.StrEnum):
    """Where a job is in its life: see :mod:`marketplace.jobs.states` for the moves between them."""

    PENDING = "pending"  # written, waiting for a worker (or for its ``run_after``)
    RUNNING = "running"  # claimed by a worker until ``claimed_until``
    RETRYING = "retrying"  # its last attempt failed; it runs again at ``run_after``
    SUCCEEDED = "succeeded"
    DEAD = "dead"  # every attempt failed: waits for an administrator (the dead-letter view)


class BackgroundJob(SQLModel, table=True):
    """One job: what to do (``kind`` and ``payload``), when, and what happened."""

    __tablename__ = "background_job"
    __table_args__ = (sa.Index("ix_background_job_state_run_after", "state", "run_after"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: JobKind = Field(sa_column=enum_column(JobKind, index=True))
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(sa.JSON(), nullable=False))
    state: JobState = Field(default=JobState.PENDING, sa_column=enum_column(JobState))
    attempts: int = Field(default=0)
    max_attempts: int = Field(default=5)
    # At most one job per key (e.g. one run of a periodic sweep per slot); ``None`` for most jobs.
    dedupe_key: str | None = Field(default=None, max_length=200, sa_column_kwargs={"unique": True})
    run_after: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    published_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    claimed_until: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    last_error: str = Field(default="", max_length=4000)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    started_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    finished_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class JobSchedule(SQLModel, table=True):
    """When a periodic job is next due; claimed with a conditional UPDATE, so one scheduler enqueues each run."""

    __tablename__ = "job_schedule"

    kind: JobKind = Field(sa_column=enum_column(JobKind, name="schedule_kind", primary_key=True))
    next_run_at: datetime = Field(sa_column=utc_column())
