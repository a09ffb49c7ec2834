"""Counting every scope of a search from one read of the sample and one of the matches gives what counting each
scope on its own gives, and the page ordered from the matches read is the page the database orders; on SQLite and
PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from marketplace.catalog import search, search_counts, search_engine
from marketplace.db import UnitOfWork
from tests.functional.catalog import search_fixture
from tests.functional.catalog.search_fixture import run

QUERIES: list[dict[str, Any]] = [
    *(args for args, _ in search_fixture.QUERY_SET),
    {"q": "speech"},
    {"q": "speech", "sort": "price"},
    {"q": "speech", "modality": "audio"},
    {"q": "speech", "modality": "audio", "language": "en"},
    {"q": "speech", "modality": ["audio", "text"], "language": ["en", "nl"], "personal_data": "yes"},
    {"modality": "audio", "language": "en", "personal_data": "yes"},
    {"modality": "audio", "language": "en", "personal_data": "yes", "sort": "price"},
    {"modality": ["audio", "text"], "language": "en"},
    {"sort": "price", "personal_data": "no"},
    {"q": "speech", "page": "2"},
]


@pytest.fixture()
def searchable(app: Flask, uow: UnitOfWork) -> UnitOfWork:
    with app.app_context():
        search_fixture.build(uow)
    return uow


def _all(uow: UnitOfWork, limit: int, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    monkeypatch.setattr(search, "DEFAULT_EXACT_COUNT_LIMIT", limit)
    monkeypatch.setattr(search, "PAGE_SIZE", 3)  # several pages, and page 2 is not empty
    found = []
    for args in QUERIES:
        result = run(uow, args)
        estimated = search.search(uow.session, search.parse_search(_lists(args)), exact_count_limit=limit)
        result["estimated"] = (estimated.total_is_estimate, sorted(f.name for f in estimated.facets if f.estimated))
        found.append(result)
    return found


def _lists(args: dict[str, Any]) -> dict[str, Any]:
    return {k: v if isinstance(v, list) else [v] for k, v in args.items()}


@pytest.mark.parametrize("limit", [10_000, 3, 1])
def test_counting_together_one_by_one_and_ordering_in_sql_agree(
    searchable: UnitOfWork, monkeypatch: pytest.MonkeyPatch, limit: int
) -> None:
    calls: dict[str, int] = {"together": 0, "page_of": 0}
    together, page_of = search_counts._Counter._together, search_engine._page_of

    def spy_together(self: Any, exact: Any) -> bool:
        calls["together"] += 1
        return together(self, exact)

    def spy_page_of(*args: Any) -> list[int]:
        calls["page_of"] += 1
        return page_of(*args)

    monkeypatch.setattr(search_counts._Counter, "_together", spy_together)
    monkeypatch.setattr(search_engine, "_page_of", spy_page_of)
    reference = _all(searchable, limit, monkeypatch)
    if limit > 1:  # the ways under test were taken
        assert calls["together"] > 10 and calls["page_of"] > 10

    # Each scope counted on its own (up to the bound), as when the shared read would be too large.
    monkeypatch.setattr(search_counts._Counter, "_together", lambda self, exact: False)
    assert _all(searchable, limit, monkeypatch) == reference

    # Pages ordered by the database, not from the matches the counts read.
    monkeypatch.setattr(search_counts._Counter, "_together", spy_together)
    original = search_engine.page_ids
    monkeypatch.setattr(search_engine, "page_ids", lambda *args: original(*args[:5]))
    assert _all(searchable, limit, monkeypatch) == reference


@pytest.mark.parametrize("limit", [10_000, 3, 2, 1])
def test_counting_from_the_shared_read_first_agrees(
    searchable: UnitOfWork, monkeypatch: pytest.MonkeyPatch, limit: int
) -> None:
    # SQLite, no text: a search the dictionary expects under the bound is counted from the shared read, without the
    # sample; one it misjudged (a scope past the bound) is counted as usual after all.
    monkeypatch.setattr(search_counts, "FIRST_SHARE", 0.0)
    reference = _all(searchable, limit, monkeypatch)
    monkeypatch.setattr(search_counts, "FIRST_SHARE", 1e9)  # every search without text is expected small
    assert _all(searchable, limit, monkeypatch) == reference


def test_a_small_selection_without_text_reads_no_sample(
    searchable: UnitOfWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = searchable.session
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        pytest.skip("SQLite only")
    samples: list[int] = []
    read_sample = search_counts._read_sample

    def spy_sample(*args: Any) -> int:
        samples.append(1)
        return read_sample(*args)

    monkeypatch.setattr(search_counts, "_read_sample", spy_sample)
    words = search_engine.read_dictionary(session)
    args = {"modality": ["audio"], "language": ["en"], "personal_data": ["yes"]}
    request = search._request(search.parse_search(args), 10_000)
    first = search_counts.count(session, dialect, request, words, with_facets=True)
    assert not samples and first.total == 1 and not first.estimated
    monkeypatch.setattr(search_counts, "FIRST_SHARE", 0.0)
    assert search_counts.count(session, dialect, request, words, with_facets=True) == first
    assert samples
    # Misjudged: English listings without personal data are within the bound of 3, but the scope of the language's
    # own counts (every listing without personal data) is past it: the sample is read, to estimate that scope.
    samples.clear()
    monkeypatch.setattr(search_counts, "FIRST_SHARE", 1e9)
    request = search._request(search.parse_search({"language": ["en"], "personal_data": ["no"]}), 3)
    misjudged = search_counts.count(session, dialect, request, words, with_facets=True)
    assert samples and misjudged.total == 3 and "language" in misjudged.estimated


def test_the_expected_pages_and_counts(searchable: UnitOfWork) -> None:
    found = run(searchable, {"modality": "audio", "language": "en", "personal_data": "yes"})
    assert found["slugs"] == ["call-centre"]
    facets = found["facets"]
    # Disjunctive: each selected facet counted over the other two selections.
    assert facets["modality"] == {"audio": 1, "text": 1}
    assert facets["personal_data"] == {"yes": 1, "no": 1}
    assert facets["language"] == {"nl": 1, "en": 1, "fr": 1, "de": 1}
    text = run(searchable, {"q": "speech", "modality": "audio", "language": "en"})
    assert text["slugs"] == ["call-centre", "synthetic-voices"]
    assert text["facets"]["modality"] == {"audio": 2, "text": 1}
    assert text["facets"]["language"] == {"en": 2, "de": 2, "nl": 1, "fr": 1}


def test_a_facet_scope_goes_to_the_sample_when_the_whole_selection_is_past_the_bound(
    searchable: UnitOfWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A selected facet's scope holds every match of the whole selection: when those are surely past the bound, its
    # counts come from the sample (flagged) without counting the scope, even if the sample alone would not say so.
    session = searchable.session
    dialect = session.get_bind().dialect.name
    words = search_engine.read_dictionary(session)
    request = search._request(search.parse_search({"q": ["dutch"], "modality": ["audio"]}), 3)
    exact = search_counts.count(session, dialect, request, words, with_facets=True)
    assert "modality" not in exact.estimated
    verdicts = iter([True])  # the first question asked is whether the whole selection is past
    monkeypatch.setattr(search_counts, "_surely_past", lambda *_: next(verdicts, False))
    estimated = search_counts.count(session, dialect, request, words, with_facets=True)
    assert "modality" in estimated.estimated


def test_postgresql_reads_a_words_sample_up_to_enough_matches(
    searchable: UnitOfWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Text alone on PostgreSQL: the sample is read in sample-key order until TEXT_SAMPLE_MATCHES matches, and the
    # estimate is scaled by the listings read, not by the whole sample.
    session = searchable.session
    dialect = session.get_bind().dialect.name
    if dialect != "postgresql":
        pytest.skip("PostgreSQL only")
    words = search_engine.read_dictionary(session)
    monkeypatch.setattr(search_counts, "TEXT_SAMPLE_MATCHES", 2)
    matched = {
        int(i)
        for (i,) in session.execute(
            sa.text("SELECT dataset_id FROM search_document WHERE text_vector @@ to_tsquery('english', 'speech:*')")
        )
    }
    order = [int(i) for (i,) in session.execute(sa.text("SELECT dataset_id FROM search_keys ORDER BY sample_key"))]
    hits = [n for n, dataset_id in enumerate(order) if dataset_id in matched]
    assert len(hits) == 5
    whole = search._request(search.parse_search({"q": ["speech"]}), len(order))  # the whole catalog is the sample
    groups, read = search_counts._text_sample(session, whole, len(order), len(order))
    assert read == hits[1] + 1 and len(groups[1]) == 2  # stopped at the second match
    bounded = search._request(search.parse_search({"q": ["speech"]}), 4)  # 5 matches, past a bound of 4
    sample = order[:4]
    found = [n for n, dataset_id in enumerate(sample) if dataset_id in matched]
    read = found[1] + 1 if len(found) >= 2 else len(sample)
    counts = search_counts.count(session, dialect, bounded, words, with_facets=False)
    assert counts.total_estimated
    assert counts.total == max(5, search_counts._round(min(2, len(found)) * words.everything / read))
