"""Linked-data views of the catalog: schema.org ``Dataset`` markup for a page, and the DCAT 3 catalog feed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from marketplace.accounts.models import Organisation
from marketplace.catalog import vocab
from marketplace.catalog.models import Dataset, DatasetVersion

DCAT_CONTEXT: dict[str, Any] = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "dct:issued": {"@type": "xsd:dateTime"},
    "dct:modified": {"@type": "xsd:dateTime"},
    "dcat:startDate": {"@type": "xsd:date"},
    "dcat:endDate": {"@type": "xsd:date"},
    "dcat:byteSize": {"@type": "xsd:nonNegativeInteger"},
    "dcat:landingPage": {"@type": "@id"},
    "dcat:accessURL": {"@type": "@id"},
    "dcat:downloadURL": {"@type": "@id"},
    "dct:conformsTo": {"@type": "@id"},
    "dct:spatial": {"@type": "@id"},
    "dct:language": {"@type": "@id"},
    "dct:license": {"@type": "@id"},
    "foaf:homepage": {"@type": "@id"},
    "odrl": "http://www.w3.org/ns/odrl/2/",
    "odrl:hasPolicy": {"@type": "@id"},
}
EU_COUNTRY = "http://publications.europa.eu/resource/authority/country/"
LEXVO_ISO639_3 = "http://lexvo.org/id/iso639-3/"
CROISSANT_SPEC = "http://mlcommons.org/croissant/1.1"


@dataclass(frozen=True)
class OfferedLicense:
    """One public offer as the metadata exports name it: its license document and its terms as an ODRL policy."""

    title: str
    license_name: str
    license_url: str
    policy_url: str
    price: str


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def schema_org_dataset(
    dataset: Dataset,
    org: Organisation,
    record: dict[str, Any],
    version: DatasetVersion | None,
    *,
    page_url: str,
    provider_url: str,
    croissant_url: str,
    licenses: Sequence[OfferedLicense] = (),
) -> dict[str, Any]:
    """schema.org ``Dataset`` markup for the dataset page (what search engines index); ``license`` names the
    license of every public offer."""
    doc: dict[str, Any] = {
        "@context": "https://schema.org/",
        "@type": "Dataset",
        "name": dataset.title,
        "description": record["summary"] or record["description"][:5000] or dataset.title,
        "url": page_url,
        "identifier": dataset.slug,
        "keywords": record["tags"] + [vocab.Task.label_of(t) for t in record["tasks"]],
        "inLanguage": record["languages"],
        "creator": {"@type": "Organization", "name": org.name, "url": provider_url},
        "provider": {"@type": "Organization", "name": org.name, "url": provider_url},
        "dateModified": _when(dataset.updated_at),
        "datePublished": _when(dataset.published_at),
        "subjectOf": {"@type": "DigitalDocument", "encodingFormat": "application/ld+json", "url": croissant_url},
        "license": license_urls(licenses),
    }
    if record["countries"]:
        doc["spatialCoverage"] = [vocab.country_name(c) for c in record["countries"]]
    if record["collection_start"]:
        end = record["collection_end"]
        doc["temporalCoverage"] = f"{record['collection_start'].isoformat()}/{end.isoformat() if end else '..'}"
    if version is not None:
        doc["version"] = version.version
    if record["formats"]:
        doc["encodingFormat"] = record["formats"]
    return {key: value for key, value in doc.items() if value not in (None, "", [])}


def license_urls(licenses: Sequence[OfferedLicense]) -> list[str]:
    """Each license once, in offer order."""
    return list(dict.fromkeys(offered.license_url for offered in licenses))


def _language_iri(tag: str) -> str | None:
    import langcodes

    try:
        code = langcodes.Language.get(tag).to_alpha3()
    except (LookupError, ValueError):
        return None
    return LEXVO_ISO639_3 + code


def dcat_dataset(
    dataset: Dataset,
    org: Organisation,
    record: dict[str, Any],
    version: DatasetVersion | None,
    *,
    page_url: str,
    provider_url: str,
    croissant_url: str,
    licenses: Sequence[OfferedLicense] = (),
) -> dict[str, Any]:
    """One ``dcat:Dataset`` of the catalog feed: its Croissant metadata, then one ``dcat:Distribution`` per public
    offer, with the offer's license (``dct:license``) and its terms as ODRL (``odrl:hasPolicy``)."""
    entry: dict[str, Any] = {
        "@id": page_url,
        "@type": "dcat:Dataset",
        "dct:identifier": dataset.slug,
        "dct:title": dataset.title,
        "dct:description": record["summary"] or record["description"][:2000] or dataset.title,
        "dcat:landingPage": page_url,
        "dcat:keyword": record["tags"],
        "dcat:theme": [
            {"@id": f"{page_url.rsplit('/datasets/', 1)[0]}/datasets?industry={i}"} for i in record["industries"]
        ],
        "dct:publisher": {
            "@id": provider_url,
            "@type": "foaf:Agent",
            "foaf:name": org.name,
            "foaf:homepage": provider_url,
        },
        "dct:issued": _when(dataset.published_at),
        "dct:modified": _when(dataset.updated_at),
        "dct:language": [iri for iri in (_language_iri(t) for t in record["languages"]) if iri],
        "dct:spatial": [EU_COUNTRY + vocab.country_alpha3(c) for c in record["countries"]],
        "dcat:distribution": [
            {
                "@type": "dcat:Distribution",
                "dct:title": "Croissant metadata",
                "dcat:accessURL": croissant_url,
                "dcat:downloadURL": croissant_url,
                "dcat:mediaType": "application/ld+json",
                "dct:conformsTo": CROISSANT_SPEC,
            },
            *(_offer_distribution(offered, page_url, version) for offered in licenses),
        ],
    }
    if version is not None:
        entry["dcat:version"] = version.version
        entry["dcat:byteSize"] = version.total_bytes
    if record["collection_start"]:
        temporal: dict[str, Any] = {
            "@type": "dct:PeriodOfTime",
            "dcat:startDate": record["collection_start"].isoformat(),
        }
        if record["collection_end"]:
            temporal["dcat:endDate"] = record["collection_end"].isoformat()
        entry["dct:temporal"] = temporal
    if dataset.status is vocab.DatasetStatus.DEPRECATED:
        entry["adms:status"] = {"@id": "http://purl.org/adms/status/Deprecated"}
    return {key: value for key, value in entry.items() if value not in (None, "", [])}


def _offer_distribution(offered: OfferedLicense, page_url: str, version: DatasetVersion | None) -> dict[str, Any]:
    # The files are delivered under license, so the distribution is reached through the listing's offers.
    distribution: dict[str, Any] = {
        "@type": "dcat:Distribution",
        "dct:title": offered.title,
        "dct:description": f"The dataset's files under {offered.license_name}, {offered.price}.",
        "dcat:accessURL": f"{page_url}#licenses",
        "dct:license": offered.license_url,
        "odrl:hasPolicy": offered.policy_url,
    }
    if version is not None:
        distribution["dcat:byteSize"] = version.total_bytes
    return distribution


def dcat_catalog(entries: list[dict[str, Any]], *, catalog_url: str, home_url: str, title: str) -> dict[str, Any]:
    """The DCAT 3 ``dcat:Catalog`` document listing ``entries``."""
    return {
        "@context": {**DCAT_CONTEXT, "adms": "http://www.w3.org/ns/adms#"},
        "@id": catalog_url,
        "@type": "dcat:Catalog",
        "dct:title": title,
        "dct:description": "Every published dataset of this marketplace.",
        "foaf:homepage": home_url,
        "dcat:dataset": entries,
    }
