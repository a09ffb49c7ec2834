"""Commercial terms as form fields: one input per term the licensing engine knows, never raw JSON.

The form shows a license's *effective* terms (its template's terms with any changes applied), one input per term
of :data:`licensing.terms.FIELD_NAMES`: booleans as checkboxes, enums as selects, counts as numbers, the permitted
uses as a checkbox group, the territory as a list of country codes, the term as a duration in words ("1 year",
"6 months"; empty for perpetual), the liability cap as an amount. Inputs are named ``terms.<term>`` (nested terms
``terms.attribution.required``…). Promises:

* :func:`form_values` and :func:`overrides_from_form` round-trip: the changes read back from the values of a
  license's effective terms are the changes those terms were made with (only terms that differ from the
  template's are returned, nested terms as whole objects).
* A value that cannot be read raises :class:`TermInputError` naming the term in words ("Seats: write a whole
  number"); rules between terms are checked by the licensing engine, whose errors name the term paths that
  :func:`marketplace.labels.field_label` turns into words.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import licensing
from licensing.duration import Duration
from licensing.term_values import Exclusivity, ModelWeights, RawRedistribution, Use, Warranty
from licensing.terms import FIELD_LABELS, FIELD_NAMES, USE_LABELS, Terms
from marketplace.money import MoneyInputError, input_value, parse_amount

__all__ = ["ENUM_CHOICES", "TermInputError", "form_values", "overrides_from_form", "terms_of_license"]

PREFIX = "terms."
_BOOLS = ("derivatives", "sublicensing", "transferable", "share_alike", "non_commercial")
_NESTED_BOOLS = {
    "attribution": ("required",),
    "deletion_on_termination": ("required", "certification"),
    "pii": ("no_reidentification", "dpa_required"),
}

#: The selects' options: term → (value, words) in the engine's order.
ENUM_CHOICES: dict[str, list[tuple[str, str]]] = {
    "model_weights": [
        (ModelWeights.NONE.value, "Models trained on the data may not be shared"),
        (ModelWeights.RESEARCH_ONLY.value, "Models may be shared for research only"),
        (ModelWeights.SAME_TERMS.value, "Models may be shared under these same terms"),
        (ModelWeights.UNRESTRICTED.value, "Models may be shared freely"),
    ],
    "raw_redistribution": [
        (RawRedistribution.NONE.value, "The data may not be shared"),
        (RawRedistribution.AFFILIATES.value, "Only with the licensee's affiliates"),
        (RawRedistribution.SAME_LICENSE.value, "Under this same license"),
        (RawRedistribution.ANY.value, "With anyone"),
    ],
    "exclusivity": [
        (Exclusivity.NONE.value, "Not exclusive"),
        (Exclusivity.FIELD.value, "Exclusive in a field of use"),
        (Exclusivity.TERRITORY.value, "Exclusive in the territory"),
        (Exclusivity.FULL.value, "Fully exclusive"),
    ],
    "warranty": [
        (Warranty.AS_IS.value, "As is, no warranty"),
        (Warranty.RIGHTS.value, "The provider warrants its rights"),
        (Warranty.RIGHTS_AND_QUALITY.value, "Rights and quality warranted"),
    ],
}
USE_CHOICES: list[tuple[str, str]] = [(use.value, USE_LABELS.get(use, use.value)) for use in Use]
_UNITS = {"year": "years", "month": "months", "week": "weeks", "day": "days"}
_DURATION_PART = re.compile(r"(\d+)\s*(year|month|week|day)s?", re.IGNORECASE)


@dataclass
class TermInputError(ValueError):
    """A term's input cannot be read; ``field`` is its input name, ``reason`` what is wrong."""

    field: str
    reason: str

    def __str__(self) -> str:
        return f"{label(self.field)}: {self.reason}"


def label(field: str) -> str:
    """The words for an input named ``terms.<term>[.<part>]``."""
    from marketplace.labels import field_label

    return field_label(field.removeprefix(PREFIX))


def terms_of_license(license_id: str) -> Terms | None:
    """The template terms of ``license_id``, or None for an unknown license."""
    try:
        return licensing.get_template(license_id).terms
    except licensing.LicensingError:
        return None


def form_values(terms: Terms) -> dict[str, Any]:
    """``terms`` as the form's input values (strings; the uses as a list)."""
    data = terms.to_dict()
    values: dict[str, Any] = {f"{PREFIX}permitted_uses": list(data["permitted_uses"])}
    for name in _BOOLS:
        values[PREFIX + name] = "1" if data[name] else ""
    for name in ENUM_CHOICES:
        values[PREFIX + name] = data[name]
    for name, parts in _NESTED_BOOLS.items():
        for part in parts:
            values[f"{PREFIX}{name}.{part}"] = "1" if data[name][part] else ""
    territory = data["territory"]
    values[f"{PREFIX}territory"] = "" if territory == "worldwide" else ", ".join(territory)
    values[f"{PREFIX}term"] = "" if terms.term is None else terms.term.describe()
    for name in ("seats", "download_limit"):
        values[PREFIX + name] = "" if data[name] is None else str(data[name])
    values[f"{PREFIX}attribution.text"] = data["attribution"]["text"] or ""
    days = data["deletion_on_termination"]["days"]
    values[f"{PREFIX}deletion_on_termination.days"] = "" if days is None else str(days)
    cap = terms.liability_cap
    values[f"{PREFIX}liability_cap"] = "" if cap is None else input_value(cap.amount, cap.currency)
    values[f"{PREFIX}liability_cap_currency"] = "" if cap is None else cap.currency
    values[f"{PREFIX}governing_law"] = data["governing_law"] or ""
    return values


