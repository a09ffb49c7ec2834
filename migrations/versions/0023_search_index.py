"""search index: a narrow table of the published listings for search, with a dictionary of facet values and counts

``search_document`` holds one row per published listing (sort keys, a fixed sample key, facet value ids and, on
PostgreSQL, a copy of the weighted ``tsvector``); ``search_facet_value`` maps (facet, value) to an id and counts the
published listings with each value; SQLite keeps the value ids of each listing in ``search_facet``. See
:mod:`marketplace.catalog.search_index`. The tables are filled from the listings as they stand (a set-based rebuild;
``marketplace catalog reindex`` does the same later).

Revision ID: 0023_search_index
Revises: 0022_training_summary
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023_search_index"
down_revision: str | None = "0022_training_summary"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "search_facet_value",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("facet", sa.String(64), nullable=False),
        sa.Column("value", sa.String(200), nullable=False),
        sa.Column("listings", sa.Integer(), nullable=False, server_default="0"),
        sa.UniqueConstraint("facet", "value", name="uq_search_facet_value_facet_value"),
    )
    published_at = sa.DateTime(timezone=True) if postgres else sa.String(40)
    op.create_table(
        "search_document",
        sa.Column("dataset_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("published_at", published_at, nullable=False),
        sa.Column("price_key", sa.BigInteger(), nullable=False),
        sa.Column("sample_key", sa.BigInteger(), nullable=False),
    )
    from marketplace.catalog.search_index import DOCUMENT_INDEXES, GIN_INDEXES

    for name, definition in DOCUMENT_INDEXES.items():
        op.execute(f"CREATE INDEX {name} {definition}")
    if postgres:
        op.execute("ALTER TABLE search_document ADD COLUMN facet_ids integer[] NOT NULL DEFAULT '{}'")
        op.execute("ALTER TABLE search_document ADD COLUMN text_vector tsvector NOT NULL DEFAULT ''")
        for name, definition in GIN_INDEXES.items():
            op.execute(f"CREATE INDEX {name} {definition}")
        # Search reads search_document's own copy of the vector: the listing table's index only slowed its writes.
        op.execute("DROP INDEX IF EXISTS ix_dataset_search_vector")
    else:
        # The value ids again, packed (search_index.pack_values): counting reads one small blob per listing.
        op.execute("ALTER TABLE search_document ADD COLUMN facet_values BLOB NOT NULL DEFAULT x''")
        op.execute(
            "CREATE TABLE search_facet (value_id INTEGER NOT NULL, dataset_id INTEGER NOT NULL,"
            " PRIMARY KEY (value_id, dataset_id)) WITHOUT ROWID"
        )
        op.execute("CREATE INDEX ix_search_facet_dataset ON search_facet (dataset_id, value_id)")

    from marketplace import register_catalog_facets
    from marketplace.catalog import search_index

    register_catalog_facets()
    search_index.rebuild(op.get_bind())


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE INDEX IF NOT EXISTS ix_dataset_search_vector ON dataset USING gin (search_vector)")
    else:
        op.execute("DROP TABLE IF EXISTS search_facet")
    op.drop_table("search_document")
    op.drop_table("search_facet_value")
