"""A search's counts (the total and every facet's, disjunctive) in at most two reads, whatever the selection.

A search with text and facet filters has several *scopes*: the whole selection (the total and the counts of the
facets without a selection) and, for each facet with a selection, every condition but that facet's (its own
counts). Each listing read is given a *mask*: one bit per condition it meets (each selected facet, and the text).
A scope is the listings whose mask holds every bit but its own facet's, so every scope is counted from the same
rows, here:

1. **The sample** (the ``limit`` listings with the lowest ``sample_key``) is read once, with each row's values and
   mask. It estimates each scope; a scope surely past the bound by it (three standard deviations), or a facet's
   scope that holds more than the bound (it holds the whole selection's matches, or without text its filters'
   listings, multiplied as if independent, are four times the bound) is estimated from it, scaled.
2. **The other scopes** are counted exactly, all at once: one statement reads the listings they share (the text's
   matches with every selection they all apply; with two or more facets' own scopes, only the listings that meet
   one of the two narrowest of those facets, as a listing of any such scope does), at most ``limit`` for each
   scope, and each scope is counted from their masks. A scope found past the bound there is estimated after all;
   if the read would exceed that many rows, the scopes are counted one by one (each up to ``limit + 1``).

When the whole selection is counted exactly, the matches read (id, date, price) are returned, so the page is
ordered from them without searching again (:func:`marketplace.catalog.search_engine.page_ids`).
"""

from __future__ import annotations

import math
import struct
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlmodel import Session

from marketplace.catalog import search_index
from marketplace.catalog.facets import FACETS
from marketplace.catalog.search_engine import (
    DOC,
    FTS,
    KEYS,
    Dictionary,
    Matches,
    Request,
    facet_condition,
    fts5_expression,
    text_condition,
)

ESTIMATE_SIGMAS = 3  # a sample count this many standard deviations past the bound is surely past it
# PostgreSQL, text without facet filters: the sample is read up to this many matches (then scaled by the listings
# read): the total's standard error is then about 3 %, less than the rounding of an estimate to two digits.
TEXT_SAMPLE_MATCHES = 1_000
WALK_SHARE = 0.05  # ... and walks the sample, testing each listing, when the planner expects this share to match
# SQLite, no text: when the dictionary expects every scope under this share of the bound, they are counted from the
# shared read first, without the sample (which they then do not need); a misjudged search reads the sample after all.
FIRST_SHARE = 0.9


@dataclass
class Counts:
    """The total and every facet's counts; which of them are estimates; and (``matches``) every match, when the
    total is exact and they were read."""

    total: int
    total_estimated: bool
    facets: dict[str, dict[str, int]]
    estimated: set[str]
    matches: Matches | None = None


@dataclass
class _Conditions:
    """The request's conditions as mask bits: bit ``i`` is the ``i``-th selected facet, the last one the text."""

    names: list[str]
    value_ids: list[list[int]]
    text: bool

    @property
    def full(self) -> int:
        return (1 << (len(self.names) + self.text)) - 1

    @property
    def text_bit(self) -> int:
        return (1 << len(self.names)) if self.text else 0

    def required(self, skip: str | None) -> int:
        """The bits a listing of ``skip``'s scope (``None``: the whole selection) has."""
        return self.full & ~(1 << self.names.index(skip)) if skip is not None else self.full


class _Masker:
    """Which selected facets a listing's value ids meet, as bits (its packed blob on SQLite, its list on
    PostgreSQL)."""

    def __init__(self, dialect: str, value_ids: Sequence[Sequence[int]]) -> None:
        self.packed = dialect != "postgresql"
        self.sets = [frozenset(ids) for ids in value_ids]
        self.patterns = [[struct.pack("<I", i) for i in ids] for ids in value_ids]

    def __call__(self, values: Any) -> int:
        mask = 0
        if self.packed:
            for bit, patterns in enumerate(self.patterns):
                for pattern in patterns:
                    if _has(values, pattern):
                        mask |= 1 << bit
                        break
            return mask
        for bit, wanted in enumerate(self.sets):
            if not wanted.isdisjoint(values or ()):
                mask |= 1 << bit
        return mask

    def count(self, values: Iterable[Any]) -> Counter[int]:
        if self.packed:
            return Counter(search_index.unpack_values(values))
        return Counter(chain.from_iterable(v or () for v in values))


