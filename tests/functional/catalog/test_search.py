"""Search: the query set's results (the same on SQLite and PostgreSQL), ranking, facets, paging, hostile input."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from marketplace import create_app, migrate
from marketplace.catalog import search, search_engine
from marketplace.db import unit_of_work
from tests.conftest import base_settings, drop_scratch_database, is_postgres, scratch_database_url
from tests.functional.catalog import search_fixture
from tests.functional.catalog.search_fixture import QUERY_SET, run


@pytest.fixture()
def searchable(app, uow):  # type: ignore[no-untyped-def]
    with app.app_context():
        search_fixture.build(uow)
    return uow


@pytest.mark.parametrize(("args", "expected"), QUERY_SET, ids=[str(a) for a, _ in QUERY_SET])
def test_query_set(searchable, args: dict[str, Any], expected: list[str]) -> None:
    result = run(searchable, args)
    assert result["slugs"] == expected
    assert result["total"] == len(expected)


def test_title_matches_rank_above_description_matches(searchable) -> None:
    slugs = run(searchable, {"q": "speech"})["slugs"]
    assert set(slugs) == {"dutch-radio", "call-centre", "legal-contracts", "synthetic-voices", "parliament-archive"}
    assert slugs[-1] == "legal-contracts"  # only its description says "speech"
    assert "withdrawn-speech" not in slugs and "speech-draft" not in slugs


def test_facet_counts_are_disjunctive(searchable) -> None:
    facets = run(searchable, {"q": "speech", "modality": "audio"})["facets"]
    # Within the selected facet, the other values still count (so the buyer can widen the choice)...
    assert facets["modality"] == {"audio": 4, "text": 1}
    # ...while every other facet counts only what the selection leaves.
    assert facets["task"] == {"asr": 3, "tts": 2, "classification": 1}
    assert facets["provider"] == {"p-one": 3, "p-two": 1}
    assert facets["personal_data"] == {"yes": 3, "no": 1}
    assert facets["synthetic_share"] == {"none": 3, "all": 1}
    assert facets["storage_region"] == {"eu": 2, "us": 1, "ch": 1}
    assert facets["language"] == {"nl": 1, "en": 2, "de": 2, "fr": 1}
    everything = run(searchable, {})["facets"]
    assert everything["modality"] == {"audio": 4, "text": 3, "image": 2, "sensor": 1}
    assert everything["industry"]["retail_ecommerce"] == 2


def test_pagination_is_stable_and_complete(searchable, monkeypatch) -> None:
    ranked = run(searchable, {"q": "speech"})["slugs"]
    monkeypatch.setattr(search, "PAGE_SIZE", 3)
    pages = [run(searchable, {"page": str(n)})["slugs"] for n in range(1, 6)]
    assert [len(p) for p in pages] == [3, 3, 3, 1, 0]
    assert [slug for page in pages for slug in page] == search_fixture.NEWEST
    relevance = [run(searchable, {"q": "speech", "page": str(n)})["slugs"] for n in (1, 2)]
    assert [slug for page in relevance for slug in page] == ranked


HOSTILE = [
    '"',
    '""""',
    "speech OR",
    "NEAR(speech radio)",
    "speech AND NOT radio",
    "title:speech",
    "speech*",
    "-speech",
    "(((",
    "') OR 1=1 --",
    "\\",
    "& | ! <->",
    "\u200b\u202e\ufeffspeech",
    "ｓｐｅｅｃｈ",
    "😀 speech 😀",
    "e\u0301",
    "日本語の音声",
    "x" * 499,
    "speech " * 70,
]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_search_text_gives_results_not_errors(client, searchable, text: str) -> None:
    response = client.get("/datasets", query_string={"q": text})
    assert response.status_code == 200
    assert 'data-testid="total"' in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "params,field",
    [
        ({"q": "x" * 10_000}, "q"),
        ({"page": "99999999999999999999"}, "page"),
        ({"page": "-1"}, "page"),
        ({"page": "0"}, "page"),
        ({"page": "1e3"}, "page"),
        ({"sort": "cheapest"}, "sort"),
        ({"modality": "smell"}, "modality"),
        ({"language": "klingon!"}, "language"),
        ({"provider": "Bad Slug"}, "provider"),
        ({"q": "a\x00b"}, "q"),
    ],
)
def test_bad_search_parameters_are_a_clear_400(client, searchable, params, field) -> None:
    response = client.get("/datasets", query_string=params)
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert f"{field}:" in body and "The search could not be run" in body


