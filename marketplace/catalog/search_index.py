"""The search index: a narrow table of the published listings, kept in the same transaction as what feeds it.

Search reads ``search_document`` (one row per published listing) instead of the wide ``dataset`` table:

- ``dataset_id``; ``published_at`` (the "newest" order); ``price_key``, the lowest price in minor units among the
  listing's public, active offers (:data:`NO_PRICE` when it has none, so such listings sort last); ``sample_key``,
  a fixed pseudo-random number (a hash of the id) whose lowest values form the sample counts are estimated from;
- its facet values as integer ids from the dictionary ``search_facet_value`` (facet, value → id), which also holds
  how many published listings have each value (``listings``; the row ``('', '')`` counts every listing), so
  browsing counts are read, never computed. PostgreSQL keeps the ids in an ``int[]`` column with a GIN index,
  SQLite in the child table ``search_facet`` (value_id, dataset_id)
  (filtering, by its primary key) and again packed in ``search_document.facet_values`` (:func:`pack_values`:
  counting reads one small blob per listing instead of ten rows);
- the text: PostgreSQL copies the listing's weighted ``tsvector`` into ``text_vector`` (GIN); SQLite keeps using
  the FTS5 table ``dataset_fts`` (keyed by the same id);
- PostgreSQL only: ``search_keys``, the same rows without the text vector (about 80 bytes a row instead of 900),
  which the searches that read no text, the sample and facet counts read: their pages stay in memory.

Staying in step: every ORM flush collects the ids of the listings its objects feed (the index's own sources and
each registered facet's :attr:`~marketplace.catalog.facets.Facet.sources`, so a facet registered by another part
of the application is kept exact too) and rewrites those listings' rows at the end of the flush, in the same
transaction. A write that bypasses the ORM (a Core ``insert``/``delete``, a bulk import) calls :func:`touch` with
the listings it changed: they are rewritten together at the next flush, before commit, or before a search in that
session (:func:`sync`), set-based in chunks. :func:`rebuild` recomputes everything in a few set-based
statements (the migration's fill, ``marketplace catalog reindex``, the benchmark's generator); an index kept by
:func:`sync` always equals a rebuild (the tests check it after each kind of change).

Every write to the index also sets a new random token in the one-row table ``search_generation``, in the same
transaction (:func:`new_generation`): what a process read from the index under one token stays true for as long
as :func:`generation` returns that token (the search keeps the facet dictionary and recent results so). The same
UPDATE increments the change number and the write logs the listings it changed under it in ``search_change``
(a rebuild: one row meaning "everything"), from which a process brings its facet bitmaps up to date
(:mod:`marketplace.catalog.search_bitmaps`).
"""

from __future__ import annotations

import secrets
import sys
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session as OrmSession

from marketplace.catalog.facets import FACETS, Source
from marketplace.catalog.models import Dataset, DatasetTerm
from marketplace.catalog.vocab import DatasetStatus
from marketplace.db import any_of

NO_PRICE = 2**62  # price_key of a listing without a public offer: after every priced one
ALL_LISTINGS = ("", "")  # the dictionary row that counts every published listing
_PENDING = "search_index_pending"
WROTE_INDEX = "search_index_wrote"  # Connection.info: the transaction that last wrote the index on it
CHANGES_KEPT = 10_000  # change numbers kept in the log (search_change); older ones are pruned on write
# The indexes of ``search_document`` (the migration creates them; a rebuild drops and recreates them around the
# load on PostgreSQL, much faster than growing them row by row). The GIN ones are PostgreSQL's only.
DOCUMENT_INDEXES = {
    "ix_search_document_newest": "ON search_document (published_at DESC, dataset_id DESC)",
    "ix_search_document_price": "ON search_document (price_key, published_at DESC, dataset_id DESC)",
    "ix_search_document_sample": "ON search_document (sample_key)",
}
GIN_INDEXES = {
    "ix_search_document_facets": "ON search_document USING gin (facet_ids)",
    "ix_search_document_text": "ON search_document USING gin (text_vector)",
}
# ``search_keys`` (PostgreSQL): search_document without its text vector (migration 0034; the migrations before it
# rebuild without it).
KEYS_INDEXES = {
    "ix_search_keys_facets": "ON search_keys USING gin (facet_ids)",
    "ix_search_keys_sample": "ON search_keys (sample_key) INCLUDE (dataset_id, facet_ids)",  # index-only sample
}
KEYS_COLUMNS = "dataset_id, published_at, price_key, sample_key, facet_ids"
_PAIR = sa.table("search_pair", sa.column("dataset_id"), sa.column("facet"), sa.column("value"))
_CHUNK = 500  # listings rewritten together (SQLite: the ids are one IN list)
_ARRAY_CHUNK = 10_000  # the same on PostgreSQL, where the ids are one array parameter

