"""bucket exports: an organisation's S3-compatible destinations and the exports of licensed versions into them

Revision ID: 0032_bucket_exports
Revises: 0031_delta_sharing
Create Date: 2026-11-30

New tables ``bucket_destination`` and ``bucket_export``; the job kind ``bucket_export`` joins the CHECK constraints
of ``background_job.kind`` and ``job_schedule.kind`` (the downgrade removes its rows first).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision: str = "0032_bucket_exports"
down_revision: str | None = "0031_delta_sharing"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The values as of this revision (copied, not imported: a migration must not change when the code does).
JOB_KINDS = (
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
    "withdrawal_sweep",
    "viewer_stats",
    "parquet_conversion",
)
NEW_KIND = "bucket_export"
EXPORT_STATES = ("queued", "running", "succeeded", "failed")


def _enum(values: tuple[str, ...], name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def _utc(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, marketplace.db.UTCDateTime(), nullable=nullable)


def _job_kinds(old: tuple[str, ...], new: tuple[str, ...]) -> None:
    with op.batch_alter_table("background_job") as batch_op:
        batch_op.alter_column(
            "kind", existing_type=_enum(old, "jobkind"), type_=_enum(new, "jobkind"), existing_nullable=False
        )
    with op.batch_alter_table("job_schedule") as batch_op:
        batch_op.alter_column(
            "kind",
            existing_type=_enum(old, "schedule_kind"),
            type_=_enum(new, "schedule_kind"),
            existing_nullable=False,
        )


def upgrade() -> None:
    op.create_table(
        "bucket_destination",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("endpoint_url", sa.String(length=500), nullable=False),
        sa.Column("region", sa.String(length=64), nullable=False),
        sa.Column("bucket", sa.String(length=63), nullable=False),
        sa.Column("prefix", sa.String(length=500), nullable=False),
        sa.Column("access_key_id", sa.String(length=128), nullable=False),
        sa.Column("secret_ciphertext", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        _utc("created_at"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], name=op.f("fk_bucket_destination_organisation_id_organisation"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by_id"], ["user_account.id"], name=op.f("fk_bucket_destination_created_by_id_user_account"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bucket_destination")),
        sa.UniqueConstraint("organisation_id", "name", name=op.f("uq_bucket_destination_organisation_id_name")),
    )  # fmt: skip
    op.create_index(op.f("ix_bucket_destination_organisation_id"), "bucket_destination", ["organisation_id"])
    op.create_table(
        "bucket_export",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grant_id", sa.String(length=26), nullable=False),
        sa.Column("licensee_org_id", sa.Integer(), nullable=False),
        sa.Column("destination_id", sa.Integer(), nullable=True),
        sa.Column("destination_location", sa.String(length=700), nullable=False),
        sa.Column("version_label", sa.String(length=64), nullable=False),
        sa.Column("state", _enum(EXPORT_STATES, "exportstate"), nullable=False),
        sa.Column("files_total", sa.Integer(), nullable=False),
        sa.Column("files_done", sa.Integer(), nullable=False),
        sa.Column("bytes_total", sa.BigInteger(), nullable=False),
        sa.Column("bytes_done", sa.BigInteger(), nullable=False),
        sa.Column("objects", sa.JSON(), nullable=False),
        sa.Column("error", sa.String(length=1000), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        _utc("created_at"),
        _utc("started_at", True),
        _utc("finished_at", True),
        sa.ForeignKeyConstraint(["grant_id"], ["license_grant.id"], name=op.f("fk_bucket_export_grant_id_license_grant")),
        sa.ForeignKeyConstraint(["licensee_org_id"], ["organisation.id"], name=op.f("fk_bucket_export_licensee_org_id_organisation")),
        sa.ForeignKeyConstraint(["destination_id"], ["bucket_destination.id"], name=op.f("fk_bucket_export_destination_id_bucket_destination"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["requested_by_id"], ["user_account.id"], name=op.f("fk_bucket_export_requested_by_id_user_account"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bucket_export")),
    )  # fmt: skip
    op.create_index(op.f("ix_bucket_export_grant_id"), "bucket_export", ["grant_id"])
    op.create_index(op.f("ix_bucket_export_licensee_org_id"), "bucket_export", ["licensee_org_id"])
    op.create_index(op.f("ix_bucket_export_state"), "bucket_export", ["state"])
    _job_kinds(JOB_KINDS, (*JOB_KINDS, NEW_KIND))


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM background_job WHERE kind = :kind").bindparams(kind=NEW_KIND))
    op.execute(sa.text("DELETE FROM job_schedule WHERE kind = :kind").bindparams(kind=NEW_KIND))
    _job_kinds((*JOB_KINDS, NEW_KIND), JOB_KINDS)
    op.drop_table("bucket_export")
    op.drop_table("bucket_destination")
