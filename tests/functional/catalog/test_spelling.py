"""Typo tolerance on titles: the index of published title words, pg_trgm's similarity, and the corrected search on
the page and in the API."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from marketplace.accounts.models import OrgKind, Role
from marketplace.apikeys import services as keys
from marketplace.catalog import search, services, spelling
from marketplace.db import UnitOfWork
from tests.conftest import is_postgres
from tests.factories import OrganisationFactory, member


def title_words(session: Session) -> dict[str, int]:
    rows = session.execute(sa.text("SELECT word, listings FROM title_word"))
    return {str(word): int(listings) for word, listings in rows}


def expected_words(*titles: str) -> dict[str, int]:
    """What the index must hold for these published titles: each word (3 to 64 characters, not only digits) and
    how many of the titles have it."""
    counts: dict[str, int] = {}
    for title in titles:
        for word in set(re.findall(r"[^\W_]+", title.lower())):
            if 3 <= len(word) <= 64 and not word.isdigit():
                counts[word] = counts.get(word, 0) + 1
    return counts


PAIRS = [
    ("speach", "speech"),
    ("recogniton", "recognition"),
    ("radiolgy", "radiology"),
    ("radiol", "radiology"),
    ("segm", "segmentation"),
    ("mammogrpahy", "mammography"),
    ("lidar", "radar"),
    ("abc", "xyz"),
    ("speech", "speech"),
]


@pytest.mark.parametrize(("a", "b"), PAIRS)
def test_similarity_is_pg_trgms(db_session: Session, a: str, b: str) -> None:
    mine = spelling.similarity(a, b)
    assert 0 <= mine <= 1 and mine == spelling.similarity(b, a)
    if is_postgres():
        theirs = db_session.execute(sa.text("SELECT similarity(:a, :b)"), {"a": a, "b": b}).scalar_one()
        assert mine == pytest.approx(float(theirs), abs=1e-6)


def test_known_similarities() -> None:
    assert spelling.similarity("speach", "speech") == pytest.approx(4 / 10)
    assert spelling.similarity("radiolgy", "radiology") == pytest.approx(7 / 12)
    assert spelling.similarity("speech", "speech") == 1
    assert spelling.similarity("abc", "xyz") == 0
    assert spelling.trigrams("Cat") == frozenset({"  c", " ca", "cat", "at "})


def test_the_index_holds_the_words_of_published_titles_only(catalog, db_session: Session) -> None:
    first = catalog.published(title="Call-centre speech, English (US) 2024 v2")
    second = catalog.published(title="Speech corpus of Dutch radio")
    catalog.draft(title="Zebrafish embryo images")
    db_session.flush()
    assert title_words(db_session) == expected_words(first.title, second.title)
    assert title_words(db_session)["speech"] == 2
    assert "zebrafish" not in title_words(db_session) and "2024" not in title_words(db_session)


def test_the_index_follows_title_changes_and_withdrawals(app, catalog, uow: UnitOfWork, db_session: Session) -> None:
    kept = catalog.published(title="Speech corpus of Dutch radio")
    changed = catalog.published(title="Radio interviews in Dutch")
    changed.title = "Television interviews in Flemish"
    db_session.add(changed)
    db_session.flush()
    assert title_words(db_session) == expected_words(kept.title, changed.title)
    with app.app_context():
        services.withdraw(uow, catalog.admin, kept, "Rights expired.")
    db_session.flush()
    assert title_words(db_session) == expected_words(changed.title)
    db_session.delete(changed)
    db_session.flush()
    assert title_words(db_session) == {}


def test_tricky_titles_split_into_the_same_words_on_both_databases(catalog, db_session: Session) -> None:
    # (SQLite's triggers split at the usual punctuation only: a word with a rare character inside it, "a<b", is
    # left out there; the characters here are those a title has.)
    titles = [
        "Parliament speeches, German and French (TTS-grade)",
        "Instruction–response pairs: “quoted”, buyer’s [draft] {v2} <html> a/b_c+d&e",
        "Wind-turbine vibration; 100 Hz! Really? #sensors @home 50% $5 ~x ^y `z` =w |pipe|",
    ]
    for title in titles:
        catalog.published(title=title)
    db_session.flush()
    assert title_words(db_session) == expected_words(*titles)


def _search(uow: UnitOfWork, text: str, **filters: Any) -> services.CatalogSearch:
    query = search.build_query(text=text, filters={k: [v] for k, v in filters.items()})
    return services.search_catalog(uow, query, correct_spelling=True)


def test_a_search_that_finds_nothing_runs_again_with_corrected_words(catalog, uow: UnitOfWork) -> None:
    catalog.published(title="Hindi speech recognition corpus", slug="hindi")
    catalog.published(title="Speech corpus of Dutch radio", slug="dutch")
    found = _search(uow, "speach recogniton")
    assert [hit["dataset"].slug for hit in found.hits] == ["hindi"]
    assert found.correction is not None
    assert found.correction.corrected.text == "speech recognition"
    assert found.correction.words == (("speach", "speech"), ("recogniton", "recognition"))
    assert found.correction.as_dict() == {
        "text": "speech recognition",
        "original_text": "speach recogniton",
        "words": [{"typed": "speach", "corrected": "speech"}, {"typed": "recogniton", "corrected": "recognition"}],
    }
    # Without asking for it, or when the words match as typed, nothing is corrected.
    plain = services.search_catalog(uow, search.build_query(text="speach recogniton"))
    assert plain.correction is None and plain.results.total == 0
    assert _search(uow, "speech").correction is None


def test_only_words_that_are_no_title_word_are_corrected_and_filters_stay(catalog, uow: UnitOfWork) -> None:
    catalog.published(title="Hindi speech recognition corpus", slug="hindi", languages=["hi"])
    catalog.published(title="Dutch speech recognition corpus", slug="dutch", languages=["nl"])
    found = _search(uow, "dutch recogniton", language="hi")
    # "dutch" is a title word: kept as typed, so with the Hindi filter nothing matches even once corrected.
    assert found.correction is None and found.results.total == 0
    found = _search(uow, "speech recogniton", language="nl")
    assert [hit["dataset"].slug for hit in found.hits] == ["dutch"]
    assert found.correction is not None and found.correction.corrected.filters == {"language": ("nl",)}


def test_no_correction_from_drafts_phrases_or_far_words(catalog, uow: UnitOfWork) -> None:
    catalog.published(title="Speech corpus of Dutch radio", slug="dutch")
    catalog.draft(title="Zebrafish embryo images", slug="zebra")
    assert _search(uow, "zebrafsh").correction is None  # a draft's title is no title word
    assert _search(uow, '"speach corpus"').correction is None  # the buyer asked for these words exactly
    assert _search(uow, "quantum").correction is None  # nothing close enough
    assert _search(uow, "sp").correction is None  # too short to tell


def test_at_most_a_few_words_are_looked_up(catalog, uow: UnitOfWork) -> None:
    catalog.published(title="Alpha bravo charlie delta echo foxtrot", slug="nato")
    correction = spelling.correct(uow.session, search.build_query(text="alphq bravp charlix deltq echp foxtrop"))
    assert correction is not None and spelling.MAX_LOOKUPS == 4
    assert [typed for typed, _ in correction.words] == ["alphq", "bravp", "charlix", "deltq"]
    assert correction.corrected.terms == ("alpha", "bravo", "charlie", "delta", "echp", "foxtrop")
    # The corrected search still finds nothing, so the page shows the words as typed, with no notice.
    assert _search(uow, "alphq bravp charlix deltq echp foxtrop").correction is None


def test_the_closest_word_wins_then_the_one_more_listings_have(catalog, uow: UnitOfWork) -> None:
    catalog.published(title="Dogo breeders", slug="dogo")
    catalog.published(title="Dogs in parks", slug="dogs-1")
    catalog.published(title="Dogs on beaches", slug="dogs-2")
    catalog.published(title="Doge portraits", slug="doge")
    assert spelling.closest_title_word(uow.session, "dogez") == "doge"  # the closest
    # "dogz" is as close to "dogs" (two listings) as to "dogo" and "doge" (one each).
    assert (
        spelling.similarity("dogz", "dogs")
        == spelling.similarity("dogz", "dogo")
        == spelling.similarity("dogz", "doge")
    )
    assert spelling.closest_title_word(uow.session, "dogz") == "dogs"


def test_the_search_page_shows_the_corrected_results_and_a_link_to_the_words_as_typed(catalog, client) -> None:
    catalog.published(title="Hindi speech recognition corpus", slug="hindi")
    body = client.get("/datasets", query_string={"q": "speach recogniton"}).get_data(as_text=True)
    assert 'data-testid="spelling-notice"' in body
    assert "Showing results for" in body and "speech recognition" in body
    assert "no listing matched “speach recogniton”" in body
    assert "/datasets/hindi" in body
    assert 'href="/datasets?q=speach+recogniton&amp;exact=1"' in body
    exact = client.get("/datasets", query_string={"q": "speach recogniton", "exact": "1"}).get_data(as_text=True)
    assert 'data-testid="spelling-notice"' not in exact and "/datasets/hindi" not in exact
    assert "No dataset matches" in exact


def _api_key(app: Any, db_session: Session) -> dict[str, str]:
    org = OrganisationFactory(slug="buy", kind=OrgKind.BUYER)
    user = member(org, Role.OWNER, email="owner@example.org")
    db_session.flush()
    context = app.extensions["marketplace.context"]
    _row, secret = keys.create_key(UnitOfWork(db_session, context), user, name="robot", scopes=["catalog:read"])
    db_session.flush()
    return {"Authorization": f"Bearer {secret}"}


def test_the_api_says_what_it_searched_for_instead(app, catalog, client, db_session: Session) -> None:
    catalog.published(title="Hindi speech recognition corpus", slug="hindi")
    headers = _api_key(app, db_session)
    body = client.get("/api/v1/datasets", query_string={"q": "speach recogniton"}, headers=headers).get_json()
    assert [hit["slug"] for hit in body["data"]] == ["hindi"] and body["total"] == 1
    assert body["spelling"] == {
        "text": "speech recognition",
        "original_text": "speach recogniton",
        "words": [{"typed": "speach", "corrected": "speech"}, {"typed": "recogniton", "corrected": "recognition"}],
    }
    exact = client.get(
        "/api/v1/datasets", query_string={"q": "speach recogniton", "exact": "true"}, headers=headers
    ).get_json()
    assert exact["data"] == [] and exact["spelling"] is None
    plain = client.get("/api/v1/datasets", query_string={"q": "speech"}, headers=headers).get_json()
    assert plain["spelling"] is None and plain["total"] == 1
