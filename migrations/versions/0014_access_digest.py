"""access: remember which requests each reviewer's daily digest already named

Revision ID: 0014_access_digest
Revises: 0013_milestones
Create Date: 2026-12-01

Running the digest twice a day sent the same requests again; a row per (reviewer, request) sent prevents it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision: str = "0014_access_digest"
down_revision: str | None = "0013_milestones"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "access_digest_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("sent_at", marketplace.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["access_request.id"],
            name=op.f("fk_access_digest_entry_request_id_access_request"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"],
            ["user_account.id"],
            name=op.f("fk_access_digest_entry_reviewer_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_digest_entry")),
        sa.UniqueConstraint("reviewer_id", "request_id", name=op.f("uq_access_digest_entry_reviewer_id_request_id")),
    )
    with op.batch_alter_table("access_digest_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_access_digest_entry_request_id"), ["request_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_access_digest_entry_reviewer_id"), ["reviewer_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("access_digest_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_digest_entry_reviewer_id"))
        batch_op.drop_index(batch_op.f("ix_access_digest_entry_request_id"))

    op.drop_table("access_digest_entry")
