"""The access request form: fixed fields and the provider's extra fields, each validated; errors name the field by
the label the person saw."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import iso3166

import licensing
from marketplace.access.states import FieldKind
from marketplace.errors import FieldProblem, ValidationFailed

_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_FIELDS = 20
MAX_TEXT = 200
MAX_LONG_TEXT = 4000


def _problem(problems: list[FieldProblem], label: str, message: str) -> None:
    problems.append(FieldProblem(label, message))


def _raise(problems: list[FieldProblem]) -> None:
    if problems:
        summary = "; ".join(f"{p.field}: {p.message}" for p in problems[:5])
        raise ValidationFailed(message=summary, details=problems)


def clean_field_definitions(fields: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Validate a provider's extra fields: ``key`` (a-z, 0-9, _), ``label``, ``kind`` (text, long_text, select,
    country, date, checkbox), ``required``, ``options`` (select), ``checkbox_text`` (checkbox), ``help``."""
    problems: list[FieldProblem] = []
    if len(fields) > MAX_FIELDS:
        _problem(problems, "Extra fields", f"at most {MAX_FIELDS}")
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, raw in enumerate(fields[:MAX_FIELDS]):
        where = f"Extra field {index + 1}"
        key = str(raw.get("key", ""))
        label = str(raw.get("label", "")).strip()
        if not _KEY.match(key) or key in seen:
            _problem(problems, where, "needs a unique key of lower-case letters, digits and _")
        seen.add(key)
        if not label or len(label) > 120:
            _problem(problems, where, "needs a label of at most 120 characters")
        try:
            kind = FieldKind(str(raw.get("kind")))
        except ValueError:
            _problem(problems, where, f"kind must be one of {', '.join(k.value for k in FieldKind)}")
            continue
        options = [str(o).strip() for o in raw.get("options") or [] if str(o).strip()]
        if kind is FieldKind.SELECT and not (1 <= len(options) <= 50):
            _problem(problems, where, "a select needs 1 to 50 options")
        checkbox_text = str(raw.get("checkbox_text", "")).strip()
        if kind is FieldKind.CHECKBOX and not checkbox_text:
            _problem(problems, where, "a checkbox needs its own text")
        out.append(
            {
                "key": key,
                "label": label,
                "kind": kind.value,
                "required": bool(raw.get("required", False)),
                "options": options if kind is FieldKind.SELECT else [],
                "checkbox_text": checkbox_text[:1000] if kind is FieldKind.CHECKBOX else "",
                "help": str(raw.get("help", "")).strip()[:300],
            }
        )
    _raise(problems)
    return out


def _country(value: Any) -> str | None:
    code = str(value or "").strip().upper()
    return code if len(code) == 2 and code in iso3166.countries_by_alpha2 else None


def clean_answers(definitions: list[dict[str, Any]], answers: dict[str, Any]) -> dict[str, Any]:
    """Validate the answers to the extra fields ``definitions``; unknown keys are refused, errors name the label."""
    problems: list[FieldProblem] = []
    known = {d["key"] for d in definitions}
    for extra in sorted(set(answers) - known):
        _problem(problems, extra, "is not a field of this form")
    out: dict[str, Any] = {}
    for field in definitions:
        label, kind, value = field["label"], FieldKind(field["kind"]), answers.get(field["key"])
        empty = value is None or value == "" or value is False
        if empty:
            if field["required"]:
                message = "must be ticked" if kind is FieldKind.CHECKBOX else "is required"
                _problem(problems, label, message)
            continue
        if kind in (FieldKind.TEXT, FieldKind.LONG_TEXT):
            limit = MAX_TEXT if kind is FieldKind.TEXT else MAX_LONG_TEXT
            text = str(value).strip()
            if len(text) > limit:
                _problem(problems, label, f"must be at most {limit} characters")
            out[field["key"]] = text
        elif kind is FieldKind.SELECT:
            if value not in field["options"]:
                _problem(problems, label, "choose one of the options")
            out[field["key"]] = value
        elif kind is FieldKind.COUNTRY:
            code = _country(value)
            if code is None:
                _problem(problems, label, "must be an ISO 3166 country code such as DE")
            out[field["key"]] = code
        elif kind is FieldKind.DATE:
            try:
                out[field["key"]] = date.fromisoformat(str(value)).isoformat()
            except ValueError:
                _problem(problems, label, "must be a date (YYYY-MM-DD)")
        elif kind is FieldKind.CHECKBOX:
            if value is not True:
                _problem(problems, label, "must be ticked or left empty")
            out[field["key"]] = True
    _raise(problems)
    return out


def clean_fixed(
    *, full_name: str, intended_uses: list[str], intended_use_text: str, country: str
) -> tuple[str, list[str], str, str]:
    """Validate the fixed fields: the person's name, intended uses (the licensing engine's permitted uses) with a
    free-text description, and a country (ISO 3166-1 alpha-2)."""

    problems: list[FieldProblem] = []
    name = " ".join((full_name or "").split())
    if not name or len(name) > 200:
        _problem(problems, "Full name", "is required (at most 200 characters)")
    allowed = {use.value for use in licensing.Use}
    uses = list(dict.fromkeys(intended_uses or []))
    if not uses:
        _problem(problems, "Intended use", "choose at least one")
    elif any(u not in allowed for u in uses):
        _problem(problems, "Intended use", f"choose from {', '.join(sorted(allowed))}")
    text = (intended_use_text or "").strip()
    if len(text) < 10 or len(text) > MAX_LONG_TEXT:
        _problem(problems, "Describe your intended use", f"write 10 to {MAX_LONG_TEXT} characters")
    code = _country(country)
    if code is None:
        _problem(problems, "Country", "must be an ISO 3166 country code such as DE")
    _raise(problems)
    return name, uses, text, code or ""
