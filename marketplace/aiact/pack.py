"""The content of a version's Article 10 documentation pack, and which of its parts are still missing.

:func:`build_content` reads the listing as it is now and the version's facts (files, bytes, manifest digest) and
the license terms of the offers that cover the version; the result is plain JSON (strings, numbers, lists), the
thing a sign-off freezes. :func:`missing_parts` judges any content, draft or frozen, by the same rules, so "complete"
means the same on every page, in the API and in the catalog facet.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from licensing.terms import Terms
from marketplace.catalog import vocab
from marketplace.catalog.models import Dataset, DatasetVersion
from marketplace.catalog.services import dataset_record, organisation_of
from marketplace.licenses.models import Offer

FORMAT = "eu-ai-act-article-10-pack/1"
PREPARATION_OPERATIONS = ("annotation", "labelling", "cleaning", "updating", "enrichment", "aggregation")

#: The pack's parts in reading order: (key, title in plain words, the Article 10 provision it answers).
PARTS: tuple[tuple[str, str, str], ...] = (
    ("design_choices", "Design choices", "Article 10(2)(a)"),
    ("collection", "Data collection: processes, period and origin", "Article 10(2)(b)"),
    ("preparation", "Data preparation operations", "Article 10(2)(c)"),
    ("assumptions", "Assumptions", "Article 10(2)(d)"),
    ("suitability", "Availability, quantity and suitability, with statistics", "Article 10(2)(e), 10(3), 10(4)"),
    ("bias", "Examination of possible biases and their mitigation", "Article 10(2)(f) and (g)"),
    ("gaps", "Data gaps and shortcomings, and how they are addressed", "Article 10(2)(h)"),
    ("special_categories", "Special categories of personal data and safeguards", "Article 10(5)"),
    ("provenance", "Provenance, with each source's license", "Article 10(2)(b)"),
    ("manifest", "The version's files and manifest digest", "Article 10(2)(e)"),
    ("license_terms", "License terms", "Article 10(2)(b)"),
)
PART_TITLES: dict[str, str] = {key: title for key, title, _ in PARTS}


@dataclass(frozen=True)
class MissingPart:
    """One thing the pack still lacks: the part it belongs to and what to do, in plain words."""

    part: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"part": self.part, "title": PART_TITLES.get(self.part, self.part), "message": self.message}


def _text(value: Any) -> str:
    return str(value or "").strip()


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def covering_offers(session: Session, dataset: Dataset, version: DatasetVersion) -> list[Offer]:
    """The public, active offers that cover ``version`` (those for every version, and those for this one)."""
    return list(
        session.exec(
            select(Offer)
            .where(
                Offer.dataset_id == dataset.id,
                col(Offer.is_active).is_(True),
                col(Offer.audience_org_id).is_(None),
                sa.or_(col(Offer.version_label).is_(None), col(Offer.version_label) == version.version),
            )
            .order_by(col(Offer.price_amount), col(Offer.id))
        )
    )


def license_terms(offers: list[Offer]) -> list[dict[str, Any]]:
    """Each offer's license and its terms in plain words, one line per term (from the licensing engine)."""
    return [
        {
            "offer": offer.title,
            "license_id": offer.license_id,
            "versions": offer.version_label or "every version published during the term",
            "price": {"amount": offer.price_amount, "currency": offer.currency},
            "lines": Terms.from_dict(offer.terms).plain_language(),
        }
        for offer in offers
    ]


def build_content(session: Session, dataset: Dataset, version: DatasetVersion) -> dict[str, Any]:
    """The pack's content for ``version`` from the listing as it is now (what a sign-off freezes)."""
    record = dataset_record(session, dataset)
    ai = record.get("ai_act") or {}
    preparation = ai.get("preparation") or {}
    return {
        "format": FORMAT,
        "dataset": {"slug": dataset.slug, "title": dataset.title, "provider": organisation_of(session, dataset).name},
        "version": {
            "label": version.version,
            "published_at": _iso(version.published_at),
            "manifest_digest": version.manifest_digest,
            "file_count": version.file_count,
            "total_bytes": version.total_bytes,
        },
        "design_choices": _text(ai.get("design_choices")),
        "collection": {
            "processes": _text(ai.get("collection_processes")),
            "methods": [vocab.CollectionMethod.label_of(m) for m in record["collection_methods"]],
            "period_start": _iso(record.get("collection_start")),
            "period_end": _iso(record.get("collection_end")),
            "origin": _text(ai.get("data_origin")),
            "countries": [{"code": c, "name": vocab.country_name(c)} for c in record["countries"]],
            "personal_data": record["personal_data"],
            "original_purpose": _text(ai.get("original_purpose")),
        },
        "preparation": {op: _text(preparation.get(op)) for op in PREPARATION_OPERATIONS},
        "assumptions": _text(ai.get("assumptions")),
        "suitability": {
            "description": _text(ai.get("suitability")),
            "statistics": {
                "records": record.get("record_count"),
                "files": version.file_count,
                "bytes": version.total_bytes,
                "languages": [{"tag": t, "name": vocab.language_name(t)} for t in record["languages"]],
                "countries": [{"code": c, "name": vocab.country_name(c)} for c in record["countries"]],
                "groups": [dict(row) for row in ai.get("group_distribution") or []],
            },
        },
        "bias": {
            "examination": _text(ai.get("bias_examination")),
            "mitigation": _text(ai.get("bias_mitigation")),
            "reviewer": _text(ai.get("bias_reviewer")),
            "reviewed_on": _iso(ai.get("bias_reviewed_on")),
        },
        "gaps": {"identified": _text(ai.get("known_gaps")), "how_addressed": _text(ai.get("gaps_remedy"))},
        "special_categories": _special_categories(record),
        "provenance": {
            "sources": [
                {"name": s["name"], "url": s.get("url"), "license": s["license"]} for s in record["sources"] or []
            ],
            "parent_datasets": [
                {"title": p["title"], "url": p.get("url"), "slug": p.get("slug")}
                for p in record["parent_datasets"] or []
            ],
        },
        "license_terms": license_terms(covering_offers(session, dataset, version)),
    }


