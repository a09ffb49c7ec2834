"""A license's fragment of the AI Act Article 53(1)(d) training-content summary: the provider's answers on the listing
form, the fragment built from them (page and JSON), who may read it (the licensee's organisation and platform admins
only), on the website and in the API."""

from __future__ import annotations

import hashlib
import json
from datetime import date

import pytest
from sqlmodel import select

from marketplace.catalog.models import DatasetTerm, TermScheme
from marketplace.licenses.models import Grant
from tests.factories import PASSWORD, UserFactory
from tests.functional.test_licenses import _offer, market  # noqa: F401  (the fixture and offer helper)
from tests.helpers import log_in, post_form

SLUG = "speech-corpus"


def _describe(db_session, dataset, **answers) -> None:
    dataset.modality = "text"
    dataset.modality_details = {"text": {"documents": 1200, "tokens": 2_500_000_000}}
    dataset.record_count = 1200
    dataset.collection_start, dataset.collection_end = date(2024, 1, 1), date(2025, 6, 30)
    dataset.synthetic_share_pct = 10
    dataset.training_summary = answers
    db_session.add(dataset)
    for position, tag in enumerate(["de", "en"]):
        db_session.add(DatasetTerm(dataset_id=dataset.id, scheme=TermScheme.LANGUAGE, value=tag, position=position))
    db_session.flush()


def _acquire(client, db_session, offer) -> Grant:
    log_in(client, "purchaser@example.org", PASSWORD)
    response = post_form(
        client, f"/offers/{offer.id}/acquire", {"licensee": "buy", "accept_terms": offer.terms_hash},
        token_from="/settings",
    )  # fmt: skip
    assert response.status_code == 302
    return db_session.exec(select(Grant).where(Grant.offer_id == offer.id)).one()


def test_the_licensee_reads_the_fragment_as_a_page_and_as_json(client, market, db_session) -> None:  # noqa: F811
    _describe(
        db_session, market["dataset"], rights_basis="rights_holder", content_types=["news articles", "interviews"],
        crawled=True, crawl_details="Own crawler, 2024, 40 German news sites.",
        tdm_opt_out_handling="robots.txt and TDMRep reservations honoured; reserved sites skipped.",
        illegal_content_measures="Hash-list filtering and manual review.",
    )  # fmt: skip
    offer = _offer(db_session, market, title="Trial", license_id="LicenseRef-standard-commercial-1.0")
    grant = _acquire(client, db_session, offer)
    license_page = client.get(f"/licenses/{grant.id}").get_data(as_text=True)
    assert f"/licenses/{grant.id}/training-summary" in license_page

    fragment = client.get(f"/licenses/{grant.id}/training-summary.json").get_json()
    assert fragment["section"] == {
        "number": "2.2.1",
        "key": "commercially_licensed_private_datasets",
        "title": "Private datasets commercially licensed by rightsholders or their representatives",
    }
    general = fragment["general_information"]
    assert general["modalities"] == [
        {"modality": "text", "listed_as": "text", "unit": "tokens", "size_range": "1 billion to 10 trillion tokens",
         "exact": {"documents": 1200, "tokens": 2_500_000_000, "records": 1200}},
    ]  # fmt: skip
    assert general["content_types"] == ["news articles", "interviews"]
    assert general["latest_collection_date"] == "2025-06-30" and general["languages"] == ["de", "en"]
    assert fragment["data_sources"]["synthetic_share_pct"] == 10 and fragment["data_sources"]["crawled"] is True
    assert fragment["data_processing"]["tdm_opt_out_handling"].startswith("robots.txt and TDMRep")
    evidence = fragment["evidence"]
    assert evidence["license_id"] == grant.id and evidence["license"] == "LicenseRef-standard-commercial-1.0"
    assert evidence["certificate"]["sha256"] == hashlib.sha256(grant.certificate.encode()).hexdigest()
    assert evidence["status"] == "active" and evidence["verify_url"].endswith(f"/licenses/{grant.id}/verify")
    certificate = client.get(evidence["certificate"]["url"].removeprefix("http://localhost"))
    assert hashlib.sha256(certificate.data).hexdigest() == evidence["certificate"]["sha256"]

    page = client.get(f"/licenses/{grant.id}/training-summary").get_data(as_text=True)
    assert "Section 2.2.1" in page or "section 2.2.1" in page
    assert "1 billion to 10 trillion tokens" in page and evidence["certificate"]["sha256"] in page
    assert "robots.txt and TDMRep reservations honoured" in page


def test_an_open_free_license_is_a_publicly_available_dataset(client, market, db_session) -> None:  # noqa: F811
    _describe(db_session, market["dataset"], rights_basis="rights_holder", crawled=False)
    grant = _acquire(client, db_session, _offer(db_session, market))  # CC-BY-4.0, free
    fragment = client.get(f"/licenses/{grant.id}/training-summary.json").get_json()
    assert fragment["section"]["number"] == "2.1"
    # Not crawled: opt-out handling is not relevant, and not invented.
    assert fragment["data_processing"] == {"tdm_opt_out_handling": None, "illegal_content_measures": None}


