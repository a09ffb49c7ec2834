"""Schemas of custom-data contracts: paying into escrow, delivering and reviewing milestones, the timeline."""

from __future__ import annotations

from marshmallow import fields, validate

from marketplace.api.schemas.common import In, Out, nullable_dt, nullable_str

__all__ = [
    "ContractCheckoutRequestSchema",
    "ContractCheckoutSchema",
    "ContractSchema",
    "MilestoneDeliverSchema",
    "MilestoneReasonSchema",
    "NoBodySchema",
]

_URL = fields.Url(schemes={"http", "https"}, require_tld=False, load_default=None, validate=validate.Length(max=1000))
_REASON = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class NoBodySchema(In):
    """An empty JSON object (accept)."""


class ContractCheckoutRequestSchema(In):
    success_url = _URL
    cancel_url = _URL


class MilestoneDeliverSchema(In):
    version = fields.String(
        required=True,
        validate=validate.Length(min=1, max=64),
        metadata={"description": "Label of a draft version of the contract's private dataset, files all verified."},
    )


class MilestoneReasonSchema(In):
    reason = _REASON


class ContractCheckoutSchema(Out):
    contract_id = fields.Integer(required=True)
    payment_id = fields.Integer(required=True)
    milestone = fields.Integer(allow_none=True, required=True, metadata={"description": "Position, or null: all."})
    amount = fields.Integer(required=True)
    currency = fields.String(required=True)
    status = fields.String(required=True)
    checkout_url = nullable_str(required=True)


class ContractDeliverySchema(Out):
    attempt = fields.Integer(required=True)
    version = fields.String(required=True)
    manifest_digest = fields.String(required=True)
    delivered_at = fields.DateTime(required=True)
    review_deadline = fields.DateTime(required=True)
    review_license_id = nullable_str(required=True)


class ContractMilestoneSchema(Out):
    id = fields.Integer(required=True)
    position = fields.Integer(required=True)
    title = fields.String(required=True)
    deliverable = fields.String(required=True)
    due_date = fields.Date(required=True)
    amount = fields.Integer(required=True)
    currency = fields.String(required=True)
    state = fields.String(required=True)
    delivered_version = nullable_str(required=True)
    review_deadline = nullable_dt()
    redeliveries = fields.Integer(required=True)
    rejection_reason = fields.String(required=True)
    paid_out = fields.Integer(allow_none=True, required=True)
    refunded = fields.Integer(allow_none=True, required=True)
    transfer_reference = nullable_str(required=True)
    refund_reference = nullable_str(required=True)
    deliveries = fields.List(fields.Nested(ContractDeliverySchema), required=True)


class ContractPaymentSchema(Out):
    id = fields.Integer(required=True)
    milestone = fields.Integer(allow_none=True, required=True)
    amount = fields.Integer(required=True)
    currency = fields.String(required=True)
    status = fields.String(required=True)
    refunded = fields.Integer(required=True)
    paid_at = nullable_dt()


class ContractTransitionSchema(Out):
    subject = fields.String(required=True, metadata={"description": "`contract` or `milestone <position>`."})
    from_state = nullable_str(required=True)
    to_state = fields.String(required=True)
    at = fields.DateTime(required=True)
    reason = fields.String(required=True)


class ContractSchema(Out):
    id = fields.Integer(required=True)
    state = fields.String(required=True)
    buyer_organisation = fields.String(required=True)
    provider_organisation = fields.String(required=True)
    dataset = fields.String(required=True)
    price_amount = fields.Integer(required=True)
    currency = fields.String(required=True)
    payment_plan = fields.String(required=True)
    max_redeliveries = fields.Integer(required=True)
    transfer_group = nullable_str(required=True)
    amount_held = fields.Integer(required=True)
    amount_paid_out = fields.Integer(required=True)
    amount_refunded = fields.Integer(required=True)
    fees_amount = fields.Integer(required=True)
    license_id = nullable_str(required=True)
    amount_due = fields.Integer(required=True)
    milestones = fields.List(fields.Nested(ContractMilestoneSchema), required=True)
    payments = fields.List(fields.Nested(ContractPaymentSchema), required=True)
    timeline = fields.List(fields.Nested(ContractTransitionSchema), required=True)
