"""The catalog feed in DCAT-AP 3.0 (SEMIC's application profile of W3C DCAT 3), as JSON-LD.

What the feed promises, checked in the tests against SHACL shapes written from the DCAT-AP 3.0 specification:

- one ``dcat:Catalog`` with title, description, publisher (the marketplace), homepage and every public listing;
- each ``dcat:Dataset`` with title, description, identifier, its provider as a ``foaf:Agent`` publisher and
  ``vcard:Organization`` contact point, keywords, EU data themes (mapped from the industries), issue and change
  times as ``xsd:dateTime``, languages and countries as EU Publications Office authority URIs, the collection
  period as a ``dct:PeriodOfTime``, its version and its access rights;
- for the latest published version, three public metadata distributions (the Croissant document, the SPDX 3.0
  document, and the canonical file manifest with its exact ``dcat:byteSize`` and its SHA-256 as ``spdx:checksum``,
  which is the version's manifest digest), and one distribution per public offer carrying that offer's license
  (a ``dct:LicenseDocument``, the SPDX license URI for open licenses), rights statement, access rights, size and
  ODRL policy.

Access rights follow the EU access-right authority table: ``PUBLIC`` for a free offer of an open license,
``RESTRICTED`` for a licensed (paid or commercial) offer, ``NON_PUBLIC`` when the listing is governed (acquired
only after approval). Media types are IANA media-type URIs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from marketplace.accounts.models import Organisation
from marketplace.catalog import vocab
from marketplace.catalog.linked_data import CROISSANT_SPEC, OfferedLicense
from marketplace.catalog.models import Dataset, DatasetVersion

DCAT_AP_CONTEXT: dict[str, Any] = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "spdx": "http://spdx.org/rdf/terms#",
    "adms": "http://www.w3.org/ns/adms#",
    "odrl": "http://www.w3.org/ns/odrl/2/",
    "dct:issued": {"@type": "xsd:dateTime"},
    "dct:modified": {"@type": "xsd:dateTime"},
    "dcat:startDate": {"@type": "xsd:date"},
    "dcat:endDate": {"@type": "xsd:date"},
    "dcat:byteSize": {"@type": "xsd:nonNegativeInteger"},
    "spdx:checksumValue": {"@type": "xsd:hexBinary"},
    "dcat:landingPage": {"@type": "@id"},
    "dcat:accessURL": {"@type": "@id"},
    "dcat:downloadURL": {"@type": "@id"},
    "foaf:homepage": {"@type": "@id"},
    "vcard:hasURL": {"@type": "@id"},
    "odrl:hasPolicy": {"@type": "@id"},
}

EU_AUTHORITY = "http://publications.europa.eu/resource/authority/"
EU_COUNTRY = EU_AUTHORITY + "country/"
EU_LANGUAGE = EU_AUTHORITY + "language/"
EU_DATA_THEME = EU_AUTHORITY + "data-theme/"
EU_ACCESS_RIGHT = EU_AUTHORITY + "access-right/"
IANA_MEDIA_TYPES = "http://www.iana.org/assignments/media-types/"
SPDX_LICENSES = "http://spdx.org/licenses/"
SPDX_SHA256: dict[str, Any] = {"@id": "spdx:checksumAlgorithm_sha256", "@type": "spdx:ChecksumAlgorithm"}
SPDX_SPEC = "https://spdx.org/rdf/3.0.1/terms/"
JCS_SPEC = "https://www.rfc-editor.org/rfc/rfc8785"

#: The EU data themes we use, with their English labels (the Publications Office's ``data-theme`` table).
THEME_LABELS: dict[str, str] = {
    "ECON": "Economy and finance",
    "EDUC": "Education, culture and sport",
    "GOVE": "Government and public sector",
    "HEAL": "Health",
    "TECH": "Science and technology",
    "TRAN": "Transport",
}

#: Our industries as the EU data themes (``general`` has none).
INDUSTRY_THEMES: dict[str, str] = {
    "it_telecom": "TECH",
    "automotive_mobility": "TRAN",
    "healthcare_life_sciences": "HEAL",
    "bfsi": "ECON",
    "retail_ecommerce": "ECON",
    "government_defense": "GOVE",
    "media_entertainment": "EDUC",
    "manufacturing_industrial": "ECON",
}


@dataclass(frozen=True)
class VersionExports:
    """The latest published version of a listing and the addresses of its metadata documents."""

    version: DatasetVersion
    manifest_url: str
    manifest_bytes: int
    spdx_url: str
    croissant_url: str
    media_types: tuple[str, ...]


def media_type_iri(media_type: str) -> dict[str, Any]:
    """An IANA media-type URI (parameters dropped: the registry names the bare type)."""
    bare = media_type.split(";", 1)[0].strip().lower()
    return {"@id": IANA_MEDIA_TYPES + bare, "@type": "dct:MediaType"}


def language_iri(tag: str) -> str | None:
    """The EU language authority URI of a BCP 47 tag (its ISO 639-3 code in capitals), or None if unknown."""
    import langcodes

    try:
        code = langcodes.Language.get(tag).to_alpha3()
    except (LookupError, ValueError):
        return None
    return EU_LANGUAGE + code.upper()


def _access_right(name: str) -> dict[str, Any]:
    return {"@id": EU_ACCESS_RIGHT + name, "@type": "dct:RightsStatement"}


def offer_access_right(dataset: Dataset, offered: OfferedLicense) -> str:
    """``NON_PUBLIC`` for a governed listing, ``PUBLIC`` for a free open license, ``RESTRICTED`` otherwise."""
    if dataset.access_mode.is_governed:
        return "NON_PUBLIC"
    return "PUBLIC" if offered.open_license and offered.free else "RESTRICTED"


def dataset_access_right(dataset: Dataset, licenses: Sequence[OfferedLicense]) -> str:
    """The most open access any offer gives (``RESTRICTED`` for a listing without public offers)."""
    rights = {offer_access_right(dataset, offered) for offered in licenses}
    for name in ("PUBLIC", "RESTRICTED", "NON_PUBLIC"):
        if name in rights:
            return name
    return "NON_PUBLIC" if dataset.access_mode.is_governed else "RESTRICTED"


def license_document(offered: OfferedLicense) -> dict[str, Any]:
    """The offer's license as a ``dct:LicenseDocument``: the SPDX license URI for an open one, else our page."""
    iri = SPDX_LICENSES + offered.license_id if offered.open_license and offered.license_id else offered.license_url
    return {"@id": iri, "@type": "dct:LicenseDocument", "rdfs:label": offered.license_name}


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _standard(iri: str) -> dict[str, Any]:
    return {"@id": iri, "@type": "dct:Standard"}


