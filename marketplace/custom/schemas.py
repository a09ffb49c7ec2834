"""Input schemas of the custom-data exchange, shared by the services (which validate every input with them, so the
website, the API and the CLI get the same field errors) and by the API's OpenAPI document.

Field errors are written for people: "must not be above the maximum budget", "the milestone amounts add up to
12,000 but the price is 15,000". Rules that need the clock or the request (dates, the deadline) are checked by
the services, which report them the same way.
"""

from __future__ import annotations

from typing import Any, cast

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema
from marshmallow import ValidationError as MarshmallowError

from licensing.money import is_currency
from marketplace.catalog import vocab
from marketplace.catalog.schemas import Coded, UniqueList
from marketplace.custom.models import PaymentPlan, Visibility, VolumeUnit
from marketplace.errors import ValidationFailed
from marketplace.forms import field_problems

#: The largest amount of money (minor units) and volume anyone may write: anything above is a typo.
MAX_MONEY = 10**12
MAX_VOLUME = 10**13
MAX_MILESTONES = 20


def _currency(value: str) -> str:
    code = value.strip().upper()
    if not is_currency(code):
        raise ValueError(f"{value!r} is not an ISO 4217 currency code (e.g. EUR, USD, JPY)")
    return code


def _choice(enum_cls: Any, **kwargs: Any) -> fields.String:
    values = [m.value for m in enum_cls]
    return fields.String(validate=validate.OneOf(values, error="must be one of: " + ", ".join(values)), **kwargs)