def _has(blob: bytes, pattern: bytes) -> bool:
    """Whether the packed ids ``blob`` hold the packed id ``pattern`` (at a 4-byte boundary)."""
    at = blob.find(pattern)
    while at >= 0 and at % 4:
        at = blob.find(pattern, at + 1)
    return at >= 0


@dataclass
class _Scope:
    skip: str | None
    required: int
    selected: list[list[int]]
    found: int = 0  # in the sample
    sampled: Counter[int] = field(default_factory=Counter)
    known: int | None = None  # the dictionary's exact count (no text, one value of one facet)


def _round(estimate: float) -> int:
    """Two significant digits: what an estimate is worth (48,317 → 48,000)."""
    if estimate < 100:
        return round(estimate)
    digits = len(str(int(estimate))) - 2
    return int(round(estimate, -digits))


def _surely_past(found: int, scale: float, limit: int) -> bool:
    """Whether ``found`` matches in the sample, scaled, are past ``limit`` even three standard deviations low."""
    return (found - ESTIMATE_SIGMAS * math.sqrt(found)) * scale > limit


def _large(request: Request, words: Dictionary, selected: Sequence[Sequence[int]], wider_than: int) -> bool:
    """Whether a facet's disjunctive scope is surely past the bound: it holds the whole selection's matches
    (``wider_than``), or, without text, its filters' listings multiplied as if independent are four times it."""
    if wider_than > request.limit:
        return True
    if request.groups or not words.everything:
        return False
    return _independent(words, selected) > 4 * request.limit


def _independent(words: Dictionary, selected: Sequence[Sequence[int]]) -> float:
    """How many listings meet every one of ``selected`` (each a selection's value ids) if they were independent:
    the catalog times each selection's share of it (by the dictionary's counts)."""
    expected = float(words.everything)
    for value_ids in selected:
        expected *= min(1.0, words.listed(value_ids) / words.everything)
    return expected


def _values_column(dialect: str, source: Any = DOC) -> Any:
    return source.c.facet_ids if dialect == "postgresql" else source.c.facet_values


def _read_sample(
    session: Session, dialect: str, request: Request, conds: _Conditions, scopes: list[_Scope], everything: int
) -> int:
    """One read of the sample: each scope's matches in it and their values; returns how many listings of the sample
    were read (all of it, but for text alone on PostgreSQL: see :func:`_text_sample`). The mask is computed by the
    database (an index probe or an array overlap per selected facet, the text's match), and only the rows of some
    scope come back. PostgreSQL reads the sample of a search without text from ``search_keys``' index alone."""
    read = min(request.limit, everything)
    if dialect == "postgresql" and conds.text and not conds.names:
        groups, read = _text_sample(session, request, read, everything)
    else:
        groups = _masked_sample(session, dialect, request, conds, scopes)
    masker = _Masker(dialect, conds.value_ids)
    counted = {found: masker.count(values) for found, values in groups.items()}
    for scope in scopes:
        for found, values in groups.items():
            if found & scope.required == scope.required:
                scope.found += len(values)
                scope.sampled.update(counted[found])
    return read


def _masked_sample(
    session: Session, dialect: str, request: Request, conds: _Conditions, scopes: list[_Scope]
) -> dict[int, list[Any]]:
    """The sample's rows of some scope, by mask. On PostgreSQL the facets' bits come from ``search_keys``' sample
    index alone, and the text is tested (a primary-key probe into ``search_document``) only on the rows whose
    facets could put them in some scope."""
    postgres = dialect == "postgresql"
    source = KEYS if postgres else DOC
    bits = [sa.case((facet_condition(dialect, ids, source), 1 << n), else_=0) for n, ids in enumerate(conds.value_ids)]
    if conds.text and not postgres:
        bits.append(sa.case((text_condition(dialect, request.groups, source, walk=True), conds.text_bit), else_=0))
    mask = sum(bits[1:], bits[0]) if bits else sa.literal(0)
    sample = (
        sa.select(source.c.dataset_id.label("id"), _values_column(dialect, source).label("v"), mask.label("mask"))
        .order_by(source.c.sample_key)
        .limit(request.limit)
        .subquery("sample")
    )
    wanted = {scope.required for scope in scopes}
    if postgres and conds.text:
        probe = DOC.alias("probe")
        matched = sa.exists().where(probe.c.dataset_id == sample.c.id, text_condition(dialect, request.groups, probe))
        found = sample.c.mask + sa.case((matched, conds.text_bit), else_=0)
        facets_wanted = sorted({r & ~conds.text_bit for r in wanted})
        statement = sa.select(sample.c.v, found).where(sample.c.mask.in_(facets_wanted))
    else:
        statement = sa.select(sample.c.v, sample.c.mask).where(sample.c.mask.in_(sorted(wanted)))
    groups: dict[int, list[Any]] = {}
    for values, got in session.execute(statement):
        if got in wanted:
            groups.setdefault(int(got), []).append(values)
    return groups


