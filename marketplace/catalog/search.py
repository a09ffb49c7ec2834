"""Catalog search: ranked full-text over title, summary, tags and description, with facet filters and counts.

The full-text index is the database's own: an FTS5 table on SQLite, a generated ``tsvector`` column with a GIN
index on PostgreSQL (both created by migration ``0002_catalog``). The query text is tokenised here, the same
way for both, and only ever reaches SQL as bound parameters: FTS operators, quotes and odd characters in the
input are plain words, never syntax.

Facets come from the registry in :mod:`marketplace.catalog.facets` (re-exported here as :data:`FACETS`,
:class:`Facet`, :func:`register_facet`). Filtering and counting work the same for every facet. Counting is
*disjunctive*: each facet's counts apply every other facet's selection but not its own, so a buyer can widen a
selection within a facet without losing its other values. Several rows of one dataset count the dataset once
(counts are of distinct datasets). A hierarchical facet's selection matches the value and every value below it.

There is one entry point for every caller: :func:`build_query` validates a search given as values (the JSON
API passes its parsed parameters), :func:`parse_search` reads a query string into those values (the page), and
:func:`search` runs it, with ``facet_cache_seconds`` from the ``CATALOG_FACET_CACHE_SECONDS`` setting.
"""

from __future__ import annotations

import math
import re
import time
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Session, col

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
from marketplace.catalog.models import Dataset
from marketplace.catalog.vocab import DatasetStatus
from marketplace.errors import BadRequest, FieldProblem

PAGE_SIZE = 20
MAX_PAGE = 500
MAX_QUERY_CHARS = 500
MAX_QUERY_TOKENS = 16
MAX_FILTER_VALUES = 20

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

# Relevance is field-weighted: each query word (or phrase) adds the weight of every field group it occurs in.
# (group, FTS5 columns, tsvector weight label, weight). The score is computed the same way on both databases,
# from the same tokens, so both rank alike (the engines' own BM25 and cover-density ranks would not).
FIELD_GROUPS = (
    ("title", ("title",), "a", 8),
    ("summary and tags", ("summary", "tags_text"), "b", 3),
    ("description", ("description",), "c", 1),
)
RANKED_TOKENS = 6  # further words still filter, but no longer add to the score

# --- the query ---------------------------------------------------------------------------------------------------


class Sort:
    RELEVANCE = "relevance"
    NEWEST = "newest"


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
    within a facet are alternatives), the sort (``relevance`` or ``newest``; by default relevance when there is
    text to rank by) and the page (1 to :data:`MAX_PAGE`).

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
    if sort not in (Sort.RELEVANCE, Sort.NEWEST):
        problems.append(FieldProblem("sort", "must be relevance or newest"))
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
    query: SearchQuery
    dataset_ids: list[int]
    total: int
    facets: list[FacetResult]

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / PAGE_SIZE))


def _fts5_match(query: SearchQuery) -> str:
    parts = [f'"{term}"' for term in query.terms]
    parts += ['"' + " ".join(phrase) + '"' for phrase in query.phrases]
    # Every token is [^\W_]+ (no quote can occur), so quoting makes each a plain string, never an operator.
    return " ".join(parts)


def _ts_query(query: SearchQuery) -> Any:
    config = sa.cast(sa.literal("english"), postgresql.REGCONFIG)
    parts = [sa.func.plainto_tsquery(config, term, type_=postgresql.TSQUERY) for term in query.terms]
    parts += [sa.func.phraseto_tsquery(config, " ".join(p), type_=postgresql.TSQUERY) for p in query.phrases]
    combined: Any = parts[0]
    for part in parts[1:]:
        combined = combined.op("&&", return_type=postgresql.TSQUERY)(part)
    return combined


_TS_VECTOR = sa.literal_column("dataset.search_vector", type_=postgresql.TSVECTOR)


def _text_condition(dialect: str, query: SearchQuery) -> Any:
    if dialect == "postgresql":
        return _TS_VECTOR.op("@@")(_ts_query(query))
    matches: Any = (
        sa.select(sa.literal_column("rowid"))
        .select_from(sa.table("dataset_fts"))
        .where(sa.literal_column("dataset_fts").op("MATCH")(sa.bindparam("fts_query", _fts5_match(query))))
    )
    return col(Dataset.id).in_(matches)


