"""Facet counts of a search without text from compressed bitmaps, kept current from the index's change log.

Each process keeps, per database, one bitmap (a ``pyroaring`` set of listing ids) per facet value and the bitmap
of every indexed listing. A search without text and with facet filters then counts exactly, whatever it matches,
by intersections in memory: the total is every selected facet's union of value bitmaps, intersected; each facet's
disjunctive counts are the intersection sizes of its value bitmaps with the scope of every other selection. No
SQL is run for them, so no count is ever estimated.

**Staying current.** Every write to the index increments ``search_generation.change`` and logs the listings it
changed in ``search_change`` under that number, in its own transaction
(:func:`marketplace.catalog.search_index.new_generation`, which explains why numbers are committed in order). The
bitmaps are labelled with the change number they hold. A search first reads the number its transaction sees
(one primary-key read); when it is newer than the bitmaps', the listings logged since are read again (their
current facet values) and the bitmaps updated: each such id is removed from every bitmap, then added to those of
its current values (and to every listing's, when it is still indexed). When the log no longer holds every number
since (pruned: :data:`~marketplace.catalog.search_index.CHANGES_KEPT` numbers are kept), holds a rebuild's marker,
or holds more than :data:`REREAD_MAX` rows since, the bitmaps are built from scratch by one set-based statement.

On PostgreSQL (read committed) the statements that read the log and the listings may see writes committed after
the number read first: the bitmaps then hold some listings newer than their label, never older, and the next
update reads those listings again (an update is idempotent: it sets each listing to its current values).

**One history.** A change number names a state of the index only together with the token set with it (every log
row carries its change's token, :func:`~marketplace.catalog.search_index.new_generation`). Bitmaps are labelled with
both, and are brought forward only from a log whose rows at their number carry their token: a database restored
from an older backup, or dropped and created again under the same URL, reaches the same numbers with other
contents, and is then built from scratch instead of being patched onto bitmaps of another history.

**Uncommitted writes.** A transaction that wrote to the index itself sees numbers and log rows that a rollback
would take back: it never replaces the process's bitmaps. It counts from a private copy brought up to the number
it sees from the shared one (or, with no shared bitmaps, or when that would mean a rebuild, by SQL).

**Threads.** Bitmaps are never changed once made (frozen sets, a fresh mapping per update: copy on write); the
store swaps them under a lock, and one build per database runs at a time. A catalog past :data:`SYNC_BUILD_MAX`
listings is built in a thread of its own, on its own connection, and searches count by SQL until it is done (a
web worker is never held up by it past its request timeout).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import sqlalchemy as sa
from pyroaring import BitMap, FrozenBitMap
from sqlalchemy.engine import Connection

from marketplace.catalog import search_index
from marketplace.catalog.facets import FACETS
from marketplace.catalog.search_counts import Counts
from marketplace.catalog.search_engine import Dictionary, Request

logger = logging.getLogger(__name__)

# Catalogs up to this many listings build their bitmaps in the search that needs them (100,000: about a second);
# larger ones in a thread of their own, while searches count by SQL (a million: tens of seconds on two cores).
SYNC_BUILD_MAX = 200_000
REREAD_MAX = 50_000  # past this many log rows since the bitmaps' number, they are built from scratch
_EVERYTHING = -1  # the value id under which the build statement returns every indexed listing


class Label(NamedTuple):
    """A state of the index: its change number and the generation token set with it (see "One history")."""

    change: int
    token: int


@dataclass(frozen=True)
class Bitmaps:
    """The listings of every facet value (by dictionary id) and of the whole index, as of ``label``."""

    label: Label
    everything: FrozenBitMap
    values: Mapping[int, FrozenBitMap]

    @property
    def change(self) -> int:
        return self.label.change


def read_label(conn: Connection) -> Label | None:
    """The index's change number and token as this transaction sees them (None without them)."""
    found = conn.execute(sa.text("SELECT change, token FROM search_generation WHERE id = 1")).first()
    return None if found is None else Label(int(found[0]), int(found[1]))


def read_change(conn: Connection) -> int | None:
    """The index's change number as this transaction sees it (None without one)."""
    label = read_label(conn)
    return None if label is None else label.change