def _planned_rows(session: Session, statement: Any) -> float:
    """How many rows PostgreSQL's planner expects ``statement`` to return (planned, not run)."""
    connection = session.connection()
    compiled = statement.compile(dialect=connection.dialect)
    plan = connection.exec_driver_sql("EXPLAIN (FORMAT JSON) " + str(compiled), compiled.params).scalar_one()
    return float(plan[0]["Plan"]["Plan Rows"])


def _text_sample(session: Session, request: Request, sampled: int, everything: int) -> tuple[dict[int, list[Any]], int]:
    """PostgreSQL, text alone: the sample in sample-key order, stopping at :data:`TEXT_SAMPLE_MATCHES` matches
    (a word in half the catalog reads 2,000 wide rows, not the whole sample); the estimate scales by the listings
    read. Returns the matches' values (all of mask 1) and how many listings were read."""
    keys = sa.select(KEYS.c.sample_key).order_by(KEYS.c.sample_key).limit(request.limit).subquery()
    last_key = session.execute(sa.select(sa.func.max(keys.c.sample_key))).scalar()
    if last_key is None:
        return {}, 0
    statement = (
        sa.select(DOC.c.sample_key, DOC.c.facet_ids)
        .where(DOC.c.sample_key <= last_key, text_condition("postgresql", request.groups))
        .order_by(DOC.c.sample_key)
        .limit(TEXT_SAMPLE_MATCHES)
    )
    # A word in many listings: walk the sample in key order, testing each listing (a bitmap of its matches from
    # the text index costs more; the planner, whose estimate of the matches is good, may still choose it for a
    # prefix). A rarer word: the planner's choice (the text index's matches within the sample's key range).
    matches = sa.select(DOC.c.dataset_id).where(text_condition("postgresql", request.groups))
    walk = _planned_rows(session, matches) > everything * WALK_SHARE
    if walk:
        session.execute(sa.text("SET LOCAL enable_bitmapscan = off"))
    try:
        rows = session.execute(statement).all()
    finally:
        if walk:
            session.execute(sa.text("SET LOCAL enable_bitmapscan = on"))
    read = sampled
    if len(rows) >= TEXT_SAMPLE_MATCHES:
        read = int(
            session.execute(
                sa.select(sa.func.count()).select_from(KEYS).where(KEYS.c.sample_key <= rows[-1][0])
            ).scalar_one()
        )
    return ({1: [values for _, values in rows]} if rows else {}), read


def _parse_counts(text: str | None) -> Counter[int]:
    """Counts by value id of comma-separated ids."""
    if not text:
        return Counter()
    return Counter({int(value): n for value, n in Counter(text.split(",")).items()})


def _parse_ids(text: str | None) -> list[int]:
    return [int(i) for i in text.split(",")] if text else []