@pytest.mark.parametrize(
    "who,status",
    [
        (None, 302),  # to the login page
        ("purchaser@example.org", 200),  # the licensee's member
        ("seller@example.org", 403),  # the licensor sees the license, not the licensee's summary
        ("clerk@example.org", 403),
        ("outsider@example.org", 404),  # not confirmed to exist
        ("admin@example.org", 200),  # a platform admin
    ],
)
def test_who_may_read_a_fragment(app, client, market, db_session, who, status) -> None:  # noqa: F811
    UserFactory(email="admin@example.org", is_platform_admin=True)
    db_session.flush()
    grant = _acquire(client, db_session, _offer(db_session, market))
    visitor = app.test_client()
    if who:
        log_in(visitor, who, PASSWORD)
    for path in (f"/licenses/{grant.id}/training-summary", f"/licenses/{grant.id}/training-summary.json"):
        assert visitor.get(path).status_code == status, (who, path)
    if who:
        assert visitor.get("/licenses/01ARZ3NDEKTSV4RRFFQ69G5FAV/training-summary.json").status_code == 404
        shows_link = f"/licenses/{grant.id}/training-summary" in visitor.get(f"/licenses/{grant.id}").get_data(
            as_text=True
        )
        assert shows_link == (status == 200)


def test_the_provider_answers_in_plain_words_and_mistakes_name_the_field(client, market, db_session) -> None:  # noqa: F811
    log_in(client, "clerk@example.org", PASSWORD)
    path = f"/datasets/{SLUG}/edit/training_summary"
    form = client.get(path).get_data(as_text=True)
    assert "On what footing do you offer this data?" in form and "crawling websites" in form
    refused = post_form(
        client, path, {"training_summary.crawled": "true", "training_summary.content_types": "news"}, token_from=path
    )
    assert refused.status_code == 422
    assert "opt-outs" in refused.get_data(as_text=True)
    saved = post_form(
        client,
        path,
        {
            "training_summary.rights_basis": "rights_holder",
            "training_summary.content_types": "news articles, interviews",
            "training_summary.crawled": "true",
            "training_summary.tdm_opt_out_handling": "robots.txt honoured",
            "training_summary.illegal_content_measures": "Manual review",
        },
        token_from=path,
    )
    assert saved.status_code == 302
    db_session.refresh(market["dataset"])
    stored = market["dataset"].training_summary
    assert stored["content_types"] == ["news articles", "interviews"] and stored["crawled"] is True
    again = client.get(path).get_data(as_text=True)
    assert "news articles, interviews" in again and "robots.txt honoured" in again
    bad = post_form(client, path, {"training_summary.rights_basis": "we-found-it"}, token_from=path)
    assert bad.status_code == 422


def test_the_api_serves_the_same_fragment_to_the_licensee(app, client, market, db_session) -> None:  # noqa: F811
    from tests.functional.api.conftest import bearer

    _describe(db_session, market["dataset"], rights_basis="third_party")
    offer = _offer(db_session, market, title="Eval", license_id="LicenseRef-evaluation-only-1.0")
    grant = _acquire(client, db_session, offer)
    web = client.get(f"/licenses/{grant.id}/training-summary.json").get_json()
    key = _api_key(app, db_session, market["purchaser"])
    listed = client.get(f"/api/v1/licenses/{grant.id}", headers=bearer(key)).get_json()
    assert listed["links"]["training_summary"].endswith(f"/api/v1/licenses/{grant.id}/training-summary")
    api = client.get(f"/api/v1/licenses/{grant.id}/training-summary", headers=bearer(key))
    assert api.status_code == 200, api.get_json()
    body = api.get_json()
    assert body["section"]["number"] == "2.2.2"
    assert json.dumps({**body, "generated_at": ""}, sort_keys=True) == json.dumps(
        {**web, "generated_at": ""}, sort_keys=True
    )


def _api_key(app, db_session, user) -> str:
    from marketplace.apikeys import services as keys
    from tests.functional.api.conftest import work

    _row, secret = keys.create_key(work(app, db_session), user, name="ci", scopes=["licenses:read"])
    db_session.flush()
    return secret


def test_a_listing_without_answers_shows_none_on_its_page(client, market, db_session) -> None:  # noqa: F811
    """No answer is shown as "no" or as an empty row before the provider has given one."""
    market["dataset"].training_summary = {}
    db_session.add(market["dataset"])
    db_session.flush()
    page = client.get(f"/datasets/{SLUG}").get_data(as_text=True)
    section = page[page.index('id="training-summary"') :].split("</section>", 1)[0]
    assert "Collected by crawling websites" not in section and "How it was crawled" not in section
    _describe(db_session, market["dataset"], crawled=False)
    section = client.get(f"/datasets/{SLUG}").get_data(as_text=True).split('id="training-summary"', 1)[1]
    assert "<dt>Collected by crawling websites</dt><dd>no</dd>" in section.split("</section>", 1)[0]