def _facet_condition(facet: Facet, values: Sequence[str]) -> Any:
    pairs = facet.values().subquery()
    matches: Any = pairs.c.value.in_(list(values))
    if facet.hierarchical:
        # A value matches the values below it too (BCP 47 prefix matching: ``en`` matches ``en-US``).
        below = [pairs.c.value.startswith(value + "-", autoescape=True) for value in values]
        matches = sa.or_(matches, *below)
    return col(Dataset.id).in_(sa.select(pairs.c.dataset_id).where(matches))


def _filter_conditions(query: SearchQuery, *, skip_facet: str | None = None) -> list[Any]:
    return [
        _facet_condition(FACETS[name], values)
        for name, values in query.filters.items()
        if name != skip_facet and name in FACETS
    ]


def _conditions(dialect: str, query: SearchQuery, *, skip_facet: str | None = None) -> list[Any]:
    conditions: list[Any] = [col(Dataset.status) == DatasetStatus.PUBLISHED]
    if query.has_text:
        conditions.append(_text_condition(dialect, query))
    return conditions + _filter_conditions(query, skip_facet=skip_facet)


def _tokens(query: SearchQuery) -> list[tuple[str, ...]]:
    return [(term,) for term in query.terms] + list(query.phrases)


def _in_field_group(dialect: str, token: tuple[str, ...], columns: tuple[str, ...], label: str) -> Any:
    """Whether the listing has ``token`` (a word or a phrase) in the given field group."""
    if dialect == "postgresql":
        config = sa.cast(sa.literal("english"), postgresql.REGCONFIG)
        make = sa.func.plainto_tsquery if len(token) == 1 else sa.func.phraseto_tsquery
        ts_query = make(config, " ".join(token), type_=postgresql.TSQUERY)
        # The label is one of three constants above, never input.
        only_group = sa.func.ts_filter(_TS_VECTOR, sa.literal_column(f"'{{{label}}}'::\"char\"[]"))
        return only_group.op("@@")(ts_query)
    spec = "{" + " ".join(columns) + '} : "' + " ".join(token) + '"'
    matches: Any = (
        sa.select(sa.literal_column("rowid"))
        .select_from(sa.table("dataset_fts"))
        .where(sa.literal_column("dataset_fts").op("MATCH")(sa.literal(spec)))
    )
    return col(Dataset.id).in_(matches)


def relevance(dialect: str, query: SearchQuery) -> Any:
    """The relevance score of a matching listing: the weights of the field groups each query token occurs in."""
    score: Any = sa.literal(0)
    for token in _tokens(query)[:RANKED_TOKENS]:
        for _, columns, label, weight in FIELD_GROUPS:
            score = score + sa.case((_in_field_group(dialect, token, columns, label), weight), else_=0)
    return score


def _page_ids(session: Session, dialect: str, query: SearchQuery) -> list[int]:
    offset = (query.page - 1) * PAGE_SIZE
    order: list[Any] = [col(Dataset.published_at).desc(), col(Dataset.id).desc()]
    if query.sort == Sort.RELEVANCE and query.has_text:
        order.insert(0, relevance(dialect, query).desc())
    statement = sa.select(col(Dataset.id)).where(*_conditions(dialect, query)).order_by(*order)
    return [row[0] for row in session.execute(statement.limit(PAGE_SIZE).offset(offset))]


def _count(session: Session, dialect: str, query: SearchQuery) -> int:
    statement = sa.select(sa.func.count()).select_from(Dataset).where(*_conditions(dialect, query))
    return int(session.execute(statement).scalar_one())


def _hits(dialect: str, query: SearchQuery, name: str, skip_facet: str | None = None) -> Any:
    """The matching ids as a materialised CTE, so the full-text match runs once for all the facets that share it."""
    cte = sa.select(col(Dataset.id).label("id")).where(*_conditions(dialect, query, skip_facet=skip_facet)).cte(name)
    return cte.prefix_with("MATERIALIZED")


# Counts over the whole catalog (what browsing shows), by (database, facet): (expiry, counts). Per process.
_BROWSE_CACHE: dict[tuple[str, str], tuple[float, dict[str, int]]] = {}