def _special_categories(record: dict[str, Any]) -> dict[str, Any]:
    lawful_basis = record.get("lawful_basis")
    return {
        "personal_data": record["personal_data"],
        "categories": [{"code": c, "name": vocab.SpecialCategory.label_of(c)} for c in record["special_categories"]],
        "deidentification": [
            {"code": d, "name": vocab.Deidentification.label_of(d)} for d in record["deidentification"]
        ],
        "lawful_basis": {"code": lawful_basis, "name": vocab.LawfulBasis.label_of(lawful_basis)}
        if lawful_basis
        else None,
        "consent_obtained": record.get("consent_obtained"),
        "opt_out_honoured": record.get("opt_out_honoured"),
        "notes": _text(record.get("personal_data_notes")),
    }


def missing_parts(content: dict[str, Any]) -> list[MissingPart]:
    """What the pack still lacks, part by part, in plain words; empty when every part is filled."""
    missing: list[MissingPart] = []

    def need(condition: object, part: str, message: str) -> None:
        if not condition:
            missing.append(MissingPart(part, message))

    collection, stats = content["collection"], content["suitability"]["statistics"]
    personal = collection["personal_data"] == vocab.PersonalData.YES.value
    need(content["design_choices"], "design_choices", "Describe the design choices behind the data.")
    need(collection["processes"], "collection", "Describe how the data was collected.")
    need(collection["period_start"], "collection", "Give the date the collection started.")
    need(collection["period_end"], "collection", "Give the date the collection ended.")
    need(collection["origin"], "collection", "Describe where the data comes from.")
    need(collection["countries"], "collection", "Name the countries the data comes from.")
    if personal:
        need(collection["original_purpose"], "collection", "Say for what purpose the personal data was collected.")
    need(any(content["preparation"].values()), "preparation", "Describe at least one preparation operation.")
    need(content["assumptions"], "assumptions", "Say what the data is assumed to measure and represent.")
    need(content["suitability"]["description"], "suitability", "Describe whether the data suits its purpose.")
    need(stats["records"] is not None, "suitability", "Give the number of records.")
    need(stats["groups"], "suitability", "Give the distribution of the data across at least one kind of group.")
    bias = content["bias"]
    need(bias["examination"], "bias", "Describe how the data was examined for possible biases.")
    need(bias["mitigation"], "bias", "Describe the measures taken against the biases found.")
    need(bias["reviewer"], "bias", "Name the person who reviewed the biases.")
    need(bias["reviewed_on"], "bias", "Give the date of the bias review.")
    need(content["gaps"]["identified"], "gaps", "Describe the gaps and shortcomings found in the data.")
    need(content["gaps"]["how_addressed"], "gaps", "Say how those gaps and shortcomings are addressed.")
    special = content["special_categories"]
    need(special["personal_data"] != vocab.PersonalData.UNKNOWN.value, "special_categories", _PERSONAL_DATA_QUESTION)
    if personal:
        need(special["deidentification"], "special_categories", "Say how the personal data was de-identified.")
        need(special["lawful_basis"], "special_categories", "Give the lawful basis for processing personal data.")
    if special["categories"]:
        need(special["notes"], "special_categories", "Describe the safeguards for the special categories of data.")
    need(content["provenance"]["sources"], "provenance", "List at least one source with its license.")
    need(content["version"]["manifest_digest"], "manifest", "Give the version a file manifest.")
    need(content["license_terms"], "license_terms", "Offer the version under at least one public license.")
    return missing


_PERSONAL_DATA_QUESTION = "Say whether the data contains personal data."


def content_digest(content: dict[str, Any]) -> str:
    """Hex SHA-256 of the content's canonical JSON (sorted keys, no spaces): what a sign-off vouches for."""
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
