"""title trigrams: the words of published titles, with a trigram index, for correcting a buyer's typos

Revision ID: 0024_title_trigrams
Revises: 0023_search_index
Create Date: 2026-12-05

``title_word`` holds every distinct word (3 to 64 characters, not only digits, lower-cased) of the published
listings' titles with how many published listings have it. Triggers on ``dataset`` keep it exact on every insert,
delete, and change of title or status, so it is never rebuilt and never stale. The spelling corrector
(:mod:`marketplace.catalog.spelling`) looks up the title words closest to a word that matched nothing:

- PostgreSQL: the ``pg_trgm`` extension and a trigram GIN index on ``title_word.word`` (``word % 'speach'``).
- SQLite: ``title_word_gram``, each title word's trigrams (made as pg_trgm makes them), kept in step by triggers
  on ``title_word``; a lookup counts the trigrams a word shares with each title word through its primary key, so
  the similarity is pg_trgm's exactly. (An FTS5 ``trigram`` table cannot count shared trigrams: its BM25 rank
  prefers words sharing a rare trigram, and missed "speech" for "speach" among "each", "reach" and "machine".)

The table and the index are not in the models (``marketplace.catalog.fts.include_object`` leaves them out of
autogenerate), like the full-text index of ``0002_catalog``.
"""

# The SQL below is assembled from constants of this file only (no input reaches it), hence no S608 here.
# ruff: noqa: S608

from collections.abc import Sequence

from alembic import op

revision: str = "0024_title_trigrams"
down_revision: str | None = "0023_search_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# How SQLite, whose triggers can use neither a regular expression nor a recursive query, splits a title into
# words: these characters become spaces, then each word is cut at its spaces (JSON) and trimmed of the characters
# of _TRIMMED. (The parser allows only so many nested replace() calls.) A word left with another character in it
# is stored but never offered: the corrector re-checks every word it reads.
_SEPARATORS = "-/_\u2013\u2014'\u2019&+.,:;|\t\n\r"
_TRIMMED = '"()[]{}<>!?*#@%$~^`=\\\u2018\u201c\u201d\u00b7\u2022'


def _sqlite_words(title: str) -> str:
    """SQL for the JSON array of a title's lower-cased words (with empty strings where separators were)."""
    expression = f"lower({title})"
    for char in _SEPARATORS:
        expression = f"replace({expression}, char({ord(char)}), ' ')"
    return f"'[' || replace(json_quote({expression}), ' ', '\",\"') || ']'"


_SQLITE_WORD = "trim(value, '" + _TRIMMED.replace("'", "''") + "')"
_SQLITE_KEEP = f"length({_SQLITE_WORD}) BETWEEN 3 AND 64 AND {_SQLITE_WORD} GLOB '*[^0-9]*'"

# The trigrams of a title word as pg_trgm makes them (padded with two spaces before, one after): one per position.
_SQLITE_GRAM = "substr('  ' || new.word || ' ', value, 3)"
_SQLITE_GRAMS = "FROM json_each('[" + ",".join(str(n) for n in range(1, 66)) + "]') WHERE value <= length(new.word) + 1"


def _sqlite_add(title: str) -> str:
    return f"""
        INSERT INTO title_word (word, listings)
        SELECT DISTINCT {_SQLITE_WORD}, 1 FROM json_each({_sqlite_words(title)}) WHERE {_SQLITE_KEEP}
        ON CONFLICT (word) DO UPDATE SET listings = listings + 1;
    """


def _sqlite_remove(title: str) -> str:
    return f"""
        UPDATE title_word SET listings = listings - 1
        WHERE word IN (SELECT {_SQLITE_WORD} FROM json_each({_sqlite_words(title)}) WHERE {_SQLITE_KEEP});
        DELETE FROM title_word
        WHERE listings <= 0 AND word IN (SELECT {_SQLITE_WORD} FROM json_each({_sqlite_words(title)}));
    """


_PG_WORDS = """
    SELECT DISTINCT w FROM regexp_split_to_table(lower({title}), '[^[:alnum:]]+') AS w
    WHERE length(w) BETWEEN 3 AND 64 AND w !~ '^[0-9]+$' ORDER BY w
"""

_PG_FUNCTION = f"""
CREATE FUNCTION title_word_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'published' THEN
        UPDATE title_word SET listings = listings - 1 WHERE word IN ({_PG_WORDS.format(title="OLD.title")});
        DELETE FROM title_word WHERE listings <= 0 AND word IN ({_PG_WORDS.format(title="OLD.title")});
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status = 'published' THEN
        INSERT INTO title_word (word, listings)
        SELECT w, 1 FROM ({_PG_WORDS.format(title="NEW.title")}) AS words
        ON CONFLICT (word) DO UPDATE SET listings = title_word.listings + 1;
    END IF;
    RETURN NULL;
END
$$
"""