def build(conn: Connection, label: Label) -> Bitmaps:
    """Every bitmap from scratch, in one statement (so from one snapshot); labelled ``label``, which must have
    been read before (see the module's text)."""
    if conn.dialect.name == "postgresql":
        statement = (
            f"SELECT {_EVERYTHING}, array_agg(dataset_id) FROM search_keys"  # noqa: S608 (constants, no input)
            " UNION ALL SELECT v, array_agg(k.dataset_id) FROM search_keys k, unnest(k.facet_ids) AS v GROUP BY v"
        )
        rows: Iterable[Any] = conn.execute(sa.text(statement))
        found = {int(v): FrozenBitMap(ids or ()) for v, ids in rows}
    else:
        statement = (
            f"SELECT {_EVERYTHING}, group_concat(dataset_id) FROM search_document"  # noqa: S608 (constants, no input)
            " UNION ALL SELECT value_id, group_concat(dataset_id) FROM search_facet GROUP BY value_id"
        )
        found = {int(v): _parsed(ids) for v, ids in conn.execute(sa.text(statement))}
    everything = found.pop(_EVERYTHING, FrozenBitMap())
    return Bitmaps(label, everything, found)


def _parsed(text: str | None) -> FrozenBitMap:
    """Comma-separated ids as a bitmap (parsed as a JSON list: the fastest parser of many integers at hand)."""
    return FrozenBitMap(json.loads("[" + text + "]")) if text else FrozenBitMap()


def advanced(conn: Connection, held: Bitmaps, label: Label) -> Bitmaps | None:
    """``held`` brought to ``label`` from the log (see the module's text); None when the log cannot say (pruned,
    another history than ``held``'s, a rebuild since, or more than :data:`REREAD_MAX` rows since): then build
    from scratch."""
    rows = conn.execute(
        sa.text(
            "SELECT change, dataset_id, token FROM search_change WHERE change >= :held AND change <= :now LIMIT :most"
        ),
        {"held": held.change, "now": label.change, "most": REREAD_MAX + 1},
    ).all()
    if len(rows) > REREAD_MAX:
        return None
    tokens = {int(number): int(token) for number, _, token in rows}
    if tokens.get(held.change) != held.label.token or tokens.get(label.change) != label.token:
        return None  # the log does not hold the bitmaps' own state (pruned, or another history)
    since = [(int(number), dataset_id) for number, dataset_id, _ in rows if number > held.change]
    if len(tokens) != label.change - held.change + 1 or any(dataset_id is None for _, dataset_id in since):
        return None  # a number without rows: pruned; a row without a listing: a rebuild
    ids = sorted({int(dataset_id) for _, dataset_id in since})
    current = search_index.indexed_values(conn, ids) if ids else {}
    changed = BitMap(ids)
    values = dict(held.values)
    for value_id, listings in held.values.items():
        if listings.intersect(changed):
            values[value_id] = FrozenBitMap(listings - changed)
    added: dict[int, list[int]] = {}
    for dataset_id, value_ids in current.items():
        for value_id in value_ids:
            added.setdefault(value_id, []).append(dataset_id)
    for value_id, dataset_ids in added.items():
        values[value_id] = FrozenBitMap(values.get(value_id, FrozenBitMap()) | BitMap(dataset_ids))
    everything = FrozenBitMap((held.everything - changed) | BitMap(current))
    return Bitmaps(label, everything, values)


