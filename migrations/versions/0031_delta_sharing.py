"""delta sharing: recipient profiles of licenses, Parquet tables of versions, the channel of a download link

Revision ID: 0031_delta_sharing
Revises: 0029_invoices
Create Date: 2026-11-30

New tables ``sharing_recipient`` (a Delta Sharing profile minted for a license: only its token's hash) and
``parquet_table`` (each tabular file of a published version in Parquet form, with its own size and SHA-256);
``download_event`` gains ``channel`` (``download`` for existing rows, ``delta-sharing`` for file URLs handed to a
Delta Sharing client); the job kind ``parquet_conversion`` joins the CHECK constraints of the job tables (the
downgrade removes its rows first).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision: str = "0031_delta_sharing"
down_revision: str | None = "0029_invoices"
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
)
NEW_KIND = "parquet_conversion"


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
        "sharing_recipient",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grant_id", sa.String(length=26), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        _utc("created_at"),
        _utc("expires_at", True),
        _utc("revoked_at", True),
        sa.ForeignKeyConstraint(["grant_id"], ["license_grant.id"], name=op.f("fk_sharing_recipient_grant_id_license_grant")),
        sa.ForeignKeyConstraint(["created_by_id"], ["user_account.id"], name=op.f("fk_sharing_recipient_created_by_id_user_account"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_recipient")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_sharing_recipient_token_hash")),
    )  # fmt: skip
    op.create_index(op.f("ix_sharing_recipient_grant_id"), "sharing_recipient", ["grant_id"])
    op.create_table(
        "parquet_table",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("source_file_id", sa.Integer(), nullable=False),
        sa.Column("converted", sa.Boolean(), nullable=False),
        sa.Column("path", sa.String(length=1024), nullable=False),
        sa.Column("storage_key", sa.String(length=1024), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("num_rows", sa.BigInteger(), nullable=False),
        sa.Column("schema_string", sa.Text(), nullable=False),
        _utc("created_at"),
        sa.ForeignKeyConstraint(["version_id"], ["dataset_version.id"], name=op.f("fk_parquet_table_version_id_dataset_version"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["source_file_id"], ["dataset_file.id"], name=op.f("fk_parquet_table_source_file_id_dataset_file"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parquet_table")),
        sa.UniqueConstraint("source_file_id", name=op.f("uq_parquet_table_source_file_id")),
    )  # fmt: skip
    op.create_index(op.f("ix_parquet_table_version_id"), "parquet_table", ["version_id"])
    with op.batch_alter_table("download_event") as batch_op:
        batch_op.add_column(sa.Column("channel", sa.String(length=16), nullable=False, server_default="download"))
    _job_kinds(JOB_KINDS, (*JOB_KINDS, NEW_KIND))


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM background_job WHERE kind = :kind").bindparams(kind=NEW_KIND))
    op.execute(sa.text("DELETE FROM job_schedule WHERE kind = :kind").bindparams(kind=NEW_KIND))
    _job_kinds((*JOB_KINDS, NEW_KIND), JOB_KINDS)
    with op.batch_alter_table("download_event") as batch_op:
        batch_op.drop_column("channel")
    op.drop_index(op.f("ix_parquet_table_version_id"), table_name="parquet_table")
    op.drop_table("parquet_table")
    op.drop_index(op.f("ix_sharing_recipient_grant_id"), table_name="sharing_recipient")
    op.drop_table("sharing_recipient")