def _count(text: str, field: str, minimum: int) -> int | None:
    text = text.replace(",", "").strip()
    if not text:
        return None
    if not text.isdigit() or int(text) < minimum:
        raise TermInputError(field, f"write a whole number from {minimum}, or leave it empty for no limit")
    return int(text)


def _duration(text: str, field: str) -> str:
    text = text.strip()
    if not text or text.lower() == "perpetual":
        return "perpetual"
    if text.upper().startswith("P"):
        try:
            return Duration.parse(text.upper()).iso()
        except licensing.LicensingError as error:
            raise TermInputError(field, error.message) from error
    parts = _DURATION_PART.findall(text)
    rest = _DURATION_PART.sub("", text).replace(",", " ").replace(" and ", " ").strip()
    if not parts or rest:
        raise TermInputError(field, "write it like “1 year”, “6 months” or “1 year and 6 months”; empty for perpetual")
    amounts: dict[str, int] = {}
    for number, unit in parts:
        key = _UNITS[unit.lower()]
        amounts[key] = amounts.get(key, 0) + int(number)
    try:
        return Duration(**amounts).iso()
    except licensing.LicensingError as error:
        raise TermInputError(field, error.message) from error


def _posted_terms(form: Mapping[str, Any], getlist: Callable[[str], list[str]]) -> dict[str, Any]:
    def text(name: str) -> str:
        return str(form.get(PREFIX + name) or "")

    def checked(name: str) -> bool:
        return text(name).strip().lower() in {"1", "on", "true", "yes"}

    data: dict[str, Any] = {"permitted_uses": sorted(set(getlist(f"{PREFIX}permitted_uses")))}
    for name in _BOOLS:
        data[name] = checked(name)
    for name, options in ENUM_CHOICES.items():
        value = text(name)
        if value not in {v for v, _ in options}:
            raise TermInputError(PREFIX + name, "choose one of the options")
        data[name] = value
    codes = [c.strip().upper() for c in text("territory").split(",") if c.strip()]
    data["territory"] = sorted(set(codes)) if codes and codes != ["WORLDWIDE"] else "worldwide"
    data["term"] = _duration(text("term"), f"{PREFIX}term")
    data["seats"] = _count(text("seats"), f"{PREFIX}seats", 1)
    data["download_limit"] = _count(text("download_limit"), f"{PREFIX}download_limit", 0)
    required = checked("attribution.required")
    data["attribution"] = {"required": required, "text": text("attribution.text").strip() or None}
    deletion = checked("deletion_on_termination.required")
    data["deletion_on_termination"] = {
        "required": deletion,
        "days": _count(text("deletion_on_termination.days"), f"{PREFIX}deletion_on_termination.days", 0),
        "certification": checked("deletion_on_termination.certification"),
    }
    data["pii"] = {part: checked(f"pii.{part}") for part in _NESTED_BOOLS["pii"]}
    data["warranty"] = data.pop("warranty")
    data["liability_cap"] = _cap(text("liability_cap"), text("liability_cap_currency"))
    data["governing_law"] = text("governing_law").strip().upper() or None
    return data


def _cap(amount: str, currency: str) -> dict[str, Any] | None:
    if not amount.strip():
        return None
    try:
        code = currency.strip().upper() or "EUR"
        return {"amount": parse_amount(amount, code, FIELD_LABELS["liability_cap"]), "currency": code}
    except MoneyInputError as error:
        raise TermInputError(f"{PREFIX}liability_cap", error.reason) from error


def overrides_from_form(
    form: Mapping[str, Any], getlist: Callable[[str], list[str]], template_terms: Terms
) -> dict[str, Any]:
    """The changes to ``template_terms`` that the posted ``terms.*`` inputs make (only terms that differ).

    ``getlist`` reads every value of a multi-valued input (the uses' checkboxes). Raises :class:`TermInputError`
    for an input that cannot be read. The result is checked by the engine when the offer or quote is made.
    """
    posted = _posted_terms(form, getlist)
    base = template_terms.to_dict()
    return {name: posted[name] for name in FIELD_NAMES if posted[name] != base[name]}


def has_term_inputs(form: Mapping[str, Any]) -> bool:
    """Whether a posted form carries the structured terms inputs (every terms form posts the warranty select)."""
    return f"{PREFIX}warranty" in form


def render_values(
    form: Mapping[str, Any], license_id: str, overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """What the term inputs show for ``license_id``: what was posted for that license, else its terms with
    ``overrides`` applied. Returns the template context ``terms_of`` and ``term_values``."""
    if has_term_inputs(form) and form.get("terms_of") == license_id:
        return {"terms_of": license_id, "term_values": {k: v for k, v in form.items() if k.startswith(PREFIX)}}
    terms = terms_of_license(license_id)
    if terms is None:
        return {"terms_of": license_id, "term_values": {}}
    try:
        shown = terms.with_overrides(dict(overrides or {}))
    except licensing.LicensingError:
        shown = terms
    return {"terms_of": license_id, "term_values": form_values(shown)}


def register_template_helpers(app: Any) -> None:
    """``terms_for(form, license_id, overrides)`` (see :func:`render_values`) and the inputs' choices, for the
    ``terms_fields`` macro of ``licenses/_terms_fields.html``."""
    app.add_template_global(render_values, "terms_for")
    app.add_template_global(ENUM_CHOICES, "term_choices")
    app.add_template_global(USE_CHOICES, "use_choices")