def _money(name: str, **kwargs: Any) -> fields.Integer:
    return fields.Integer(
        strict=True,
        validate=validate.Range(
            min=0, max=MAX_MONEY, error=f"{name} must be between 0 and {MAX_MONEY:,} (minor units)"
        ),
        **kwargs,
    )


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class QualityBarSchema(_Strict):
    """The quality a buyer asks for: how items are annotated and how much annotators must agree."""

    annotation_method = _choice(vocab.AnnotationMethod, load_default=None, allow_none=True)
    annotations_per_item = fields.Integer(
        load_default=None, allow_none=True, validate=validate.Range(min=1, max=100, error="must be from 1 to 100")
    )
    agreement_metric = _choice(vocab.AgreementMetric, load_default=None, allow_none=True)
    agreement_min = fields.Float(
        load_default=None, allow_none=True, validate=validate.Range(min=0, max=1, error="must be from 0 to 1")
    )

    @validates_schema
    def _metric_with_minimum(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("agreement_min") is not None and not data.get("agreement_metric"):
            raise ValidationError("name the agreement metric the minimum is measured with", "agreement_metric")


class PersonalDataNeedsSchema(_Strict):
    """Whether the data may hold personal data, and how it must be de-identified."""

    personal_data = _choice(vocab.PersonalData, load_default="unknown")
    special_categories = UniqueList(_choice(vocab.SpecialCategory), max_items=20)
    deidentification = UniqueList(_choice(vocab.Deidentification), max_items=10)
    notes = fields.String(load_default="", validate=validate.Length(max=4000))


class RequestSpecSchema(_Strict):
    """The structured specification of a request for custom data."""

    title = fields.String(required=True, validate=validate.Length(min=3, max=200, error="must be 3 to 200 characters"))
    description = fields.String(load_default="", validate=validate.Length(max=20000))
    modality = _choice(vocab.Modality, required=True)
    tasks = UniqueList(_choice(vocab.Task), max_items=20)
    volume_amount = fields.Integer(
        strict=True,
        required=True,
        validate=validate.Range(
            min=1, max=MAX_VOLUME, error=f"the volume must be a whole number from 1 to {MAX_VOLUME:,}"
        ),
    )
    volume_unit = _choice(VolumeUnit, required=True)
    languages = UniqueList(Coded(vocab.language_tag), max_items=50)
    regions = UniqueList(Coded(vocab.country_code), max_items=250)
    quality = fields.Nested(QualityBarSchema, load_default=dict)
    personal_data = fields.Nested(PersonalDataNeedsSchema, load_default=dict)
    ai_act_documentation = fields.Boolean(load_default=False)
    license_id = fields.String(required=True, validate=validate.Length(min=1, max=120))
    license_overrides = fields.Dict(keys=fields.String(), load_default=dict)
    budget_min = _money("the minimum budget", required=True)
    budget_max = _money("the maximum budget", required=True)
    currency = Coded(_currency, required=True)
    deadline = fields.Date(required=True)
    visibility = _choice(Visibility, load_default=Visibility.OPEN.value)
    show_buyer_name = fields.Boolean(load_default=False)

    @validates_schema
    def _budget_range(self, data: dict[str, Any], **_kwargs: Any) -> None:
        low, high = data.get("budget_min"), data.get("budget_max")
        if isinstance(low, int) and isinstance(high, int) and low > high:
            raise ValidationError("the minimum budget must not be above the maximum budget", "budget_min")


class RequestCreateSchema(RequestSpecSchema):
    """A new request: its specification, the buyer organisation posting it, and whether to publish it now."""

    organisation = fields.String(load_default=None, validate=validate.Length(max=64))
    publish = fields.Boolean(load_default=True)
    invite = UniqueList(fields.String(validate=validate.Length(max=64)), max_items=50)
    source_dataset = fields.String(load_default=None, validate=validate.Length(max=80))


class MilestoneSchema(_Strict):
    """One milestone of a quote: what is delivered, how much, by when, and what it costs."""

    title = fields.String(required=True, validate=validate.Length(min=1, max=200, error="must be 1 to 200 characters"))
    deliverable = fields.String(load_default="", validate=validate.Length(max=4000))
    quantity = fields.Integer(
        strict=True,
        required=True,
        validate=validate.Range(
            min=1, max=MAX_VOLUME, error=f"the quantity must be a whole number from 1 to {MAX_VOLUME:,}"
        ),
    )
    due_date = fields.Date(required=True)
    amount = fields.Integer(
        strict=True,
        required=True,
        validate=validate.Range(
            min=1, max=MAX_MONEY, error=f"the amount must be from 1 to {MAX_MONEY:,} (minor units)"
        ),
    )


class QuoteSchema(_Strict):
    """A quote's terms (also a revision's: a revision states the whole quote again)."""

    price_amount = fields.Integer(
        strict=True,
        required=True,
        validate=validate.Range(min=1, max=MAX_MONEY, error=f"the price must be from 1 to {MAX_MONEY:,} (minor units)"),
    )
    currency = Coded(_currency, required=True)
    payment_plan = _choice(PaymentPlan, required=True)
    milestones = fields.List(
        fields.Nested(MilestoneSchema),
        required=True,
        validate=validate.Length(min=1, max=MAX_MILESTONES, error=f"a quote has from 1 to {MAX_MILESTONES} milestones"),
    )
    license_id = fields.String(required=True, validate=validate.Length(min=1, max=120))
    license_overrides = fields.Dict(keys=fields.String(), load_default=dict)
    valid_until = fields.AwareDateTime(required=True, default_timezone=None)
    message = fields.String(load_default="", validate=validate.Length(max=20000))

    @validates_schema
    def _amounts_add_up(self, data: dict[str, Any], **_kwargs: Any) -> None:
        milestones, price = data.get("milestones"), data.get("price_amount")
        if not isinstance(milestones, list) or not isinstance(price, int):
            return
        total = sum(m.get("amount", 0) for m in milestones)
        if total != price:
            raise ValidationError(f"the milestone amounts add up to {total:,} but the price is {price:,}", "milestones")


class QuoteSubmitSchema(QuoteSchema):
    """A new quote and the provider organisation submitting it."""

    organisation = fields.String(load_default=None, validate=validate.Length(max=64))


class ReasonSchema(_Strict):
    reason = fields.String(load_default="", validate=validate.Length(max=2000))


class InviteSchema(_Strict):
    provider = fields.String(required=True, validate=validate.Length(min=1, max=64))


class MessageSchema(_Strict):
    body = fields.String(
        required=True, validate=validate.Length(min=1, max=20000, error="write a message of 1 to 20,000 characters")
    )


def load(schema: Schema, data: Any) -> dict[str, Any]:
    """Load ``data`` with ``schema``; :class:`ValidationFailed` names every bad field (dotted path)."""
    try:
        return cast(dict[str, Any], schema.load(data))
    except MarshmallowError as error:
        problems = field_problems(error, schema)
        summary = "; ".join(f"{p.field}: {p.message}" for p in problems[:5])
        raise ValidationFailed(message=f"Please correct: {summary}", details=problems) from error
