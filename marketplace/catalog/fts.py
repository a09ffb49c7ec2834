"""What the full-text index adds to the schema outside the models, for Alembic's comparisons to skip.

Migration ``0002_catalog`` creates a generated ``search_vector`` column with a GIN index on PostgreSQL and an
FTS5 table ``dataset_fts`` (with its shadow tables ``dataset_fts_data``, ``_idx``, ``_docsize``, ``_config``)
on SQLite. Migration ``0024_title_trigrams`` adds the title words the spelling corrector looks up: the table
``title_word`` (its trigram GIN index ``ix_title_word_trgm`` on PostgreSQL) and, on SQLite, the table of their
trigrams ``title_word_gram``; migration ``0023_search_index`` adds the search index (its columns differ by
database: see :mod:`marketplace.catalog.search_index`), ``0033_search_generation`` its generation token,
``0034_search_narrow`` its ``search_keys`` (PostgreSQL) and ``0035_search_changes`` its change log. None of these
are in the models, so autogenerate would otherwise propose to drop them.
"""

from __future__ import annotations

from typing import Any

FTS_TABLE_PREFIX = "dataset_fts"
TRIGRAM_TABLES = frozenset({"title_word", "title_word_gram"})
FTS_COLUMNS = frozenset({("dataset", "search_vector")})
FTS_INDEXES = frozenset({"ix_dataset_search_vector", "ix_title_word_trgm"})
SEARCH_INDEX_TABLES = frozenset(
    {"search_change", "search_document", "search_facet", "search_facet_value", "search_generation", "search_keys"}
)


def is_full_text_table(name: str | None) -> bool:
    if not name:
        return False
    if name == FTS_TABLE_PREFIX or name.startswith(FTS_TABLE_PREFIX + "_"):
        return True
    return name in TRIGRAM_TABLES or name in SEARCH_INDEX_TABLES


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic ``include_object`` hook: leave the full-text index's objects out of autogenerate comparisons."""
    if type_ == "table" and is_full_text_table(name):
        return False
    if type_ == "column" and reflected and compare_to is None:
        table = getattr(getattr(obj, "table", None), "name", None)
        if (table, name) in FTS_COLUMNS:
            return False
    return not (type_ == "index" and name in FTS_INDEXES)