def _metadata_distributions(exports: VersionExports) -> list[dict[str, Any]]:
    version = exports.version
    public = _access_right("PUBLIC")
    croissant = {
        "@id": exports.croissant_url,
        "@type": "dcat:Distribution",
        "dct:title": f"Croissant metadata of version {version.version}",
        "dcat:accessURL": exports.croissant_url,
        "dcat:downloadURL": exports.croissant_url,
        "dcat:mediaType": media_type_iri("application/ld+json"),
        "dct:conformsTo": _standard(CROISSANT_SPEC),
        "dct:accessRights": public,
    }
    spdx = {
        "@id": exports.spdx_url,
        "@type": "dcat:Distribution",
        "dct:title": f"SPDX 3.0 document of version {version.version}",
        "dcat:accessURL": exports.spdx_url,
        "dcat:downloadURL": exports.spdx_url,
        "dcat:mediaType": media_type_iri("application/spdx+json"),
        "dct:conformsTo": _standard(SPDX_SPEC),
        "dct:accessRights": public,
    }
    manifest: dict[str, Any] = {
        "@id": exports.manifest_url,
        "@type": "dcat:Distribution",
        "dct:title": f"File manifest of version {version.version}",
        "dct:description": "Every file's path, size, SHA-256 and media type, in the canonical form whose "
        "SHA-256 is the version's manifest digest.",
        "dcat:accessURL": exports.manifest_url,
        "dcat:downloadURL": exports.manifest_url,
        "dcat:mediaType": media_type_iri("application/json"),
        "dcat:byteSize": exports.manifest_bytes,
        "dct:conformsTo": _standard(JCS_SPEC),
        "dct:accessRights": public,
    }
    if version.manifest_digest:
        manifest["spdx:checksum"] = {
            "@type": "spdx:Checksum",
            "spdx:algorithm": SPDX_SHA256,
            "spdx:checksumValue": version.manifest_digest,
        }
    return [croissant, spdx, manifest]


