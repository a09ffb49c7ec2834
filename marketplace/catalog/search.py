"""Catalog search: ranked full-text over title, summary, tags and description, with facet filters and counts.

The full-text index is the database's own: an FTS5 table on SQLite, a ``tsvector`` column with a GIN index on
PostgreSQL. The query text is tokenised here, the same
way for both, and only ever reaches SQL as bound parameters: FTS operators, quotes and odd characters in the
input are plain words, never syntax.

Facets come from the registry in :mod:`marketplace.catalog.facets` (re-exported here as :data:`FACETS`,
:class:`Facet`, :func:`register_facet`). Filtering and counting work the same for every facet. Counting is
*disjunctive*: each facet's counts apply every other facet's selection but not its own, so a buyer can widen a
selection within a facet without losing its other values. Several rows of one dataset count the dataset once
(counts are of distinct datasets). A hierarchical facet's selection matches the value and every value below it.

There is one entry point for every caller: :func:`build_query` validates a search given as values (the JSON
API passes its parsed parameters), :func:`parse_search` reads a query string into those values (the page), and
:func:`search` runs it over the search index (:mod:`marketplace.catalog.search_index`) with the engine of
:mod:`marketplace.catalog.search_engine` (SQLite and PostgreSQL behind one interface; counts exact up to
``SEARCH_EXACT_COUNT_LIMIT`` matches, estimated past it; a search without text but with facet filters counts
exactly from in-memory bitmaps: :mod:`marketplace.catalog.search_bitmaps`).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from marketplace.catalog import search_bitmaps, search_cache, search_counts, search_engine, search_index
from marketplace.catalog.errors import CatalogErrorCode
from marketplace.catalog.facets import (
    FACET_VALUES_SHOWN,
    FACETS,
    Facet,
    FacetResult,
    FacetValue,
    facet_result,
    register_facet,
)
from marketplace.catalog.synonyms import Alternative, TermGroup, expand
from marketplace.errors import BadRequest, FieldProblem

PAGE_SIZE = 20
MAX_PAGE = 500
MAX_QUERY_CHARS = 500
MAX_QUERY_TOKENS = 16
MAX_FILTER_VALUES = 20
# Relevance ranks the newest this many matches (the first 50 pages); the pages after them go on in newest order.
CANDIDATES = 50 * PAGE_SIZE
DEFAULT_EXACT_COUNT_LIMIT = 10_000

__all__ = [
    "FACETS",
    "FACET_VALUES_SHOWN",
    "Facet",
    "FacetResult",
    "FacetValue",
    "SearchQuery",
    "SearchResults",
    "build_query",
    "parse_search",
    "register_facet",
    "search",
]

# PostgreSQL's English stop words: dropped from every query on both databases, so that a word PostgreSQL would
# ignore cannot match on SQLite alone (its FTS5 index keeps stop words).
STOP_WORDS = frozenset(
    """i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her hers
    herself it its itself they them their theirs themselves what which who whom this that these those am is are
    was were be been being have has had having do does did doing a an the and but if or because as until while of
    at by for with about against between into through during before after above below to from up down in out on
    off over under again further then once here there when where why how all any both each few more most other
    some such no nor not only own same so than too very s t can will just don should now""".split()  # noqa: SIM905
)
_WORD = re.compile(r"[^\W_]+")
_PHRASE = re.compile(r'"([^"]*)"')

# --- the query ---------------------------------------------------------------------------------------------------


class Sort:
    RELEVANCE = "relevance"
    NEWEST = "newest"
    PRICE = "price"  # lowest public offer price first (listings without one last)


SORTS = (Sort.RELEVANCE, Sort.NEWEST, Sort.PRICE)


@dataclass(frozen=True)
class SearchQuery:
    """A parsed, validated search: text tokens and phrases, facet selections, sort and page."""

    text: str = ""
    terms: tuple[str, ...] = ()
    phrases: tuple[tuple[str, ...], ...] = ()
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    sort: str = Sort.NEWEST
    page: int = 1

    @property
    def has_text(self) -> bool:
        return bool(self.terms or self.phrases)

    def query_args(self, **changes: Any) -> list[tuple[str, str]]:
        """The query string of this search (with ``changes``), for links that keep the other choices."""
        args: list[tuple[str, str]] = []
        text = changes.get("q", self.text)
        if text:
            args.append(("q", text))
        filters = changes.get("filters", self.filters)
        for name in FACETS:
            for value in filters.get(name, ()):
                args.append((name, value))
        sort = changes.get("sort", self.sort)
        if sort != (Sort.RELEVANCE if text else Sort.NEWEST):
            args.append(("sort", sort))
        page = changes.get("page", self.page)
        if page != 1:
            args.append(("page", str(page)))
        return args

    def toggled(self, facet: str, value: str) -> list[tuple[str, str]]:
        """The query string with ``value`` of ``facet`` added or removed (and back on page 1)."""
        current = self.filters.get(facet, ())
        new = tuple(v for v in current if v != value) if value in current else (*current, value)
        filters = {**self.filters, facet: new}
        return self.query_args(filters=filters, page=1)


def tokenise(text: str) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """Split search text into words and quoted phrases: lower-cased, NFKC-normalised, stop words dropped."""
    normalised = unicodedata.normalize("NFKC", text).lower()
    phrases: list[tuple[str, ...]] = []
    for match in _PHRASE.finditer(normalised):
        words = tuple(w for w in _WORD.findall(match.group(1)) if w not in STOP_WORDS)
        if len(words) > 1:
            phrases.append(words)
    rest = _PHRASE.sub(lambda m: m.group(1) if len(_WORD.findall(m.group(1))) <= 1 else " ", normalised)
    terms: list[str] = []
    for word in _WORD.findall(rest):
        if word not in STOP_WORDS and word not in terms and len(word) <= 64:
            terms.append(word)
    budget = MAX_QUERY_TOKENS
    kept_phrases = []
    for phrase in phrases:
        if budget - len(phrase) < 0:
            break
        kept_phrases.append(phrase[:budget])
        budget -= len(phrase)
    return tuple(terms[: max(budget, 0)]), tuple(kept_phrases)


def parse_search(args: Mapping[str, Sequence[str] | str]) -> SearchQuery:
    """Read query-string arguments (``q``, ``sort``, ``page`` and one key per facet, repeatable) and validate them
    with :func:`build_query`.

    Raises :class:`BadRequest` naming each bad parameter; unknown parameters are ignored (they may come from
    elsewhere, like tracking links).
    """

    def many(name: str) -> list[str]:
        values = args.get(name) or []
        return [values] if isinstance(values, str) else [str(v) for v in values]

    def one(name: str) -> str:
        values = many(name)
        return values[-1] if values else ""

    page_text = one("page") or "1"
    page = int(page_text) if page_text.isdigit() and len(page_text) <= 6 else None
    filters = {name: many(name) for name in FACETS}
    return _build(one("q"), filters, one("sort") or None, page)


def build_query(
    *, text: str = "", filters: Mapping[str, Sequence[str]] | None = None, sort: str | None = None, page: int = 1
) -> SearchQuery:
    """A validated search from its values: the text, the selected values of each facet (by facet name; values
    within a facet are alternatives), the sort (``relevance``, ``newest`` or ``price``; by default relevance when
    there is text to rank by) and the page (1 to :data:`MAX_PAGE`).

    Raises :class:`BadRequest` (code ``bad_search``) naming each bad value: too long or NUL in the text, a facet
    value its facet does not accept, more than :data:`MAX_FILTER_VALUES` values of one facet, an unknown sort, a
    page out of range. Facet names that are not registered are ignored.
    """
    return _build(text, filters or {}, sort, page)


def _build(text: str, selections: Mapping[str, Sequence[str]], sort: str | None, page: int | None) -> SearchQuery:
    problems: list[FieldProblem] = []
    if len(text) > MAX_QUERY_CHARS:
        problems.append(FieldProblem("q", f"the search text is too long (at most {MAX_QUERY_CHARS} characters)"))
        text = ""
    if "\x00" in text:
        problems.append(FieldProblem("q", "the search text contains a NUL character"))
        text = ""
    terms, phrases = tokenise(text)

    filters: dict[str, tuple[str, ...]] = {}
    for name, facet in FACETS.items():
        raw = [v.strip() for v in selections.get(name, ()) if v.strip()]
        if not raw:
            continue
        if len(raw) > MAX_FILTER_VALUES:
            problems.append(FieldProblem(name, f"at most {MAX_FILTER_VALUES} values"))
            continue
        bad = [v for v in raw if not facet.accepts(v)]
        if bad:
            shown = ", ".join(repr(v[:40]) for v in bad[:3])
            problems.append(FieldProblem(name, f"unknown {facet.label.lower()} {shown}"))
            continue
        filters[name] = tuple(dict.fromkeys(raw))

    sort = sort or (Sort.RELEVANCE if terms or phrases else Sort.NEWEST)
    if sort not in SORTS:
        problems.append(FieldProblem("sort", "must be relevance, newest or price"))
        sort = Sort.NEWEST
    if sort == Sort.RELEVANCE and not (terms or phrases):
        sort = Sort.NEWEST  # nothing to rank by

    if page is None or not 1 <= page <= MAX_PAGE:
        problems.append(FieldProblem("page", f"must be a whole number from 1 to {MAX_PAGE}"))
        page = 1

    if problems:
        raise BadRequest(
            message="The search could not be run: " + "; ".join(f"{p.field}: {p.message}" for p in problems),
            details=problems,
            code=CatalogErrorCode.BAD_SEARCH,
        )
    return SearchQuery(text=text, terms=terms, phrases=phrases, filters=filters, sort=sort, page=page)


# --- running it ----------------------------------------------------------------------------------------------------


@dataclass
class SearchResults:
    """One page of ids in order; the total (``total_is_estimate`` past the exact-count bound: then it is rounded,
    and shown as "about"); each facet's counts (a facet's ``estimated`` says the same of its counts)."""

    query: SearchQuery
    dataset_ids: list[int]
    total: int
    facets: list[FacetResult]
    total_is_estimate: bool = False
    #: The index's generation token the search ran under (None when unknown): what was read of the index then
    #: holds for as long as the token is unchanged (:mod:`marketplace.catalog.search_cache`).
    generation: int | None = None

    @property
    def pages(self) -> int:
        return min(MAX_PAGE, max(1, math.ceil(self.total / PAGE_SIZE)))


def term_groups(query: SearchQuery) -> tuple[TermGroup, ...]:
    """The query's words grouped with their synonyms, then each quoted phrase as a group of its own."""
    phrases = tuple(TermGroup((Alternative(p, phrase=True),)) for p in query.phrases)
    return expand(query.terms) + phrases


