"""What a process keeps of the search index (the facet dictionary, recent searches' answers) is exactly as fresh as
the index: every write to it sets a new generation token in its own transaction, a rolled-back write leaves the old
one, and a kept answer equals a fresh one. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from marketplace.catalog import search, search_cache, search_counts, search_index, services
from marketplace.catalog.services import pages
from marketplace.db import UnitOfWork
from marketplace.licenses import services as licenses
from tests.functional.catalog import search_fixture
from tests.functional.catalog.conftest import ALL_FIELDS, Catalog, manifest, record


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    search_cache.CACHE.clear()
    yield
    search_cache.CACHE.clear()


def _token(uow: UnitOfWork) -> int | None:
    return search_index.generation(uow.session.connection())


def _cached(uow: UnitOfWork, args: dict[str, Any]) -> dict[str, Any]:
    """One search with the cache on: slugs in order, total and every facet's counts."""
    query = search.parse_search({k: v if isinstance(v, list) else [v] for k, v in args.items()})
    results = search.search(uow.session, query, cache_entries=100)
    slugs = [hit["dataset"].slug for hit in services.search_hits(uow.session, results.dataset_ids)]
    facets = {f.name: {v.value: v.count for v in f.values} for f in results.facets}
    return {"slugs": slugs, "total": results.total, "facets": facets, "estimate": results.total_is_estimate}


def test_every_write_to_the_index_sets_a_new_token(app: Flask, uow: UnitOfWork, catalog: Catalog) -> None:
    start = _token(uow)
    assert start is not None
    dataset = catalog.published(title="Tokened corpus")
    published = _token(uow)
    assert published != start
    # A Core write, touched: indexed at the next sync, with a new token.
    uow.session.connection().exec_driver_sql(f"UPDATE dataset SET status = 'withdrawn' WHERE id = {dataset.id}")
    search_index.touch(uow.session, [int(dataset.id or 0)])
    search_index.sync(uow.session)
    withdrawn = _token(uow)
    assert withdrawn != published
    # A sync with nothing to write keeps it; a rebuild sets a new one.
    search_index.sync(uow.session)
    assert _token(uow) == withdrawn
    search_index.rebuild(uow.session.connection())
    assert _token(uow) != withdrawn


def test_a_rolled_back_write_leaves_the_token_it_found(app: Flask, uow: UnitOfWork, catalog: Catalog) -> None:
    catalog.published(title="Kept corpus")
    before = _token(uow)
    assert [*_cached(uow, {"q": "corpus"})["slugs"]] == ["kept-corpus"]
    savepoint = uow.session.begin_nested()
    catalog.published(title="Passing corpus")
    assert _token(uow) != before
    assert _cached(uow, {"q": "corpus"})["total"] == 2
    savepoint.rollback()
    assert _token(uow) == before
    assert _cached(uow, {"q": "corpus"})["slugs"] == ["kept-corpus"]


def test_a_kept_answer_follows_every_change(app: Flask, uow: UnitOfWork, catalog: Catalog) -> None:
    first = catalog.published(title="Harbour sounds", modality="audio", modality_details={})
    assert _cached(uow, {"q": "harbour"})["slugs"] == [first.slug]
    assert _cached(uow, {"modality": "audio"})["total"] == 1
    # Another listing: the same searches find it at once (the answers kept above are not served again).
    second = catalog.published(title="Harbour cranes", modality="video", modality_details={})
    found = _cached(uow, {"q": "harbour", "sort": "newest"})
    assert found["slugs"] == [second.slug, first.slug] and found["total"] == 2
    assert found["facets"]["modality"] == {"audio": 1, "video": 1}  # the dictionary's new value, too
    assert _cached(uow, {"modality": "audio"})["total"] == 1
    # An edit of the text and of a facet.
    services.apply_record(uow, first, record(title="Quay sounds", modality="text"), ALL_FIELDS)
    uow.session.flush()
    assert _cached(uow, {"q": "harbour"})["slugs"] == [second.slug]
    assert _cached(uow, {"modality": "audio"})["total"] == 0
    assert _cached(uow, {"q": "quay"})["slugs"] == [first.slug]


