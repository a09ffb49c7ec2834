"""search changes: a numbered log of the listings each write to the search index changed

Revision ID: 0035_search_changes
Revises: 0034_search_narrow
Create Date: 2026-12-01

``search_generation`` gains ``change``, a counter that every write to the index increments (in the same UPDATE that
sets its new token), and the new table ``search_change`` holds, for each change number, the ids of the listings that
write changed (one row each; a full rebuild writes one row with ``dataset_id`` NULL: "everything changed"). A process
that keeps facet bitmaps (:mod:`marketplace.catalog.search_bitmaps`) brings them up to date from it. The log starts
with a rebuild marker at change 1, so a process that held nothing builds from scratch. Every row carries the token its
change set, so change *N* of one history is told from change *N* of another (a database restored from a backup).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0035_search_changes"
down_revision: str | None = "0034_search_narrow"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("search_generation") as batch:
        batch.add_column(sa.Column("change", sa.BigInteger(), nullable=False, server_default="1"))
    op.create_table(
        "search_change",
        sa.Column("change", sa.BigInteger(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=True),
        sa.Column("token", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_search_change_change", "search_change", ["change"])
    op.execute("INSERT INTO search_change (change, dataset_id, token) SELECT 1, NULL, token FROM search_generation")


def downgrade() -> None:
    op.drop_index("ix_search_change_change", table_name="search_change")
    op.drop_table("search_change")
    with op.batch_alter_table("search_generation") as batch:
        batch.drop_column("change")
