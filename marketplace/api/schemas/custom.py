"""Schemas of the custom-data exchange's API: requests for data, invitations, attachments, quotes and threads.

The request bodies of requests and quotes are the services' own schemas (:mod:`marketplace.custom.schemas`), so the
API, the website and the CLI refuse the same input with the same field names; the services validate again what
needs the clock or the request (dates, the deadline). Response schemas say exactly what is sent.
"""

from __future__ import annotations

from marshmallow import fields, validate

from marketplace.api.schemas.common import (
    SLUG,
    In,
    OrganisationRefSchema,
    Out,
    PageQuerySchema,
    nullable_dt,
    nullable_str,
)
from marketplace.custom import schemas as spec
from marketplace.custom.models import PaymentPlan, Visibility, VolumeUnit
from marketplace.custom.states import QuoteState, RequestState

__all__ = [
    "AcceptedQuoteSchema",
    "AttachmentSchema",
    "AttachmentUploadSchema",
    "BoardQuerySchema",
    "CustomReasonSchema",
    "CustomTransitionSchema",
    "DataRequestPageSchema",
    "DataRequestSchema",
    "InvitationSchema",
    "MessagePostSchema",
    "QuoteComparisonSchema",
    "QuoteDetailSchema",
    "QuoteListSchema",
    "QuoteVersionListSchema",
    "RequestRevisionListSchema",
    "RequestUpdateSchema",
    "ThreadListSchema",
    "ThreadMessagePageSchema",
    "ThreadOpenSchema",
    "ThreadSchema",
]

#: Files travel base64-encoded inside the JSON body, as every other API input does (the API takes JSON only).
MAX_ATTACHMENTS_PER_MESSAGE = 10


def _states(enum_cls: type) -> validate.OneOf:
    return validate.OneOf([m.value for m in enum_cls])  # type: ignore[attr-defined]


# --- input -------------------------------------------------------------------------------------------------------


class RequestUpdateSchema(spec.RequestSpecSchema):
    """The fields of the specification to change; the others keep their values. Loaded with ``partial=True``."""


class CustomReasonSchema(spec.ReasonSchema):
    """Why a request is closed, a quote withdrawn or declined (its own name in the document: access has a
    ``Reason`` too)."""


class AttachmentUploadSchema(In):
    filename = fields.String(
        required=True,
        validate=validate.Length(min=1, max=255, error="give the file a name of 1 to 255 characters"),
    )
    media_type = fields.String(load_default="application/octet-stream", validate=validate.Length(max=255))
    file = fields.String(
        required=True,
        validate=validate.Length(min=1, error="the file is empty"),
        metadata={
            "description": "The file's bytes, base64-encoded (standard alphabet, padded). At most "
            "CUSTOM_ATTACHMENT_MAX_BYTES once decoded (20 MiB by default)."
        },
    )


class ThreadOpenSchema(In):
    provider = fields.String(
        load_default=None,
        validate=SLUG,
        metadata={
            "description": "The buyer names the provider organisation to write to (invited or quoting); a provider "
            "names its own organisation only if it acts for several."
        },
    )


class MessagePostSchema(In):
    body = fields.String(
        required=True, validate=validate.Length(min=1, max=20000, error="write a message of 1 to 20,000 characters")
    )
    attachments = fields.List(
        fields.Nested(AttachmentUploadSchema),
        load_default=list,
        validate=validate.Length(
            max=MAX_ATTACHMENTS_PER_MESSAGE, error=f"attach at most {MAX_ATTACHMENTS_PER_MESSAGE} files"
        ),
    )


class BoardQuerySchema(PageQuerySchema):
    pass


# --- output ------------------------------------------------------------------------------------------------------


class CustomTransitionSchema(Out):
    from_state = nullable_str(required=True)
    to_state = fields.String(required=True)
    at = fields.DateTime(required=True)
    reason = fields.String(required=True)


class AttachmentSchema(Out):
    id = fields.Integer(required=True)
    filename = fields.String(required=True)
    media_type = fields.String(required=True)
    size_bytes = fields.Integer(required=True)
    sha256 = fields.String(required=True)
    created_at = fields.DateTime(required=True)


class InvitationSchema(Out):
    provider = fields.Nested(OrganisationRefSchema, required=True)
    created_at = fields.DateTime(required=True)


class RequestLinksSchema(Out):
    self = fields.String(required=True)
    quotes = fields.String(required=True)
    threads = fields.String(required=True)
    page = fields.String(required=True)