def test_kept_answers_equal_fresh_ones(app: Flask, uow: UnitOfWork, monkeypatch: pytest.MonkeyPatch) -> None:
    with app.app_context():
        search_fixture.build(uow)
    fresh = {}
    for args, expected in search_fixture.QUERY_SET:
        key = repr(sorted(args.items()))
        fresh[key] = search_fixture.run(uow, args)  # the cache off
        assert fresh[key]["slugs"] == expected, args
        assert {k: v for k, v in _cached(uow, args).items() if k != "estimate"} == fresh[key], args
    # Now every answer is kept: the engine is not asked again, and the answers are the same.
    monkeypatch.setattr(search_counts, "count", lambda *a, **k: pytest.fail("the engine was asked again"))
    for args, _expected in search_fixture.QUERY_SET:
        assert {k: v for k, v in _cached(uow, args).items() if k != "estimate"} == fresh[repr(sorted(args.items()))]


def test_without_entries_the_engine_answers_every_search(
    uow: UnitOfWork, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog.published(title="Uncached corpus")
    asked = []
    real = search_counts.count

    def counting(*args: Any, **kwargs: Any) -> search_counts.Counts:
        asked.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(search_counts, "count", counting)
    query = search.parse_search({"q": ["corpus"]})
    for _ in range(2):
        search.search(uow.session, query)
    assert len(asked) == 2
    for _ in range(2):
        search.search(uow.session, query, cache_entries=10)
    assert len(asked) == 3


def test_the_page_shows_a_listing_published_after_a_kept_search(
    app: Flask, client: FlaskClient, uow: UnitOfWork, catalog: Catalog
) -> None:
    assert uow.settings["SEARCH_CACHE_ENTRIES"] > 0  # on by default
    catalog.published(title="Lighthouse logs")
    uow.session.commit()
    assert "Lighthouse logs" in client.get("/datasets?q=lighthouse").get_data(as_text=True)
    assert "Lighthouse keepers" not in client.get("/datasets?q=lighthouse").get_data(as_text=True)
    catalog.published(title="Lighthouse keepers")
    uow.session.commit()
    body = client.get("/datasets?q=lighthouse").get_data(as_text=True)
    assert "Lighthouse logs" in body and "Lighthouse keepers" in body


def test_kept_cards_follow_every_change_a_card_shows(
    app: Flask, client: FlaskClient, uow: UnitOfWork, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset = catalog.published(title="Tide tables")
    uow.session.commit()
    read: list[list[int]] = []
    real = pages.search_hits

    def spy_hits(session: Any, ids: Any) -> Any:
        read.append(list(ids))
        return real(session, ids)

    monkeypatch.setattr(pages, "search_hits", spy_hits)

    def card() -> str:
        body = client.get("/datasets?q=tide").get_data(as_text=True)
        assert body.count('data-testid="result"') == 1
        return body.split('data-testid="result"')[1].split("</article>")[0]

    first = card()
    assert "Tide tables" in first and "Acme Data" in first and "card-price" not in first
    assert read == [[dataset.id]]
    assert card() == first  # kept, and served again in another request's session
    assert read == [[dataset.id]]
    # The provider's name.
    organisation, user = catalog.provider()
    organisation.name = "Acme Tides"
    uow.session.commit()
    assert "Acme Tides" in card()
    # An offer: its price.
    with app.app_context():
        licenses.create_offer(
            uow,
            user,
            dataset,
            title="Standard",
            price_amount=4200,
            currency="EUR",
            license_id="LicenseRef-standard-commercial-1.0",
        )
    uow.session.commit()
    assert "42" in card().split('data-testid="card-price"')[1][:40]
    # The summary, a term list (written below the ORM) and a newer published version.
    services.apply_record(uow, dataset, record(title="Tide tables", summary="Hourly tides.", tasks=["forecasting"]),
                          ALL_FIELDS)  # fmt: skip
    uow.session.commit()
    shown = card()
    assert "Hourly tides." in shown and "Forecasting" in shown
    with app.app_context():
        version = services.add_version(uow, user, dataset, version="2.0.0", files=manifest("tide/v2"))
        services.publish_version(uow, user, dataset, version)
    uow.session.commit()
    assert "v2.0.0" in card()