def _base(dialect: str, request: Request, words: Dictionary, conds: _Conditions, exact: Sequence[_Scope]) -> Any:
    """SELECT (id, date, price, values) of the listings the ``exact`` scopes share (see the module's text)."""
    own = {s.skip for s in exact if s.skip is not None}
    lists = [ids for name, ids in zip(conds.names, conds.value_ids, strict=True) if name not in own]
    if len(own) >= 2:  # a listing of any of these scopes meets all but one of them: one of any two
        narrowest = sorted(conds.value_ids[conds.names.index(n)] for n in own)
        narrowest.sort(key=words.listed)
        lists.append(sorted({i for ids in narrowest[:2] for i in ids}))
    columns = [DOC.c.dataset_id, DOC.c.published_at, DOC.c.price_key, _values_column(dialect)]
    if dialect == "postgresql" and not request.groups:  # the narrow table
        keys = [KEYS.c.dataset_id, KEYS.c.published_at, KEYS.c.price_key, KEYS.c.facet_ids]
        return sa.select(*keys).where(*[facet_condition(dialect, ids, KEYS) for ids in lists])
    if dialect == "postgresql":
        found = [text_condition(dialect, request.groups)]
        return sa.select(*columns).where(*found, *[facet_condition(dialect, ids) for ids in lists])
    if request.groups:  # the text's matches drive (an FTS5 scan), the facets are probes
        matched = sa.literal_column("dataset_fts").op("MATCH")(sa.literal(fts5_expression(request.groups)))
        return (
            sa.select(*columns)
            .select_from(FTS.join(DOC, DOC.c.dataset_id == FTS.c.rowid))
            .where(matched, *[facet_condition(dialect, ids) for ids in lists])
        )
    if not lists:
        return sa.select(*columns)
    driver = min(lists, key=words.listed)
    others = [facet_condition(dialect, ids) for ids in lists if ids is not driver]
    return sa.select(*columns).where(facet_condition(dialect, driver, drive=True), *others)


def _narrowed(statement: Any, conds: _Conditions, required: Sequence[int]) -> Any:
    """SQLite: ``statement`` (of :func:`_base`) returning only the rows that may be in a scope of ``required``: those
    meeting at least as many of the selected facets as the scope with the fewest, by a count the database makes
    cheaply from the packed values (``instr``: a value's bytes found at any offset, so never fewer than the true
    ones; the true mask is computed here on the rows returned)."""
    met: Any = sa.literal(0)
    for ids in conds.value_ids:
        found = [sa.func.instr(DOC.c.facet_values, sa.literal(struct.pack("<I", i), sa.LargeBinary())) for i in ids]
        met = met + sa.func.min(sum(found[1:], found[0]), 1) if found else met
    fewest = min(bin(mask & ~conds.text_bit).count("1") for mask in required)
    return statement.where(met >= fewest)


Result = tuple[int, bool, dict[int, int], bool]  # matches, estimated?, counts by value id, estimated?


