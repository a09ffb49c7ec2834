"""SPDX 3.0.1 documents of published versions: the SPDX model bindings accept the document (and refuse a broken
one), the files' hashes are the manifest's, the license expression names every public offer, drafts are 404, and
the API serves the same document."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sqlmodel import Session, col, select

from marketplace.catalog import services
from marketplace.catalog.models import Dataset
from marketplace.catalog.spdx import SpdxInvalid, validate_document
from marketplace.catalog.vocab import PUBLIC_STATUSES
from marketplace.licenses import services as licenses
from marketplace.seed import seed_demo

SPDX_CONTEXT = "https://spdx.org/rdf/3.0.1/spdx-context.jsonld"


def _by_type(document: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [element for element in document["@graph"] if element["type"] == kind]


def _by_id(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {element["spdxId"]: element for element in document["@graph"] if "spdxId" in element}


def _relationships(document: dict[str, Any], kind: str, source: str) -> list[dict[str, Any]]:
    return [r for r in _by_type(document, "Relationship") if r["relationshipType"] == kind and r["from"] == source]


def _declared(document: dict[str, Any], source: str) -> str:
    (relation,) = _relationships(document, "hasDeclaredLicense", source)
    (target,) = relation["to"]
    return str(_by_id(document)[target]["simplelicensing_licenseExpression"])


def _spdx(client, slug: str, version: str) -> dict[str, Any]:
    response = client.get(f"/datasets/{slug}/versions/{version}/spdx.json")
    assert response.status_code == 200 and response.mimetype == "application/spdx+json"
    document: dict[str, Any] = response.get_json(force=True)
    return document


def test_every_seeded_version_exports_a_valid_spdx_document(app, client, uow, db_session: Session) -> None:
    with app.app_context():
        seed_demo(uow)
        db_session.flush()
    slug = "call-centre-speech-en-es-us"
    dataset = services.get_published_dataset(db_session, slug)
    version = services.get_version(db_session, dataset, None)
    document = _spdx(client, slug, version.version)
    validate_document(document)
    assert document["@context"] == SPDX_CONTEXT
    (package,) = _by_type(document, "dataset_DatasetPackage")
    assert package["software_packageVersion"] == version.version
    assert package["software_primaryPurpose"] == "data"
    assert package["dataset_datasetType"] == ["audio"]
    assert package["dataset_hasSensitivePersonalInformation"] == "yes"
    assert package["dataset_datasetSize"] == version.total_bytes
    assert package["dataset_dataCollectionProcess"] and package["dataset_knownBias"]
    assert package["dataset_intendedUse"].startswith("Training and evaluating models for:")
    assert package["suppliedBy"] == f"http://localhost/providers/{services.organisation_of(db_session, dataset).slug}"
    (organization,) = _by_type(document, "Organization")
    assert organization["spdxId"] == package["suppliedBy"]
    (info,) = _by_type(document, "CreationInfo")
    assert info["specVersion"] == "3.0.1" and info["createdBy"] == [organization["spdxId"]]
    # Each file with its SHA-256, as in the manifest, all contained in the package.
    files = services.version_files(db_session, version)
    exported = {f["name"]: f for f in _by_type(document, "software_File")}
    assert {path: f["verifiedUsing"][0]["hashValue"] for path, f in exported.items()} == {
        f.path: f.sha256 for f in files
    }
    assert all(f["verifiedUsing"][0]["algorithm"] == "sha256" for f in exported.values())
    (contains,) = _relationships(document, "contains", package["spdxId"])
    assert sorted(contains["to"]) == sorted(f["spdxId"] for f in exported.values())
    # The sources, each a package with its own license, generate the dataset.
    sources = [p for p in _by_type(document, "software_Package") if "#source-" in p["spdxId"]]
    assert len(sources) == len(dataset.sources) >= 1
    for source, declared in zip(sources, dataset.sources, strict=True):
        assert _declared(document, source["spdxId"]) == declared["license"]
        assert _relationships(document, "generates", source["spdxId"])[0]["to"] == [package["spdxId"]]
    # Every published version of every seeded listing validates.
    checked = 0
    for listing in db_session.exec(select(Dataset).where(col(Dataset.status).in_(PUBLIC_STATUSES))):
        for published in services.versions_of(db_session, listing):
            validate_document(_spdx(client, listing.slug, published.version))
            checked += 1
    assert checked >= 8


def test_license_expression_for_open_and_commercial_offers(app, client, catalog, uow) -> None:
    dataset = catalog.published(title="Licensed corpus")
    _, user = catalog.provider()
    document = _spdx(client, dataset.slug, "1.0.0")
    (package,) = _by_type(document, "dataset_DatasetPackage")
    # No public offer yet: no assertion is made.
    (declared,) = _relationships(document, "hasDeclaredLicense", package["spdxId"])
    assert declared["to"] == ["expandedlicensing_NoAssertionLicense"]
    with app.app_context():
        licenses.create_offer(uow, user, dataset, title="Open", license_id="CC-BY-4.0", price_amount=0,
                              currency="EUR")  # fmt: skip
        uow.session.flush()
    document = _spdx(client, dataset.slug, "1.0.0")
    validate_document(document)
    assert _declared(document, package["spdxId"]) == "CC-BY-4.0"
    with app.app_context():
        licenses.create_offer(uow, user, dataset, title="Commercial", price_amount=9900, currency="EUR",
                              license_id="LicenseRef-standard-commercial-1.0")  # fmt: skip
        uow.session.flush()
    document = _spdx(client, dataset.slug, "1.0.0")
    validate_document(document)
    assert _declared(document, package["spdxId"]) == "CC-BY-4.0 OR LicenseRef-standard-commercial-1.0"
    (concluded,) = _relationships(document, "hasConcludedLicense", package["spdxId"])
    expression = _by_id(document)[concluded["to"][0]]
    assert expression["simplelicensing_customIdToUri"] == [
        {
            "type": "DictionaryEntry",
            "key": "LicenseRef-standard-commercial-1.0",
            "value": "http://localhost/license-templates/LicenseRef-standard-commercial-1.0",
        }
    ]


def test_drafts_and_unknown_versions_are_404(client, catalog, uow) -> None:
    published = catalog.published(title="Public corpus")
    _, user = catalog.provider()
    services.add_version(uow, user, published, version="2.0.0", files=[])
    uow.session.flush()
    assert client.get(f"/datasets/{published.slug}/versions/2.0.0/spdx.json").status_code == 404
    assert client.get(f"/datasets/{published.slug}/versions/9.9.9/spdx.json").status_code == 404
    draft = catalog.draft(title="Unpublished")
    assert client.get(f"/datasets/{draft.slug}/versions/1.0.0/spdx.json").status_code == 404


def test_the_dataset_page_links_each_published_version_to_its_spdx_document(client, catalog) -> None:
    dataset = catalog.published(title="Linked corpus")
    page = client.get(f"/datasets/{dataset.slug}").get_data(as_text=True)
    assert f"/datasets/{dataset.slug}/versions/1.0.0/spdx.json" in page


@pytest.mark.parametrize(
    "breakage",
    [
        "no dataset type",
        "unknown dataset type",
        "hash not a string",
        "no creation info",
        "dangling reference",
        "wrong context",
        "bad license expression",
    ],
)
def test_the_library_refuses_a_broken_document(client, catalog, breakage: str) -> None:
    dataset = catalog.published(title="Broken corpus")
    document = _spdx(client, dataset.slug, "1.0.0")
    validate_document(document)
    broken = copy.deepcopy(document)
    (package,) = _by_type(broken, "dataset_DatasetPackage")
    if breakage == "no dataset type":
        del package["dataset_datasetType"]
    elif breakage == "unknown dataset type":
        package["dataset_datasetType"] = ["spreadsheet"]
    elif breakage == "hash not a string":
        _by_type(broken, "software_File")[0]["verifiedUsing"][0]["hashValue"] = 12
    elif breakage == "no creation info":
        del package["creationInfo"]
    elif breakage == "dangling reference":
        package["suppliedBy"] = "http://localhost/providers/nobody"
    elif breakage == "wrong context":
        broken["@context"] = "https://spdx.org/rdf/3.0.0/spdx-context.jsonld"
    else:
        broken["@graph"].append(
            {
                "type": "simplelicensing_LicenseExpression",
                "spdxId": "http://localhost/bad-license",
                "creationInfo": package["creationInfo"],
                "simplelicensing_licenseExpression": "MIT AND Not-A-License-9",
            }
        )
    with pytest.raises(SpdxInvalid) as caught:
        validate_document(broken)
    if breakage == "bad license expression":
        assert caught.value.problems == [
            "http://localhost/bad-license: unknown SPDX license identifier(s): Not-A-License-9"
        ]
