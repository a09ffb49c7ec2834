"""The search index stays equal to a full rebuild after every kind of change, on SQLite and PostgreSQL; counts past
the exact-count bound are estimates, flagged; the price order; prefixes and synonyms."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from marketplace.accounts.models import Organisation
from marketplace.apikeys import services as keys
from marketplace.catalog import search, search_engine, search_index, services
from marketplace.db import UnitOfWork
from marketplace.licenses import services as licenses
from tests.functional.catalog import search_fixture
from tests.functional.catalog.conftest import ALL_FIELDS, Catalog, record
from tests.functional.catalog.search_fixture import run


def _equals_rebuild(uow: UnitOfWork) -> dict[str, Any]:
    """The index as kept in step, after checking it equals a rebuild from scratch (which then replaces it)."""
    search_index.sync(uow.session)
    connection = uow.session.connection()
    kept = search_index.snapshot(connection)
    search_index.rebuild(connection)
    assert kept == search_index.snapshot(connection)
    return kept


def _offer(app: Flask, uow: UnitOfWork, catalog: Catalog, dataset: Any, price: int, **extra: Any) -> Any:
    _, user = catalog.provider()
    with app.app_context():
        offer = licenses.create_offer(
            uow,
            user,
            dataset,
            title=f"Offer {price}",
            price_amount=price,
            currency="EUR",
            license_id="LicenseRef-standard-commercial-1.0",
            **extra,
        )
        uow.session.flush()
    return offer


def test_the_index_equals_a_rebuild_after_each_kind_of_change(app: Flask, uow: UnitOfWork, catalog: Catalog) -> None:
    first = catalog.published(title="Alpha speech corpus", modality="audio", modality_details={}, languages=["en-US"])
    second = catalog.published(title="Beta text corpus", modality="text", tasks=["ner"])
    draft = catalog.draft(title="Gamma draft")
    documents = _equals_rebuild(uow)["documents"]
    assert set(documents) == {first.id, second.id}  # the draft is not indexed

    # An edit of the record: text, a column facet, a term facet (written below the ORM).
    services.apply_record(uow, first, record(title="Alpha speech corpus, revised", modality="text", tasks=["asr"],
                                             languages=["de"]), ALL_FIELDS)  # fmt: skip
    uow.session.flush()
    documents = _equals_rebuild(uow)["documents"]
    assert ("language", "de") in documents[first.id]["facets"] and ("modality", "text") in documents[first.id]["facets"]
    # Only a term list changes (its rows are written below the ORM; the listing's own columns stay as they were).
    services.apply_record(uow, first, record(title="Alpha speech corpus, revised", modality="text", tasks=["asr"],
                                             languages=["fr"]), ["languages"])  # fmt: skip
    uow.session.flush()
    assert ("language", "fr") in _equals_rebuild(uow)["documents"][first.id]["facets"]

    # Offers: the price and the offer facets; retiring one.
    cheap = _offer(app, uow, catalog, second, 1500)
    _offer(app, uow, catalog, second, 9900)
    index = _equals_rebuild(uow)
    assert index["documents"][second.id]["price"] == 1500
    assert index["counts"][("license_family", "commercial")] == 1
    _, user = catalog.provider()
    with app.app_context():
        licenses.retire_offer(uow, user, cheap)
        uow.session.flush()
    assert _equals_rebuild(uow)["documents"][second.id]["price"] == 9900

    # The provider's name and slug (the provider facet).
    organisation = uow.session.get(Organisation, second.organisation_id)
    assert organisation is not None
    organisation.slug = "renamed-provider"
    uow.session.flush()
    assert ("provider", "renamed-provider") in _equals_rebuild(uow)["documents"][second.id]["facets"]

    # Publishing the draft, then deprecating and withdrawing listings.
    with app.app_context():
        _, owner = catalog.provider()
        services.submit_for_review(uow, owner, draft)
        services.approve(uow, catalog.admin, draft)
        uow.session.flush()
    assert draft.id in _equals_rebuild(uow)["documents"]
    with app.app_context():
        services.deprecate(uow, catalog.admin, second, "Superseded.")
        services.withdraw(uow, catalog.admin, first, "Rights expired.")
        uow.session.flush()
    index = _equals_rebuild(uow)
    assert first.id not in index["documents"]
    assert index["counts"][("", "")] == len(index["documents"])


def test_a_core_write_is_indexed_once_touched(uow: UnitOfWork, catalog: Catalog) -> None:
    dataset = catalog.published(title="Touched corpus")
    uow.session.connection().exec_driver_sql(f"UPDATE dataset SET status = 'withdrawn' WHERE id = {dataset.id}")
    search_index.touch(uow.session, [dataset.id])  # without this line the index would still list it
    assert dataset.id not in _equals_rebuild(uow)["documents"]


def test_the_reindex_command_rebuilds_and_checks(app: Flask, uow: UnitOfWork, catalog: Catalog) -> None:
    catalog.published(title="Listed corpus")
    uow.session.commit()
    result = app.test_cli_runner().invoke(args=["catalog", "reindex", "--check"])
    assert result.exit_code == 0, result.output
    assert "1 published listing(s) indexed; no difference" in result.output


@pytest.fixture()
def searchable(app, uow):  # type: ignore[no-untyped-def]
    with app.app_context():
        search_fixture.build(uow)
    return uow


def test_counts_past_the_bound_are_estimates_and_flagged(searchable: UnitOfWork) -> None:
    session = searchable.session
    exact = search.search(session, search.parse_search({"q": "speech"}))
    assert exact.total == 5 and not exact.total_is_estimate and not any(f.estimated for f in exact.facets)
    # With a bound of 3 the five matches are past it: the total is estimated from the sample (3 listings of 10),
    # never below the bound, and every facet's counts are flagged too. The page itself is still exact.
    bounded = search.search(session, search.parse_search({"q": "speech"}), exact_count_limit=3)
    assert bounded.total_is_estimate and bounded.total >= 4
    assert all(f.estimated for f in bounded.facets)
    assert bounded.dataset_ids == exact.dataset_ids
    # A facet with a selection is counted over the others' matches: exact while those are few enough.
    narrow = search.search(session, search.parse_search({"q": "dutch", "modality": "audio"}), exact_count_limit=3)
    assert narrow.total == 1 and not narrow.total_is_estimate
    # One value alone: its total is the dictionary's, exact past the bound; the other facets' counts are estimates.
    audio = search.search(session, search.parse_search({"modality": "audio"}), exact_count_limit=3)
    assert audio.total == 4 and not audio.total_is_estimate
    assert {f.name for f in audio.facets if f.estimated} == set(search.FACETS) - {"modality"}
    # Browsing is always exact (the counts are maintained on write).
    browse = search.search(session, search.parse_search({}), exact_count_limit=3)
    assert browse.total == len(search_fixture.NEWEST) and not browse.total_is_estimate


def test_an_estimate_reads_about_on_the_page_and_is_flagged_in_the_api(app, client, searchable, catalog) -> None:  # type: ignore[no-untyped-def]
    _, user = catalog.provider()
    _, secret = keys.create_key(searchable, user, name="reader", scopes=["catalog:read"], environment="live")
    searchable.session.flush()
    headers = {"Authorization": f"Bearer {secret}"}
    before = searchable.settings["SEARCH_EXACT_COUNT_LIMIT"]
    searchable.settings["SEARCH_EXACT_COUNT_LIMIT"] = 3
    try:
        body = client.get("/datasets?q=speech").get_data(as_text=True)
        assert "about " in body.split('data-testid="total"')[1][:200]
        assert '<span class="visually-hidden">about </span>~' in body  # the facet counts
        exact = client.get("/datasets?q=dutch").get_data(as_text=True)
        assert "about" not in exact.split('data-testid="total"')[1][:200]
        api = client.get("/api/v1/datasets?q=speech", headers=headers).get_json()
        assert api["total_is_estimate"] is True and all(f["counts_are_estimates"] for f in api["facets"])
        api = client.get("/api/v1/datasets?q=dutch", headers=headers).get_json()
        assert api["total_is_estimate"] is False and api["total"] == 1
        assert not any(f["counts_are_estimates"] for f in api["facets"])
    finally:
        searchable.settings["SEARCH_EXACT_COUNT_LIMIT"] = before


def test_price_order_is_lowest_public_offer_first(app: Flask, uow: UnitOfWork, catalog: Catalog) -> None:
    free = catalog.published(title="Free corpus")
    dear = catalog.published(title="Dear corpus")
    cheap = catalog.published(title="Cheap corpus")
    unpriced = catalog.published(title="Unpriced corpus")
    _offer(app, uow, catalog, dear, 50_000)
    _offer(app, uow, catalog, cheap, 900)
    _offer(app, uow, catalog, cheap, 70_000)
    with app.app_context():
        licenses.create_offer(uow, catalog.provider()[1], free, title="Open", license_id="CC-BY-4.0", price_amount=0,
                              currency="EUR")  # fmt: skip
    slugs = run(uow, {"sort": "price"})["slugs"]
    assert slugs == [free.slug, cheap.slug, dear.slug, unpriced.slug]
    assert run(uow, {"sort": "price", "q": "corpus"})["slugs"] == slugs


def test_prefixes_match_and_rank_below_whole_words(uow: UnitOfWork, catalog: Catalog) -> None:
    catalog.published(slug="radio-archive", title="Radio archive", description="Broadcasts.")
    catalog.published(slug="radiology-scans", title="Radiology scans", description="Hospital images.")  # newer
    # "radio" is a whole title word of one and the start of a title word of the other: both match, the whole
    # word first (by newest alone, the radiology listing would come first).
    assert run(uow, {"q": "radio"})["slugs"] == ["radio-archive", "radiology-scans"]
    assert run(uow, {"q": "radio", "sort": "newest"})["slugs"] == ["radiology-scans", "radio-archive"]
    assert run(uow, {"q": "radi"})["total"] == 2
    assert run(uow, {"q": "ra"})["total"] == 0  # two letters are too short to be a prefix


def test_only_the_last_typed_word_is_a_prefix(uow: UnitOfWork, catalog: Catalog) -> None:
    catalog.published(slug="radiology-notes", title="Radiology notes", description="Reports.")
    catalog.published(slug="radio-notebook", title="Radio notebook", description="Logs.")
    # The word being typed (the last) matches as a prefix; a word before it is done and matches whole.
    assert run(uow, {"q": "radio note"})["slugs"] == ["radio-notebook"]
    assert run(uow, {"q": "notes radi"})["slugs"] == ["radiology-notes"]
    assert run(uow, {"q": "radi notes"})["total"] == 0


def test_synonyms_find_each_other(uow: UnitOfWork, catalog: Catalog) -> None:
    catalog.published(slug="asr-bench", title="ASR benchmark", description="Word error rates.")
    catalog.published(slug="broadcast", title="Broadcast speech recognition corpus", description="News.")
    catalog.published(slug="recognition-of-speakers", title="Speaker recognition", description="Speech of many.")
    assert run(uow, {"q": "asr"})["slugs"] == ["broadcast", "asr-bench"]
    # The typed words may be anywhere; the synonym (asr) counts as well. Exact title matches rank first.
    found = run(uow, {"q": "speech recognition"})["slugs"]
    assert set(found) == {"asr-bench", "broadcast", "recognition-of-speakers"}
    assert found[0] == "broadcast"


def test_walking_the_order_gives_the_same_pages(searchable: UnitOfWork, monkeypatch: pytest.MonkeyPatch) -> None:
    # Past a number of matches SQLite walks the order's index instead of sorting the matches: the same results.
    monkeypatch.setattr(search_engine, "WALK_FACTOR", 0.0)
    for args, expected in [*search_fixture.QUERY_SET, ({"q": "speech", "sort": "price"}, None)]:
        if expected is None:
            expected = search_fixture.by_newest(*run(searchable, {"q": "speech", "sort": "newest"})["slugs"])
        assert run(searchable, args)["slugs"] == expected, args


def test_pages_past_the_ranked_candidates_go_on_in_newest_order(
    searchable: UnitOfWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pages of 2, the newest 4 matches ranked: the ranked pages hold exactly those, the later ones the rest newest
    # first, so every match is on exactly one page.
    matches = run(searchable, {"q": "speech", "sort": "newest"})["slugs"]
    assert len(matches) == 5
    monkeypatch.setattr(search, "PAGE_SIZE", 2)
    monkeypatch.setattr(search, "CANDIDATES", 4)
    pages = [run(searchable, {"q": "speech", "page": str(p)})["slugs"] for p in (1, 2, 3)]
    assert sorted(pages[0] + pages[1]) == sorted(matches[:4])
    assert pages[2] == matches[4:]
