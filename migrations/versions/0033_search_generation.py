"""search generation: one row whose token changes in every transaction that writes the search index

Revision ID: 0033_search_generation
Revises: 0032_bucket_exports
Create Date: 2026-11-30

New table ``search_generation`` with its single row (``id`` 1). :mod:`marketplace.catalog.search_index` sets a new
random ``token`` in the same transaction as every write to the index, so a process may keep what it read from the
index (the facet dictionary, a search's counts and page) for as long as the token it reads is unchanged. The first
token is random too, so that two databases built by this migration never share one.
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0033_search_generation"
down_revision: str | None = "0032_bucket_exports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "search_generation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_generation")),
    )
    op.execute(
        sa.text("INSERT INTO search_generation (id, token) VALUES (1, :token)").bindparams(token=secrets.randbits(62))
    )


def downgrade() -> None:
    op.drop_table("search_generation")