# The index's own sources: the text, status and date live on the listing; the price on its offers.
BASE_SOURCES: list[Source] = [(Dataset, lambda _s, obj: [obj.id]), (DatasetTerm, lambda _s, obj: [obj.dataset_id])]


def add_base_source(source: Source) -> None:
    """Declare one more model that feeds the document itself (not a facet): the offers, for the price."""
    if source not in BASE_SOURCES:
        BASE_SOURCES.append(source)


def pack_values(value_ids: Iterable[int]) -> bytes:
    """SQLite's packed value ids: unsigned 32-bit little-endian integers, ascending."""
    packed = array("I", sorted(value_ids))
    if sys.byteorder == "big":
        packed.byteswap()
    return packed.tobytes()


def unpack_values(blobs: Iterable[bytes]) -> array[int]:
    """Every id in ``blobs`` (the packed values of many listings), in one array."""
    values = array("I")
    values.frombytes(b"".join(blobs))
    if sys.byteorder == "big":
        values.byteswap()
    return values


def sample_key_sql(column: str) -> str:
    """SQL for a listing's fixed pseudo-random sample key (0 … 2³¹−1) from its id: a multiplicative hash with
    two xor-shift rounds, the same on SQLite and PostgreSQL (``a ^ b`` written as ``(a | b) - (a & b)``)."""

    def xorshift(value: str) -> str:
        return f"(({value}) | (({value}) >> 16)) - (({value}) & (({value}) >> 16))"

    first = f"(({column}) * 2654435761) & 4294967295"
    second = f"(({xorshift(first)}) * 73244475) & 4294967295"
    return f"(({xorshift(second)}) & 2147483647)"


def _price_sql(dataset_column: str) -> str:
    return (
        f"COALESCE((SELECT MIN(o.price_amount) FROM offer o WHERE o.dataset_id = {dataset_column}"  # noqa: S608 (constants, no input)
        f" AND o.is_active = TRUE AND o.audience_org_id IS NULL), {NO_PRICE})"
    )


# --- keeping in step -----------------------------------------------------------------------------------------------


def _sources() -> list[Source]:
    found = list(BASE_SOURCES)
    for facet in FACETS.values():
        found.extend(facet.sources)
    return found


def _after_flush(session: OrmSession, _context: Any) -> None:
    objects = [*session.new, *session.dirty, *session.deleted]
    if not objects:
        return
    sources = _sources()
    pending: set[int] = session.info.setdefault(_PENDING, set())
    for obj in objects:
        for model, dataset_ids in sources:
            if isinstance(obj, model):
                pending.update(i for i in dataset_ids(session, obj) if i is not None)  # type: ignore[arg-type]


def _after_flush_postexec(session: OrmSession, _context: Any) -> None:
    _reindex_pending(session)


def _before_commit(session: OrmSession) -> None:
    sync(session)


def install() -> None:
    """Attach the flush and commit hooks to every session (idempotent; :func:`marketplace.create_app` calls it)."""
    if not event.contains(OrmSession, "after_flush", _after_flush):
        event.listen(OrmSession, "after_flush", _after_flush)
        event.listen(OrmSession, "after_flush_postexec", _after_flush_postexec)
        event.listen(OrmSession, "before_commit", _before_commit)


def touch(session: OrmSession, dataset_ids: Iterable[int]) -> None:
    """Mark listings changed by a write that bypassed the ORM; their rows are rewritten before commit."""
    session.info.setdefault(_PENDING, set()).update(dataset_ids)


