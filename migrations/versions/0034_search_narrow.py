"""search keys: the search document without its text vector, for the searches that read no text (PostgreSQL)

``search_keys`` holds one row per published listing, as ``search_document`` does, with its sort and sample keys and
facet value ids but not its ``tsvector`` (about 80 bytes a row instead of 900: a million listings fit in 100 MB,
so the facet counts of a search read pages already in memory; its sample index holds the facet ids, so the sample
is read from the index alone). It is filled from
``search_document`` in newest order and kept with it by :mod:`marketplace.catalog.search_index`. SQLite's
``search_document`` holds no text already; there the sample key's index gains the packed facet values, so the
sample is read from that index alone (10,000 rows in sequence instead of 10,000 lookups).

Revision ID: 0034_search_narrow
Revises: 0033_search_generation
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0034_search_narrow"
down_revision: str | None = "0033_search_generation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As of this revision (copied, not imported: a migration must not change when the code does).
INDEXES = {
    "ix_search_keys_facets": "ON search_keys USING gin (facet_ids)",
    "ix_search_keys_sample": "ON search_keys (sample_key) INCLUDE (dataset_id, facet_ids)",
}


SQLITE_SAMPLE_INDEX = "ix_search_document_sample_values"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.execute(f"CREATE INDEX {SQLITE_SAMPLE_INDEX} ON search_document (sample_key, facet_values)")
        return
    op.execute(
        "CREATE TABLE search_keys (dataset_id integer PRIMARY KEY, published_at timestamp with time zone NOT NULL,"
        " price_key bigint NOT NULL, sample_key bigint NOT NULL, facet_ids integer[] NOT NULL DEFAULT '{}')"
    )
    op.execute(
        "INSERT INTO search_keys (dataset_id, published_at, price_key, sample_key, facet_ids)"
        " SELECT dataset_id, published_at, price_key, sample_key, facet_ids FROM search_document"
        " ORDER BY published_at DESC, dataset_id DESC"
    )
    for name, definition in INDEXES.items():
        op.execute(f"CREATE INDEX {name} {definition}")
    op.execute("ANALYZE search_keys")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE search_keys")
    else:
        op.execute(f"DROP INDEX {SQLITE_SAMPLE_INDEX}")
