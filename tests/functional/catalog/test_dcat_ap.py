"""The catalog feed in DCAT-AP 3.0: the seeded catalog conforms to the DCAT-AP 3 SHACL shapes (pyshacl), and the
shapes refuse a feed that breaks them (a missing mandatory property, a wrong datatype, a media type that is not an
IANA URI), so the check can fail."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from pyshacl import validate
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, SKOS
from sqlmodel import Session, col, select

from marketplace.access.states import AccessMode
from marketplace.catalog import services
from marketplace.catalog.models import Dataset
from marketplace.catalog.vocab import PUBLIC_STATUSES
from marketplace.licenses import services as licenses
from marketplace.seed import seed_demo

DCAT = Namespace("http://www.w3.org/ns/dcat#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")
ADMS = Namespace("http://www.w3.org/ns/adms#")
SHAPES = Graph().parse(Path(__file__).parents[2] / "data" / "shacl" / "dcat-ap-3.ttl", format="turtle")
ACCESS = "http://publications.europa.eu/resource/authority/access-right/"
IANA = "http://www.iana.org/assignments/media-types/"

pytestmark = pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")


def _feed(client) -> Graph:
    response = client.get("/catalog.jsonld")
    assert response.status_code == 200 and response.mimetype == "application/ld+json"
    return Graph().parse(data=response.get_data(as_text=True), format="json-ld")


def _conforms(graph: Graph) -> tuple[bool, str]:
    conforms, _, text = validate(graph, shacl_graph=SHAPES, inference="none", allow_warnings=False)
    return bool(conforms), str(text)


@pytest.fixture()
def seeded(app, uow, db_session: Session) -> list[str]:
    with app.app_context():
        seed_demo(uow)
        db_session.flush()
    return list(db_session.exec(select(Dataset.slug).where(col(Dataset.status).in_(PUBLIC_STATUSES))))


def test_the_seeded_catalog_conforms_to_dcat_ap_3(client, seeded: list[str], db_session: Session) -> None:
    graph = _feed(client)
    conforms, report = _conforms(graph)
    assert conforms, report
    catalog_node = URIRef("http://localhost/catalog.jsonld")
    assert (catalog_node, RDF.type, DCAT.Catalog) in graph
    assert graph.value(catalog_node, DCTERMS.publisher) is not None
    listed = {str(graph.value(node, DCTERMS.identifier)): node for node in graph.objects(catalog_node, DCAT.dataset)}
    assert set(listed) == set(seeded)
    speech = listed["call-centre-speech-en-es-us"]
    assert (speech, DCTERMS.spatial, URIRef("http://publications.europa.eu/resource/authority/country/USA")) in graph
    assert (speech, DCTERMS.language, URIRef("http://publications.europa.eu/resource/authority/language/ENG")) in graph
    assert (speech, DCTERMS.language, URIRef("http://publications.europa.eu/resource/authority/language/SPA")) in graph
    themes = set(graph.objects(None, DCAT.theme))
    assert URIRef("http://publications.europa.eu/resource/authority/data-theme/HEAL") in themes
    assert all(graph.value(theme, SKOS.prefLabel) for theme in themes)
    issued = graph.value(speech, DCTERMS.issued)
    assert isinstance(issued, Literal) and issued.datatype == XSD.dateTime
    # Every published version's manifest distribution carries the manifest digest, which is the SHA-256 of the
    # served manifest's bytes, and its exact size.
    checked = 0
    for slug, node in listed.items():
        dataset = services.get_published_dataset(db_session, slug)
        if not services.versions_of(db_session, dataset):
            continue
        version = services.get_version(db_session, dataset, None)
        url = f"http://localhost/datasets/{slug}/versions/{version.version}/manifest.json"
        assert (node, DCAT.distribution, URIRef(url)) in graph
        body = client.get(url.removeprefix("http://localhost")).get_data()
        checksum = graph.value(URIRef(url), SPDX.checksum)
        assert graph.value(checksum, SPDX.algorithm) == SPDX.checksumAlgorithm_sha256
        value = graph.value(checksum, SPDX.checksumValue)
        assert value is not None and value.datatype == XSD.hexBinary
        assert str(value) == hashlib.sha256(body).hexdigest() == version.manifest_digest
        size = graph.value(URIRef(url), DCAT.byteSize)
        assert size is not None and size.datatype == XSD.nonNegativeInteger and int(size) == len(body)
        media = graph.value(URIRef(url), DCAT.mediaType)
        assert media == URIRef(IANA + "application/json")
        checked += 1
    assert checked >= 8
    # Every document the feed offers for download is there.
    for url in set(graph.objects(None, DCAT.downloadURL)):
        assert client.get(str(url).removeprefix("http://localhost")).status_code == 200, url


def test_offers_carry_license_rights_and_access_rights(app, client, catalog, uow) -> None:
    open_listing = catalog.published(title="Open corpus")
    paid_listing = catalog.published(title="Paid corpus")
    _, user = catalog.provider()
    with app.app_context():
        licenses.create_offer(uow, user, open_listing, title="Open", license_id="CC-BY-4.0", price_amount=0,
                              currency="EUR")  # fmt: skip
        licenses.create_offer(uow, user, paid_listing, title="Commercial", price_amount=9900, currency="EUR",
                              license_id="LicenseRef-standard-commercial-1.0")  # fmt: skip
        uow.session.flush()
    graph = _feed(client)
    assert _conforms(graph)[0]

    def offer_distribution(slug: str) -> URIRef:
        page = URIRef(f"http://localhost/datasets/{slug}")
        (node,) = [d for d in graph.objects(page, DCAT.distribution) if graph.value(d, DCTERMS.license)]
        return node

    free = offer_distribution(open_listing.slug)
    assert graph.value(free, DCTERMS.license) == URIRef("http://spdx.org/licenses/CC-BY-4.0")
    assert (URIRef("http://spdx.org/licenses/CC-BY-4.0"), RDF.type, DCTERMS.LicenseDocument) in graph
    assert graph.value(free, DCTERMS.accessRights) == URIRef(ACCESS + "PUBLIC")
    assert graph.value(graph.value(free, DCTERMS.rights), RDF.type) == DCTERMS.RightsStatement
    (media_type,) = {
        f.media_type for f in services.version_files(uow.session, services.get_version(uow.session, open_listing))
    }
    assert graph.value(free, DCAT.mediaType) == URIRef(IANA + media_type)
    paid = offer_distribution(paid_listing.slug)
    assert graph.value(paid, DCTERMS.license) == URIRef(
        "http://localhost/license-templates/LicenseRef-standard-commercial-1.0"
    )
    assert graph.value(paid, DCTERMS.accessRights) == URIRef(ACCESS + "RESTRICTED")
    assert int(graph.value(paid, DCAT.byteSize)) == services.get_version(uow.session, paid_listing, None).total_bytes


def _one_dataset(client, catalog) -> tuple[Graph, URIRef]:
    dataset = catalog.published(title="Shaped corpus")
    graph = _feed(client)
    assert _conforms(graph)[0]
    return graph, URIRef(f"http://localhost/datasets/{dataset.slug}")


def test_a_dataset_without_its_mandatory_title_does_not_conform(client, catalog) -> None:
    graph, node = _one_dataset(client, catalog)
    graph.remove((node, DCTERMS.title, None))
    conforms, report = _conforms(graph)
    assert not conforms and "dct:title" in report.replace(str(DCTERMS), "dct:")


def test_a_byte_size_of_the_wrong_datatype_does_not_conform(client, catalog) -> None:
    graph, node = _one_dataset(client, catalog)
    distribution = next(d for d in graph.objects(node, DCAT.distribution) if graph.value(d, DCAT.byteSize))
    graph.set((distribution, DCAT.byteSize, Literal("about two megabytes")))
    conforms, report = _conforms(graph)
    assert not conforms and "byteSize" in report


def test_a_media_type_that_is_not_an_iana_uri_does_not_conform(client, catalog) -> None:
    graph, node = _one_dataset(client, catalog)
    distribution = next(d for d in graph.objects(node, DCAT.distribution) if graph.value(d, DCAT.mediaType))
    graph.set((distribution, DCAT.mediaType, Literal("text/csv")))
    assert not _conforms(graph)[0]
    graph.set((distribution, DCAT.mediaType, URIRef("https://example.org/types/csv")))
    graph.add((URIRef("https://example.org/types/csv"), RDF.type, DCTERMS.MediaType))
    conforms, report = _conforms(graph)
    assert not conforms and "mediaType" in report


def test_a_checksum_without_its_algorithm_does_not_conform(client, catalog) -> None:
    graph, node = _one_dataset(client, catalog)
    checksum = next(c for d in graph.objects(node, DCAT.distribution) for c in graph.objects(d, SPDX.checksum))
    graph.remove((checksum, SPDX.algorithm, None))
    assert not _conforms(graph)[0]


def test_an_access_right_outside_the_eu_table_does_not_conform(client, catalog) -> None:
    graph, node = _one_dataset(client, catalog)
    graph.set((node, DCTERMS.accessRights, URIRef(ACCESS + "SOMETIMES")))
    graph.add((URIRef(ACCESS + "SOMETIMES"), RDF.type, DCTERMS.RightsStatement))
    assert not _conforms(graph)[0]


def test_manifest_and_feed_leave_drafts_out(client, catalog) -> None:
    draft = catalog.draft(title="Hidden draft")
    assert client.get(f"/datasets/{draft.slug}/versions/1.0.0/manifest.json").status_code == 404
    graph = _feed(client)
    assert (None, DCTERMS.identifier, Literal(draft.slug)) not in graph


def test_a_governed_listing_is_non_public_and_a_deprecated_one_says_so(app, client, catalog, uow) -> None:
    governed = catalog.published(title="Governed corpus")
    _, user = catalog.provider()
    with app.app_context():
        licenses.create_offer(uow, user, governed, title="Open", license_id="CC-BY-4.0", price_amount=0,
                              currency="EUR")  # fmt: skip
        services.deprecate(uow, user, governed, reason="Superseded by the 2027 release.")
    governed.access_mode = AccessMode.GATED_MANUAL
    uow.session.flush()
    graph = _feed(client)
    assert _conforms(graph)[0]
    node = URIRef(f"http://localhost/datasets/{governed.slug}")
    assert graph.value(node, DCTERMS.accessRights) == URIRef(ACCESS + "NON_PUBLIC")
    (offer,) = [d for d in graph.objects(node, DCAT.distribution) if graph.value(d, DCTERMS.license)]
    assert graph.value(offer, DCTERMS.accessRights) == URIRef(ACCESS + "NON_PUBLIC")
    assert graph.value(node, ADMS.status) == URIRef("http://purl.org/adms/status/Deprecated")


def test_a_version_label_with_build_metadata_is_addressed_exactly(app, client, catalog, uow) -> None:
    dataset = catalog.published(title="Built corpus")
    _, user = catalog.provider()
    files = [{"path": "b.csv", "size_bytes": 3, "sha256": "ab" * 32, "media_type": "text/csv"}]
    newer = services.add_version(uow, user, dataset, version="1.1.0+build.7", files=files)
    with app.app_context():
        services.publish_version(uow, user, dataset, newer)
        uow.session.flush()
    graph = _feed(client)
    node = URIRef(f"http://localhost/datasets/{dataset.slug}")
    assert str(graph.value(node, DCAT.version)) == "1.1.0+build.7"
    urls = {str(url) for d in graph.objects(node, DCAT.distribution) for url in graph.objects(d, DCAT.downloadURL)}
    assert len(urls) == 3
    for url in urls:
        assert "1.1.0%2Bbuild.7" in url
        response = client.get(url.removeprefix("http://localhost"))
        assert response.status_code == 200, url
    spdx = client.get(f"/datasets/{dataset.slug}/versions/1.1.0%2Bbuild.7/spdx.json").get_json(force=True)
    (package,) = [e for e in spdx["@graph"] if e["type"] == "dataset_DatasetPackage"]
    assert package["software_packageVersion"] == "1.1.0+build.7"