def _request(query: SearchQuery, exact_count_limit: int) -> search_engine.Request:
    return search_engine.Request(
        groups=term_groups(query),
        filters={name: values for name, values in query.filters.items() if name in FACETS},
        sort=query.sort,
        offset=(query.page - 1) * PAGE_SIZE,
        page_size=PAGE_SIZE,
        candidates=CANDIDATES,
        limit=max(1, exact_count_limit),
    )


def search(
    session: Session,
    query: SearchQuery,
    *,
    with_facets: bool = True,
    exact_count_limit: int = DEFAULT_EXACT_COUNT_LIMIT,
    cache_entries: int = 0,
) -> SearchResults:
    """Run ``query`` over published listings: one page of dataset ids in order, the total, and facet counts.

    Order is by relevance (then newest, then id), by newest (then id), or by lowest public price (then newest, then
    id): the id makes it total, so paging is stable. Relevance ranks the first :data:`CANDIDATES` matches in newest
    order (the first pages); the later pages list the matches after those in newest order, so every match is on
    exactly one page. A page past the end is simply empty. Counts are exact up to
    ``exact_count_limit`` matches (the ``SEARCH_EXACT_COUNT_LIMIT`` setting) and estimated past it (see
    :mod:`marketplace.catalog.search_engine`). Changes made in this session are indexed first.

    The facet dictionary is read once per generation of the index, and with ``cache_entries`` (the
    ``SEARCH_CACHE_ENTRIES`` setting) the results of that many recent searches (page, counts, facets as shown) are
    reused while the index is unchanged (:mod:`marketplace.catalog.search_cache`): the same results as without.
    ``generation`` of the results is the index's token they hold for (None when the database has none).
    """
    search_index.sync(session)
    dialect = session.get_bind().dialect.name
    request = _request(query, exact_count_limit)
    token = search_index.generation(session.connection())
    if token is None:
        return _run(session, dialect, query, request, with_facets, None, None)
    database = database_key(session)
    words = search_cache.CACHE.dictionary(database, token, lambda: search_engine.read_dictionary(session))
    if cache_entries <= 0:
        return _run(session, dialect, query, request, with_facets, words, token)
    key = (query.terms, query.phrases, tuple(sorted(request.filters.items())), query.sort, query.page)
    kept = search_cache.CACHE.answer(
        database,
        token,
        (*key, with_facets, exact_count_limit),
        cache_entries,
        lambda: _packed(_run(session, dialect, query, request, with_facets, words, token)),
    )
    # The same search, maybe typed differently ("Speech" and "speech"): this one's query, objects of its own.
    return _unpacked(kept, query)