class BitmapStore:
    """The bitmaps of every database this process searches, by database (see the module's text)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._builds: dict[str, threading.Lock] = {}
        self._background: set[str] = set()
        self._by_database: dict[str, Bitmaps] = {}
        self.last_build_seconds = 0.0

    def held(self, database: str) -> Bitmaps | None:
        with self._lock:
            return self._by_database.get(database)

    def _keep(self, database: str, bitmaps: Bitmaps) -> None:
        with self._lock:
            kept = self._by_database.get(database)
            if kept is None or kept.change <= bitmaps.change:  # the same number: this one is of the database's history
                self._by_database[database] = bitmaps

    def current(self, conn: Connection, database: str, *, wait: bool = True) -> Bitmaps | None:
        """The bitmaps as of the change number ``conn``'s transaction sees: kept, brought up to it, or built; None
        when they cannot be had cheaply and truthfully (the transaction sees an older number than the kept one,
        or it wrote the index and there is nothing to start from without a rebuild), or when they must be built
        from scratch and ``wait`` is false: the build then runs in a thread of its own (on its own connection) and
        the caller counts by SQL meanwhile."""
        label = read_label(conn)
        if label is None:
            return None
        held = self._of_history(database, label)
        if held is not None and held.label == label:
            return held
        if held is not None and held.change > label.change:
            return None
        if search_index.wrote_index(conn):  # private: never kept, as a rollback may take the change back
            return advanced(conn, held, label) if held is not None else None
        with self._lock:
            building = self._builds.setdefault(database, threading.Lock())
        with building:
            held = self._of_history(database, label)
            if held is not None and held.change >= label.change:
                return held if held.label == label else None
            fresh = advanced(conn, held, label) if held is not None else None
            if fresh is None and not wait:
                self._build_later(conn.engine, database)
                return None
            if fresh is None:
                fresh = self._built(conn, label)
            self._keep(database, fresh)
            return fresh

    def _of_history(self, database: str, label: Label) -> Bitmaps | None:
        """The kept bitmaps, unless they hold the same change number as ``label`` with another token (another
        history: see the module's text)."""
        held = self.held(database)
        return None if held is not None and held.change == label.change and held.label != label else held

    def _built(self, conn: Connection, label: Label) -> Bitmaps:
        started = time.perf_counter()
        fresh = build(conn, label)
        self.last_build_seconds = time.perf_counter() - started
        return fresh

    def _build_later(self, engine: sa.Engine, database: str) -> None:
        """Build ``database``'s bitmaps from scratch in a thread (one at a time per database) and keep them."""
        with self._lock:
            if database in self._background:
                return
            self._background.add(database)

        def run() -> None:
            try:
                with engine.connect() as conn:
                    if conn.dialect.name == "postgresql":  # one large grouping: memory saves spilling to disk
                        conn.execute(sa.text("SELECT set_config('work_mem', '256MB', true)"))
                    label = read_label(conn)
                    if label is not None:
                        self._keep(database, self._built(conn, label))
            except sa.exc.SQLAlchemyError:
                logger.exception("building the facet bitmaps failed; searches count by SQL meanwhile")
            finally:
                with self._lock:
                    self._background.discard(database)

        threading.Thread(target=run, name="search-bitmaps", daemon=True).start()

    def clear(self) -> None:
        with self._lock:
            self._by_database.clear()


#: The process's bitmaps (each web worker has its own).
STORE = BitmapStore()


def _union(bitmaps: Bitmaps, value_ids: Iterable[int]) -> FrozenBitMap:
    found = [bitmaps.values[i] for i in value_ids if i in bitmaps.values]
    if not found:
        return FrozenBitMap()
    return found[0] if len(found) == 1 else FrozenBitMap.union(*found)


def _intersection(sets: list[FrozenBitMap], everything: FrozenBitMap) -> FrozenBitMap:
    if not sets:
        return everything
    ordered = sorted(sets, key=len)
    found = ordered[0]
    for other in ordered[1:]:
        found = found & other
    return found


def page(conn: Connection, ids: FrozenBitMap, request: Request) -> list[int]:
    """The page of the listings ``ids`` in the request's order (newest first, or lowest price first), ordered by
    the database from their sort keys read by primary key, in one statement (the ids as one parameter): only the
    page's rows come back."""
    price = "price_key, " if request.sort == "price" else ""
    if conn.dialect.name == "postgresql":
        # The ids as one array literal: the driver adapts a list of thousands of ints far more slowly.
        source, condition = "search_keys", "dataset_id = ANY(CAST(:ids AS INTEGER[]))"
        ids_param = "{" + ",".join(map(str, ids)) + "}"
    else:
        source, condition = "search_document", "dataset_id IN (SELECT value FROM json_each(:ids))"
        ids_param = json.dumps(list(ids))
    statement = (
        f"SELECT dataset_id FROM {source} WHERE {condition}"  # noqa: S608 (constants, no input)
        f" ORDER BY {price}published_at DESC, dataset_id DESC LIMIT :size OFFSET :offset"
    )
    rows = conn.execute(sa.text(statement), {"ids": ids_param, "size": request.page_size, "offset": request.offset})
    return [int(i) for (i,) in rows]


def count(
    bitmaps: Bitmaps, request: Request, words: Dictionary, *, with_facets: bool
) -> tuple[Counts, FrozenBitMap] | None:
    """The total and (``with_facets``) every facet's disjunctive counts of a search without text, exact, and its
    matches (None for a search with text, or without a facet filter: the dictionary's counts serve that one)."""
    names = [name for name in request.filters if name in FACETS]
    if request.groups or not names:
        return None
    selected = {name: _union(bitmaps, words.ids_for(name, request.filters[name])) for name in names}
    whole = _intersection(list(selected.values()), bitmaps.everything)
    if not with_facets:
        return Counts(len(whole), False, {}, set()), whole
    own = {
        name: _intersection([s for other, s in selected.items() if other != name], bitmaps.everything) for name in names
    }
    counted: dict[int, int] = {}
    for value_id, (facet, _) in words.names.items():
        listings = bitmaps.values.get(value_id)
        if listings is not None:
            counted[value_id] = listings.intersection_cardinality(own.get(facet, whole))
    return Counts(len(whole), False, words.by_name(counted), set()), whole
