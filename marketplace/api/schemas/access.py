"""Schemas of governed access: a dataset's access form and policy, access requests and signatures, decisions in
batches, approvals and their seats, data-use agreements, and training credentials."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from marketplace.access.credentials import MEDIA_TYPES
from marketplace.access.requests import MAX_BATCH
from marketplace.access.states import (
    AccessMode,
    ApprovalState,
    CredentialState,
    FieldKind,
    HolderKind,
    RequestState,
    ResignPolicy,
)
from marketplace.api.schemas.common import (
    SLUG,
    In,
    OrganisationRefSchema,
    Out,
    PageQuerySchema,
    nullable_dt,
    nullable_str,
)

__all__ = [
    "AccessEventSchema",
    "AccessFormSchema",
    "AccessPolicyUpdateSchema",
    "AccessRequestCreateSchema",
    "AccessRequestPageSchema",
    "AccessRequestSchema",
    "AgreementCreateSchema",
    "AgreementListSchema",
    "AgreementSchema",
    "AgreementVersionCreateSchema",
    "AgreementVersionSchema",
    "ApprovalBatchSchema",
    "ApprovalPageSchema",
    "ApprovalQuerySchema",
    "ApprovalSchema",
    "CredentialDecisionSchema",
    "CredentialUploadSchema",
    "GrantAccessSchema",
    "OrganisationQuerySchema",
    "QueueQuerySchema",
    "ReasonSchema",
    "RejectionBatchSchema",
    "ReportQuerySchema",
    "SeatCreateSchema",
    "SeatSchema",
    "SignatureCreateSchema",
    "SignatureSchema",
    "TrainingCredentialListSchema",
    "TrainingCredentialSchema",
]

_ID = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=2**31 - 1))
_REASON = fields.String(load_default="", validate=validate.Length(max=1000))
_ORG = fields.String(
    load_default=None,
    validate=SLUG,
    metadata={"description": "Provider organisation's slug; defaults to the organisation of the credential."},
)


def _values(enum_cls: Any) -> list[str]:
    return [member.value for member in enum_cls]


# --- the form a requester fills in ---------------------------------------------------------------------------------


class FormFieldSchema(Out):
    key = fields.String(required=True)
    label = fields.String(required=True)
    kind = fields.String(required=True, metadata={"enum": _values(FieldKind)})
    required = fields.Boolean(required=True)
    options = fields.List(fields.String(), required=True)
    checkbox_text = fields.String(required=True)
    help = fields.String(required=True)


class FormFieldInSchema(In):
    key = fields.String(required=True, validate=validate.Length(max=40))
    label = fields.String(required=True, validate=validate.Length(max=120))
    kind = fields.String(required=True, validate=validate.OneOf(_values(FieldKind)))
    required = fields.Boolean(load_default=False)
    options = fields.List(fields.String(validate=validate.Length(max=200)), load_default=list)
    checkbox_text = fields.String(load_default="", validate=validate.Length(max=1000))
    help = fields.String(load_default="", validate=validate.Length(max=300))


class AgreementTextSchema(Out):
    agreement_id = fields.Integer(required=True)
    title = fields.String(required=True)
    version_id = fields.Integer(required=True)
    version = fields.Integer(required=True)
    sha256 = fields.String(required=True, metadata={"description": "SHA-256 of `body`'s UTF-8 bytes: send it to sign."})
    term_days = fields.Integer(allow_none=True, required=True)
    resign_policy = fields.String(required=True, metadata={"enum": _values(ResignPolicy)})
    body = fields.String(required=True, metadata={"description": "The agreement's text (Markdown)."})


class AccessFormSchema(Out):
    dataset = fields.String(required=True)
    mode = fields.String(required=True, metadata={"enum": _values(AccessMode)})
    holder = fields.String(required=True, metadata={"enum": _values(HolderKind)})
    samples_public = fields.Boolean(required=True)
    default_expiry_days = fields.Integer(allow_none=True, required=True)
    intended_uses = fields.List(
        fields.String(), required=True, metadata={"description": "The uses a request may name (`intended_uses`)."}
    )
    form_fields = fields.List(fields.Nested(FormFieldSchema), required=True)
    agreement = fields.Nested(AgreementTextSchema, allow_none=True, required=True)
    credential_required = fields.Boolean(required=True)


class AccessPolicyUpdateSchema(In):
    mode = fields.String(validate=validate.OneOf(_values(AccessMode)))
    holder = fields.String(validate=validate.OneOf(_values(HolderKind)))
    samples_public = fields.Boolean()
    default_expiry_days = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=1, max=36500))
    agreement_id = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=1, max=2**31 - 1))
    form_fields = fields.List(fields.Nested(FormFieldInSchema), validate=validate.Length(max=20))


# --- requests --------------------------------------------------------------------------------------------------------


class AccessRequestCreateSchema(In):
    organisation = fields.String(
        load_default=None,
        validate=SLUG,
        metadata={"description": "Buyer organisation you act for; defaults to the organisation of the credential."},
    )
    full_name = fields.String(required=True, validate=validate.Length(max=200))
    intended_uses = fields.List(fields.String(validate=validate.Length(max=64)), required=True)
    intended_use_text = fields.String(required=True, validate=validate.Length(max=4000))
    country = fields.String(required=True, validate=validate.Length(max=8))
    answers = fields.Dict(keys=fields.String(validate=validate.Length(max=40)), load_default=dict)


class SignatureCreateSchema(In):
    full_name = fields.String(required=True, validate=validate.Length(max=200))
    sha256 = fields.String(
        required=True,
        validate=validate.Regexp(r"^[0-9a-f]{64}$", error="the agreement text's SHA-256, 64 hex digits"),
        metadata={"description": "The SHA-256 of the agreement text you read (the request's `agreement.sha256`)."},
    )


class SignatureSchema(Out):
    id = fields.Integer(required=True)
    agreement_id = fields.Integer(required=True)
    version = fields.Integer(required=True)
    full_name = fields.String(required=True)
    signed_at = fields.DateTime(required=True)
    ip_address = fields.String(required=True)
    user_agent = fields.String(required=True)
    sha256 = fields.String(required=True)


class AccessEventSchema(Out):
    at = fields.DateTime(required=True)
    action = fields.String(required=True)
    from_state = nullable_str(required=True)
    to_state = nullable_str(required=True)
    reason = fields.String(required=True)
    by = nullable_str(required=True, metadata={"description": "Who decided (e-mail); null for the platform."})


class AccessRequestSchema(Out):
    id = fields.Integer(required=True)
    dataset = nullable_str(required=True)
    provider = fields.Nested(OrganisationRefSchema, required=True)
    organisation = fields.Nested(OrganisationRefSchema, required=True)
    requester = fields.String(required=True, metadata={"description": "The requester's e-mail address."})
    state = fields.String(required=True, metadata={"enum": _values(RequestState)})
    full_name = fields.String(required=True)
    intended_uses = fields.List(fields.String(), required=True)
    intended_use_text = fields.String(required=True)
    country = fields.String(required=True)
    answers = fields.Dict(required=True)
    agreement = fields.Nested(AgreementTextSchema, allow_none=True, required=True)
    signature = fields.Nested(SignatureSchema, allow_none=True, required=True)
    reason = fields.String(required=True, metadata={"description": "The reviewer's reason, seen by the requester."})
    submitted_at = fields.DateTime(required=True)
    decided_at = nullable_dt()
    approval_id = fields.Integer(allow_none=True, required=True)
    history = fields.List(fields.Nested(AccessEventSchema), required=True)
    links = fields.Dict(keys=fields.String(), values=fields.String(), required=True)


class AccessRequestPageSchema(Out):
    data = fields.List(fields.Nested(AccessRequestSchema), required=True)
    next_cursor = nullable_str(required=True)


class QueueQuerySchema(PageQuerySchema):
    organisation = fields.String(load_default=None, validate=SLUG)
    state = fields.String(
        load_default=RequestState.SUBMITTED.value, validate=validate.OneOf([*_values(RequestState), "any"])
    )
    dataset = fields.String(load_default=None, validate=SLUG)
    submitted_from = fields.Date(load_default=None)
    submitted_to = fields.Date(load_default=None)


class RejectionItemSchema(In):
    id = _ID
    reason = fields.String(
        load_default=None, validate=validate.Length(max=1000), metadata={"description": "Overrides the batch's."}
    )


class ApprovalItemSchema(RejectionItemSchema):
    expires_at = fields.AwareDateTime(
        load_default=None, metadata={"description": "Overrides the batch's expiry for this request."}
    )


class ApprovalBatchSchema(In):
    requests = fields.List(
        fields.Nested(ApprovalItemSchema), required=True, validate=validate.Length(min=1, max=MAX_BATCH)
    )
    reason = _REASON
    expires_at = fields.AwareDateTime(
        load_default=None, metadata={"description": "When access ends; default: the dataset's default expiry."}
    )


class RejectionBatchSchema(In):
    requests = fields.List(
        fields.Nested(RejectionItemSchema), required=True, validate=validate.Length(min=1, max=MAX_BATCH)
    )
    reason = fields.String(
        load_default="", validate=validate.Length(max=200), metadata={"description": "What the requesters read."}
    )


class ReasonSchema(In):
    reason = _REASON


class GrantAccessSchema(In):
    email = fields.Email(required=True, metadata={"description": "The person's account e-mail address."})
    organisation = fields.String(
        required=True, validate=SLUG, metadata={"description": "The buyer organisation they act for."}
    )
    expires_at = fields.AwareDateTime(load_default=None)
    reason = _REASON


# --- approvals and seats -------------------------------------------------------------------------------------------


class SeatSchema(Out):
    user_id = fields.Integer(required=True)
    email = fields.String(required=True)
    added_at = fields.DateTime(required=True)


class ApprovalSchema(Out):
    id = fields.Integer(required=True)
    dataset = nullable_str(required=True)
    provider = fields.Nested(OrganisationRefSchema, required=True)
    organisation = fields.Nested(OrganisationRefSchema, required=True)
    holder = fields.String(required=True, metadata={"enum": _values(HolderKind)})
    person = nullable_str(required=True, metadata={"description": "The person who holds or asked (e-mail)."})
    request_id = fields.Integer(allow_none=True, required=True)
    state = fields.String(required=True, metadata={"enum": _values(ApprovalState)})
    in_force = fields.Boolean(required=True, metadata={"description": "Whether downloads are allowed right now."})
    problem = nullable_str(required=True, metadata={"description": "Why access is not in force (e.g. expired)."})
    granted_at = fields.DateTime(required=True)
    expires_at = nullable_dt()
    ended_at = nullable_dt()
    reason = fields.String(required=True)
    seat_limit = fields.Integer(allow_none=True, required=True)
    seats = fields.List(fields.Nested(SeatSchema), required=True)


class ApprovalPageSchema(Out):
    data = fields.List(fields.Nested(ApprovalSchema), required=True)
    next_cursor = nullable_str(required=True)


class ApprovalQuerySchema(PageQuerySchema):
    organisation = fields.String(load_default=None, validate=SLUG)
    dataset = fields.String(load_default=None, validate=SLUG)
    state = fields.String(load_default=None, validate=validate.OneOf(_values(ApprovalState)))


class SeatCreateSchema(In):
    email = fields.Email(required=True, metadata={"description": "A member of the holding organisation."})


class OrganisationQuerySchema(In):
    organisation = _ORG


class ReportQuerySchema(In):
    organisation = _ORG
    since = fields.AwareDateTime(load_default=None)


# --- agreements ------------------------------------------------------------------------------------------------------


class AgreementVersionSchema(Out):
    id = fields.Integer(required=True)
    version = fields.Integer(required=True)
    sha256 = fields.String(required=True)
    term_days = fields.Integer(allow_none=True, required=True)
    created_at = fields.DateTime(required=True)
    body = fields.String(required=True)


class AgreementSchema(Out):
    id = fields.Integer(required=True)
    organisation = fields.Nested(OrganisationRefSchema, required=True)
    title = fields.String(required=True)
    resign_policy = fields.String(required=True, metadata={"enum": _values(ResignPolicy)})
    created_at = fields.DateTime(required=True)
    versions = fields.List(fields.Nested(AgreementVersionSchema), required=True)


class AgreementListSchema(Out):
    data = fields.List(fields.Nested(AgreementSchema), required=True)
    templates = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        required=True,
        metadata={"description": "The platform's templates to start from: key → title."},
    )


class AgreementCreateSchema(In):
    organisation = _ORG
    title = fields.String(load_default="", validate=validate.Length(max=200))
    body = fields.String(load_default="", validate=validate.Length(max=100_000))
    template = fields.String(load_default=None, metadata={"description": "A platform template's key."})
    resign_policy = fields.String(
        load_default=ResignPolicy.IMMEDIATELY.value, validate=validate.OneOf(_values(ResignPolicy))
    )
    term_days = fields.Integer(
        strict=True, load_default=None, allow_none=True, validate=validate.Range(min=1, max=36500)
    )

    @validates_schema
    def _text_or_template(self, data: dict[str, Any], **_: Any) -> None:
        if not data.get("template") and not data.get("body", "").strip():
            raise ValidationError({"body": ["give the agreement's text, or a template"]})


class AgreementVersionCreateSchema(In):
    body = fields.String(required=True, validate=validate.Length(min=1, max=100_000))
    term_days = fields.Integer(
        strict=True, load_default=None, allow_none=True, validate=validate.Range(min=1, max=36500)
    )
    resign_policy = fields.String(load_default=None, validate=validate.OneOf(_values(ResignPolicy)))


# --- training credentials ------------------------------------------------------------------------------------------


class CredentialUploadSchema(In):
    issuer = fields.String(required=True, validate=validate.Length(max=200))
    course = fields.String(required=True, validate=validate.Length(max=300))
    completed_on = fields.Date(required=True)
    expires_on = fields.Date(load_default=None, allow_none=True)
    filename = fields.String(required=True, validate=validate.Length(min=1, max=255))
    media_type = fields.String(required=True, validate=validate.OneOf(sorted(MEDIA_TYPES)))
    content_base64 = fields.String(
        required=True,
        validate=validate.Length(min=1, max=14_000_000),
        metadata={"description": "The certificate file (PDF, PNG or JPEG, at most 10 MB), base64-encoded."},
    )


class TrainingCredentialSchema(Out):
    id = fields.Integer(required=True)
    person = fields.String(required=True, metadata={"description": "The owner's e-mail address."})
    issuer = fields.String(required=True)
    course = fields.String(required=True)
    completed_on = fields.Date(required=True)
    expires_on = fields.Date(allow_none=True, required=True)
    filename = fields.String(required=True)
    media_type = fields.String(required=True)
    size_bytes = fields.Integer(required=True)
    sha256 = fields.String(required=True)
    state = fields.String(required=True, metadata={"enum": _values(CredentialState)})
    reason = fields.String(required=True, metadata={"description": "Why it was refused, if it was."})
    submitted_at = fields.DateTime(required=True)
    decided_at = nullable_dt()
    links = fields.Dict(keys=fields.String(), values=fields.String(), required=True)


class TrainingCredentialListSchema(Out):
    data = fields.List(fields.Nested(TrainingCredentialSchema), required=True)


class CredentialDecisionSchema(In):
    reason = _REASON
