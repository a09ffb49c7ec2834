"""jobs: the background job table (the outbox every job goes through) and the periodic schedules

Revision ID: 0015_jobs
Revises: 0014_access_digest
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision: str = "0015_jobs"
down_revision: str | None = "0014_access_digest"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "background_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "send_mail",
                "catalog_import",
                "webhook_delivery",
                "grant_expiry",
                "access_sweep",
                "access_digest",
                "custom_sweep",
                "payments_reconcile",
                "purge_expired",
                "verify_upload",
                name="jobkind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "pending",
                "running",
                "retrying",
                "succeeded",
                "dead",
                name="jobstate",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=True),
        sa.Column("run_after", marketplace.db.UTCDateTime(), nullable=False),
        sa.Column("published_at", marketplace.db.UTCDateTime(), nullable=True),
        sa.Column("claimed_until", marketplace.db.UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=4000), nullable=False),
        sa.Column("created_at", marketplace.db.UTCDateTime(), nullable=False),
        sa.Column("started_at", marketplace.db.UTCDateTime(), nullable=True),
        sa.Column("finished_at", marketplace.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_background_job")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_background_job_dedupe_key")),
    )
    with op.batch_alter_table("background_job", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_background_job_kind"), ["kind"], unique=False)
        batch_op.create_index("ix_background_job_state_run_after", ["state", "run_after"], unique=False)

    op.create_table(
        "job_schedule",
        sa.Column(
            "kind",
            sa.Enum(
                "send_mail",
                "catalog_import",
                "webhook_delivery",
                "grant_expiry",
                "access_sweep",
                "access_digest",
                "custom_sweep",
                "payments_reconcile",
                "purge_expired",
                "verify_upload",
                name="schedule_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("next_run_at", marketplace.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("kind", name=op.f("pk_job_schedule")),
    )


def downgrade() -> None:
    op.drop_table("job_schedule")
    with op.batch_alter_table("background_job", schema=None) as batch_op:
        batch_op.drop_index("ix_background_job_state_run_after")
        batch_op.drop_index(batch_op.f("ix_background_job_kind"))

    op.drop_table("background_job")