def sync(session: OrmSession) -> None:
    """Flush, then rewrite the rows of every listing changed in this session since the last sync."""
    session.flush()
    _reindex_pending(session)


def _reindex_pending(session: OrmSession) -> None:
    """Rewrite the rows of the listings marked in ``session`` (by a flush or :func:`touch`) and unmark them."""
    pending: set[int] = session.info.get(_PENDING) or set()
    if pending:
        ids = sorted(pending)
        pending.clear()
        reindex(session.connection(), ids)


# --- writing rows --------------------------------------------------------------------------------------------------


def _facet_pairs(conn: Connection, ids: Sequence[int]) -> set[tuple[int, str, str]]:
    parts = []
    for name, facet in FACETS.items():
        pairs = facet.values().subquery()
        parts.append(
            sa.select(
                pairs.c.dataset_id,
                sa.literal(name, sa.String()).label("facet"),
                sa.type_coerce(pairs.c.value, sa.String()).label("value"),
            ).where(sa.or_(*any_of(conn.dialect, pairs.c.dataset_id, ids)), pairs.c.value.is_not(None))
        )
    if not parts:
        return set()
    return {(int(d), str(f), str(v)) for d, f, v in conn.execute(sa.union_all(*parts))}


def _value_ids(conn: Connection, keys: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Dictionary ids of ``keys`` (facet, value), adding the missing ones."""
    found: dict[tuple[str, str], int] = {}
    wanted = sorted(keys)
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        facets = sorted({f for f, _ in chunk})
        values = sorted({v for _, v in chunk})
        rows = conn.execute(
            sa.text("SELECT facet, value, id FROM search_facet_value WHERE facet IN :f AND value IN :v").bindparams(
                sa.bindparam("f", expanding=True), sa.bindparam("v", expanding=True)
            ),
            {"f": facets, "v": values},
        )
        found.update({(f, v): int(i) for f, v, i in rows if (f, v) in keys})
    missing = [k for k in wanted if k not in found]
    for facet, value in missing:
        conn.execute(
            sa.text("INSERT INTO search_facet_value (facet, value, listings) VALUES (:f, :v, 0)"),
            {"f": facet, "v": value},
        )
    if missing:
        found.update(_value_ids(conn, set(missing)))
    return found


def indexed_values(conn: Connection, ids: Sequence[int]) -> dict[int, set[int]]:
    """The indexed listings among ``ids`` with their facet value ids."""
    docs: dict[int, set[int]] = {}
    if conn.dialect.name == "postgresql":
        statement = _with_ids(conn, "SELECT dataset_id, facet_ids FROM search_document WHERE dataset_id IN :ids")
        for dataset_id, value_ids in conn.execute(statement, {"ids": list(ids)}):
            docs[int(dataset_id)] = set(value_ids or ())
        return docs
    statement = _with_ids(conn, "SELECT dataset_id FROM search_document WHERE dataset_id IN :ids")
    docs = {int(d): set() for (d,) in conn.execute(statement, {"ids": list(ids)})}
    statement = _with_ids(conn, "SELECT dataset_id, value_id FROM search_facet WHERE dataset_id IN :ids")
    for dataset_id, value_id in conn.execute(statement, {"ids": list(ids)}):
        docs.setdefault(int(dataset_id), set()).add(int(value_id))
    return docs


def reindex(conn: Connection, dataset_ids: Iterable[int]) -> None:
    """Rewrite the index rows of ``dataset_ids``: a published listing gets its row, any other loses it; the
    dictionary's counts move by the difference."""
    ids = sorted(set(dataset_ids))
    if ids:
        new_generation(conn, ids)  # first: see new_generation
    chunk = _ARRAY_CHUNK if conn.dialect.name == "postgresql" else _CHUNK
    for start in range(0, len(ids), chunk):
        _reindex_chunk(conn, ids[start : start + chunk])


def _with_ids(conn: Connection, sql: str) -> sa.TextClause:
    """``sql`` with its condition ``IN :ids`` as the database takes a list best: on PostgreSQL
    ``= ANY(:ids)``, the ids as one array parameter (a statement whose text does not grow with the ids, prepared
    as fast for 10 as for 10,000); elsewhere an ``IN`` list of the ids."""
    if conn.dialect.name == "postgresql":
        return sa.text(sql.replace(" IN :ids", " = ANY(CAST(:ids AS INTEGER[]))"))
    return sa.text(sql).bindparams(sa.bindparam("ids", expanding=True))


def new_generation(conn: Connection, dataset_ids: Sequence[int] | None = None) -> int:
    """Give the index a new generation token and change number, in the transaction of the write it marks, and log
    which listings it changes (``dataset_ids``; None: everything, a rebuild); returns the change number.

    Every write to the index calls it (:func:`reindex`, :func:`rebuild`): a process that read the index under one
    token (see :func:`generation`) may keep what it read for as long as the token is unchanged. The token is random,
    never a counter: a transaction rolled back cannot leave behind a value that a later one would reuse.

    The change number (``search_generation.change``) is a counter incremented in the same UPDATE, and
    ``search_change`` gets one row per listing changed under it (one row with no listing for a rebuild; every row
    with the new token, which tells this history's change *N* from another's: a restored backup's), so a
    process that kept facet bitmaps at change *C* learns which listings to read again to reach the current
    number (:mod:`marketplace.catalog.search_bitmaps`). Numbers are committed in order, without gaps: on
    PostgreSQL the UPDATE locks the row until the transaction ends, so a second writer's UPDATE waits for the first
    to commit (and then increments the number it committed) or roll back (and then increments the number before
    it); SQLite has one writer at a time. So a transaction that sees change *N* sees every log row up to *N*, and a
    rolled-back write leaves neither its number nor its rows. Rows older than :data:`CHANGES_KEPT` numbers are
    pruned here, on write.

    On PostgreSQL the row stays locked until the transaction ends, so transactions that write the index take turns
    from their first index write on. Each takes the row before any of the dictionary's rows (``reindex`` calls this
    first), so that waiting for it never closes a cycle of waits on the dictionary's counts.
    """
    token = secrets.randbits(62)
    change = int(
        conn.execute(
            sa.text("UPDATE search_generation SET token = :token, change = change + 1 WHERE id = 1 RETURNING change"),
            {"token": token},
        ).scalar_one()
    )
    logged = {"c": change, "t": token}
    if dataset_ids is None:
        conn.execute(sa.text("INSERT INTO search_change (change, dataset_id, token) VALUES (:c, NULL, :t)"), logged)
    elif conn.dialect.name == "postgresql":
        conn.execute(
            sa.text(
                "INSERT INTO search_change (change, dataset_id, token) SELECT :c, unnest(CAST(:ids AS INTEGER[])), :t"
            ),
            {**logged, "ids": list(dataset_ids)},
        )
    else:
        conn.execute(
            sa.text("INSERT INTO search_change (change, dataset_id, token) VALUES (:c, :d, :t)"),
            [{**logged, "d": d} for d in dataset_ids],
        )
    conn.execute(sa.text("DELETE FROM search_change WHERE change <= :c"), {"c": change - CHANGES_KEPT})
    conn.info[WROTE_INDEX] = conn.get_transaction()
    return change


def wrote_index(conn: Connection) -> bool:
    """Whether the transaction ``conn`` is in has written to the index (not yet committed: what it reads of the
    index may still be rolled back)."""
    written = conn.info.get(WROTE_INDEX)
    return written is not None and written is conn.get_transaction()


def generation(conn: Connection) -> int | None:
    """The index's generation token as this transaction sees it (None without one: nothing may then be kept).

    Read on every search, kept or not, so sent as it is written (no statement to build or compile).
    """
    token = conn.exec_driver_sql("SELECT token FROM search_generation WHERE id = 1").scalar()
    return None if token is None else int(token)


def _reindex_chunk(conn: Connection, ids: list[int]) -> None:
    postgres = conn.dialect.name == "postgresql"
    before = indexed_values(conn, ids)
    published = [
        int(i)
        for (i,) in conn.execute(
            _with_ids(conn, "SELECT id FROM dataset WHERE id IN :ids AND status = :published"),
            {"ids": ids, "published": DatasetStatus.PUBLISHED.value},
        )
    ]
    pairs = _facet_pairs(conn, published) if published else set()
    value_ids = _value_ids(conn, {(f, v) for _, f, v in pairs} | ({ALL_LISTINGS} if published or before else set()))
    after: dict[int, set[int]] = {i: set() for i in published}
    for dataset_id, facet, value in pairs:
        after[dataset_id].add(value_ids[(facet, value)])

    conn.execute(_with_ids(conn, "DELETE FROM search_document WHERE dataset_id IN :ids"), {"ids": ids})
    if postgres:
        conn.execute(_with_ids(conn, "DELETE FROM search_keys WHERE dataset_id IN :ids"), {"ids": ids})
    else:
        conn.execute(_with_ids(conn, "DELETE FROM search_facet WHERE dataset_id IN :ids"), {"ids": ids})
    if published:
        vector = ", text_vector" if postgres else ""
        conn.execute(
            _with_ids(
                conn,
                f"INSERT INTO search_document (dataset_id, published_at, price_key, sample_key{vector})"  # noqa: S608 (constants, no input)
                f" SELECT d.id, COALESCE(d.published_at, d.created_at), {_price_sql('d.id')}, {sample_key_sql('d.id')}"
                f"{', d.search_vector' if postgres else ''} FROM dataset d WHERE d.id IN :ids",
            ),
            {"ids": published},
        )
        if postgres:
            conn.execute(
                sa.text("UPDATE search_document SET facet_ids = :f WHERE dataset_id = :d"),
                [{"d": d, "f": sorted(v)} for d, v in after.items()],
            )
            conn.execute(
                _with_ids(
                    conn,
                    f"INSERT INTO search_keys ({KEYS_COLUMNS}) SELECT {KEYS_COLUMNS} FROM search_document"  # noqa: S608 (constants, no input)
                    " WHERE dataset_id IN :ids",
                ),
                {"ids": published},
            )
        else:
            rows = [{"v": v, "d": d} for d, values in after.items() for v in sorted(values)]
            if rows:
                conn.execute(sa.text("INSERT INTO search_facet (value_id, dataset_id) VALUES (:v, :d)"), rows)
            conn.execute(
                sa.text("UPDATE search_document SET facet_values = :f WHERE dataset_id = :d"),
                [{"d": d, "f": pack_values(v)} for d, v in after.items()],
            )

    delta: Counter[int] = Counter()
    for dataset_id in set(before) | set(after):
        old, new = before.get(dataset_id), after.get(dataset_id)
        for value_id in (new or set()) - (old or set()):
            delta[value_id] += 1
        for value_id in (old or set()) - (new or set()):
            delta[value_id] -= 1
        delta[value_ids[ALL_LISTINGS]] += (new is not None) - (old is not None)
    changes = [{"id": i, "n": n} for i, n in sorted(delta.items()) if n]
    if changes:
        conn.execute(sa.text("UPDATE search_facet_value SET listings = listings + :n WHERE id = :id"), changes)


def rebuild(conn: Connection) -> int:
    """Recompute the whole index from the listings, set-based (fast at a million listings); returns how many
    listings it holds. Takes the place of every row (dictionary ids are kept, so cached ids stay valid)."""
    postgres = conn.dialect.name == "postgresql"
    if sa.inspect(conn).has_table("search_generation"):  # not yet while migration 0023 fills the index
        new_generation(conn)
    keys = postgres and sa.inspect(conn).has_table("search_keys")
    conn.execute(sa.text("DELETE FROM search_document"))
    if keys:
        conn.execute(sa.text("DELETE FROM search_keys"))
        for name in KEYS_INDEXES:
            conn.execute(sa.text(f"DROP INDEX IF EXISTS {name}"))
    if postgres:
        # One big grouping and two GIN builds: memory for them (this transaction only) saves spilling to disk.
        conn.execute(sa.text("SET LOCAL work_mem = '256MB'"))
        conn.execute(sa.text("SET LOCAL maintenance_work_mem = '512MB'"))
        for name in [*DOCUMENT_INDEXES, *GIN_INDEXES]:
            conn.execute(sa.text(f"DROP INDEX IF EXISTS {name}"))
    else:
        conn.execute(sa.text("DELETE FROM search_facet"))
    conn.execute(sa.text("UPDATE search_facet_value SET listings = 0"))
    conn.execute(sa.text("CREATE TEMPORARY TABLE search_pair (dataset_id INTEGER, facet VARCHAR(64), value TEXT)"))
    try:
        published: Any = (
            sa.select(sa.column("id"))
            .select_from(sa.table("dataset"))
            .where(sa.column("status") == DatasetStatus.PUBLISHED.value)
        )
        for name, facet in FACETS.items():
            pairs = facet.values().subquery()
            select = sa.select(
                pairs.c.dataset_id, sa.literal(name, sa.String()), sa.type_coerce(pairs.c.value, sa.String())
            ).where(pairs.c.dataset_id.in_(published), pairs.c.value.is_not(None))
            conn.execute(sa.insert(_PAIR).from_select(["dataset_id", "facet", "value"], select))
        conn.execute(
            sa.text(
                "INSERT INTO search_facet_value (facet, value, listings)"
                " SELECT DISTINCT p.facet, p.value, 0 FROM search_pair p WHERE NOT EXISTS"
                " (SELECT 1 FROM search_facet_value v WHERE v.facet = p.facet AND v.value = p.value)"
            )
        )
        if not conn.execute(sa.text("SELECT 1 FROM search_facet_value WHERE facet = '' AND value = ''")).first():
            conn.execute(sa.text("INSERT INTO search_facet_value (facet, value, listings) VALUES ('', '', 0)"))
        pair_ids = (
            "SELECT DISTINCT p.dataset_id, v.id AS value_id FROM search_pair p"
            " JOIN search_facet_value v ON v.facet = p.facet AND v.value = p.value"
        )
        document = (
            f"SELECT d.id, COALESCE(d.published_at, d.created_at), {_price_sql('d.id')}, {sample_key_sql('d.id')}"
        )
        if postgres:
            conn.execute(sa.text(f"CREATE TEMPORARY TABLE search_pair_id AS {pair_ids}"))
            conn.execute(
                sa.text(
                    "CREATE TEMPORARY TABLE search_value_list AS SELECT dataset_id,"
                    " array_agg(value_id ORDER BY value_id) AS ids FROM search_pair_id GROUP BY dataset_id"
                )
            )
            conn.execute(sa.text("ANALYZE search_value_list"))
            conn.execute(
                sa.text(
                    "INSERT INTO search_document (dataset_id, published_at, price_key, sample_key, text_vector,"  # noqa: S608 (constants, no input)
                    " facet_ids) SELECT d.id, COALESCE(d.published_at, d.created_at),"
                    f" COALESCE(p.price, {NO_PRICE}), {sample_key_sql('d.id')}, d.search_vector,"
                    " COALESCE(f.ids, '{}') FROM dataset d"
                    " LEFT JOIN search_value_list f ON f.dataset_id = d.id"
                    " LEFT JOIN (SELECT dataset_id, MIN(price_amount) AS price FROM offer WHERE is_active = TRUE"
                    " AND audience_org_id IS NULL GROUP BY dataset_id) p ON p.dataset_id = d.id"
                    f" WHERE d.status = '{DatasetStatus.PUBLISHED.value}'"
                )
            )
            counted = "search_pair_id"
        else:
            conn.execute(
                sa.text(
                    f"INSERT INTO search_facet (value_id, dataset_id) SELECT value_id, dataset_id FROM ({pair_ids})"  # noqa: S608 (constants, no input)
                )
            )
            conn.execute(
                sa.text(
                    f"INSERT INTO search_document (dataset_id, published_at, price_key, sample_key) {document}"
                    f" FROM dataset d WHERE d.status = '{DatasetStatus.PUBLISHED.value}'"
                )
            )
            counted = "search_facet"
            _pack_all(conn)
        conn.execute(
            sa.text(
                "UPDATE search_facet_value SET listings = c.n FROM"  # noqa: S608 (constants, no input)
                f" (SELECT value_id, count(*) AS n FROM {counted} GROUP BY value_id) c"
                " WHERE c.value_id = search_facet_value.id"
            )
        )
        if postgres:
            for name, definition in {**DOCUMENT_INDEXES, **GIN_INDEXES}.items():
                conn.execute(sa.text(f"CREATE INDEX {name} {definition}"))
            conn.execute(sa.text("ANALYZE search_document"))
        if keys:
            _fill_keys(conn)
        total = int(conn.execute(sa.text("SELECT count(*) FROM search_document")).scalar_one())
        conn.execute(sa.text("UPDATE search_facet_value SET listings = :n WHERE facet = ''"), {"n": total})
    finally:
        conn.execute(sa.text("DROP TABLE IF EXISTS search_pair"))
        if postgres:
            conn.execute(sa.text("DROP TABLE IF EXISTS search_pair_id"))
            conn.execute(sa.text("DROP TABLE IF EXISTS search_value_list"))
    return total


def _fill_keys(conn: Connection) -> None:
    """PostgreSQL: ``search_keys`` from ``search_document``, in newest order (the newest listings' rows together),
    then its indexes."""
    conn.execute(
        sa.text(
            f"INSERT INTO search_keys ({KEYS_COLUMNS}) SELECT {KEYS_COLUMNS} FROM search_document"  # noqa: S608 (constants, no input)
            " ORDER BY published_at DESC, dataset_id DESC"
        )
    )
    for name, definition in KEYS_INDEXES.items():
        conn.execute(sa.text(f"CREATE INDEX {name} {definition}"))
    conn.execute(sa.text("ANALYZE search_keys"))


def _pack_all(conn: Connection) -> None:
    """SQLite: write every listing's packed value ids from ``search_facet`` (streamed, in batches)."""
    rows = conn.execute(sa.text("SELECT dataset_id, value_id FROM search_facet ORDER BY dataset_id, value_id"))
    batch: list[dict[str, Any]] = []
    current, values = None, []
    for dataset_id, value_id in [*rows, (None, None)]:
        if dataset_id != current and current is not None:
            batch.append({"d": current, "f": pack_values(values)})
            values = []
        current = dataset_id
        values.append(value_id)
        if len(batch) >= 5_000 or (dataset_id is None and batch):
            conn.execute(sa.text("UPDATE search_document SET facet_values = :f WHERE dataset_id = :d"), batch)
            batch = []


def snapshot(conn: Connection) -> dict[str, Any]:
    """The index's content by names (not dictionary ids), for comparing an index with a rebuild."""
    names = {int(i): (f, v) for i, f, v in conn.execute(sa.text("SELECT id, facet, value FROM search_facet_value"))}
    counts = {
        names[int(i)]: int(n)
        for i, n in conn.execute(sa.text("SELECT id, listings FROM search_facet_value WHERE listings <> 0"))
    }
    docs = {}
    for dataset_id, published_at, price, sample in conn.execute(
        sa.text("SELECT dataset_id, published_at, price_key, sample_key FROM search_document")
    ):
        docs[int(dataset_id)] = {"published_at": str(published_at), "price": int(price), "sample": int(sample)}
    for dataset_id, values in indexed_values(conn, sorted(docs)).items():
        docs[dataset_id]["facets"] = sorted(names[v] for v in values)
    if conn.dialect.name != "postgresql":
        for dataset_id, packed in conn.execute(sa.text("SELECT dataset_id, facet_values FROM search_document")):
            docs[int(dataset_id)]["packed"] = sorted(names[v] for v in unpack_values([packed]))
    differ: list[int] = []
    if conn.dialect.name == "postgresql":
        for dataset_id, vector in conn.execute(sa.text("SELECT dataset_id, text_vector::text FROM search_document")):
            docs[int(dataset_id)]["text"] = vector
        differ = sorted(  # search_keys must be search_document without the text, row for row
            int(i)
            for (i,) in conn.execute(
                sa.text(
                    f"SELECT COALESCE(d.dataset_id, k.dataset_id) FROM (SELECT {KEYS_COLUMNS} FROM search_document) d"  # noqa: S608 (constants, no input)
                    " FULL JOIN search_keys k ON k.dataset_id = d.dataset_id"
                    " WHERE (d.*) IS DISTINCT FROM (k.*)"
                )
            )
        )
    return {"documents": docs, "counts": counts, "keys_differ": differ}
