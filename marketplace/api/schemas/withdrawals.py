"""Withdrawals: filing one, the provider's view with each licensee's status, and a licensee's notice and signed
confirmation of deletion."""

from __future__ import annotations

from marshmallow import fields, validate

from marketplace.api.schemas.common import SLUG, In, OrganisationRefSchema, Out, nullable_dt, nullable_str
from marketplace.withdrawals.states import NoticeState, WithdrawalReason, WithdrawalState

__all__ = [
    "ConfirmationCreateSchema",
    "LicenseeStatusPageSchema",
    "NoticePageSchema",
    "NoticeSchema",
    "WithdrawalCreateSchema",
    "WithdrawalPageSchema",
    "WithdrawalQuerySchema",
    "WithdrawalSchema",
    "WithdrawalSummarySchema",
]

_REASONS = [r.value for r in WithdrawalReason]
_VERSION = validate.Regexp(r"^[0-9]+\.[0-9]+\.[0-9]+(?:-[0-9A-Za-z.-]+)?$", error="not a semantic version")


class WithdrawalCreateSchema(In):
    dataset = fields.String(required=True, validate=SLUG, metadata={"description": "The listing's slug."})
    version = fields.String(required=True, validate=_VERSION, metadata={"description": "The published version."})
    reason = fields.String(required=True, validate=validate.OneOf(_REASONS), metadata={"enum": _REASONS})
    details = fields.String(load_default="", validate=validate.Length(max=5000))
    files = fields.List(
        fields.String(validate=validate.Length(min=1, max=1024)),
        load_default=list,
        validate=validate.Length(max=10_000),
        metadata={"description": "Paths in the version's manifest to withdraw."},
    )
    record_ids = fields.List(
        fields.String(validate=validate.Length(min=1, max=200)),
        load_default=list,
        validate=validate.Length(max=10_000),
        metadata={"description": "Ids of records to withdraw (files holding them are replaced before publishing)."},
    )
    deletion_days = fields.Integer(
        load_default=None, allow_none=True, strict=True, validate=validate.Range(min=1, max=365)
    )
    patched_version = fields.String(load_default=None, allow_none=True, validate=_VERSION)


class WithdrawalQuerySchema(In):
    organisation = fields.String(load_default=None, validate=SLUG)


class LicenseeStatusSchema(Out):
    notice_id = fields.Integer(required=True)
    licensee = fields.Nested(OrganisationRefSchema, required=True)
    license_ids = fields.List(fields.String(), required=True)
    status = fields.String(required=True, metadata={"enum": [s.value for s in NoticeState]})
    notified_at = fields.DateTime(required=True)
    deadline = fields.DateTime(required=True)
    reminders_sent = fields.Integer(required=True)
    overdue_at = nullable_dt()
    confirmed_at = nullable_dt()
    signer_name = nullable_str(required=True)
    signer_role = nullable_str(required=True)
    statement = nullable_str(required=True)
    deleted_on = fields.Date(allow_none=True, required=True)


class WithdrawalSchema(Out):
    id = fields.Integer(required=True)
    dataset = fields.String(required=True)
    provider = fields.Nested(OrganisationRefSchema, required=True)
    withdrawn_version = fields.String(required=True)
    patched_version = nullable_str(required=True)
    patched_version_status = nullable_str(required=True)
    state = fields.String(required=True, metadata={"enum": [s.value for s in WithdrawalState]})
    reason = fields.String(required=True, metadata={"enum": _REASONS})
    details = fields.String(required=True)
    files = fields.List(fields.String(), required=True)
    record_ids = fields.List(fields.String(), required=True)
    deletion_days = fields.Integer(required=True)
    filed_at = fields.DateTime(required=True)
    patch_published_at = nullable_dt()
    notified_at = nullable_dt()
    deadline = nullable_dt()
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    licensees = fields.List(fields.Nested(LicenseeStatusSchema), required=True)


class WithdrawalPageSchema(Out):
    data = fields.List(fields.Nested(WithdrawalSchema), required=True)


class LicenseeStatusPageSchema(Out):
    withdrawal_id = fields.Integer(required=True)
    data = fields.List(fields.Nested(LicenseeStatusSchema), required=True)


class NoticeSchema(Out):
    id = fields.Integer(required=True)
    withdrawal_id = fields.Integer(required=True)
    dataset = fields.String(required=True)
    provider = fields.Nested(OrganisationRefSchema, required=True)
    licensee = fields.Nested(OrganisationRefSchema, required=True)
    withdrawn_version = fields.String(required=True)
    patched_version = nullable_str(required=True)
    reason = fields.String(required=True, metadata={"enum": _REASONS})
    details = fields.String(required=True)
    files = fields.List(fields.String(), required=True)
    record_ids = fields.List(fields.String(), required=True)
    license_ids = fields.List(fields.String(), required=True)
    status = fields.String(required=True, metadata={"enum": [s.value for s in NoticeState]})
    notified_at = fields.DateTime(required=True)
    deadline = fields.DateTime(required=True)
    confirmed_at = nullable_dt()
    signer_name = nullable_str(required=True)
    signer_role = nullable_str(required=True)
    statement = nullable_str(required=True)
    deleted_on = fields.Date(allow_none=True, required=True)


class NoticePageSchema(Out):
    data = fields.List(fields.Nested(NoticeSchema), required=True)


class ConfirmationCreateSchema(In):
    signer_name = fields.String(required=True, validate=validate.Length(min=2, max=200))
    signer_role = fields.String(required=True, validate=validate.Length(min=2, max=200))
    statement = fields.String(required=True, validate=validate.Length(min=10, max=5000))
    deleted_on = fields.Date(required=True)


class WithdrawalSummarySchema(Out):
    """A withdrawal notice as a license's verification reports it."""

    withdrawal_id = fields.Integer(required=True)
    notice_id = fields.Integer(required=True)
    withdrawn_version = fields.String(required=True)
    reason = fields.String(required=True, metadata={"enum": _REASONS})
    reason_label = fields.String(required=True)
    files = fields.List(fields.String(), required=True)
    record_count = fields.Integer(required=True)
    deadline = fields.String(required=True)
    patched_version = nullable_str(required=True)
    patched_manifest_digest = nullable_str(required=True)
    status = fields.String(required=True, metadata={"enum": [s.value for s in NoticeState]})
    confirmed_at = nullable_str(required=True)