_PG_TRIGGERS = {  # name: (event, condition)
    "dataset_title_word_insert": ("INSERT", "NEW.status = 'published'"),
    "dataset_title_word_delete": ("DELETE", "OLD.status = 'published'"),
    "dataset_title_word_update": (
        "UPDATE OF title, status",
        "(OLD.status = 'published' OR NEW.status = 'published') "
        "AND (OLD.title IS DISTINCT FROM NEW.title OR OLD.status IS DISTINCT FROM NEW.status)",
    ),
}


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(
            "CREATE TABLE title_word (word VARCHAR(64) NOT NULL PRIMARY KEY, listings INTEGER NOT NULL) "
            "WITH (fillfactor = 50)"
        )
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(_PG_FUNCTION)
        # Only rows that are or were published call the function: drafts (what an import makes) cost nothing.
        for name, (event, condition) in _PG_TRIGGERS.items():
            op.execute(
                f"CREATE TRIGGER {name} AFTER {event} ON dataset FOR EACH ROW WHEN ({condition}) "
                "EXECUTE FUNCTION title_word_sync()"
            )
        op.execute(
            "INSERT INTO title_word (word, listings) "
            "SELECT w, count(DISTINCT id) FROM dataset, "
            "LATERAL regexp_split_to_table(lower(title), '[^[:alnum:]]+') AS w "
            "WHERE status = 'published' AND length(w) BETWEEN 3 AND 64 AND w !~ '^[0-9]+$' "
            "GROUP BY w"
        )
        # Without the pending list (fastupdate): new title words are rare, and a lookup would otherwise scan every
        # word added since the last vacuum (40 ms instead of 1 at 20,000 words).
        op.execute(
            "CREATE INDEX ix_title_word_trgm ON title_word USING gin (word gin_trgm_ops) WITH (fastupdate = off)"
        )
    elif dialect == "sqlite":
        op.execute(
            "CREATE TABLE title_word (id INTEGER PRIMARY KEY, word VARCHAR(64) NOT NULL UNIQUE, "
            "listings INTEGER NOT NULL, grams INTEGER NOT NULL DEFAULT 0)"
        )
        op.execute(
            "CREATE TABLE title_word_gram (gram VARCHAR(3) NOT NULL, word_id INTEGER NOT NULL, "
            "PRIMARY KEY (gram, word_id)) WITHOUT ROWID"
        )
        op.execute(
            "CREATE TRIGGER title_word_gram_insert AFTER INSERT ON title_word BEGIN "
            f"INSERT OR IGNORE INTO title_word_gram (gram, word_id) SELECT {_SQLITE_GRAM}, new.id {_SQLITE_GRAMS}; "
            f"UPDATE title_word SET grams = (SELECT count(DISTINCT {_SQLITE_GRAM}) {_SQLITE_GRAMS}) "
            "WHERE id = new.id; END"
        )
        op.execute(
            "CREATE TRIGGER title_word_gram_delete AFTER DELETE ON title_word BEGIN "
            "DELETE FROM title_word_gram WHERE word_id = old.id "
            f"AND gram IN (SELECT {_SQLITE_GRAM.replace('new.', 'old.')} {_SQLITE_GRAMS.replace('new.', 'old.')}); END"
        )
        op.execute(
            "CREATE TRIGGER dataset_title_word_insert AFTER INSERT ON dataset "
            f"WHEN new.status = 'published' BEGIN {_sqlite_add('new.title')} END"
        )
        op.execute(
            "CREATE TRIGGER dataset_title_word_delete AFTER DELETE ON dataset "
            f"WHEN old.status = 'published' BEGIN {_sqlite_remove('old.title')} END"
        )
        op.execute(
            "CREATE TRIGGER dataset_title_word_unpublish AFTER UPDATE OF title, status ON dataset "
            f"WHEN old.status = 'published' BEGIN {_sqlite_remove('old.title')} END"
        )
        op.execute(
            "CREATE TRIGGER dataset_title_word_publish AFTER UPDATE OF title, status ON dataset "
            f"WHEN new.status = 'published' BEGIN {_sqlite_add('new.title')} END"
        )
        op.execute(
            "INSERT INTO title_word (word, listings) "
            f"SELECT {_SQLITE_WORD}, count(DISTINCT dataset.id) FROM dataset, "
            f"json_each({_sqlite_words('dataset.title')}) "
            f"WHERE dataset.status = 'published' AND {_SQLITE_KEEP} GROUP BY {_SQLITE_WORD}"
        )
    else:
        raise NotImplementedError(f"no trigram index for {dialect}")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for name in _PG_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON dataset")
        op.execute("DROP FUNCTION IF EXISTS title_word_sync()")
        op.execute("DROP TABLE IF EXISTS title_word")  # and its index; the extension stays (others may use it)
    elif dialect == "sqlite":
        for trigger in (
            "dataset_title_word_insert",
            "dataset_title_word_delete",
            "dataset_title_word_unpublish",
            "dataset_title_word_publish",
            "title_word_gram_insert",
            "title_word_gram_delete",
        ):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS title_word_gram")
        op.execute("DROP TABLE IF EXISTS title_word")
