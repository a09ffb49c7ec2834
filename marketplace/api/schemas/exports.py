"""Bucket delivery: an organisation's S3-compatible destinations and exports of licensed versions into them."""

from __future__ import annotations

from marshmallow import fields, validate

from marketplace.api.schemas.common import SLUG, In, Out, nullable_dt
from marketplace.exports.states import ExportState

__all__ = [
    "DestinationCreateSchema",
    "DestinationListSchema",
    "DestinationQuerySchema",
    "DestinationSchema",
    "ExportCreateSchema",
    "ExportListSchema",
    "ExportSchema",
]

_STATES = [s.value for s in ExportState]


class DestinationQuerySchema(In):
    organisation = fields.String(load_default=None, validate=SLUG)


class DestinationCreateSchema(In):
    organisation = fields.String(load_default=None, validate=SLUG)
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    bucket = fields.String(required=True, validate=validate.Length(min=3, max=63))
    prefix = fields.String(load_default="", validate=validate.Length(max=500))
    endpoint_url = fields.String(
        load_default="",
        validate=validate.Length(max=500),
        metadata={"description": "Empty for Amazon S3; otherwise the https URL of an S3-compatible service."},
    )
    region = fields.String(load_default="", validate=validate.Length(max=64))
    access_key_id = fields.String(required=True, validate=validate.Length(min=1, max=128))
    secret_access_key = fields.String(
        required=True,
        validate=validate.Length(min=1, max=256),
        metadata={"description": "Stored encrypted; never returned."},
    )


class DestinationSchema(Out):
    id = fields.Integer(required=True)
    organisation = fields.String(required=True)
    name = fields.String(required=True)
    location = fields.String(required=True, metadata={"description": "s3://bucket/prefix/ (and the endpoint)."})
    bucket = fields.String(required=True)
    prefix = fields.String(required=True)
    endpoint_url = fields.String(required=True)
    region = fields.String(required=True)
    access_key_id = fields.String(required=True)
    created_at = fields.DateTime(required=True)


class DestinationListSchema(Out):
    data = fields.List(fields.Nested(DestinationSchema), required=True)


class ExportCreateSchema(In):
    destination_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    version = fields.String(required=True, validate=validate.Length(min=1, max=64))


class ExportObjectSchema(Out):
    path = fields.String(required=True)
    key = fields.String(required=True)
    size = fields.Integer(required=True)
    sha256 = fields.String(required=True, metadata={"description": "Read back from the destination."})


class ExportSchema(Out):
    id = fields.Integer(required=True)
    license_id = fields.String(required=True)
    destination_id = fields.Integer(required=True, allow_none=True)
    destination = fields.String(required=True, metadata={"description": "Where the objects went."})
    version = fields.String(required=True)
    state = fields.String(required=True, metadata={"enum": _STATES})
    files_total = fields.Integer(required=True)
    files_done = fields.Integer(required=True)
    bytes_total = fields.Integer(required=True)
    bytes_done = fields.Integer(required=True)
    percent = fields.Integer(required=True)
    objects = fields.List(fields.Nested(ExportObjectSchema), required=True)
    error = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    started_at = nullable_dt()
    finished_at = nullable_dt()


class ExportListSchema(Out):
    data = fields.List(fields.Nested(ExportSchema), required=True)
