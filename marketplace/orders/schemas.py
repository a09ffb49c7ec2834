"""marshmallow schemas for cart, checkout, refunds and payouts."""

from __future__ import annotations

from marshmallow import fields, validate

from marketplace.forms import FormSchema


class AddToCartSchema(FormSchema):
    offer_id = fields.Integer(required=True, validate=validate.Range(min=1))
    licensee = fields.String(required=True, validate=validate.Length(min=1, max=64))


class CheckoutSchema(FormSchema):
    licensee = fields.String(required=True, validate=validate.Length(min=1, max=64))
    currency = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z]{3}$", error="use a 3-letter code"))


class RefundSchema(FormSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class SandboxOutcomeSchema(FormSchema):
    outcome = fields.String(required=True, validate=validate.OneOf(["paid", "failed", "cancelled"]))


class OnboardingSchema(FormSchema):
    country = fields.String(load_default="DE", validate=validate.Regexp(r"^[A-Z]{2}$", error="use a 2-letter code"))
