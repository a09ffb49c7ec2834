"""A license's fragment of the public summary of training content (EU AI Act Article 53(1)(d)).

Providers of general-purpose AI models publish a summary of their training content on the Commission's template
(July 2025): 1. general information (modalities, training data size per modality in ranges, types of content,
latest collection date, languages); 2. list of data sources (2.1 publicly available datasets; 2.2 private datasets
obtained from third parties, 2.2.1 commercially licensed by rightsholders or their representatives and 2.2.2
other; 2.3 crawled data; 2.4 user data; 2.5 synthetic data; 2.6 other); 3. data processing (3.1 respect of
text-and-data-mining reservations, 3.2 removal of illegal content). For each license a buyer holds, this module
builds the part of that summary the licensed dataset accounts for, from the listing and the provider's answers
(``Dataset.training_summary``), with the license and its certificate as evidence.

Which section the dataset belongs to (:func:`source_section`): a dataset the provider says is publicly available,
or held under an open license at no price (anyone may obtain it on the same terms), is 2.1; a dataset licensed
from its rights holder or their representative is 2.2.1; anything else from a third party is 2.2.2. Only the
licensee's organisation and platform admins may read a license's fragment (``Action.GRANT_TRAINING_SUMMARY``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

import licensing
from marketplace.accounts.models import Organisation, User
from marketplace.catalog import services as catalog
from marketplace.catalog.models import Dataset
from marketplace.catalog.vocab import Modality, RightsBasis
from marketplace.errors import NotFound, PermissionDenied
from marketplace.licenses import services as svc
from marketplace.licenses.models import Grant
from marketplace.permissions import Action, can

TEMPLATE = {
    "name": "Template for the Public Summary of Training Content for general-purpose AI models",
    "legal_basis": "Regulation (EU) 2024/1689 (AI Act), Article 53(1)(d)",
    "published": "2025-07-24",
}


@dataclass(frozen=True)
class Section:
    """A place in the template's list of data sources."""

    number: str
    key: str
    title: str

    def to_dict(self) -> dict[str, str]:
        return {"number": self.number, "key": self.key, "title": self.title}


PUBLIC = Section("2.1", "publicly_available_datasets", "Publicly available datasets")
LICENSED = Section(
    "2.2.1",
    "commercially_licensed_private_datasets",
    "Private datasets commercially licensed by rightsholders or their representatives",
)
OTHER_PRIVATE = Section("2.2.2", "other_private_datasets", "Private datasets obtained from other third parties")

#: The template's size ranges per modality: (upper bound exclusive, label), the last one open-ended.
SIZE_RANGES: dict[str, tuple[str, tuple[tuple[float, str], ...]]] = {
    "text": ("tokens", ((1e9, "Less than 1 billion tokens"), (1e13, "1 billion to 10 trillion tokens"),
                        (float("inf"), "More than 10 trillion tokens"))),
    "image": ("images", ((1e6, "Less than 1 million images"), (1e9, "1 million to 1 billion images"),
                         (float("inf"), "More than 1 billion images"))),
    "audio": ("hours", ((1e4, "Less than 10,000 hours"), (1e7, "10,000 to 10 million hours"),
                        (float("inf"), "More than 10 million hours"))),
    "video": ("hours", ((1e4, "Less than 10,000 hours"), (1e7, "10,000 to 10 million hours"),
                        (float("inf"), "More than 10 million hours"))),
}  # fmt: skip
#: Which of our measures gives the template's unit, per template modality.
_MEASURE = {"text": "tokens", "image": "images", "audio": "hours", "video": "hours"}


def size_range(modality: str, amount: float | None) -> str | None:
    """The template's size range for ``amount`` of ``modality`` (None when unknown or the modality has none)."""
    if amount is None or modality not in SIZE_RANGES:
        return None
    for bound, label in SIZE_RANGES[modality][1]:
        if amount < bound:
            return label
    return None  # pragma: no cover - the last bound is infinite


def source_section(rights_basis: str | None, template: licensing.LicenseTemplate, price: licensing.Money) -> Section:
    """The data-source section of a licensed dataset (see the module docstring for the rule)."""
    if rights_basis == RightsBasis.PUBLICLY_AVAILABLE.value or (template.is_open and price.is_zero):
        return PUBLIC
    if rights_basis == RightsBasis.RIGHTS_HOLDER.value:
        return LICENSED
    return OTHER_PRIVATE


def _template_modality(modality: str) -> str:
    return modality if modality in SIZE_RANGES else "other"


