"""audit: a tamper-evident audit log, chained by hash per organisation

Revision ID: 0020_audit_chain
Revises: 0019_withdrawals
Create Date: 2026-11-30

Two new tables: ``audit_entry`` (append-only, unique per organisation and sequence number) and
``audit_chain_head`` (the newest sequence number and hash of each organisation's chain, locked while appending).
Downgrading drops both, and with them the recorded chains.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision: str = "0020_audit_chain"
down_revision: str | None = "0019_withdrawals"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", marketplace.db.UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("subject_type", sa.String(length=40), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"], name=op.f("fk_audit_entry_organisation_id_organisation")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entry")),
        sa.UniqueConstraint("organisation_id", "seq", name=op.f("uq_audit_entry_organisation_id_seq")),
    )
    op.create_index(op.f("ix_audit_entry_kind"), "audit_entry", ["kind"], unique=False)
    op.create_table(
        "audit_chain_head",
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"], name=op.f("fk_audit_chain_head_organisation_id_organisation")
        ),
        sa.PrimaryKeyConstraint("organisation_id", name=op.f("pk_audit_chain_head")),
    )


def downgrade() -> None:
    op.drop_table("audit_chain_head")
    op.drop_index(op.f("ix_audit_entry_kind"), table_name="audit_entry")
    op.drop_table("audit_entry")
