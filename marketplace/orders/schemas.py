"""marshmallow schemas for cart, checkout, refunds and payouts."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate


class _Form(Schema):
    class Meta:
        unknown = EXCLUDE


class AddToCartSchema(_Form):
    offer_id = fields.Integer(required=True, validate=validate.Range(min=1))
    licensee = fields.String(required=True, validate=validate.Length(min=1, max=64))


class CheckoutSchema(_Form):
    licensee = fields.String(required=True, validate=validate.Length(min=1, max=64))
    currency = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z]{3}$", error="use a 3-letter code"))


class RefundSchema(_Form):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class SandboxOutcomeSchema(_Form):
    outcome = fields.String(required=True, validate=validate.OneOf(["paid", "failed", "cancelled"]))


class OnboardingSchema(_Form):
    country = fields.String(load_default="DE", validate=validate.Regexp(r"^[A-Z]{2}$", error="use a 2-letter code"))
