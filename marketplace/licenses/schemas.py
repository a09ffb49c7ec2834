"""marshmallow schemas for offers, acquisitions and use checks."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta
from typing import Any

from marshmallow import (
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

from licensing.usecheck import Action as UseAction
from marketplace.forms import FormSchema
from marketplace.licenses.term_form import TermInputError, has_term_inputs, overrides_from_form, terms_of_license
from marketplace.money import MoneyInputError, parse_amount


def posted_overrides(original: Mapping[str, Any], license_id: str) -> dict[str, Any]:
    """The term changes the posted ``terms.*`` inputs make to ``license_id``'s terms ({} without such inputs)."""
    template_terms = terms_of_license(license_id)
    if template_terms is None or not has_term_inputs(original):
        return {}
    if original.get("terms_of") != license_id:
        raise ValidationError(
            {"license_id": ["the terms shown were another license's; check this license's terms below and send again"]}
        )

    def getlist(name: str) -> list[str]:
        value = original.get(name)
        return [str(v) for v in value] if isinstance(value, list | tuple) else ([str(value)] if value else [])

    try:
        return overrides_from_form(original, getlist, template_terms)
    except TermInputError as exc:
        raise ValidationError({exc.field: [exc.reason]}) from exc


class OfferFormSchema(FormSchema):
    """A provider's new offer. The price is typed in major units ("1,250.00") and stored as integer minor units;
    the terms come from one input per term (:mod:`marketplace.licenses.term_form`), never from JSON."""

    title = fields.String(required=True, validate=validate.Length(min=1, max=120))
    license_id = fields.String(required=True, validate=validate.Length(min=1, max=120))
    price = fields.String(load_default="0", validate=validate.Length(max=20))
    currency = fields.String(
        load_default="EUR", validate=validate.Regexp(r"^[A-Za-z]{3}$", error="use a 3-letter ISO 4217 code")
    )
    version_label = fields.String(load_default="", validate=validate.Length(max=64))
    audience_org_slug = fields.String(load_default="", validate=validate.Length(max=64))
    # The last day (UTC) a private offer may be bought; it expires at the midnight that ends that day.
    expires_on = fields.Date(load_default=None, allow_none=True, error_messages={"invalid": "give a date"})

    @validates_schema
    def _private_offer_expires(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("audience_org_slug", "").strip() and not data.get("expires_on"):
            raise ValidationError({"expires_on": ["give the last day on which the private offer can be bought"]})

    @post_load(pass_original=True)
    def _to_service_arguments(self, data: dict[str, Any], original: Mapping[str, Any], **_: Any) -> dict[str, Any]:
        currency = data["currency"].upper()
        try:
            price = parse_amount(data["price"].strip() or "0", currency, "Price")
        except MoneyInputError as exc:
            raise ValidationError({"price" if exc.label == "Price" else "currency": [exc.reason]}) from exc
        return {
            "title": data["title"],
            "license_id": data["license_id"].strip(),
            "price_amount": price,
            "currency": currency,
            "version_label": data["version_label"].strip() or None,
            "audience_org_slug": data["audience_org_slug"].strip() or None,
            "expires_at": (
                datetime.combine(data["expires_on"] + timedelta(days=1), time.min, tzinfo=UTC)
                if data["expires_on"]
                else None
            ),
            "overrides": posted_overrides(original, data["license_id"].strip()),
        }


class AcquireSchema(FormSchema):
    licensee = fields.String(required=True, validate=validate.Length(min=1, max=64))
    accept_terms = fields.String(
        required=True, validate=validate.Length(min=1, max=64), error_messages={"required": "accept the terms first"}
    )


class UseCheckSchema(FormSchema):
    action = fields.Enum(UseAction, by_value=True, required=True)
    commercial = fields.Boolean(
        load_default=False, truthy={"1", "on", "true", "yes"}, falsy={"0", "off", "false", "no", ""}
    )
    territory = fields.String(
        load_default="", validate=validate.Regexp(r"^([A-Za-z]{2})?$", error="use a 2-letter country code")
    )
    # The browser sends the empty number field as "", which FormSchema reads as not given: the user did not ask
    # about seats, so the seat limit is not checked (None). Anything else must be a whole number.
    seats_in_use = fields.Integer(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=0, max=1_000_000, error="enter a number of seats from 0 to 1,000,000"),
        error_messages={"invalid": "enter a whole number of seats, or leave it empty"},
    )

    @post_load
    def _normalise(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data["territory"] = data["territory"].upper()
        return data