# A kept result as tuples of plain values: the garbage collector stops tracking those, where each facet value as an
# object would add to what every full collection walks (see marketplace/warmup.py).
_Packed = tuple[
    tuple[int, ...],
    int,
    bool,
    int | None,
    tuple[tuple[str, str, int, bool, tuple[tuple[str, str, int, bool, str | None, str], ...]], ...],
]


def _packed(results: SearchResults) -> _Packed:
    facets = tuple(
        (
            f.name,
            f.label,
            f.more,
            f.estimated,
            tuple((v.value, v.label, v.count, v.selected, v.parent, v.leaf_label) for v in f.values),
        )
        for f in results.facets
    )
    return tuple(results.dataset_ids), results.total, results.total_is_estimate, results.generation, facets


def _unpacked(packed: _Packed, query: SearchQuery) -> SearchResults:
    ids, total, estimate, token, facets = packed
    return SearchResults(
        query=query,
        dataset_ids=list(ids),
        total=total,
        facets=[
            FacetResult(
                name=name,
                label=label,
                values=[FacetValue(*value) for value in values],
                more=more,
                estimated=estimated,
            )
            for name, label, more, estimated, values in facets
        ],
        total_is_estimate=estimate,
        generation=token,
    )


def database_key(session: Session) -> str:
    """Which database ``session`` reads, as :mod:`marketplace.catalog.search_cache` keys it (its URL, no password)."""
    return session.get_bind().engine.url.render_as_string(hide_password=True)


