"""Schemas of the audit log's operations (``/v1/audit/…``)."""

from __future__ import annotations

from marshmallow import fields, validate

from marketplace.api.schemas.common import SLUG, In, Out

__all__ = ["AuditEntryListSchema", "AuditEntrySchema", "AuditExportQuerySchema", "AuditQuerySchema"]

_ORG = fields.String(
    load_default=None,
    validate=SLUG,
    metadata={"description": "The organisation's slug; defaults to the organisation of the credential."},
)


class AuditQuerySchema(In):
    organisation = _ORG
    before_seq = fields.Integer(
        load_default=None,
        validate=validate.Range(min=1),
        metadata={"description": "Only entries older than this sequence number (the next page)."},
    )
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class AuditExportQuerySchema(In):
    organisation = _ORG


class AuditSubjectSchema(Out):
    type = fields.String(required=True)
    id = fields.String(required=True)


class AuditEntrySchema(Out):
    """One entry exactly as the hash covers it (see the JSON Lines export), plus its ``hash``."""

    organisation = fields.Integer(required=True)
    seq = fields.Integer(required=True)
    at = fields.String(required=True, metadata={"description": "UTC, microseconds, e.g. 2026-01-02T03:04:05.000006Z"})
    kind = fields.String(required=True)
    subject = fields.Nested(AuditSubjectSchema, required=True)
    actor = fields.String(required=True)
    data = fields.Dict(required=True)
    prev = fields.String(required=True)
    hash = fields.String(required=True)


class AuditHeadSchema(Out):
    seq = fields.Integer(required=True)
    hash = fields.String(required=True)


class AuditEntryListSchema(Out):
    organisation = fields.String(required=True, metadata={"description": "The organisation's slug."})
    head = fields.Nested(AuditHeadSchema, required=True)
    data = fields.List(fields.Nested(AuditEntrySchema), required=True)
    next_before_seq = fields.Integer(allow_none=True, required=True)
