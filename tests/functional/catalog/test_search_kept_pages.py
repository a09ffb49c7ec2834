"""What a search sent is kept while the search index is unchanged (the search page's form and results as HTML, the
API's answer as JSON; :func:`marketplace.catalog.services.shown_search`): it is the same for every viewer, never
shows one viewer's own parts to another, differs wherever the search differs, and follows every write at once."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeSerializer

from marketplace.apikeys import services as keys
from marketplace.catalog import search_cache, search_counts, services
from marketplace.db import UnitOfWork
from tests.factories import PASSWORD
from tests.functional.catalog.conftest import ALL_FIELDS, Catalog, record
from tests.helpers import log_in


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    search_cache.CACHE.clear()
    yield
    search_cache.CACHE.clear()


def _page(client: FlaskClient, path: str, **kwargs: Any) -> str:
    response = client.get(path, **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def _no_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on, a search that is not kept fails the test."""
    monkeypatch.setattr(search_counts, "count", lambda *a, **k: pytest.fail("searched again instead of kept"))


def test_a_kept_page_is_served_again_without_searching(
    client: FlaskClient, uow: UnitOfWork, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog.published(title="Harbour sounds")
    uow.session.commit()
    first = _page(client, "/datasets?q=harbour")
    _no_engine(monkeypatch)
    again = _page(client, "/datasets?q=harbour")
    assert again == first and "Harbour sounds" in again


def test_a_kept_page_never_shows_one_viewers_header_to_another(
    client: FlaskClient, app: Flask, uow: UnitOfWork, catalog: Catalog
) -> None:
    catalog.published(title="Harbour sounds")
    _, provider = catalog.provider()
    # The provider's own draft: never in the search, whoever searches first.
    catalog.draft(title="Harbour secrets draft")
    uow.session.commit()
    anonymous = app.test_client()
    first = _page(anonymous, "/datasets?q=harbour")  # kept by an anonymous visitor
    assert "Log out" not in first and "Log in" in first
    log_in(client, provider.email, PASSWORD)
    mine = _page(client, "/datasets?q=harbour")
    assert "Log out" in mine and provider.label in mine and 'name="csrf_token"' in mine
    assert "Harbour sounds" in mine and "Harbour secrets draft" not in mine
    # And the other way round: kept while logged in, then served to the anonymous visitor.
    search_cache.CACHE.clear()
    mine = _page(client, "/datasets?q=harbour&sort=newest")
    assert "Log out" in mine and provider.label in mine
    theirs = _page(anonymous, "/datasets?q=harbour&sort=newest")
    assert "Log out" not in theirs and provider.label not in theirs and 'name="csrf_token"' not in theirs
    assert "Harbour sounds" in theirs and "Harbour secrets draft" not in theirs


def test_every_part_of_a_search_keeps_a_page_of_its_own(client: FlaskClient, uow: UnitOfWork, catalog: Catalog) -> None:
    catalog.published(title="Harbour sounds", modality="audio", modality_details={})
    catalog.published(title="Harbour cranes", modality="video", modality_details={})
    catalog.published(title="Hindi speech recognition corpus", slug="hindi")
    uow.session.commit()
    # The text as typed: shown in the box and the title, though it searches the same words.
    assert 'value="harbour"' in _page(client, "/datasets?q=harbour")
    typed = _page(client, "/datasets?q=Harbour")
    assert 'value="Harbour"' in typed and "<title>Datasets: Harbour" in typed
    # Filters.
    assert re.search(r'data-testid="total">\s*2 datasets', _page(client, "/datasets?q=harbour"))
    filtered = _page(client, "/datasets?q=harbour&modality=audio")
    assert re.search(r'data-testid="total">\s*1 dataset\b', filtered) and "Harbour cranes" not in filtered
    # Sort.
    assert '<option value="newest" selected>' in _page(client, "/datasets?q=harbour&sort=newest")
    assert '<option value="price" selected>' in _page(client, "/datasets?q=harbour&sort=price")
    # Page.
    assert "No dataset matches on this page" in _page(client, "/datasets?q=harbour&page=2")
    # Spelling correction, and the exact search that asks for none.
    corrected = _page(client, "/datasets?q=speach+recogniton")
    assert 'data-testid="spelling-notice"' in corrected and "/datasets/hindi" in corrected
    exact = _page(client, "/datasets?q=speach+recogniton&exact=1")
    assert 'data-testid="spelling-notice"' not in exact and "/datasets/hindi" not in exact
    # The site's base path, in every link of the form and the cards.
    assert 'href="/datasets/harbour-sounds"' in _page(client, "/datasets?q=harbour")
    below = _page(client, "/datasets?q=harbour", base_url="http://localhost/shop")
    assert 'href="/shop/datasets/harbour-sounds"' in below and 'action="/shop/datasets"' in below


def test_a_kept_page_and_api_answer_follow_an_edit_at_once(
    app: Flask, client: FlaskClient, uow: UnitOfWork, catalog: Catalog
) -> None:
    dataset = catalog.published(title="Harbour sounds")
    headers = _bearer(uow, catalog)
    uow.session.commit()
    assert "Harbour sounds" in _page(client, "/datasets?q=harbour")
    assert _api(client, "/api/v1/datasets?q=harbour", headers)["data"][0]["title"] == "Harbour sounds"
    services.apply_record(uow, dataset, record(title="Harbour noises"), ALL_FIELDS)
    uow.session.commit()
    page = _page(client, "/datasets?q=harbour")
    assert "Harbour noises" in page and "Harbour sounds" not in page
    assert _api(client, "/api/v1/datasets?q=harbour", headers)["data"][0]["title"] == "Harbour noises"


def _bearer(uow: UnitOfWork, catalog: Catalog, who: str = "acme-data") -> dict[str, str]:
    _, user = catalog.provider(who)
    _, secret = keys.create_key(uow, user, name="reader", scopes=["catalog:read"], environment="live")
    uow.session.flush()
    return {"Authorization": f"Bearer {secret}"}


def _api(client: FlaskClient, path: str, headers: dict[str, str]) -> dict[str, Any]:
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    body: dict[str, Any] = response.get_json()
    return body


def test_a_kept_api_answer_is_the_same_for_every_caller_and_sent_as_before(
    app: Flask, client: FlaskClient, uow: UnitOfWork, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog.published(title="Harbour sounds")
    mine, theirs = _bearer(uow, catalog), _bearer(uow, catalog, "other-data")
    uow.session.commit()
    first = client.get("/api/v1/datasets?q=harbour", headers=mine)
    _no_engine(monkeypatch)
    again = client.get("/api/v1/datasets?q=harbour", headers=theirs)
    assert again.get_data() == first.get_data() and again.mimetype == "application/json"
    assert again.headers["Cache-Control"] == "no-store"
    with app.app_context():  # what jsonify made of the answer, byte for byte
        assert first.get_data() == app.json.response(first.get_json()).get_data()


def test_every_part_of_an_api_search_keeps_an_answer_of_its_own(
    app: Flask, client: FlaskClient, uow: UnitOfWork, catalog: Catalog
) -> None:
    for n in range(21):  # two pages
        catalog.published(title=f"Harbour sounds {n}", slug=f"harbour-{n}")
    headers = _bearer(uow, catalog)
    uow.session.commit()
    # Facets or none.
    assert _api(client, "/api/v1/datasets?q=harbour", headers)["facets"]
    assert _api(client, "/api/v1/datasets?q=harbour&facets=false", headers)["facets"] == []
    # The query's fingerprint, which the cursor carries: each search's cursor leads to its own next page.
    for path in ("/api/v1/datasets?q=harbour", "/api/v1/datasets?q=harbour&sort=relevance"):
        cursor = _api(client, path, headers)["next_cursor"]
        assert cursor is not None
        assert len(_api(client, f"{path}&cursor={cursor}", headers)["data"]) == 1
    # The links' base URL and the cursor's signing key.
    app.config["BASE_URL"] = "https://data.example.org"
    answer = _api(client, "/api/v1/datasets?q=harbour", headers)
    assert answer["data"][0]["links"]["page"].startswith("https://data.example.org/datasets/")
    app.config["SECRET_KEY"] = "another-secret-key-0123456789abcdef0123456789"
    cursor = _api(client, "/api/v1/datasets?q=harbour", headers)["next_cursor"]
    signer = URLSafeSerializer(app.config["SECRET_KEY"], salt="marketplace-api-cursor:search")
    assert signer.loads(cursor)["p"] == 2