def modalities(record: dict[str, Any]) -> list[dict[str, Any]]:
    """One entry per modality of the data: the template's modality, its size range and our exact counts.

    The modality details the provider filled in say which modalities a multimodal dataset has; a single-modality
    listing without details still gets an entry, with the record count as its only figure.
    """
    details: dict[str, dict[str, Any]] = record.get("modality_details") or {}
    listed = [name for name in details if details[name]]
    modality = record.get("modality")
    if modality and modality != Modality.MULTIMODAL.value and modality not in listed:
        listed.insert(0, modality)
    entries = []
    for name in listed:
        counts = {k: v for k, v in (details.get(name) or {}).items() if isinstance(v, int | float) and v is not None}
        kind = _template_modality(name)
        measure = _MEASURE.get(kind)
        if record.get("record_count") is not None and len(listed) == 1:  # records of several modalities are shared
            counts.setdefault("records", record["record_count"])
        entries.append(
            {
                "modality": kind,
                "listed_as": name,
                "unit": SIZE_RANGES[kind][0] if kind in SIZE_RANGES else None,
                "size_range": size_range(kind, counts.get(measure) if measure else None),
                "exact": counts,
            }
        )
    return entries


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def build_fragment(session: Session, grant: Grant, base_url: str, now: datetime) -> dict[str, Any]:
    """The fragment for one license (JSON-safe; dates as ISO 8601 strings)."""
    dataset = session.get(Dataset, grant.dataset_id)
    if dataset is None:  # pragma: no cover - a grant's dataset is never deleted
        raise NotFound(message="No such license.")
    record = catalog.dataset_record(session, dataset)
    answers: dict[str, Any] = record.get("training_summary") or {}
    template = licensing.get_template(grant.license_id)
    price = licensing.Money(grant.price_amount, grant.currency)
    section = source_section(answers.get("rights_basis"), template, price)
    provider = session.get(Organisation, grant.licensor_org_id)
    end = record.get("collection_end")
    start = record.get("collection_start")
    crawled = answers.get("crawled")
    synthetic = record.get("synthetic_share_pct")
    page = f"{base_url}/datasets/{dataset.slug}"
    return {
        "template": TEMPLATE,
        "generated_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "section": section.to_dict(),
        "dataset": {
            "title": dataset.title,
            "url": page,
            "provider": provider.name if provider else None,
            "versions": list(grant.versions),
            "all_versions": grant.all_versions,
            "manifest_digest": grant.manifest_digest,
        },
        "general_information": {
            "modalities": modalities(record),
            "content_types": list(answers.get("content_types") or []),
            "latest_collection_date": end.isoformat() if end else None,
            "collection_period": {
                "start": start.isoformat() if start else None,
                "end": end.isoformat() if end else None,
            },
            "languages": list(record.get("languages") or []),
        },
        "data_sources": {
            "synthetic_share_pct": synthetic,
            "contains_synthetic_data": None if synthetic is None else synthetic > 0,
            "crawled": crawled,
            "crawl_details": _text(answers.get("crawl_details")) if crawled else None,
        },
        "data_processing": {
            # Relevant where the provider crawled: the reservations it met are then the developer's to account for.
            "tdm_opt_out_handling": _text(answers.get("tdm_opt_out_handling")) if crawled else None,
            "illegal_content_measures": _text(answers.get("illegal_content_measures")),
        },
        "evidence": _evidence(grant, template, base_url, now),
    }


def _evidence(grant: Grant, template: licensing.LicenseTemplate, base_url: str, now: datetime) -> dict[str, Any]:
    certificate = grant.certificate
    return {
        "license_id": grant.id,
        "license": template.id,
        "license_name": template.name,
        "terms_hash": grant.terms_hash,
        "status": svc.grant_value(grant).status_at(now).value,
        "certificate": {
            "id": grant.id if certificate else None,
            "url": f"{base_url}/licenses/{grant.id}/certificate.jws" if certificate else None,
            "sha256": hashlib.sha256(certificate.encode()).hexdigest() if certificate else None,
            "kid": grant.certificate_kid,
            "jwks_url": f"{base_url}/.well-known/jwks.json",
        },
        "verify_url": f"{base_url}/licenses/{grant.id}/verify",
    }


def require_read(session: Session, user: User | None, grant: Grant) -> None:
    """Licensee members and platform admins only. The licensor, who may see the license itself, is refused (403);
    anyone else gets the same answer as for a missing license (404), so ids are not confirmed."""
    if can(session, user, Action.GRANT_TRAINING_SUMMARY, grant):
        return
    if svc.may_view_grant(session, user, grant):
        raise PermissionDenied("Only the licensee's organisation may read this license's training-content summary.")
    raise NotFound(message="No such license.")


def fragment_for(session: Session, user: User | None, grant_id: str, base_url: str, now: datetime) -> dict[str, Any]:
    """The fragment of license ``grant_id`` for ``user`` (see :func:`require_read`)."""
    grant = svc.get_grant(session, grant_id)
    require_read(session, user, grant)
    return build_fragment(session, grant, base_url, now)
