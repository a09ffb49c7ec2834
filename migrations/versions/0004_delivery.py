"""delivery: upload sessions and the download audit

Revision ID: 0004_delivery
Revises: 0003_licenses
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision: str = "0004_delivery"
down_revision: str | None = "0003_licenses"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "upload_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=1024), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("media_type", sa.String(length=255), nullable=False),
        sa.Column("expected_sha256", sa.String(length=64), nullable=True),
        sa.Column("storage_region", sa.String(length=64), nullable=True),
        sa.Column("storage_key", sa.String(length=1024), nullable=False),
        sa.Column("storage_session", sa.JSON(), nullable=False),
        sa.Column("parts_done", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("uploading", "verified", "failed", "aborted", name="uploadstatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("error", sa.String(length=1000), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", marketplace.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", marketplace.db.UTCDateTime(), nullable=False),
        sa.Column("completed_at", marketplace.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_upload_session_created_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["dataset_version.id"],
            name=op.f("fk_upload_session_version_id_dataset_version"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_upload_session")),
        sa.UniqueConstraint("version_id", "path", name=op.f("uq_upload_session_version_id_path")),
    )
    with op.batch_alter_table("upload_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_upload_session_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_upload_session_version_id"), ["version_id"], unique=False)

    op.create_table(
        "download_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grant_id", sa.String(length=26), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("licensee_org_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("api_key_id", sa.Integer(), nullable=True),
        sa.Column("ip_address", sa.String(length=64), nullable=False),
        sa.Column("user_agent", sa.String(length=512), nullable=False),
        sa.Column("issued_at", marketplace.db.UTCDateTime(), nullable=False),
        sa.Column("expires_at", marketplace.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["dataset_id"], ["dataset.id"], name=op.f("fk_download_event_dataset_id_dataset")),
        sa.ForeignKeyConstraint(["file_id"], ["dataset_file.id"], name=op.f("fk_download_event_file_id_dataset_file")),
        sa.ForeignKeyConstraint(
            ["grant_id"], ["license_grant.id"], name=op.f("fk_download_event_grant_id_license_grant")
        ),
        sa.ForeignKeyConstraint(
            ["licensee_org_id"], ["organisation.id"], name=op.f("fk_download_event_licensee_org_id_organisation")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_download_event_user_id_user_account"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_download_event")),
    )
    with op.batch_alter_table("download_event", schema=None) as batch_op:
        batch_op.create_index("ix_download_event_dataset_id_issued_at", ["dataset_id", "issued_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_download_event_file_id"), ["file_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_download_event_grant_id"), ["grant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_download_event_licensee_org_id"), ["licensee_org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_download_event_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("download_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_download_event_user_id"))
        batch_op.drop_index(batch_op.f("ix_download_event_licensee_org_id"))
        batch_op.drop_index(batch_op.f("ix_download_event_grant_id"))
        batch_op.drop_index(batch_op.f("ix_download_event_file_id"))
        batch_op.drop_index("ix_download_event_dataset_id_issued_at")

    op.drop_table("download_event")
    with op.batch_alter_table("upload_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_upload_session_version_id"))
        batch_op.drop_index(batch_op.f("ix_upload_session_status"))

    op.drop_table("upload_session")