def _run(
    session: Session,
    dialect: str,
    query: SearchQuery,
    request: search_engine.Request,
    with_facets: bool,
    words: search_engine.Dictionary | None,
    token: int | None,
) -> SearchResults:
    """Ask the engine (with the dictionary ``words``, or one read now) and build the facets as shown."""
    if dialect == "postgresql":
        # JIT compiling cost 85 ms on a 1M-listing relevance query that runs in less: never worth it here.
        # A text match ANDed with a facet's listings builds bitmaps of a few hundred thousand rows: with the default
        # 4 MB they go lossy and every row of their pages is re-checked (3 to 10 times slower at 1M listings).
        # Plans are made for each search's own values: the driver prepares a statement run five times, and a
        # generic plan (made once, for any values) re-parses the text query for every row it tests, as its text is
        # then a parameter, and guesses how many listings match (twice the time of a 1M relevance page).
        # All for this transaction only (set_config's third argument), in one round trip.
        session.execute(
            sa.text(
                "SELECT set_config('jit', 'off', true), set_config('work_mem', :work_mem, true),"
                " set_config('plan_cache_mode', 'force_custom_plan', true)"
            ),
            {"work_mem": search_engine.WORK_MEM},
        )
    words = words if words is not None else search_engine.read_dictionary(session)
    counted = None
    if token is not None and not request.groups and request.filters:  # exact counts from the facet bitmaps
        bitmaps = search_bitmaps.STORE.current(
            session.connection(), database_key(session), wait=words.everything <= search_bitmaps.SYNC_BUILD_MAX
        )
        if bitmaps is not None:
            counted = search_bitmaps.count(bitmaps, request, words, with_facets=with_facets)
    if counted is not None:
        counts, matched = counted
        # Walking the order's index reads about (the page's end) x (listings / matches) rows: when that is fewer
        # than the matches, walk (a first page of 8,000 matches in a million: 10 ms, where ordering them by their
        # ids took 100); otherwise order the matches, by their ids (up to the exact-count bound).
        needed = request.offset + request.page_size
        walks = needed * words.everything < counts.total * counts.total
        if counts.total <= request.limit and not walks:
            ids = search_bitmaps.page(session.connection(), matched, request)
        else:
            ids = search_engine.page_ids(session, dialect, request, words, counts.total)
    else:
        counts = search_counts.count(session, dialect, request, words, with_facets=with_facets)
        ids = search_engine.page_ids(session, dialect, request, words, counts.total, counts.matches)
    facets = (
        [
            facet_result(
                session,
                facet,
                counts.facets.get(name, {}),
                query.filters.get(name, ()),
                estimated=name in counts.estimated,
            )
            for name, facet in FACETS.items()
        ]
        if with_facets
        else []
    )
    return SearchResults(
        query=query,
        dataset_ids=ids,
        total=counts.total,
        facets=facets,
        total_is_estimate=counts.total_estimated,
        generation=token,
    )


def facet_results(
    session: Session, query: SearchQuery, *, exact_count_limit: int = DEFAULT_EXACT_COUNT_LIMIT
) -> list[FacetResult]:
    """The sidebar alone: each registered facet with its values, counts and whether each is selected."""
    return search(session, query, exact_count_limit=exact_count_limit).facets