def test_past_the_last_page_is_empty_not_an_error(client, searchable) -> None:
    response = client.get("/datasets", query_string={"page": "500"})
    assert response.status_code == 200 and "No dataset matches on this page" in response.get_data(as_text=True)


def test_catalog_page_works_without_javascript(client, searchable) -> None:
    body = client.get("/datasets?q=speech&modality=audio").get_data(as_text=True)
    assert 'data-testid="count-modality-audio">4<' in body
    assert 'name="modality" value="audio" checked' in body
    assert "Apply filters" in body and "<noscript>" in body


def _results_on(url: str, tmp_path) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    migrate.upgrade(url)
    app = create_app(base_settings(tmp_path, url))
    database, context = app.extensions["marketplace.db"], app.extensions["marketplace.context"]
    try:
        with app.app_context(), unit_of_work(database, context) as uow:
            search_fixture.build(uow)
        with app.app_context(), unit_of_work(database, context) as uow:
            return [run(uow, args) for args, _ in QUERY_SET] + [
                run(uow, {"q": "speech"}),
                run(uow, {"q": "images sensor"}),
            ]
    finally:
        database.dispose()


@pytest.mark.skipif(not is_postgres(), reason="needs PostgreSQL (TEST_DATABASE_URL) to compare with SQLite")
def test_sqlite_and_postgresql_give_the_same_results(tmp_path) -> None:
    sqlite = f"sqlite:///{tmp_path / 'compare.db'}"
    postgres = scratch_database_url(tmp_path, "search_compare")
    try:
        assert _results_on(sqlite, tmp_path) == _results_on(postgres, tmp_path)
    finally:
        drop_scratch_database(postgres)


def test_whole_catalog_counts_are_maintained_on_write(app, searchable, catalog) -> None:
    session = searchable.session
    query = search.parse_search({})
    counts = {f.name: {v.value: v.count for v in f.values} for f in search.facet_results(session, query)}
    assert counts["modality"]["audio"] == 4
    catalog.published(title="One more audio corpus", modality="audio", modality_details={})
    again = search.search(session, query)
    assert {v.value: v.count for v in again.facets[0].values}["audio"] == 5
    assert again.total == len(search_fixture.NEWEST) + 1 and not again.total_is_estimate


def test_postgresql_parses_the_text_query_once_not_per_row(searchable) -> None:
    # The text configuration is a constant, so to_tsquery(config, text) is folded when the query is planned; a
    # configuration cast from a bound string is only stable and was evaluated again for every row tested.
    session = searchable.session
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    groups = search._request(search.parse_search({"q": ["speech recog"]}), 10).groups
    doc = search_engine.DOC
    statement = (
        sa.select(doc.c.dataset_id, search_engine.score("postgresql", groups, doc))
        .where(search_engine.text_condition("postgresql", groups, doc))
        .order_by(search_engine.score("postgresql", groups, doc).desc())
    )
    compiled = statement.compile(session.get_bind())
    explained = session.connection().exec_driver_sql("EXPLAIN VERBOSE " + str(compiled), compiled.params)
    plan = "\n".join(str(row[0]) for row in explained)
    assert "tsquery" in plan and "@@" in plan
    assert "to_tsquery" not in plan


def test_postgresql_plans_each_search_for_its_own_values(searchable) -> None:
    # A generic plan of a statement the driver prepared would test the text query as a parameter, row by row.
    session = searchable.session
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    search.search(session, search.parse_search({"q": ["speech"]}))
    assert session.execute(sa.text("SELECT current_setting('plan_cache_mode')")).scalar_one() == "force_custom_plan"
