"""The search engine over the search index (:mod:`marketplace.catalog.search_index`): one interface, the SQL for
SQLite (FTS5, a child table of facet value ids) and PostgreSQL (``tsvector`` and ``int[]`` with GIN indexes).

Every query's cost is bounded, whatever it matches:

- **Counts** (:mod:`marketplace.catalog.search_counts`) are exact up to ``limit`` matches
  (``SEARCH_EXACT_COUNT_LIMIT``). Past it, the total and the facet counts are estimated from the fixed sample (the
  ``limit`` listings with the lowest ``sample_key``), scaled to the catalog, rounded to two significant digits and
  flagged as estimates. With no text and no filter, counts are the dictionary's, maintained on write. With no text
  and facet filters, the total and every facet's counts are exact, whatever they count, from the process's facet
  bitmaps (:mod:`marketplace.catalog.search_bitmaps`); a page the order's index reaches in fewer rows than the
  matches walks it, a deeper one orders up to ``limit`` matches by their ids.
- **Relevance** ranks the first ``candidates`` matches in newest order (the first pages: 1,000 listings), so a
  page costs at most that many scores; when fewer match, all are ranked. The pages past them list the further
  matches in newest order: the order is total (ranked candidates, then the rest newest first) and the same on
  every page, as the candidates are exactly the newest matches.
- **Pages** in newest or price order walk an index in that order. When the counts read every match (at most
  ``limit``), the page is ordered from those rows instead (relevance scores only the candidates, by id).

Relevance is field-weighted and the same on both databases: each query group (a typed word, with its synonyms;
or a quoted phrase) adds 2 × the weight of every field group it occurs in exactly (title 8, summary and tags 3,
description 1), or 1 × the weight where it occurs only as a prefix of a longer word.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Session

from marketplace.catalog.facets import FACETS
from marketplace.catalog.synonyms import Alternative, TermGroup

PREFIX_MIN_CHARS = 3  # the last typed word, this long, also matches as a prefix ("speech recog" finds "recognition")
RANKED_GROUPS = 6  # further groups still filter, but no longer add to the score
# (FTS5 columns, tsvector weight label, weight)
FIELD_GROUPS = ((("title",), "A", 8), (("summary", "tags_text"), "B", 3), (("description",), "C", 1))

DOC = sa.table(
    "search_document",
    sa.column("dataset_id", sa.Integer()),
    sa.column("published_at"),
    sa.column("price_key", sa.BigInteger()),
    sa.column("sample_key", sa.BigInteger()),
    sa.column("facet_ids"),
    sa.column("text_vector"),
    sa.column("facet_values"),
)
# PostgreSQL: search_document without the text vector (search_index), for what reads no text.
KEYS = sa.table(
    "search_keys",
    sa.column("dataset_id", sa.Integer()),
    sa.column("published_at"),
    sa.column("price_key", sa.BigInteger()),
    sa.column("sample_key", sa.BigInteger()),
    sa.column("facet_ids"),
)
FTS = sa.table("dataset_fts", sa.column("rowid", sa.Integer()))
# Walking the order's index reads about (rows needed) x (listings / matches) rows; sorting reads the matches. A page
# walks when that is less (rows needed: the page's end, or every relevance candidate) times this factor.
WALK_FACTOR = 1.0
WORK_MEM = "32MB"  # PostgreSQL, per search (this transaction only): exact bitmaps for a million listings
FACET_ROW = sa.table("search_facet", sa.column("value_id", sa.Integer()), sa.column("dataset_id", sa.Integer()))
# A constant the parser turns into the configuration's id, so to_tsquery(config, text) is folded once per query. (A
# cast of a bound string to regconfig is only stable: PostgreSQL parsed the query again for every row it tested, 3x
# the time of a 1,000-candidate relevance page at a million listings.)
_TS_CONFIG = sa.literal_column("'english'::regconfig", postgresql.REGCONFIG)


@dataclass(frozen=True)
class Request:
    """What the engine runs: the query groups, the selected values by facet, the order, and the page window."""

    groups: tuple[TermGroup, ...]
    filters: Mapping[str, tuple[str, ...]]
    sort: str  # relevance, newest or price
    offset: int
    page_size: int
    candidates: int
    limit: int  # exact counts up to this many matches


@dataclass
class Matches:
    """Every match of a search, read by its counts: ids newest first, and (``by_price``, for the price order)
    lowest price first."""

    newest: list[int]
    by_price: list[int] | None = None

    @classmethod
    def ordered(cls, rows: Sequence[tuple[int, Any, int]], *, price: bool) -> Matches:
        """From (id, published_at, price_key) rows, in no order."""
        newest = sorted(rows, key=lambda m: (m[1], m[0]), reverse=True)
        by_price = [m[0] for m in sorted(newest, key=lambda m: m[2])] if price else None
        return cls([m[0] for m in newest], by_price)


# --- dictionary -----------------------------------------------------------------------------------------------------


@dataclass
class Dictionary:
    names: dict[int, tuple[str, str]]
    listings: dict[int, int]
    everything: int

    def ids_for(self, facet: str, values: Sequence[str]) -> list[int]:
        """The value ids a selection matches: each value, and for a hierarchical facet every value below it."""
        hierarchical = FACETS[facet].hierarchical if facet in FACETS else False
        return sorted(
            i
            for i, (f, v) in self.names.items()
            if f == facet and (v in values or (hierarchical and any(v.startswith(s + "-") for s in values)))
        )

    def listed(self, value_ids: Sequence[int]) -> int:
        """The dictionary's listings of ``value_ids``, summed (a listing with two of them counts twice: exact for
        one value, an upper bound for several)."""
        return sum(self.listings.get(i, 0) for i in value_ids)

    def by_name(self, counts: Mapping[int, int]) -> dict[str, dict[str, int]]:
        named: dict[str, dict[str, int]] = {name: {} for name in FACETS}
        for value_id, n in counts.items():
            facet, value = self.names.get(value_id, ("", ""))
            if facet in named and n > 0:
                named[facet][value] = n
        return named


def read_dictionary(session: Session) -> Dictionary:
    names: dict[int, tuple[str, str]] = {}
    listings: dict[int, int] = {}
    everything = 0
    for value_id, facet, value, n in session.execute(
        sa.text("SELECT id, facet, value, listings FROM search_facet_value")
    ):
        if facet == "":
            everything = int(n)
            continue
        names[int(value_id)] = (str(facet), str(value))
        listings[int(value_id)] = int(n)
    return Dictionary(names, listings, everything)


# --- text ---------------------------------------------------------------------------------------------------------


def _prefixed(prefix: bool | int, n: int, groups: Sequence[TermGroup]) -> bool:
    """Whether group ``n`` of ``groups`` matches as a prefix: only the last one, the word being typed (a prefix
    of a word that is done would cost every completion's listings on each search; PostgreSQL's GIN cannot skip
    through a prefix's matches). ``prefix`` is false (never), true (if last) or ``LAST`` (a lone group that is the
    query's last)."""
    return prefix == LAST or (prefix is True and n == len(groups) - 1)


LAST = 2  # see _prefixed


def _words(alternative: Alternative, *, prefix: bool) -> list[tuple[str, bool]]:
    typed = not alternative.phrase
    return [(w, prefix and typed and len(w) >= PREFIX_MIN_CHARS) for w in alternative.words]


def fts5_expression(groups: Sequence[TermGroup], *, prefix: bool | int = True, columns: Sequence[str] = ()) -> str:
    """An FTS5 query for ``groups``: each group one of its alternatives (typed words all present; synonyms as
    phrases), every group present; the last group's typed words also as prefixes
    (see :func:`_prefixed`). Words are ``[^\\W_]+`` (the tokeniser's), so quoting
    makes each a plain string, never an operator."""
    parts = []
    for n, group in enumerate(groups):
        alternatives = []
        for alternative in group.alternatives:
            if alternative.phrase:
                alternatives.append('"' + " ".join(alternative.words) + '"')
            else:
                typed = _words(alternative, prefix=_prefixed(prefix, n, groups))
                alternatives.append(" ".join(f'"{w}"' + ("*" if p else "") for w, p in typed))
        parts.append("(" + " OR ".join(f"({a})" for a in alternatives) + ")")
    expression = " AND ".join(parts)
    return "{" + " ".join(columns) + "} : (" + expression + ")" if columns else expression


def ts_query_text(groups: Sequence[TermGroup], *, prefix: bool | int = True, label: str = "") -> str:
    """The same as :func:`fts5_expression` for PostgreSQL's ``to_tsquery``, optionally limited to one weight."""
    parts = []
    for n, group in enumerate(groups):
        alternatives = []
        for alternative in group.alternatives:
            joiner = " <-> " if alternative.phrase else " & "
            words = [
                w + (":" + ("*" if p else "") + label if p or label else "")
                for w, p in _words(alternative, prefix=_prefixed(prefix, n, groups))
            ]
            alternatives.append("(" + joiner.join(words) + ")")
        parts.append("(" + " | ".join(alternatives) + ")")
    return " & ".join(parts)


def _ts_query(text: str) -> Any:
    return sa.func.to_tsquery(_TS_CONFIG, text, type_=postgresql.TSQUERY)


def _fts_ids(expression: str, within: tuple[int, int] | None = None) -> Any:
    """The ids of the listings matching ``expression``; ``within`` (lowest, highest): only those in that range of
    ids, which FTS5 seeks to in its lists instead of reading them whole."""
    rowid: Any = sa.literal_column("rowid")
    found = sa.select(rowid).select_from(sa.table("dataset_fts"))
    found = found.where(sa.literal_column("dataset_fts").op("MATCH")(sa.literal(expression)))
    return found.where(rowid.between(*within)) if within is not None else found


def text_condition(dialect: str, groups: Sequence[TermGroup], source: Any = DOC, *, walk: bool = False) -> Any:
    """Whether a row of ``source`` matches the text. ``walk`` (SQLite): keep the planner from driving the query by
    the matches (``+ 0`` hides the key from its indexes), so it walks the order's index instead."""
    if dialect == "postgresql":
        return source.c.text_vector.op("@@")(_ts_query(ts_query_text(groups)))
    key = source.c.dataset_id + 0 if walk else source.c.dataset_id
    return key.in_(_fts_ids(fts5_expression(groups)))


def score(dialect: str, groups: Sequence[TermGroup], source: Any, within: tuple[int, int] | None = None) -> Any:
    """The relevance score of a matching row of ``source`` (see the module documentation); on SQLite, ``within``
    bounds the ids of the rows scored (see :func:`_fts_ids`)."""
    total: Any = sa.literal(0)
    for n, group in enumerate(groups[:RANKED_GROUPS]):
        last = n == len(groups) - 1
        has_prefix = last and any(p for a in group.alternatives for _, p in _words(a, prefix=True))
        for columns, label, weight in FIELD_GROUPS:
            if dialect == "postgresql":
                exact = source.c.text_vector.op("@@")(_ts_query(ts_query_text([group], prefix=False, label=label)))
                loose = source.c.text_vector.op("@@")(_ts_query(ts_query_text([group], prefix=LAST, label=label)))
            else:
                exact_text = fts5_expression([group], prefix=False, columns=columns)
                exact = source.c.dataset_id.in_(_fts_ids(exact_text, within))
                loose = source.c.dataset_id.in_(
                    _fts_ids(fts5_expression([group], prefix=LAST, columns=columns), within)
                )
            cases = [(exact, 2 * weight)] + ([(loose, weight)] if has_prefix else [])
            total = total + sa.case(*cases, else_=0)
    return total


# --- conditions -----------------------------------------------------------------------------------------------------


def facet_condition(dialect: str, value_ids: Sequence[int], source: Any = DOC, *, drive: bool = False) -> Any:
    """Whether a row of ``source`` has one of ``value_ids``. On SQLite the facet that ``drive``s lists its
    listings (an IN list the planner may start from); the others probe the child table's primary key per row."""
    if not value_ids:
        return sa.false()
    if dialect == "postgresql":
        array = sa.cast(sa.literal(list(value_ids), postgresql.ARRAY(sa.Integer())), postgresql.ARRAY(sa.Integer()))
        return source.c.facet_ids.op("&&")(array)
    if drive:
        return source.c.dataset_id.in_(
            sa.select(FACET_ROW.c.dataset_id).where(FACET_ROW.c.value_id.in_(list(value_ids)))
        )
    probe = FACET_ROW.alias()
    return sa.exists().where(probe.c.value_id.in_(list(value_ids)), probe.c.dataset_id == source.c.dataset_id)


def conditions(
    dialect: str,
    request: Request,
    words: Dictionary,
    *,
    skip: str | None = None,
    source: Any = DOC,
    text: bool = True,
    walk: bool = False,
) -> list[Any]:
    """The filters' conditions (all but ``skip``'s) and, unless ``text`` is false, the text's. Without text and
    unless ``walk``, the filter with the fewest listings (by the dictionary's counts) drives on SQLite."""
    found: list[Any] = []
    if request.groups and text:
        found.append(text_condition(dialect, request.groups, source, walk=walk))
    selected = {name: words.ids_for(name, values) for name, values in request.filters.items() if name != skip}
    driver = None
    if not request.groups and not walk and selected:
        driver = min(selected, key=lambda name: words.listed(selected[name]))
    for name, value_ids in selected.items():
        found.append(facet_condition(dialect, value_ids, source, drive=name == driver))
    return found


def matching(dialect: str, request: Request, words: Dictionary, columns: Sequence[Any], skip: str | None = None) -> Any:
    """SELECT ``columns`` of the matching listings, unordered. On SQLite the text's matches drive the query (an
    FTS5 scan streams them, joined to the index), or without text the rows of the filter value with the fewest
    listings, so a bounded count stops early and the other filters are probes."""
    if dialect == "postgresql":
        return sa.select(*columns).select_from(DOC).where(*conditions(dialect, request, words, skip=skip))
    if not request.groups:
        selected = {n: words.ids_for(n, v) for n, v in request.filters.items() if n != skip}
        single = [n for n, ids in selected.items() if len(ids) == 1]
        if not single:
            return sa.select(*columns).select_from(DOC).where(*conditions(dialect, request, words, skip=skip))
        driver = min(single, key=lambda n: words.listings.get(selected[n][0], 0))
        rows = FACET_ROW.alias("driver")
        others = [facet_condition(dialect, ids, DOC) for n, ids in selected.items() if n != driver]
        return (
            sa.select(*columns)
            .select_from(rows.join(DOC, DOC.c.dataset_id == rows.c.dataset_id))
            .where(rows.c.value_id == selected[driver][0], *others)
        )
    matched = sa.literal_column("dataset_fts").op("MATCH")(sa.literal(fts5_expression(request.groups)))
    return (
        sa.select(*columns)
        .select_from(FTS.join(DOC, DOC.c.dataset_id == FTS.c.rowid))
        .where(matched, *conditions(dialect, request, words, skip=skip, text=False))
    )


# --- pages ----------------------------------------------------------------------------------------------------------


def _newest(source: Any) -> list[Any]:
    return [source.c.published_at.desc(), source.c.dataset_id.desc()]


def _page_of(session: Session, dialect: str, request: Request, found: Matches) -> list[int]:
    """The page from every match, read already (by the counts); relevance scores the candidates (the newest
    ``candidates`` of them) by id, without matching the text again."""
    end = request.offset + request.page_size
    if request.sort == "price" and found.by_price is not None:
        return found.by_price[request.offset : end]
    if not (request.sort == "relevance" and request.groups and request.offset < request.candidates):
        return found.newest[request.offset : end]
    return _scored_page(session, dialect, request, found.newest[: request.candidates])


def _scored_page(session: Session, dialect: str, request: Request, ids: list[int]) -> list[int]:
    """The page of the candidates ``ids`` by relevance (then newest first). On SQLite the text's lists are read
    only over the candidates' range of ids (the newest matches: a narrow range when ids grow with time)."""
    if not ids:
        return []
    within = None
    if dialect == "postgresql":
        array = sa.cast(sa.literal(ids, postgresql.ARRAY(sa.Integer())), postgresql.ARRAY(sa.Integer()))
        condition = DOC.c.dataset_id == sa.any_(array)
    else:
        condition = DOC.c.dataset_id.in_(sa.bindparam("ids", ids, expanding=True))
        within = (min(ids), max(ids))
    statement = (
        sa.select(DOC.c.dataset_id)
        .where(condition)
        .order_by(score(dialect, request.groups, DOC, within).desc(), *_newest(DOC))
        .limit(request.page_size)
        .offset(request.offset)
    )
    return [int(row[0]) for row in session.execute(statement)]


def page_ids(
    session: Session,
    dialect: str,
    request: Request,
    words: Dictionary,
    matches: int = 0,
    found: Matches | None = None,
) -> list[int]:
    """The page's ids in order. With ``found`` (every match, read by the counts) the page is ordered from those.
    Otherwise ``matches`` (the count, or its estimate) decides between walking the order's index and testing each
    listing (when many match: the first page then reads a few dozen rows) and sorting the matches (when few do)."""
    if found is not None and (request.sort != "price" or found.by_price is not None):
        return _page_of(session, dialect, request, found)
    ranked = request.sort == "relevance" and bool(request.groups) and request.offset < request.candidates
    needed = request.candidates if ranked else request.offset + request.page_size
    walks = matches > 0 and needed * words.everything / matches * WALK_FACTOR < matches
    walk = dialect == "sqlite" and walks

    def select(*columns: Any) -> Any:
        if walk:
            return sa.select(*columns).where(*conditions(dialect, request, words, walk=True))
        return matching(dialect, request, words, columns)

    if ranked:
        # The candidates are chosen narrow (id and date: a sort that stays in memory), then scored; PostgreSQL
        # reads the vectors of those candidates only.
        narrow = select(DOC.c.dataset_id, DOC.c.published_at).order_by(*_newest(DOC)).limit(request.candidates)
        if dialect == "sqlite":  # scored by id once read (the text's lists read over their range only)
            return _scored_page(session, dialect, request, [int(row[0]) for row in session.execute(narrow)])
        candidates = narrow.subquery("candidate")
        scored: Any = candidates
        source: Any = candidates
        if dialect == "postgresql":
            vectors = DOC.alias("scored")
            source = candidates.join(vectors, vectors.c.dataset_id == candidates.c.dataset_id)
            scored = vectors
        statement = (
            sa.select(candidates.c.dataset_id)
            .select_from(source)
            .order_by(score(dialect, request.groups, scored).desc(), *_newest(candidates))
        )
    else:
        order = _newest(DOC)
        if request.sort == "price":
            order.insert(0, DOC.c.price_key)
        statement = select(DOC.c.dataset_id).order_by(*order)
    statement = statement.limit(request.page_size).offset(request.offset)
    # PostgreSQL: many text matches are best found by walking the order's index (the planner, misjudging how many
    # a word matches, would gather them all through the GIN index and sort them).
    walk_pg = dialect == "postgresql" and bool(request.groups) and walks
    if walk_pg:
        session.execute(sa.text("SET LOCAL enable_bitmapscan = off"))
    try:
        return [int(row[0]) for row in session.execute(statement)]
    finally:
        if walk_pg:
            session.execute(sa.text("SET LOCAL enable_bitmapscan = on"))
