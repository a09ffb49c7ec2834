"""Linked-data views of the catalog: schema.org ``Dataset`` markup for a page (the DCAT-AP feed is
:mod:`marketplace.catalog.dcat`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from marketplace.accounts.models import Organisation
from marketplace.catalog import vocab
from marketplace.catalog.models import Dataset, DatasetVersion

CROISSANT_SPEC = "http://mlcommons.org/croissant/1.1"


@dataclass(frozen=True)
class OfferedLicense:
    """One public offer as the metadata exports name it: its license document and its terms as an ODRL policy."""

    title: str
    license_name: str
    license_url: str
    policy_url: str
    price: str
    #: The template's license id (an SPDX id for open licenses, a ``LicenseRef-`` id for ours).
    license_id: str = ""
    open_license: bool = False
    free: bool = False


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
