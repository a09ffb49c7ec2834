"""Forms speak the user's language: labels not internal names, money in major units, terms as inputs, states as
words, and the organisation form's kind taken from the link."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from marketplace.licenses.models import Offer
from tests.factories import PASSWORD
from tests.functional import test_licenses
from tests.functional.test_licenses import _create_offer, _terms
from tests.helpers import log_in, post_form

market = test_licenses.market  # the same provider, buyer and published dataset as the license tests


def _visible_text(html: str) -> str:
    without_scripts = re.sub(r"<script.*?</script>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", without_scripts)


def _assert_speaks_plainly(html: str) -> None:
    text = _visible_text(html)
    assert "ai_act." not in text and "minor units" not in text and "modality_details." not in text
    for content in re.findall(r"<textarea[^>]*>(.*?)</textarea>", html, flags=re.S):
        assert not content.strip().startswith("{"), content


@pytest.mark.parametrize(
    "path",
    [
        "/datasets/speech-corpus/offers",
        "/datasets/speech-corpus/edit/ai_act",
        "/datasets/speech-corpus/edit/modality",
        "/datasets/speech-corpus/edit/identity",
        "/orgs/new",
    ],
)
def test_main_forms_show_no_internal_names_or_json(client, market, path) -> None:
    log_in(client, "seller@example.org", PASSWORD)
    response = client.get(path)
    assert response.status_code == 200
    _assert_speaks_plainly(response.get_data(as_text=True))


def test_the_offer_form_has_one_labelled_input_per_term(client, market) -> None:
    log_in(client, "seller@example.org", PASSWORD)
    page = client.get("/datasets/speech-corpus/offers").get_data(as_text=True)
    for name in ("terms.seats", "terms.territory", "terms.term", "terms.exclusivity", "terms.derivatives"):
        input_id = "f-" + name.replace(".", "-")
        assert f'name="{name}"' in page and f'id="{input_id}"' in page
    assert 'name="overrides"' not in page


def test_a_price_in_major_units_is_stored_in_minor_units_and_shown_with_the_symbol(client, market, db_session) -> None:
    log_in(client, "seller@example.org", PASSWORD)
    response = _create_offer(
        client, "speech-corpus", title="Training", price="1,299.50", **_terms("LicenseRef-standard-commercial-1.0")
    )
    assert response.status_code == 302
    offer = db_session.exec(select(Offer).where(Offer.title == "Training")).one()
    assert offer.price_amount == 129950 and offer.overrides == {}
    page = client.get("/datasets/speech-corpus/offers").get_data(as_text=True)
    assert "€1,299.50" in page


def test_a_bad_price_is_named_in_words(client, market) -> None:
    log_in(client, "seller@example.org", PASSWORD)
    response = _create_offer(
        client, "speech-corpus", price="12,5", currency="EUR", **_terms("LicenseRef-standard-commercial-1.0")
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(r'id="e-price">[^<]*is not an amount', page)
    assert "Please correct the form: Price:" in page


def test_a_term_error_is_named_in_words_next_to_its_input(client, market) -> None:
    log_in(client, "seller@example.org", PASSWORD)
    fields = _terms("LicenseRef-standard-commercial-1.0", **{"terms.seats": "many"})
    response = _create_offer(client, "speech-corpus", price="10", **fields)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="e-terms-seats"' in page and "Seats:" in page


def test_switching_the_license_shows_its_terms_before_anything_is_sold(client, market, db_session) -> None:
    log_in(client, "seller@example.org", PASSWORD)
    fields = {**_terms("LicenseRef-standard-commercial-1.0"), "license_id": "CC-BY-4.0"}
    response = _create_offer(client, "speech-corpus", **fields)
    assert response.status_code == 422
    assert 'name="terms_of" value="CC-BY-4.0"' in response.get_data(as_text=True)
    assert db_session.exec(select(Offer)).all() == []


@pytest.mark.parametrize(("query", "selected"), [("?kind=provider", "provider"), ("?kind=buyer", "buyer")])
def test_the_new_organisation_form_takes_its_kind_from_the_link(client, market, query, selected) -> None:
    log_in(client, "seller@example.org", PASSWORD)
    page = client.get("/orgs/new" + query).get_data(as_text=True)
    assert re.search(rf'<option value="{selected}"\s+selected>', page)
    other = "buyer" if selected == "provider" else "provider"
    assert not re.search(rf'<option value="{other}"\s+selected>', page)


def test_the_modality_section_shows_only_the_chosen_modality(client, market) -> None:
    log_in(client, "seller@example.org", PASSWORD)
    path = "/datasets/speech-corpus/edit/modality"
    saved = post_form(client, path, {"modality": "audio", "modality_details.audio.hours": "12"}, token_from=path)
    assert saved.status_code == 302, saved.get_data(as_text=True)[:1500]
    page = client.get(path).get_data(as_text=True)
    assert re.search(r'data-testid="modality-audio"\s*>', page)
    for other in ("text", "image", "video", "sensor"):
        assert re.search(rf'data-testid="modality-{other}"\s*hidden disabled>', page), other
    assert re.search(r'name="modality_details.audio.hours" type="number" value="12(\.0)?"', page)
    multimodal = post_form(client, path, {"modality": "multimodal"}, token_from=path)
    assert multimodal.status_code == 302
    page = client.get(path).get_data(as_text=True)
    assert "hidden disabled>" not in page


def test_a_new_api_key_has_a_copy_button_and_stays_selectable(client, market) -> None:
    log_in(client, "seller@example.org", PASSWORD)
    form = {"name": "ci", "owner": "user", "scopes": "catalog:read", "environment": "live"}
    response = post_form(client, "/settings/api/keys", form, token_from="/settings/api")
    page = response.get_data(as_text=True)
    assert response.status_code == 201, page[:2000]
    assert 'data-copy-target="new-secret-value"' in page
    assert re.search(r'<code class="wrap selectable" id="new-secret-value"', page)


def test_an_incomplete_listing_is_refused_naming_fields_in_words(client, market, db_session) -> None:
    from marketplace.catalog.vocab import DatasetStatus
    from tests.factories import DatasetFactory

    DatasetFactory(
        organisation=market["provider"],
        slug="half-done",
        title="Half done",
        status=DatasetStatus.DRAFT,
        published_at=None,
    )
    db_session.flush()
    log_in(client, "seller@example.org", PASSWORD)
    response = post_form(client, "/datasets/half-done/submit", {}, token_from="/datasets/half-done/manage")
    page = response.get_data(as_text=True)
    if response.status_code == 302:
        page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "not complete yet" in page
    assert "Design choices" in page
    _assert_speaks_plainly(page)


def test_a_license_page_names_every_term_in_words(app, client, market, db_session) -> None:
    from marketplace.db import ServiceContext, UnitOfWork
    from marketplace.licenses import services as svc
    from marketplace.mail import ConsoleMailer
    from tests.functional.test_licenses import _offer

    context = ServiceContext(
        {"BASE_URL": "http://localhost"}, ConsoleMailer(), keyring=app.extensions["marketplace.context"].keyring
    )
    uow = UnitOfWork(db_session, context)
    grant = svc.issue_grant(uow, _offer(db_session, market), licensee=market["buyer"], acquired_by=None)
    db_session.flush()
    log_in(client, "purchaser@example.org", PASSWORD)
    page = client.get(f"/licenses/{grant.id}")
    assert page.status_code == 200
    text = _visible_text(page.get_data(as_text=True))
    assert "Sharing the data" in text and "Personal data" in text and "Permitted uses" in text
    assert "raw redistribution" not in text and "pii" not in text.split()
