"""croissant: a listing keeps its Croissant description: declared files and file sets, record sets, properties

Revision ID: 0017_croissant
Revises: 0016_key_material
Create Date: 2026-11-30

Two new tables; nothing existing changes. Downgrading drops them: imported listings keep their listing fields
and versions, and lose their declared files, record sets and the document's own wording.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision: str = "0017_croissant"
down_revision: str | None = "0016_key_material"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dataset_distribution",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "file_object", "file_set", name="distributionkind", native_enum=False, create_constraint=True, length=32
            ),
            nullable=False,
        ),
        sa.Column("resource_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("content_url", sa.Text(), nullable=False),
        sa.Column("encoding_format", sa.String(length=255), nullable=False),
        sa.Column("content_size", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("sha256", sa.Text(), nullable=False),
        sa.Column("md5", sa.Text(), nullable=False),
        sa.Column("contained_in", sa.JSON(), nullable=False),
        sa.Column("includes", sa.JSON(), nullable=False),
        sa.Column("excludes", sa.JSON(), nullable=False),
        sa.Column("path", sa.String(length=1024), nullable=False),
        sa.Column("properties", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["dataset_id"], ["dataset.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dataset_id", "position"),
    )
    op.create_index("ix_dataset_distribution_dataset_id", "dataset_distribution", ["dataset_id"])
    op.create_table(
        "dataset_croissant",
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("properties", sa.JSON(), nullable=False),
        sa.Column("record_sets", sa.JSON(), nullable=False),
        sa.Column("listing_snapshot", sa.JSON(), nullable=False),
        sa.Column("version_label", sa.String(length=64), nullable=False),
        sa.Column("imported_at", marketplace.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["dataset_id"], ["dataset.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("dataset_id"),
    )
    op.create_index("ix_dataset_croissant_url", "dataset_croissant", ["url"])


def downgrade() -> None:
    op.drop_index("ix_dataset_croissant_url", table_name="dataset_croissant")
    op.drop_table("dataset_croissant")
    op.drop_index("ix_dataset_distribution_dataset_id", table_name="dataset_distribution")
    op.drop_table("dataset_distribution")
