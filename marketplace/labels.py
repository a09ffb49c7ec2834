"""What people read instead of internal names: one table of field labels and one label table per state enum.

Promises:

* :func:`field_label` turns a dotted field path (``ai_act.design_choices``, ``milestones.2.amount``,
  ``overrides.seats``) into the words the form shows next to that input ("Design choices", "Milestone 3:
  amount", "Seats"). Paths not in :data:`FIELD_LABELS` are spelled out from their last part ("lead_time_days" →
  "Lead time days"), so no dotted or underscored name ever reaches a person.
* :func:`describe_problems` is the one way a list of field problems is summarised in a message.
* :func:`state_label` names a state (an order's, a grant's, an upload's…) in words; the templates use it as the
  ``state`` filter. Each enum has its own table in :data:`STATE_LABELS`; an unknown value is spelled out.

Nothing here imports Flask; :func:`register_template_helpers` adds the filters to an app.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from enum import Enum
from typing import Any

from licensing.grants import GrantStatus
from licensing.terms import FIELD_LABELS as TERM_LABELS
from marketplace.errors import FieldProblem

__all__ = ["FIELD_LABELS", "STATE_LABELS", "describe_problems", "field_label", "state_label"]

_AI_ACT = {
    "design_choices": "Design choices",
    "collection_processes": "Data collection processes",
    "data_origin": "Origin of the data",
    "original_purpose": "Original purpose of the personal data",
    "assumptions": "Assumptions",
    "suitability": "Availability, quantity and suitability",
    "bias_examination": "Examination of possible biases",
    "bias_mitigation": "Bias mitigation measures",
    "known_gaps": "Data gaps and shortcomings",
    "gaps_remedy": "How the gaps are addressed",
    "bias_reviewer": "Bias review by",
    "bias_reviewed_on": "Bias review date",
    "preparation": "Data preparation operations",
    "group_distribution": "Spread across groups",
}
_MODALITY = {
    "text.documents": "Text: documents",
    "text.tokens": "Text: tokens",
    "image.images": "Image: images",
    "image.min_width": "Image: smallest width",
    "image.min_height": "Image: smallest height",
    "image.max_width": "Image: largest width",
    "image.max_height": "Image: largest height",
    "video.hours": "Video: hours",
    "video.clips": "Video: clips",
    "video.width": "Video: width",
    "video.height": "Video: height",
    "video.fps": "Video: frames per second",
    "audio.hours": "Audio: hours",
    "audio.speakers": "Audio: speakers",
    "audio.sample_rate_hz": "Audio: sample rate",
    "audio.accents": "Audio: accents and dialects",
    "sensor.channels": "Sensor: channels",
    "sensor.sample_rate_hz": "Sensor: sample rate",
    "sensor.sensor_types": "Sensor: sensor types",
    "text": "Text details",
    "image": "Image details",
    "video": "Video details",
    "audio": "Audio details",
    "sensor": "Sensor details",
}
_TRAINING_SUMMARY = {
    "rights_basis": "Footing on which the data is offered",
    "content_types": "Kinds of content",
    "crawled": "Collected by crawling websites",
    "crawl_details": "How it was crawled",
    "tdm_opt_out_handling": "How text and data mining opt-outs were respected",
    "illegal_content_measures": "Measures against illegal content",
}

#: Dotted field path → the label a person saw. List indices are written ``*`` and numbered from 1 in the label.
FIELD_LABELS: dict[str, str] = {
    "title": "Title",
    "summary": "One-line summary",
    "description": "Description",
    "offering_type": "Offering type",
    "tags": "Tags",
    "external_id": "Your own id for this dataset",
    "modality": "Modality",
    "modality_details": "Modality details",
    "tasks": "Tasks",
    "industries": "Industries",
    "languages": "Languages",
    "countries": "Countries and regions",
    "collection_start": "Collected from",
    "collection_end": "Collected until",
    "record_count": "Records",
    "total_bytes": "Total bytes",
    "file_count": "Files",
    "formats": "Formats",
    "collection_methods": "Collection methods",
    "annotation_methods": "Annotation methods",
    "annotator_qualifications": "Annotator qualifications",
    "annotations_per_item": "Annotations per item",
    "agreement_metric": "Inter-annotator agreement metric",
    "agreement_value": "Agreement value",
    "synthetic_share_pct": "Synthetic share",
    "personal_data": "Personal data present",
    "special_categories": "Special categories",
    "deidentification": "De-identification",
    "lawful_basis": "Lawful basis",
    "consent_obtained": "Consent obtained",
    "opt_out_honoured": "Opt-outs honoured",
    "personal_data_notes": "Notes on personal data",
    "sources": "Sources",
    "sources.*.name": "Source {n}: name",
    "sources.*.url": "Source {n}: URL",
    "sources.*.license": "Source {n}: license",
    "parent_datasets": "Parent datasets",
    "parent_datasets.*.title": "Parent dataset {n}: title",
    "parent_datasets.*.url": "Parent dataset {n}: URL",
    "parent_datasets.*.slug": "Parent dataset {n}: slug",
    "ai_act": "AI Act Article 10 record",
    "ai_act.group_distribution.*.dimension": "Group row {n}: grouped by",
    "ai_act.group_distribution.*.group": "Group row {n}: group",
    "ai_act.group_distribution.*.share_pct": "Group row {n}: share",
    "ai_act.group_distribution.*.count": "Group row {n}: records",
    "training_summary": "Training-content summary",
    "storage_region": "Storage region",
    "update_frequency": "Update frequency",
    "service_modalities": "Modalities you collect",
    "deidentification_offered": "De-identification methods you apply",
    "ai_act_documentation": "AI Act Article 10 documentation",
    "lead_time_days": "Typical lead time",
    "service_price_min": "Lowest price",
    "service_price_max": "Highest price",
    "service_price_currency": "Currency",
    # Offers, quotes, milestones and orders.
    "price": "Price",
    "price_amount": "Price",
    "currency": "Currency",
    "license_id": "License",
    "version_label": "Versions covered",
    "audience_org_slug": "Buyer organisation",
    "expires_on": "Valid until",
    "overrides": "Commercial terms",
    "license_overrides": "Commercial terms",
    "payment_plan": "Payment plan",
    "valid_until": "Valid until",
    "milestones": "Milestones",
    "milestones.*.title": "Milestone {n}: title",
    "milestones.*.deliverable": "Milestone {n}: deliverable",
    "milestones.*.quantity": "Milestone {n}: quantity",
    "milestones.*.due_date": "Milestone {n}: due date",
    "milestones.*.amount": "Milestone {n}: amount",
    "budget_min": "Minimum budget",
    "budget_max": "Maximum budget",
    "volume_amount": "How much",
    "volume_unit": "Unit",
    "payout_amount": "Provider's share",
    "slug": "Short name in addresses",
    "kind": "Kind",
    "name": "Name",
    "sha256": "SHA-256",
    "size_bytes": "Size",
    "confirm_empty": "Upload an empty file",
    "_schema": "This form",
    "body": "The request",
}
FIELD_LABELS.update({f"ai_act.{key}": label for key, label in _AI_ACT.items()})
FIELD_LABELS.update(
    {
        f"ai_act.preparation.{op}": f"Preparation: {op}"
        for op in ("annotation", "labelling", "cleaning", "updating", "enrichment", "aggregation")
    }
)
FIELD_LABELS.update({f"modality_details.{key}": label for key, label in _MODALITY.items()})
FIELD_LABELS.update({f"training_summary.{key}": label for key, label in _TRAINING_SUMMARY.items()})
for _term, _label in TERM_LABELS.items():
    FIELD_LABELS.setdefault(_term, _label)
    FIELD_LABELS[f"overrides.{_term}"] = _label
    FIELD_LABELS[f"license_overrides.{_term}"] = _label
    FIELD_LABELS[f"terms.{_term}"] = _label

_INDEX = re.compile(r"\.(\d+)(?=\.|$)")


def field_label(path: str) -> str:
    """The words a person saw for the field at dotted ``path`` (see the module docstring)."""
    if path in FIELD_LABELS:
        return FIELD_LABELS[path]
    indices = [int(i) for i in _INDEX.findall(path)]
    pattern = _INDEX.sub(".*", path)
    if pattern in FIELD_LABELS and indices:
        return FIELD_LABELS[pattern].replace("{n}", str(indices[-1] + 1))
    parts = [p for p in path.split(".") if p and not p.isdigit() and p != "*"]
    if not parts:
        return "This form"
    head = parts[0] if len(parts) > 1 and parts[0] in FIELD_LABELS else None
    tail = parts[-1].replace("_", " ").strip().capitalize()
    return f"{FIELD_LABELS[head]}: {tail.lower()}" if head else tail


def describe_problems(problems: Iterable[FieldProblem], limit: int | None = None) -> str:
    """``"Label: message; Label: message"`` for ``problems`` (the first ``limit`` of them when given)."""
    items = list(problems)
    shown = items if limit is None else items[:limit]
    return "; ".join(f"{field_label(p.field)}: {p.message}" for p in shown)


def _words(value: str) -> str:
    return value.replace("_", " ").strip().capitalize()


def _labels_of(enum_cls: type[Enum], special: Mapping[str, str]) -> dict[str, str]:
    return {str(member.value): special.get(str(member.value), _words(str(member.value))) for member in enum_cls}


def _state_tables() -> dict[str, dict[str, str]]:
    from marketplace.delivery.models import UploadStatus
    from marketplace.orders.models import OrderStatus, PayoutStatus

    return {
        "OrderStatus": _labels_of(
            OrderStatus,
            {"pending_payment": "Awaiting payment", "processing": "Payment processing", "expired": "Checkout expired"},
        ),
        "PayoutStatus": _labels_of(
            PayoutStatus,
            {
                "pending": "Not paid out yet",
                "held": "Kept by the platform",
                "transferred": "Paid out",
                "transfer_failed": "Payout failed (retrying)",
                "reversed": "Taken back (refunded)",
            },
        ),
        "GrantStatus": _labels_of(
            GrantStatus, {"pending_payment": "Awaiting payment", "pending_approval": "Awaiting approval"}
        ),
        "UploadStatus": _labels_of(
            UploadStatus, {"verifying": "Checking the file", "verified": "Checked", "failed": "Failed"}
        ),
    }


#: Enum class name → value → words. Filled on first use (the model modules import this package's neighbours).
STATE_LABELS: dict[str, dict[str, str]] = {}
#: The names templates pass when they hold a plain string rather than an enum member.
_KIND_ALIASES = {"order": "OrderStatus", "payout": "PayoutStatus", "grant": "GrantStatus", "upload": "UploadStatus"}


def state_label(value: Any, kind: str | None = None) -> str:
    """``value`` (an enum member, or its string with ``kind`` naming the enum: "order", "grant"…) in words."""
    if not STATE_LABELS:
        STATE_LABELS.update(_state_tables())
    if value is None:
        return ""
    name = type(value).__name__ if isinstance(value, Enum) else _KIND_ALIASES.get(kind or "", kind or "")
    text = str(value.value) if isinstance(value, Enum) else str(value)
    table = STATE_LABELS.get(name)
    if table is None and isinstance(value, Enum):
        table = _labels_of(type(value), {})
    return (table or {}).get(text) or _words(text)


def register_template_helpers(app: Any) -> None:
    """``{{ order.status|state }}``, ``{{ g.status|state("grant") }}`` and ``{{ "ai_act.x"|field_label }}``."""
    app.add_template_filter(state_label, "state")
    app.add_template_filter(field_label, "field_label")
