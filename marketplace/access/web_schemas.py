"""The governed-access pages' forms (marshmallow), and the small parsers for their repeatable parts.

Errors are reported in the label the person saw (``field_errors`` keyed by input name), like the services do.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import iso3166
from marshmallow import fields, validate
from werkzeug.datastructures import MultiDict

from marketplace.access.agreements import TEMPLATES
from marketplace.access.states import AccessMode, FieldKind, HolderKind, RequestState, ResignPolicy
from marketplace.forms import FormSchema

USE_LABELS = {
    "research": "Research",
    "evaluation": "Evaluation",
    "benchmark": "Benchmarking",
    "internal_use": "Internal use",
    "train": "Training models",
    "fine_tune": "Fine-tuning models",
    "rag": "Retrieval (RAG)",
    "output_commercial": "Commercial use of outputs",
    "model_commercial": "Commercial use of trained models",
}
FIELD_KIND_LABELS = {
    FieldKind.TEXT: "Short text",
    FieldKind.LONG_TEXT: "Long text",
    FieldKind.SELECT: "Choice from a list",
    FieldKind.COUNTRY: "Country",
    FieldKind.DATE: "Date",
    FieldKind.CHECKBOX: "Checkbox with its own text",
}
COUNTRIES = sorted(((c.alpha2, c.name) for c in iso3166.countries), key=lambda pair: pair[1])


class _Form(FormSchema):
    # These pages mean different things by a blank ("" is "every state" in the queue filter), so blanks reach the
    # schemas as typed and the views say which empty inputs mean "not given" (:func:`blank_to_none`).
    blank_is_missing = False


def _optional_int(low: int, high: int) -> fields.Integer:
    return fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=low, max=high))


class PolicyForm(_Form):
    mode = fields.Enum(AccessMode, by_value=True, required=True)
    holder = fields.Enum(HolderKind, by_value=True, load_default=HolderKind.PERSON)
    samples_public = fields.Boolean(load_default=False)
    default_expiry_days = _optional_int(1, 36500)
    agreement_id = fields.Integer(load_default=None, allow_none=True)


class NewAgreementForm(_Form):
    template = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(list(TEMPLATES)))
    title = fields.String(load_default="")
    resign_policy = fields.Enum(ResignPolicy, by_value=True, load_default=ResignPolicy.IMMEDIATELY)
    term_days = _optional_int(1, 36500)


class VersionForm(_Form):
    body = fields.String(required=True, validate=validate.Length(min=1))
    resign_policy = fields.Enum(ResignPolicy, by_value=True, load_default=None, allow_none=True)
    term_days = _optional_int(1, 36500)


class SignForm(_Form):
    full_name = fields.String(required=True)
    sha256 = fields.String(required=True, validate=validate.Length(equal=64))


class CredentialForm(_Form):
    issuer = fields.String(required=True)
    course = fields.String(required=True)
    completed_on = fields.Date(required=True)
    expires_on = fields.Date(load_default=None, allow_none=True)


class DecideCredentialForm(_Form):
    decision = fields.String(required=True, validate=validate.OneOf(["verify", "refuse"]))
    reason = fields.String(load_default="")


class QueueFilterForm(_Form):
    provider = fields.String(load_default=None, allow_none=True)
    state = fields.String(load_default="submitted", validate=validate.OneOf(["", *[s.value for s in RequestState]]))
    dataset = fields.Integer(load_default=None, allow_none=True)
    submitted_from = fields.Date(load_default=None, allow_none=True)
    submitted_to = fields.Date(load_default=None, allow_none=True)


class BatchForm(_Form):
    action = fields.String(required=True, validate=validate.OneOf(["approve", "reject"]))
    request_ids = fields.List(fields.Integer(), load_default=list)
    reason = fields.String(load_default="")


class ResetForm(_Form):
    reason = fields.String(load_default="")
    action = fields.String(load_default="reset", validate=validate.OneOf(["reset", "revoke"]))


class GrantForm(_Form):
    dataset = fields.Integer(required=True)
    email = fields.Email(required=True)
    organisation = fields.String(required=True, validate=validate.Length(min=1))
    expires_on = fields.Date(load_default=None, allow_none=True)
    reason = fields.String(load_default="")


def blank_to_none(data: dict[str, Any], *names: str) -> dict[str, Any]:
    """Empty inputs mean "not given" (an empty date or number field)."""
    return {k: (None if k in names and v == "" else v) for k, v in data.items()}


_ROW = re.compile(r"^fields-(\d+)-(\w+)$")


def posted_field_definitions(form: MultiDict[str, str]) -> list[dict[str, Any]]:
    """The repeatable "extra field" fieldsets as definitions for :func:`policy.configure_access`; a row with neither
    a label nor a short name is an unused blank and is dropped. Options are one per line."""
    rows: dict[int, dict[str, Any]] = {}
    for name, value in form.items():
        match = _ROW.match(name)
        if match:
            rows.setdefault(int(match.group(1)), {})[match.group(2)] = value
    out = []
    for index in sorted(rows):
        row = rows[index]
        label = (row.get("label") or "").strip()
        key = (row.get("key") or "").strip() or _key_from(label)
        if not label and not key:
            continue
        out.append(
            {
                "key": key,
                "label": label,
                "kind": row.get("kind", ""),
                "required": row.get("required") == "on",
                "options": [o.strip() for o in (row.get("options") or "").splitlines() if o.strip()],
                "checkbox_text": row.get("checkbox_text", ""),
                "help": row.get("help", ""),
            }
        )
    return out


def _key_from(label: str) -> str:
    key = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")
    if key and not key[0].isalpha():
        key = "f_" + key
    return key[:40]


def posted_answers(definitions: list[dict[str, Any]], form: MultiDict[str, str]) -> dict[str, Any]:
    """The answers to the provider's extra fields (inputs named ``x_<key>``); a ticked checkbox is True."""
    answers: dict[str, Any] = {}
    for field in definitions:
        name = f"x_{field['key']}"
        if field["kind"] == FieldKind.CHECKBOX.value:
            if form.get(name) == "on":
                answers[field["key"]] = True
        elif form.get(name, "") != "":
            answers[field["key"]] = form.get(name)
    return answers


def posted_expiries(form: MultiDict[str, str], request_ids: list[int]) -> dict[int, date | None]:
    """Each chosen request's own expiry date (input ``expires_<id>``), None when left empty; a bad date raises."""
    out: dict[int, date | None] = {}
    for request_id in request_ids:
        raw = (form.get(f"expires_{request_id}") or "").strip()
        out[request_id] = date.fromisoformat(raw) if raw else None
    return out