class _Counter:
    """One request's scopes and their results."""

    def __init__(self, session: Session, dialect: str, request: Request, words: Dictionary, *, facets: bool) -> None:
        self.session, self.dialect, self.request, self.words = session, dialect, request, words
        names = [n for n in request.filters if n in FACETS]
        self.conds = _Conditions(names, [words.ids_for(n, request.filters[n]) for n in names], bool(request.groups))
        self.masker = _Masker(dialect, self.conds.value_ids)
        self.scopes = [self._scope(None)] + ([self._scope(n) for n in names] if facets else [])
        self.scale = 1.0
        self.results: dict[str | None, Result] = {}
        self.matches: Matches | None = None

    def _scope(self, skip: str | None) -> _Scope:
        selected = [ids for n, ids in zip(self.conds.names, self.conds.value_ids, strict=True) if n != skip]
        scope = _Scope(skip, self.conds.required(skip), selected)
        if not self.conds.text and len(selected) == 1 and len(selected[0]) == 1:
            scope.known = self.words.listings.get(selected[0][0], 0)  # one value alone: the dictionary's, exact
        return scope

    def estimate(self, scope: _Scope) -> None:
        limit = self.request.limit
        total = scope.known if scope.known is not None else max(limit + 1, _round(scope.found * self.scale))
        counts = {v: max(1, _round(n * self.scale)) for v, n in scope.sampled.items()}
        self.results[scope.skip] = (total, scope.known is None, counts, True)

    def run(self) -> None:
        for scope in self.scopes:
            if not scope.required:  # no condition left: the dictionary's counts
                self.results[scope.skip] = (self.words.everything, False, dict(self.words.listings), False)
        open_scopes = [s for s in self.scopes if s.required]
        if open_scopes and self._likely_small(open_scopes) and self._counted_first(open_scopes):
            return
        read = _read_sample(self.session, self.dialect, self.request, self.conds, open_scopes, self.words.everything)
        self.scale = self.words.everything / (read or 1)
        limit = self.request.limit
        whole = self.scopes[0]
        whole_past = _surely_past(whole.found, self.scale, limit) or (whole.known or 0) > limit
        exact = []
        for scope in open_scopes:
            past = _surely_past(scope.found, self.scale, limit) or (scope.known or 0) > limit
            if scope.skip is not None:
                past = past or whole_past or _large(self.request, self.words, scope.selected, 0)
            if past:
                self.estimate(scope)
            else:
                exact.append(scope)
        if exact and not self._together(exact):
            self._one_by_one(exact)

    def _together(self, exact: list[_Scope]) -> bool:
        """Count the ``exact`` scopes from one read of the listings they share; false if that read would pass
        ``limit`` rows per scope."""
        cap = self.request.limit * len(exact)
        wanted = {scope.required for scope in exact} | {self.conds.full}
        read = self._read_pg if self.dialect == "postgresql" else self._read_here
        found = read(exact, cap, wanted)
        if found is None:
            return False
        self._settle(exact, *found)
        return True

    def _likely_small(self, scopes: list[_Scope]) -> bool:
        """SQLite, no text: whether every scope is expected (the dictionary's counts of its selections, multiplied as
        if independent; a lone value's exact count) to hold at most :data:`FIRST_SHARE` of the bound."""
        if self.dialect == "postgresql" or self.conds.text or not self.words.everything:
            return False
        for scope in scopes:
            expected = scope.known if scope.known is not None else _independent(self.words, scope.selected)
            if expected > self.request.limit * FIRST_SHARE:
                return False
        return True

    def _counted_first(self, scopes: list[_Scope]) -> bool:
        """Count every scope exactly from the read they share, without the sample: false, having counted none, when
        the read would pass ``limit`` rows per scope or a scope is past the bound (the dictionary misjudged them:
        the caller then reads the sample and counts as usual)."""
        wanted = {scope.required for scope in scopes} | {self.conds.full}
        found = self._read_here(scopes, self.request.limit * len(scopes), wanted)
        if found is None:
            return False
        counted = found[0]
        for scope in scopes:
            if (
                sum(n for mask, (n, _) in counted.items() if mask & scope.required == scope.required)
                > self.request.limit
            ):
                return False
        self._settle(scopes, *found)
        return True

    def _settle(
        self, exact: list[_Scope], counted: dict[int, tuple[int, Counter[int]]], matches: Matches | None
    ) -> None:
        """Each of the ``exact`` scopes' results from the shared read's rows counted by mask: estimated (from the
        sample) when found past the bound."""
        for scope in exact:
            inside = [counted[mask] for mask in counted if mask & scope.required == scope.required]
            size = sum(n for n, _ in inside)
            if size > self.request.limit:
                self.estimate(scope)
                continue
            counts: Counter[int] = Counter()
            for _, group_counts in inside:
                counts.update(group_counts)
            self.results[scope.skip] = (size, False, dict(counts), False)
            if scope.skip is None:
                self.matches = matches

    def _read_here(
        self, exact: list[_Scope], cap: int, wanted: set[int]
    ) -> tuple[dict[int, tuple[int, Counter[int]]], Matches | None] | None:
        """SQLite: the shared listings' rows, masked and counted here as they stream in: only the matches' keys and
        the wanted rows' values (bytes, which the garbage collector does not track) are kept, so a read of tens of
        thousands of rows promotes no objects to the collector's oldest generation (whose full collections, over
        the whole heap, would cost more than the read)."""
        statement = _base(self.dialect, self.request, self.words, self.conds, exact).limit(cap + 1)
        if self.conds.names:
            statement = _narrowed(statement, self.conds, [scope.required for scope in exact])
        groups: dict[int, list[Any]] = {}
        matches: list[tuple[int, Any, int]] = []
        full, text_bit, masker = self.conds.full, self.conds.text_bit, self.masker
        for read, (dataset_id, published_at, price_key, values) in enumerate(self.session.execute(statement), 1):
            if read > cap:
                return None
            mask = masker(values) | text_bit
            if mask == full:
                matches.append((dataset_id, published_at, price_key))
            if mask in wanted:
                groups.setdefault(mask, []).append(values)
        counted = {mask: (len(group), masker.count(group)) for mask, group in groups.items()}
        return counted, Matches.ordered(matches, price=self.request.sort == "price")

    def _read_pg(
        self, exact: list[_Scope], cap: int, wanted: set[int]
    ) -> tuple[dict[int, tuple[int, Counter[int]]], Matches | None] | None:
        """PostgreSQL: the shared listings grouped by mask by the database, in one statement: how many of each
        mask, the value ids of the wanted ones (as text: parsed and counted here, much faster than unnesting
        there), and with text the whole selection's matches in order (for the page: ordering them again would
        search the text again)."""
        found = _base(self.dialect, self.request, self.words, self.conds, exact).limit(cap + 1).subquery("found")
        bits: Any = sa.literal(self.conds.text_bit)
        for n, ids in enumerate(self.conds.value_ids):
            bits = bits + sa.case((facet_condition(self.dialect, ids, found), 1 << n), else_=0)
        masked = sa.select(found, bits.label("mask")).subquery("masked")
        mask = masked.c.mask
        text = sa.func.array_to_string(masked.c.facet_ids, ",")
        columns: list[Any] = [
            mask,
            sa.func.count(),
            sa.func.string_agg(text, sa.literal_column("','")).filter(mask.in_(sorted(wanted))),
        ]
        id_text = sa.cast(masked.c.dataset_id, sa.Text())
        newest = [masked.c.published_at.desc(), masked.c.dataset_id.desc()]
        if self.conds.text:
            columns.append(sa.func.string_agg(id_text, aggregate_order_by(sa.literal_column("','"), *newest)))
            if self.request.sort == "price":
                by_price = [masked.c.price_key, *newest]
                columns.append(sa.func.string_agg(id_text, aggregate_order_by(sa.literal_column("','"), *by_price)))
        sizes: dict[int, int] = {}
        counted: dict[int, tuple[int, Counter[int]]] = {}
        matches: Matches | None = None
        for row in self.session.execute(sa.select(*columns).group_by(mask)):
            sizes[int(row[0])] = int(row[1])
            if row[0] in wanted:
                counted[int(row[0])] = (int(row[1]), _parse_counts(row[2]))
            if row[0] == self.conds.full and len(row) > 3:
                matches = Matches(_parse_ids(row[3]), _parse_ids(row[4]) if len(row) > 4 else None)
        if sum(sizes.values()) > cap:
            return None
        if self.conds.text and matches is None:
            matches = Matches([], [] if self.request.sort == "price" else None)
        return counted, matches

    def _one_by_one(self, exact: list[_Scope]) -> None:
        """Count each of the ``exact`` scopes up to ``limit + 1`` (the whole selection first: past the bound, its
        facets' scopes, which hold it, are too)."""
        limit = self.request.limit
        for scope in exact:
            if scope.skip is not None and self.results[None][0] > limit:
                self.estimate(scope)
                continue
            statement = _base(self.dialect, self.request, self.words, self.conds, [scope]).limit(limit + 1)
            rows = self.session.execute(statement).all()
            if len(rows) > limit:
                self.estimate(scope)
                continue
            self.results[scope.skip] = (len(rows), False, dict(self.masker.count(r[3] for r in rows)), False)
            if scope.skip is None:
                self.matches = Matches.ordered([tuple(r[:3]) for r in rows], price=self.request.sort == "price")


def count(session: Session, dialect: str, request: Request, words: Dictionary, *, with_facets: bool) -> Counts:
    """The total and (``with_facets``) every facet's counts, disjunctive: a facet with a selection is counted over
    the matches of every other selection (and the text) but not its own. Exact up to ``request.limit`` matches,
    estimated past it (see the module's text)."""
    counter = _Counter(session, dialect, request, words, facets=with_facets)
    if not counter.conds.full:  # browsing: the dictionary's counts, exact
        return Counts(words.everything, False, words.by_name(words.listings) if with_facets else {}, set())
    counter.run()
    total, total_estimated, shared, shared_estimated = counter.results[None]
    if not with_facets:
        return Counts(total, total_estimated, {}, set(), counter.matches)
    facets = words.by_name(shared)
    estimated = {name for name in FACETS if shared_estimated and name not in request.filters}
    for name in counter.conds.names:
        _, _, own, own_estimated = counter.results[name]
        facets[name] = words.by_name(own)[name]
        if own_estimated:
            estimated.add(name)
    return Counts(total, total_estimated, facets, estimated, counter.matches)