def _offer_distribution(
    dataset: Dataset, offered: OfferedLicense, page_url: str, exports: VersionExports | None
) -> dict[str, Any]:
    # The files are delivered under license, so the distribution is reached through the listing's offers.
    distribution: dict[str, Any] = {
        "@type": "dcat:Distribution",
        "dct:title": offered.title,
        "dct:description": f"The dataset's files under {offered.license_name}, {offered.price}.",
        "dcat:accessURL": f"{page_url}#licenses",
        "dct:license": license_document(offered),
        "dct:rights": {
            "@type": "dct:RightsStatement",
            "rdfs:label": f"{offered.license_name} ({offered.price}); the terms are the offer's ODRL policy.",
        },
        "dct:accessRights": _access_right(offer_access_right(dataset, offered)),
        "odrl:hasPolicy": offered.policy_url,
    }
    if exports is not None:
        distribution["dcat:byteSize"] = exports.version.total_bytes
        if len(exports.media_types) == 1:
            distribution["dcat:mediaType"] = media_type_iri(exports.media_types[0])
    return distribution


def dcat_ap_dataset(
    dataset: Dataset,
    org: Organisation,
    record: dict[str, Any],
    exports: VersionExports | None,
    *,
    page_url: str,
    provider_url: str,
    licenses: Sequence[OfferedLicense] = (),
) -> dict[str, Any]:
    """One ``dcat:Dataset`` of the feed (see the module documentation for what it carries)."""
    themes = dict.fromkeys(INDUSTRY_THEMES[i] for i in record["industries"] if i in INDUSTRY_THEMES)
    entry: dict[str, Any] = {
        "@id": page_url,
        "@type": "dcat:Dataset",
        "dct:identifier": dataset.slug,
        "dct:title": dataset.title,
        "dct:description": record["summary"] or record["description"][:2000] or dataset.title,
        "dcat:landingPage": {"@id": page_url, "@type": "foaf:Document"},
        "dcat:keyword": record["tags"],
        "dcat:theme": [
            {
                "@id": EU_DATA_THEME + theme,
                "@type": "skos:Concept",
                "skos:prefLabel": {"@value": THEME_LABELS[theme], "@language": "en"},
                "skos:inScheme": {"@id": EU_AUTHORITY + "data-theme"},
            }
            for theme in themes
        ],
        "dct:publisher": {"@id": provider_url, "@type": "foaf:Agent", "foaf:name": org.name},
        "dcat:contactPoint": {
            "@type": ["vcard:Kind", "vcard:Organization"],
            "vcard:fn": org.name,
            "vcard:hasURL": provider_url,
        },
        "dct:issued": _when(dataset.published_at),
        "dct:modified": _when(dataset.updated_at),
        "dct:language": [
            {"@id": iri, "@type": "dct:LinguisticSystem"}
            for iri in dict.fromkeys(language_iri(t) for t in record["languages"])
            if iri
        ],
        "dct:spatial": [
            {"@id": EU_COUNTRY + vocab.country_alpha3(c), "@type": "dct:Location"} for c in record["countries"]
        ],
        "dct:accessRights": _access_right(dataset_access_right(dataset, licenses)),
        "dcat:distribution": [
            *(_metadata_distributions(exports) if exports is not None else []),
            *(_offer_distribution(dataset, offered, page_url, exports) for offered in licenses),
        ],
    }
    if exports is not None:
        entry["dcat:version"] = exports.version.version
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


def dcat_ap_catalog(
    entries: list[dict[str, Any]], *, catalog_url: str, home_url: str, title: str, modified: datetime | None
) -> dict[str, Any]:
    """The ``dcat:Catalog`` document listing ``entries``, published by the marketplace itself."""
    document: dict[str, Any] = {
        "@context": {**DCAT_AP_CONTEXT, "skos": "http://www.w3.org/2004/02/skos/core#"},
        "@id": catalog_url,
        "@type": "dcat:Catalog",
        "dct:title": title,
        "dct:description": "Every published dataset of this marketplace.",
        "dct:publisher": {"@id": home_url, "@type": "foaf:Agent", "foaf:name": title},
        "foaf:homepage": {"@id": home_url, "@type": "foaf:Document"},
        "dcat:themeTaxonomy": {
            "@id": EU_AUTHORITY + "data-theme",
            "@type": "skos:ConceptScheme",
            "dct:title": {"@value": "Data theme", "@language": "en"},
        },
        "dcat:dataset": entries,
    }
    if modified is not None:
        document["dct:modified"] = modified.isoformat()
    return document
