"""provider analytics: views of listings and of offers, one row per visitor and time window

Revision ID: 0028_provider_analytics
Revises: 0027_notifications
Create Date: 2026-11-30

The provider's funnel starts with how often its listings and offers are looked at. Each view is one insert that
does nothing when the same visitor was already counted in the same window; the report counts rows per day.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028_provider_analytics"
down_revision: str | None = "0027_notifications"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "listing_view",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("visitor", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["dataset.id"], name=op.f("fk_listing_view_dataset_id_dataset"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listing_view")),
        sa.UniqueConstraint("dataset_id", "visitor", "slot", name=op.f("uq_listing_view_dataset_id_visitor_slot")),
    )
    op.create_index("ix_listing_view_dataset_id_day", "listing_view", ["dataset_id", "day"], unique=False)
    op.create_table(
        "offer_view",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("visitor", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["offer_id"], ["offer.id"], name=op.f("fk_offer_view_offer_id_offer"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["dataset.id"], name=op.f("fk_offer_view_dataset_id_dataset"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offer_view")),
        sa.UniqueConstraint("offer_id", "visitor", "slot", name=op.f("uq_offer_view_offer_id_visitor_slot")),
    )
    op.create_index("ix_offer_view_dataset_id_day", "offer_view", ["dataset_id", "day"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_offer_view_dataset_id_day", table_name="offer_view")
    op.drop_table("offer_view")
    op.drop_index("ix_listing_view_dataset_id_day", table_name="listing_view")
    op.drop_table("listing_view")