def _facet_counts_all(
    session: Session, dialect: str, query: SearchQuery, *, cache_seconds: float = 0
) -> dict[str, dict[str, int]]:
    """Every facet's counts in one statement.

    Facets without a selection of their own share one set of matching ids; each facet with a selection gets the
    set without it (disjunctive counts). Each set is a materialised CTE, computed once, and each facet walks it.
    When nothing narrows a facet (browsing: no text, no other selection) its counts are "every listing minus the
    non-published ones" instead: an index-only count, and the few drafts, instead of probing every listing; with
    ``cache_seconds`` those whole-catalog counts are reused for that long (they are then that stale at most).
    """
    database = str(session.get_bind().engine.url)
    now = time.monotonic()
    counts: dict[str, dict[str, int]] = {name: {} for name in FACETS}
    fresh: list[str] = []
    shared = None
    parts = []
    for index, facet in enumerate(FACETS.values()):
        pairs = facet.values().subquery()
        counted = sa.func.count(sa.distinct(pairs.c.dataset_id)) if facet.distinct else sa.func.count()
        narrowed = query.has_text or any(name != facet.name for name in query.filters)
        if narrowed:
            if facet.name in query.filters:
                source = _hits(dialect, query, f"hits_{index}", skip_facet=facet.name)
            else:
                shared = shared if shared is not None else _hits(dialect, query, "hits")
                source = shared
            scopes = [(1, pairs.c.dataset_id.in_(sa.select(source.c.id)))]
        else:
            cached = _BROWSE_CACHE.get((database, facet.name)) if cache_seconds > 0 else None
            if cached is not None and cached[0] > now:
                counts[facet.name] = dict(cached[1])
                continue
            fresh.append(facet.name)
            others = [status for status in DatasetStatus if status is not DatasetStatus.PUBLISHED]
            not_public = sa.select(col(Dataset.id)).where(col(Dataset.status).in_(others))  # an index range each
            scopes = [(1, sa.true()), (-1, pairs.c.dataset_id.in_(not_public))]
        for sign, scope in scopes:
            parts.append(
                sa.select(
                    sa.literal(facet.name, sa.String()).label("facet"),
                    sa.type_coerce(pairs.c.value, sa.String()).label("value"),
                    (sign * counted).label("n"),
                )
                .where(scope)
                .group_by(pairs.c.value)
            )
    for facet_name, value, n in session.execute(sa.union_all(*parts)) if parts else ():
        if value is not None:
            bucket = counts[facet_name]
            bucket[str(value)] = bucket.get(str(value), 0) + int(n)
    counts = {name: {v: n for v, n in values.items() if n > 0} for name, values in counts.items()}
    if cache_seconds > 0:
        for name in fresh:
            _BROWSE_CACHE[(database, name)] = (now + cache_seconds, dict(counts[name]))
    return counts


def _many_matches(session: Session, dialect: str, matches: int | None) -> bool:
    """On PostgreSQL, whether the hits are a large share of the catalog (judged by the planner's row estimate).

    The planner cannot know how many rows the materialised set of hits holds, and assumes few: it then probes
    every facet's index once per hit, which is right for a rare word but several times slower than one hash join
    when half the catalog matches.
    """
    if dialect != "postgresql" or not matches or matches < 5_000:
        return False
    estimate = session.execute(sa.text("SELECT reltuples FROM pg_class WHERE oid = 'dataset'::regclass")).scalar()
    return bool(estimate and estimate > 0 and matches > 0.1 * float(estimate))


def facet_results(
    session: Session, query: SearchQuery, *, cache_seconds: float = 0, matches: int | None = None
) -> list[FacetResult]:
    """The sidebar: each registered facet with its values, counts and whether each is selected.

    ``matches`` (the search's total, when known) lets PostgreSQL count a large set of hits with hash joins.
    """
    dialect = session.get_bind().dialect.name
    hash_joins = _many_matches(session, dialect, matches)
    if hash_joins:
        session.execute(sa.text("SET LOCAL enable_nestloop = off"))
    try:
        counts = _facet_counts_all(session, dialect, query, cache_seconds=cache_seconds)
    finally:
        if hash_joins:
            session.execute(sa.text("SET LOCAL enable_nestloop = on"))
    return [facet_result(session, facet, counts[name], query.filters.get(name, ())) for name, facet in FACETS.items()]


def search(
    session: Session, query: SearchQuery, *, with_facets: bool = True, facet_cache_seconds: float = 0
) -> SearchResults:
    """Run ``query`` over published listings: one page of dataset ids in order, the total, and facet counts.

    Order is by relevance (then newest, then id) or by newest (then id): the id makes it total, so paging is
    stable. A page past the end is simply empty. ``facet_cache_seconds`` lets whole-catalog facet counts be
    reused (see the ``CATALOG_FACET_CACHE_SECONDS`` setting); 0 computes every count exactly, every time.
    """
    dialect = session.get_bind().dialect.name
    ids = _page_ids(session, dialect, query)
    total = _count(session, dialect, query)
    facets = facet_results(session, query, cache_seconds=facet_cache_seconds, matches=total) if with_facets else []
    return SearchResults(query=query, dataset_ids=ids, total=total, facets=facets)