class DataRequestSchema(Out):
    id = fields.Integer(required=True)
    state = fields.String(required=True, validate=_states(RequestState))
    revision = fields.Integer(required=True)
    your_side = fields.String(
        required=True,
        validate=validate.OneOf(["buyer", "provider"]),
        metadata={"description": "``buyer`` for the buyer organisation's members, ``provider`` for everyone else."},
    )
    buyer = nullable_str(
        required=True, metadata={"description": "The buyer organisation's name, or null unless the buyer shows it."}
    )
    title = fields.String(required=True)
    description = fields.String(required=True)
    modality = fields.String(required=True)
    tasks = fields.List(fields.String(), required=True)
    volume_amount = fields.Integer(required=True)
    volume_unit = fields.String(required=True, validate=_states(VolumeUnit))
    languages = fields.List(fields.String(), required=True)
    regions = fields.List(fields.String(), required=True)
    quality = fields.Dict(required=True)
    personal_data = fields.Dict(required=True)
    ai_act_documentation = fields.Boolean(required=True)
    license_id = fields.String(required=True)
    license_overrides = fields.Dict(required=True)
    budget_min = fields.Integer(required=True)
    budget_max = fields.Integer(required=True)
    currency = fields.String(required=True)
    deadline = fields.Date(required=True)
    visibility = fields.String(required=True, validate=_states(Visibility))
    show_buyer_name = fields.Boolean(required=True)
    source_dataset = nullable_str(required=True)
    attachments = fields.List(fields.Nested(AttachmentSchema), required=True)
    invitations = fields.List(
        fields.Nested(InvitationSchema),
        required=True,
        metadata={"description": "The invited providers (the buyer's members only; empty for providers)."},
    )
    timeline = fields.List(fields.Nested(CustomTransitionSchema), required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    published_at = nullable_dt()
    links = fields.Nested(RequestLinksSchema, required=True)


class DataRequestPageSchema(Out):
    data = fields.List(fields.Nested(DataRequestSchema), required=True)
    next_cursor = nullable_str(required=True)


class RequestRevisionSchema(Out):
    number = fields.Integer(required=True)
    spec = fields.Dict(required=True, metadata={"description": "The specification as it was in that version."})
    created_at = fields.DateTime(required=True)


class RequestRevisionListSchema(Out):
    data = fields.List(fields.Nested(RequestRevisionSchema), required=True)


class QuotedMilestoneSchema(Out):
    position = fields.Integer(required=True)
    title = fields.String(required=True)
    deliverable = fields.String(required=True)
    quantity = fields.Integer(required=True)
    due_date = fields.Date(required=True)
    amount = fields.Integer(required=True)


class QuoteVersionSchema(Out):
    number = fields.Integer(required=True)
    price_amount = fields.Integer(required=True)
    currency = fields.String(required=True)
    payment_plan = fields.String(required=True, validate=_states(PaymentPlan))
    license_id = fields.String(required=True)
    license_overrides = fields.Dict(required=True)
    terms_hash = fields.String(required=True)
    terms = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        required=True,
        metadata={"description": "The licensing engine's plain-language line of each term, by term name."},
    )
    valid_until = fields.DateTime(required=True)
    message = fields.String(required=True)
    milestones = fields.List(fields.Nested(QuotedMilestoneSchema), required=True)
    created_at = fields.DateTime(required=True)


class QuoteDetailSchema(Out):
    id = fields.Integer(required=True)
    request_id = fields.Integer(required=True)
    provider = fields.Nested(OrganisationRefSchema, required=True)
    state = fields.String(required=True, validate=_states(QuoteState))
    revision = fields.Integer(required=True)
    price_amount = fields.Integer(required=True)
    currency = fields.String(required=True)
    valid_until = fields.DateTime(required=True)
    decline_reason = fields.String(required=True)
    current = fields.Nested(QuoteVersionSchema, required=True)
    timeline = fields.List(fields.Nested(CustomTransitionSchema), required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class QuoteListSchema(Out):
    data = fields.List(fields.Nested(QuoteDetailSchema), required=True)


class QuoteVersionListSchema(Out):
    data = fields.List(fields.Nested(QuoteVersionSchema), required=True)


class ComparedQuoteSchema(Out):
    quote_id = fields.Integer(required=True)
    provider = fields.Nested(OrganisationRefSchema, required=True)
    state = fields.String(required=True, validate=_states(QuoteState))
    revision = fields.Integer(required=True)
    price_amount = fields.Integer(required=True)
    currency = fields.String(required=True)
    payment_plan = fields.String(required=True, validate=_states(PaymentPlan))
    milestone_count = fields.Integer(required=True)
    last_due_date = fields.Date(required=True)
    valid_until = fields.DateTime(required=True)
    terms = fields.Dict(keys=fields.String(), values=fields.String(), required=True)


class QuoteComparisonSchema(Out):
    quotes = fields.List(fields.Nested(ComparedQuoteSchema), required=True)
    differing_terms = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "Names of the terms whose plain-language lines differ between the quotes."},
    )


class AcceptedQuoteSchema(Out):
    contract_id = fields.Integer(required=True)
    contract_url = fields.String(required=True)
    quote = fields.Nested(QuoteDetailSchema, required=True)


class ThreadSchema(Out):
    id = fields.Integer(required=True)
    request_id = fields.Integer(required=True)
    provider = fields.Nested(OrganisationRefSchema, required=True)
    created_at = fields.DateTime(required=True)
    messages_url = fields.String(required=True)


class ThreadListSchema(Out):
    data = fields.List(fields.Nested(ThreadSchema), required=True)


class ThreadMessageSchema(Out):
    id = fields.Integer(required=True)
    thread_id = fields.Integer(required=True)
    side = fields.String(required=True, validate=validate.OneOf(["buyer", "provider"]))
    mine = fields.Boolean(required=True, metadata={"description": "Written by the calling user."})
    body = fields.String(required=True)
    attachments = fields.List(fields.Nested(AttachmentSchema), required=True)
    created_at = fields.DateTime(required=True)


class ThreadMessagePageSchema(Out):
    data = fields.List(fields.Nested(ThreadMessageSchema), required=True)
    next_cursor = nullable_str(required=True)
