"""training summary: a listing's own group of provider-entered facts for the AI Act training-content summary

Revision ID: 0022_training_summary
Revises: 0020_audit_chain
Create Date: 2026-12-03

EU AI Act Article 53(1)(d) asks model developers for a public summary of their training content on the
Commission's template; for each license a buyer holds, the marketplace hands them a fragment of it. What the
listing did not say yet (the footing the data is offered on, content types, crawling and how text-and-data-mining
opt-outs were respected, measures against illegal content) is one JSON document per listing, empty for existing
ones.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022_training_summary"
down_revision: str | None = "0020_audit_chain"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLE on both dialects: a batch rebuild of ``dataset`` on SQLite would drop the full-text triggers.
    op.add_column("dataset", sa.Column("training_summary", sa.JSON(), nullable=False, server_default=sa.text("'{}'")))


def downgrade() -> None:
    # DROP COLUMN works in place on SQLite >= 3.35 and keeps the full-text triggers, unlike a batch rebuild.
    op.drop_column("dataset", "training_summary")
