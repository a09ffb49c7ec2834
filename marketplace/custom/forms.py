"""The website's forms of the custom-data exchange, as marshmallow schemas that turn posted fields into the
service input (:mod:`marketplace.custom.schemas`).

People type money in major units with the currency ("12,500.00 EUR"): these schemas convert it to integer minor
units with :func:`marketplace.money.parse_amount` (no floats). Form fields carry the service's field names (dotted for
nested ones: ``quality.agreement_min``, ``milestones.2.amount``), so an error the service reports lands next to the
input it is about. Comma-separated lists (languages, regions) are split here; checkbox groups arrive as lists.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from marshmallow import ValidationError, fields, post_load, validate, validates_schema

import licensing
from marketplace.custom.schemas import MAX_MILESTONES
from marketplace.forms import FormSchema
from marketplace.licenses.schemas import posted_overrides
from marketplace.money import MoneyInputError, parse_amount

#: Form fields whose inputs are checkbox groups (read with ``getlist``).
REQUEST_CHECKBOX_FIELDS = ("tasks", "personal_data.special_categories", "personal_data.deidentification")
#: The fields of one milestone row in the quote form.
MILESTONE_FIELDS = ("title", "deliverable", "quantity", "due_date", "amount")
#: How many milestone rows a quote form offers at most (the service refuses more than this many milestones).
MAX_MILESTONE_ROWS = MAX_MILESTONES
_ROW = re.compile(r"^milestones\.(\d+)\.(\w+)$")


_Form = FormSchema  # unknown fields dropped, a blank input is "not given" (marketplace/forms.py)


def _money(text: str, currency: str, field_name: str, label: str) -> int:
    try:
        return parse_amount(text, currency, label)
    except MoneyInputError as error:
        raise ValidationError({field_name: [error.message]}) from error


def _currency_of(data: Mapping[str, Any]) -> str:
    currency = str(data.get("currency") or "").strip().upper()
    if not licensing.money.is_currency(currency):
        raise ValidationError({"currency": [f"{currency or 'nothing'!r} is not a currency code (e.g. EUR, USD)"]})
    return currency


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


_REQUIRED: dict[str, str | list[Any] | dict[Any, Any]] = {"required": "fill this in"}
_YES = {"1", "on", "true", "yes"}


class RequestFormSchema(_Form):
    """The request-for-data form: the specification, with the budget in major units of its currency."""

    title = fields.String(required=True, error_messages=_REQUIRED)
    description = fields.String(load_default="")
    modality = fields.String(required=True, error_messages={"required": "choose the kind of data"})
    tasks = fields.List(fields.String(), load_default=list)
    volume_amount = fields.String(required=True, error_messages={"required": "say how much data you need"})
    volume_unit = fields.String(required=True, error_messages=_REQUIRED)
    languages = fields.String(load_default="")
    regions = fields.String(load_default="")
    annotation_method = fields.String(data_key="quality.annotation_method", load_default=None)
    annotations_per_item = fields.Integer(
        data_key="quality.annotations_per_item", load_default=None, error_messages={"invalid": "write a whole number"}
    )
    agreement_metric = fields.String(data_key="quality.agreement_metric", load_default=None)
    agreement_min = fields.Float(
        data_key="quality.agreement_min", load_default=None, error_messages={"invalid": "write a number from 0 to 1"}
    )
    personal_data = fields.String(data_key="personal_data.personal_data", load_default="unknown")
    special_categories = fields.List(fields.String(), data_key="personal_data.special_categories", load_default=list)
    deidentification = fields.List(fields.String(), data_key="personal_data.deidentification", load_default=list)
    personal_data_notes = fields.String(data_key="personal_data.notes", load_default="")
    ai_act_documentation = fields.String(load_default="")
    license_id = fields.String(required=True, error_messages={"required": "choose the license you want"})
    budget_min = fields.String(required=True, error_messages={"required": "give the least you would pay"})
    budget_max = fields.String(required=True, error_messages={"required": "give the most you would pay"})
    currency = fields.String(load_default="EUR")
    deadline = fields.Date(required=True, error_messages={"required": "give a deadline", "invalid": "pick a date"})
    visibility = fields.String(load_default="open")
    show_buyer_name = fields.String(load_default="")

    @post_load(pass_original=True)
    def _to_service_input(self, data: dict[str, Any], original: Mapping[str, Any], **_: Any) -> dict[str, Any]:
        currency = _currency_of(data)
        volume = data["volume_amount"].replace(",", "").strip()
        if not volume.isdigit():
            raise ValidationError({"volume_amount": ["write the volume as a whole number, e.g. 200"]})
        quality = {
            "annotation_method": data["annotation_method"],
            "annotations_per_item": data["annotations_per_item"],
            "agreement_metric": data["agreement_metric"],
            "agreement_min": data["agreement_min"],
        }
        return {
            "title": data["title"].strip(),
            "description": data["description"],
            "modality": data["modality"],
            "tasks": data["tasks"],
            "volume_amount": int(volume),
            "volume_unit": data["volume_unit"],
            "languages": _split(data["languages"]),
            "regions": _split(data["regions"]),
            "quality": {k: v for k, v in quality.items() if v is not None},
            "personal_data": {
                "personal_data": data["personal_data"],
                "special_categories": data["special_categories"],
                "deidentification": data["deidentification"],
                "notes": data["personal_data_notes"],
            },
            "ai_act_documentation": data["ai_act_documentation"].lower() in _YES,
            "license_id": data["license_id"].strip(),
            "license_overrides": posted_overrides(original, data["license_id"].strip()),
            "budget_min": _money(data["budget_min"], currency, "budget_min", "the least you would pay"),
            "budget_max": _money(data["budget_max"], currency, "budget_max", "the most you would pay"),
            "currency": currency,
            "deadline": data["deadline"].isoformat(),
            "visibility": data["visibility"],
            "show_buyer_name": data["show_buyer_name"].lower() in _YES,
        }


def request_extras(form: Mapping[str, Any]) -> dict[str, Any]:
    """The parts of the new-request form that are not the specification: buyer organisation, invitations, the
    listing the request came from."""
    return {
        "organisation_slug": (str(form.get("organisation") or "").strip() or None),
        "invite": _split(str(form.get("invite") or "")),
        "source_dataset_slug": (str(form.get("source_dataset") or "").strip() or None),
    }


def milestone_rows(form: Mapping[str, Any]) -> list[dict[str, str]]:
    """The milestone rows of a posted quote form in order, blank rows left out (so row ``i`` of the result is
    ``milestones.i`` in the service's error messages)."""
    rows: dict[int, dict[str, str]] = {}
    for key, value in form.items():
        match = _ROW.match(key)
        if match and match.group(2) in MILESTONE_FIELDS and int(match.group(1)) < 1000:
            rows.setdefault(int(match.group(1)), {})[match.group(2)] = str(value)
    return [rows[i] for i in sorted(rows) if any(v.strip() for v in rows[i].values())]


def compact_quote_form(form: Mapping[str, Any]) -> dict[str, Any]:
    """The posted quote form with its milestone rows renumbered from 0 without blank ones."""
    out = {k: v for k, v in form.items() if not _ROW.match(k)}
    for index, row in enumerate(milestone_rows(form)):
        for name, value in row.items():
            out[f"milestones.{index}.{name}"] = value
    return out


class QuoteFormSchema(_Form):
    """The quote form: price and milestone amounts in major units, validity as a date (valid through that day)."""

    price_amount = fields.String(required=True, error_messages={"required": "give the price"})
    currency = fields.String(load_default="EUR")
    payment_plan = fields.String(required=True, error_messages={"required": "choose how the buyer pays"})
    license_id = fields.String(required=True, error_messages={"required": "choose the license you propose"})
    valid_until = fields.Date(
        required=True, error_messages={"required": "say until when the quote stands", "invalid": "pick a date"}
    )
    message = fields.String(load_default="")

    @validates_schema(pass_original=True)
    def _rows(self, _data: dict[str, Any], original: Mapping[str, Any], **_: Any) -> None:
        rows = milestone_rows(original)
        if not rows:
            raise ValidationError({"milestones": ["add at least one milestone"]})
        if len(rows) > MAX_MILESTONE_ROWS:
            raise ValidationError({"milestones": [f"a quote has at most {MAX_MILESTONE_ROWS} milestones"]})

    @post_load(pass_original=True)
    def _to_service_input(self, data: dict[str, Any], original: Mapping[str, Any], **_: Any) -> dict[str, Any]:
        currency = _currency_of(data)
        problems: dict[str, list[str]] = {}
        milestones = []
        for index, row in enumerate(milestone_rows(original)):
            item: dict[str, Any] = {"title": row.get("title", "").strip(), "deliverable": row.get("deliverable", "")}
            quantity = row.get("quantity", "").replace(",", "").strip()
            if not quantity.isdigit():
                problems[f"milestones.{index}.quantity"] = ["write how much is delivered as a whole number"]
            else:
                item["quantity"] = int(quantity)
            try:
                item["due_date"] = date.fromisoformat(row.get("due_date", "").strip()).isoformat()
            except ValueError:
                problems[f"milestones.{index}.due_date"] = ["pick a due date"]
            try:
                item["amount"] = parse_amount(row.get("amount", ""), currency, "the amount")
            except MoneyInputError as error:
                problems[f"milestones.{index}.amount"] = [error.message]
            milestones.append(item)
        if problems:
            raise ValidationError(problems)
        price = _money(data["price_amount"], currency, "price_amount", "the price")
        total = sum(item["amount"] for item in milestones)
        if total != price:  # said here in money, as typed; the service says it again in minor units
            raise ValidationError(
                {
                    "milestones": [
                        f"the milestone amounts add up to {licensing.Money(total, currency).format()} "
                        f"but the price is {licensing.Money(price, currency).format()}"
                    ]
                }
            )
        return {
            "price_amount": price,
            "currency": currency,
            "payment_plan": data["payment_plan"],
            "milestones": milestones,
            "license_id": data["license_id"].strip(),
            "license_overrides": posted_overrides(original, data["license_id"].strip()),
            "valid_until": f"{data['valid_until'].isoformat()}T23:59:59+00:00",
            "message": data["message"],
        }


class ReasonFormSchema(_Form):
    """A reason typed into a decline, reject, escalate or decision form."""

    reason = fields.String(load_default="", validate=validate.Length(max=2000, error="at most 2,000 characters"))


class InviteFormSchema(_Form):
    provider = fields.String(required=True, error_messages={"required": "give the provider organisation's short name"})


class MessageFormSchema(_Form):
    body = fields.String(required=True, error_messages={"required": "write a message"})


class BoardFilterSchema(_Form):
    """Filters of the requests board: modality, a language, and a budget the request's range must reach."""

    modality = fields.String(load_default=None)
    language = fields.String(load_default=None, validate=validate.Length(max=35))
    budget = fields.String(load_default=None, validate=validate.Length(max=20))
    currency = fields.String(load_default=None, validate=validate.Length(max=3))
    tab = fields.String(load_default="board", validate=validate.OneOf(["board", "mine", "for_you"]))
