"""The language facet: BCP 47 prefix matching (English finds en-US and en-GB) shown as a hierarchy (English ›
United States) on the search page and in the API; the one search entry point and its facet cache. Runs on SQLite
and, with TEST_DATABASE_URL, on PostgreSQL."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from marketplace.apikeys import services as keys
from marketplace.catalog import search
from marketplace.db import UnitOfWork
from tests.functional.catalog.conftest import Catalog

LANGUAGES = {
    "us-calls": ["en-US"],
    "uk-letters": ["en-GB"],
    "plain-english": ["en"],
    "us-and-uk": ["en-US", "en-GB"],
    "spanish-us": ["es-US"],
    "taiwan-chat": ["zh-Hant-TW"],
    "german-news": ["de"],
}


@pytest.fixture()
def languages(catalog: Catalog) -> dict[str, Any]:
    return {
        slug: catalog.published(slug=slug, title=f"Corpus {slug}", languages=tags) for slug, tags in LANGUAGES.items()
    }


def _run(uow: UnitOfWork, **filters: list[str]) -> tuple[set[str], dict[str, Any]]:
    from marketplace.catalog import services

    results, hits, _ = services.search_catalog(uow, search.build_query(filters=filters))
    language = next(f for f in results.facets if f.name == "language")
    return {hit["dataset"].slug for hit in hits}, {v.value: v for v in language.values}


def test_a_language_finds_every_regional_variant(uow: UnitOfWork, languages: dict[str, Any]) -> None:
    found, _ = _run(uow, language=["en"])
    assert found == {"us-calls", "uk-letters", "plain-english", "us-and-uk"}
    found, _ = _run(uow, language=["en-US"])
    assert found == {"us-calls", "us-and-uk"}  # a region narrows; en alone is not en-US
    found, _ = _run(uow, language=["zh"])
    assert found == {"taiwan-chat"}
    found, _ = _run(uow, language=["zh-Hant"])
    assert found == {"taiwan-chat"}  # a prefix of several subtags matches too
    found, _ = _run(uow, language=["es", "de"])
    assert found == {"spanish-us", "german-news"}
    found, _ = _run(uow, language=["en-AU"])
    assert found == set()


def test_counts_are_of_listings_and_children_follow_their_language(uow: UnitOfWork, languages: dict[str, Any]) -> None:
    _, values = _run(uow)
    assert values["en"].count == 4  # us-and-uk counts once
    assert values["en-US"].count == 2 and values["en-GB"].count == 2
    assert values["es"].count == 1 and values["es-US"].count == 1 and values["de"].count == 1
    assert values["en-US"].parent == "en" and values["en"].parent is None
    assert values["en-US"].label == "English › United States"
    assert values["en-US"].leaf_label == "United States"
    assert values["zh-Hant-TW"].label == "Chinese › Traditional, Taiwan"
    order = [v for v in values]
    assert order.index("en") < order.index("en-GB") < order.index("es")
    assert order.index("en") < order.index("en-US") < order.index("es")
    # Selecting a variant keeps the others countable (disjunctive) and marks only itself.
    _, values = _run(uow, language=["en-GB"])
    assert values["en-GB"].selected and not values["en"].selected
    assert values["en"].count == 4


def test_the_search_page_shows_the_hierarchy_and_filters_by_prefix(
    client: FlaskClient, languages: dict[str, Any]
) -> None:
    body = client.get("/datasets?language=en").get_data(as_text=True)
    assert 'data-testid="total">' in body
    assert re.search(r'data-testid="total">\s*4 datasets', body)
    child = re.search(r'<label class="check facet-child" data-testid="facet-language-en-US">(.*?)</label>', body, re.S)
    assert child is not None
    assert "English › " in child.group(1) and "United States" in child.group(1)
    assert 'data-testid="count-language-en-US">2<' in body
    assert 'name="language" value="en" checked' in body


def _api_key(app: Flask, uow: UnitOfWork, catalog: Catalog) -> str:
    _, user = catalog.provider()
    _, secret = keys.create_key(uow, user, name="reader", scopes=["catalog:read"], environment="live")
    uow.session.flush()
    return secret


def test_the_api_filters_by_prefix_and_reports_the_hierarchy(
    app: Flask, client: FlaskClient, uow: UnitOfWork, catalog: Catalog, languages: dict[str, Any]
) -> None:
    headers = {"Authorization": f"Bearer {_api_key(app, uow, catalog)}"}
    response = client.get("/api/v1/datasets?language=en", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert {d["slug"] for d in body["data"]} == {"us-calls", "uk-letters", "plain-english", "us-and-uk"}
    language = next(f for f in body["facets"] if f["name"] == "language")
    by_value = {v["value"]: v for v in language["values"]}
    assert by_value["en-US"] == {
        "value": "en-US",
        "label": "English › United States",
        "count": 2,
        "selected": False,
        "parent": "en",
    }
    assert by_value["en"]["parent"] is None and by_value["en"]["selected"] is True
    bad = client.get("/api/v1/datasets?language=klingon!", headers=headers)
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "bad_search"


def test_the_api_takes_the_offer_facets_registered_by_create_app(
    app: Flask, client: FlaskClient, uow: UnitOfWork, catalog: Catalog, languages: dict[str, Any]
) -> None:
    assert {"license_family", "training"} <= set(search.FACETS)
    headers = {"Authorization": f"Bearer {_api_key(app, uow, catalog)}"}
    response = client.get("/api/v1/datasets?license_family=cc-by", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "license_family" in {f["name"] for f in response.get_json()["facets"]}
    assert client.get("/api/v1/datasets?license_family=nope", headers=headers).status_code == 400


def test_page_and_api_show_whole_catalog_counts_at_once(
    app: Flask, client: FlaskClient, uow: UnitOfWork, catalog: Catalog, languages: dict[str, Any]
) -> None:
    headers = {"Authorization": f"Bearer {_api_key(app, uow, catalog)}"}

    def page_count() -> str:
        body = client.get("/datasets").get_data(as_text=True)
        match = re.search(r'data-testid="count-language-de">(\d+)<', body)
        return match.group(1) if match else "0"

    def api_count() -> int:
        facets = client.get("/api/v1/datasets", headers=headers).get_json()["facets"]
        language = next(f for f in facets if f["name"] == "language")
        return next(v["count"] for v in language["values"] if v["value"] == "de")

    assert api_count() == 1 and page_count() == "1"
    catalog.published(slug="more-german", title="More German", languages=["de-AT"])
    assert api_count() == 2  # the counts are kept with every write: never stale, never slow to compute
    assert page_count() == "2"
