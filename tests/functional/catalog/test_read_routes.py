"""Every listing of the real demo seed, read through every read route: the page (with its schema.org markup), the
public and provider API, Croissant and the DCAT feed. Each answers 200 with a body that validates, and names the
license of every public offer (an SPDX page for open licenses, our template page for commercial ones)."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, Namespace
from sqlmodel import Session, col, select

from marketplace.accounts.models import User
from marketplace.api.schemas import DatasetSchema
from marketplace.apikeys import services as keys
from marketplace.catalog.models import Dataset
from marketplace.catalog.schemas import DatasetRecordSchema
from marketplace.catalog.vocab import PUBLIC_STATUSES, OfferingType
from marketplace.db import UnitOfWork
from marketplace.licenses.models import Offer
from marketplace.seed import seed_demo
from tests.functional.catalog.test_exports import _validate as validate_croissant

DCAT = Namespace("http://www.w3.org/ns/dcat#")
ODRL = Namespace("http://www.w3.org/ns/odrl/2/")
BASE = "http://localhost"
#: The two listings whose AI Act record carries a bias-review date (the API answered 500 for them).
REVIEWED = {"call-centre-speech-en-es-us": "2024-02-14", "clinical-notes-deidentified-en": "2023-09-01"}


@pytest.fixture()
def seeded(app: Flask, uow: UnitOfWork, db_session: Session) -> dict[str, list[Offer]]:
    """The real demo seed; each public listing's slug with its public offers."""
    with app.app_context():
        seed_demo(uow)
        db_session.flush()
    datasets = db_session.exec(select(Dataset).where(col(Dataset.status).in_(PUBLIC_STATUSES))).all()
    offers = db_session.exec(select(Offer).where(col(Offer.is_active).is_(True), col(Offer.audience_org_id).is_(None)))
    by_dataset: dict[int, list[Offer]] = {d.id: [] for d in datasets if d.id is not None}
    for offer in offers:
        by_dataset.setdefault(offer.dataset_id, []).append(offer)
    return {d.slug: by_dataset[d.id] for d in datasets if d.id is not None}


def expected_licenses(offers: list[Offer]) -> set[str]:
    return {
        f"{BASE}/license-templates/{o.license_id}"
        if o.license_id.startswith("LicenseRef-")
        else f"https://spdx.org/licenses/{o.license_id}.html"
        for o in offers
    }


def _as_set(value: str | list[str] | None) -> set[str]:
    return set(value) if isinstance(value, list) else {value} if value else set()


def _provider_key(uow: UnitOfWork, session: Session) -> dict[str, str]:
    owner = session.exec(select(User).where(User.email == "provider@example.com")).one()
    _, secret = keys.create_key(uow, owner, name="reader", scopes=["catalog:read", "provider:write"])
    session.flush()
    return {"Authorization": f"Bearer {secret}"}


def test_the_seed_covers_what_this_test_reads(seeded: dict[str, list[Offer]]) -> None:
    assert len(seeded) >= 8 and set(REVIEWED) <= set(seeded)
    licenses = {o.license_id for offers in seeded.values() for o in offers}
    assert any(i.startswith("LicenseRef-") for i in licenses) and "CC-BY-4.0" in licenses


def test_api_reads_every_seeded_listing(
    client: FlaskClient, seeded: dict[str, list[Offer]], uow: UnitOfWork, db_session: Session
) -> None:
    headers = _provider_key(uow, db_session)
    for slug in seeded:
        for path in (f"/api/v1/datasets/{slug}", f"/api/v1/provider/datasets/{slug}"):
            response = client.get(path, headers=headers)
            assert response.status_code == 200, (path, response.get_data(as_text=True)[:500])
            body = response.get_json()
            assert DatasetSchema().validate(body) == {}, path
            record = {k: v for k, v in body["record"].items() if k != "slug"}
            assert DatasetRecordSchema(exclude=("versions",)).validate(record) == {}, path
            assert body["record"]["ai_act"]["bias_reviewed_on"] == REVIEWED.get(slug), path


def test_page_and_schema_org_markup_of_every_seeded_listing(
    client: FlaskClient, seeded: dict[str, list[Offer]]
) -> None:
    for slug, offers in seeded.items():
        response = client.get(f"/datasets/{slug}")
        assert response.status_code == 200, slug
        html = response.get_data(as_text=True)
        block = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
        assert block is not None, slug
        markup = json.loads(block.group(1))
        assert markup["@type"] == "Dataset" and markup["identifier"] == slug
        assert _as_set(markup.get("license")) == expected_licenses(offers), slug
        for offer in offers:  # each offer links to its license's public page
            assert f'href="/license-templates/{offer.license_id}"' in html, (slug, offer.license_id)
        if slug in REVIEWED:
            assert REVIEWED[slug] in html


def test_croissant_of_every_seeded_listing_names_its_licenses_and_validates(
    client: FlaskClient, seeded: dict[str, list[Offer]], uow: UnitOfWork, db_session: Session, tmp_path: Path
) -> None:
    headers = _provider_key(uow, db_session)
    paths = []
    # A custom-collection service has no files yet, so nothing for Croissant to describe.
    services = set(db_session.exec(select(Dataset.slug).where(Dataset.offering_type == OfferingType.CUSTOM)).all())
    assert services, "the seed lists a custom-collection service"
    for slug, offers in seeded.items():
        if slug in services:
            assert client.get(f"/datasets/{slug}/croissant.json").status_code == 404
            continue
        for url in (f"/datasets/{slug}/croissant.json", f"/api/v1/datasets/{slug}/croissant"):
            response = client.get(url, headers=headers)
            assert response.status_code == 200, url
            document = json.loads(response.get_data(as_text=True))
            assert _as_set(document.get("license")) == expected_licenses(offers), url
        path = tmp_path / f"{slug}.json"
        path.write_text(json.dumps(document))
        paths.append(path)
    with ThreadPoolExecutor(max_workers=2) as pool:  # the same `mlcroissant validate` test_exports runs
        failures = [(p.name, out[-2000:]) for p, code, out in pool.map(validate_croissant, paths) if code != 0]
    assert not failures, failures


@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")
def test_dcat_feed_gives_each_public_offer_a_distribution_with_license_and_policy(
    client: FlaskClient, seeded: dict[str, list[Offer]]
) -> None:
    response = client.get("/catalog.jsonld")
    assert response.status_code == 200
    graph = Graph().parse(data=response.get_data(as_text=True), format="json-ld")
    for slug, offers in seeded.items():
        node = URIRef(f"{BASE}/datasets/{slug}")
        distributions = list(graph.objects(node, DCAT.distribution))
        licensed = {str(graph.value(d, DCTERMS.license)): d for d in distributions if graph.value(d, DCTERMS.license)}
        # DCAT-AP names an open license by its SPDX license URI, ours by its page.
        assert set(licensed) == {
            f"{BASE}/license-templates/{o.license_id}"
            if o.license_id.startswith("LicenseRef-")
            else f"http://spdx.org/licenses/{o.license_id}"
            for o in offers
        }, slug
        policies = {str(graph.value(d, ODRL.hasPolicy)) for d in licensed.values()}
        assert policies == {f"{BASE}/offers/{o.id}/odrl.json" for o in offers}, slug
        for policy in policies:
            odrl = client.get(policy.removeprefix(BASE))
            assert odrl.status_code == 200, policy
            assert json.loads(odrl.get_data(as_text=True))["uid"] == policy
