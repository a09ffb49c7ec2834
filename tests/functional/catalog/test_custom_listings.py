"""Custom-collection services: a listing of offering type custom with its service fields (form section shown for
custom listings only, and the provider API), validated with field errors; the offering-type facet finds it on the
search page and in the API; its page shows Request a quote instead of offers."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from marketplace.apikeys import services as keys
from marketplace.apikeys.scopes import SCOPES
from marketplace.catalog.models import Dataset
from marketplace.errors import ValidationFailed
from marketplace.licenses import services as licenses
from tests.factories import PASSWORD
from tests.helpers import log_in, post_form

SERVICE: dict[str, Any] = {
    "offering_type": "custom",
    "service_modalities": ["audio", "text"],
    "tasks": ["asr"],
    "industries": ["healthcare_life_sciences"],
    "languages": ["en", "de"],
    "annotator_qualifications": "Certified medical transcriptionists",
    "deidentification_offered": ["pseudonymised", "hipaa_safe_harbor"],
    "ai_act_documentation": True,
    "lead_time_days": 30,
    "service_price_min": 1_000_000,
    "service_price_max": 5_000_000,
    "service_price_currency": "EUR",
}


@pytest.fixture()
def service(catalog) -> Dataset:
    return catalog.published(title="Clinical speech to order", slug="clinical-to-order", versions=0, **SERVICE)


def _owner_client(app, catalog):
    _, user = catalog.provider()
    client = app.test_client()
    log_in(client, user.email, PASSWORD)
    return client


def test_a_custom_service_is_complete_without_files_and_publishes(service) -> None:
    assert service.status.value == "published" and service.lead_time_days == 30
    assert service.service_price_currency == "EUR" and service.ai_act_documentation is True


def test_page_shows_request_a_quote_and_the_service_not_offers(client, service) -> None:
    html = client.get("/datasets/clinical-to-order").get_data(as_text=True)
    assert 'data-testid="request-quote"' in html
    assert 'href="/requests/new?provider=acme-data&amp;listing=clinical-to-order"' in html
    assert 'data-testid="offers"' not in html and "Licenses</h2>" not in html
    assert "30 days" in html and "HIPAA Safe Harbor" in html and "Pseudonymised" in html
    assert "€10,000.00" in html and "€50,000.00" in html


def test_an_ordinary_listing_shows_offers_and_no_quote_button(client, catalog) -> None:
    catalog.published(title="Off the shelf speech", slug="shelf-speech")
    html = client.get("/datasets/shelf-speech").get_data(as_text=True)
    assert 'data-testid="offers"' in html and "request-quote" not in html


def test_offering_type_facet_finds_custom_services_on_the_page_and_in_the_api(app, client, catalog, service) -> None:
    catalog.published(title="Off the shelf speech", slug="shelf-speech")
    page = client.get("/datasets?offering_type=custom").get_data(as_text=True)
    assert "Clinical speech to order" in page and "Off the shelf speech" not in page
    _, user = catalog.provider()
    with app.app_context():
        _, secret = keys.create_key(catalog.uow, user, name="k", scopes=list(SCOPES), environment="live")
        catalog.uow.session.flush()
    found = client.get("/api/v1/datasets?offering_type=custom", headers={"Authorization": f"Bearer {secret}"})
    assert found.status_code == 200, found.get_json()
    body = found.get_json()
    assert [hit["slug"] for hit in body["data"]] == ["clinical-to-order"]
    facet = next(f for f in body["facets"] if f["name"] == "offering_type")
    assert {v["value"]: v["count"] for v in facet["values"]}.get("custom") == 1


def test_service_section_is_shown_for_custom_listings_only(app, catalog, service) -> None:
    client = _owner_client(app, catalog)
    page = client.get("/datasets/clinical-to-order/edit/service")
    assert page.status_code == 200 and "Typical lead time (days)" in page.get_data(as_text=True)
    shelf = catalog.draft(title="Off the shelf speech", slug="shelf-speech")
    assert "/edit/service" not in client.get(f"/datasets/{shelf.slug}/edit/identity").get_data(as_text=True)
    assert client.get(f"/datasets/{shelf.slug}/edit/service").status_code == 404


def test_service_form_saves_and_names_bad_fields(app, catalog, service, db_session) -> None:
    client = _owner_client(app, catalog)
    path = "/datasets/clinical-to-order/edit/service"
    good = {"service_modalities": "video", "tasks": "asr", "industries": "general", "lead_time_days": "60",
            "service_price_min": "2,000", "service_price_max": "9000.00", "service_price_currency": "usd",
            "ai_act_documentation": "false", "languages": "en"}  # fmt: skip
    assert post_form(client, path, good, token_from=path).status_code == 302
    db_session.refresh(service)
    assert service.lead_time_days == 60 and service.service_price_currency == "USD"
    assert (service.service_price_min, service.service_price_max) == (200000, 900000)  # typed in dollars
    assert 'value="2000.00"' in client.get(path).get_data(as_text=True)
    typo = post_form(client, path, {**good, "service_price_max": "9.000,00"}, token_from=path)
    assert typo.status_code == 422 and "is not an amount" in typo.get_data(as_text=True)
    inverted = post_form(client, path, {**good, "service_price_min": "9,000.01"}, token_from=path)
    assert inverted.status_code == 422
    assert "the highest price must not be below the lowest price" in inverted.get_data(as_text=True)
    bad = {**good, "lead_time_days": "0", "service_price_currency": "XYZ"}
    response = post_form(client, path, bad, token_from=path)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "give the typical lead time in days, from 1 to 730" in html
    assert "is not an ISO 4217 currency code" in html
    db_session.refresh(service)
    assert service.lead_time_days == 60 and service.service_price_min == 200000


def test_provider_api_edits_the_service_section(app, client, catalog, service) -> None:
    _, user = catalog.provider()
    with app.app_context():
        _, secret = keys.create_key(catalog.uow, user, name="k", scopes=list(SCOPES), environment="live")
        catalog.uow.session.flush()
    headers = {"Authorization": f"Bearer {secret}"}
    url = "/api/v1/provider/datasets/clinical-to-order/sections/service"
    record = {k: v for k, v in SERVICE.items() if k != "offering_type"}
    ok = client.put(url, json={"record": {**record, "lead_time_days": 21}}, headers=headers)
    assert ok.status_code == 200, ok.get_json()
    assert ok.get_json()["record"]["lead_time_days"] == 21
    assert ok.get_json()["record"]["service_modalities"] == ["audio", "text"]
    bad = client.put(url, json={"record": {**record, "service_price_min": 10, "service_price_max": 5,
                                           "service_price_currency": None}}, headers=headers)  # fmt: skip
    assert bad.status_code == 422
    fields = {d["field"] for d in bad.get_json()["error"]["details"]}
    assert {"service_price_max", "service_price_currency"} <= fields
    shelf = catalog.draft(title="Off the shelf speech", slug="shelf-speech")
    refused = client.put(f"/api/v1/provider/datasets/{shelf.slug}/sections/service", json={"record": record},
                         headers=headers)  # fmt: skip
    assert refused.status_code == 422 and refused.get_json()["error"]["details"][0]["field"] == "offering_type"


def test_a_custom_service_takes_no_offers(app, catalog, service, db_session) -> None:
    _, user = catalog.provider()
    with pytest.raises(ValidationFailed) as raised:
        licenses.create_offer(catalog.uow, user, service, title="x", license_id="CC-BY-4.0", price_amount=0,
                              currency="EUR")  # fmt: skip
    assert raised.value.details[0].field == "offering_type"
    assert db_session.exec(select(Dataset).where(Dataset.slug == "clinical-to-order")).one()
