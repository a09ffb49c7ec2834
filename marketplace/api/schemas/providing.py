"""Schemas of what a provider does: listings, versions, uploads, catalog imports, and webhook endpoints."""

from __future__ import annotations

from marshmallow import fields, validate

from marketplace.api.schemas.common import (
    SLUG,
    In,
    Out,
    PageQuerySchema,
    ProblemSchema,
    nullable_dt,
    nullable_str,
)
from marketplace.catalog import vocab
from marketplace.catalog.schemas import SECTION_FIELDS, Coded, DatasetRecordSchema, ManifestEntrySchema
from marketplace.events import EVENT_TYPES

__all__ = [
    "SECTION_NAMES",
    "DatasetCreateSchema",
    "DeliveryPageSchema",
    "DeliverySchema",
    "EndpointCreateSchema",
    "EndpointListSchema",
    "EndpointQuerySchema",
    "EndpointSchema",
    "EndpointWithSecretSchema",
    "ImportCreateSchema",
    "JobSchema",
    "ProviderListQuerySchema",
    "SecretSchema",
    "SectionBodySchema",
    "UploadCreateSchema",
    "UploadLinksRequestSchema",
    "UploadLinksSchema",
    "UploadSchema",
    "VersionCreateSchema",
    "VersionUpdateSchema",
]

# --- provider --------------------------------------------------------------------------------------------------


class ProviderListQuerySchema(PageQuerySchema):
    organisation = fields.String(load_default=None, validate=SLUG)


class DatasetCreateSchema(In):
    organisation = fields.String(
        load_default=None,
        validate=SLUG,
        metadata={"description": "Provider organisation's slug; defaults to the organisation of the credential."},
    )
    record = fields.Nested(
        DatasetRecordSchema(exclude=("versions",)),
        required=True,
        metadata={"description": "The listing's fields; add versions with the versions endpoint."},
    )


SECTION_NAMES = list(SECTION_FIELDS)


class SectionBodySchema(In):
    record = fields.Dict(
        required=True, metadata={"description": "The section's fields; fields left out are cleared (PUT semantics)."}
    )


class VersionCreateSchema(In):
    version = Coded(vocab.semantic_version, required=True, metadata={"description": "Semantic version, e.g. 1.2.0."})
    changelog = fields.String(load_default="", validate=validate.Length(max=20000))
    files = fields.List(fields.Nested(ManifestEntrySchema), load_default=list, validate=validate.Length(max=100000))


class VersionUpdateSchema(In):
    changelog = fields.String(load_default="", validate=validate.Length(max=20000))
    files = fields.List(fields.Nested(ManifestEntrySchema), load_default=list, validate=validate.Length(max=100000))


class UploadCreateSchema(In):
    path = fields.String(required=True, validate=validate.Length(min=1, max=1024))
    size = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=5 * 1024**4))
    media_type = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=255))
    sha256 = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(r"^[0-9a-fA-F]{64}$"))


class UploadSchema(Out):
    id = fields.Integer(required=True)
    dataset = fields.String(required=True)
    version = fields.String(required=True)
    path = fields.String(required=True)
    size = fields.Integer(required=True)
    media_type = fields.String(required=True)
    status = fields.String(
        required=True,
        validate=validate.OneOf(["uploading", "verifying", "verified", "failed", "aborted"]),
        metadata={
            "description": "``verifying``: assembled and of the right size, its SHA-256 being computed in the "
            "background; read the upload again until it is ``verified`` or ``failed``."
        },
    )
    multipart = fields.Boolean(required=True)
    part_size = fields.Integer(required=True)
    part_count = fields.Integer(required=True)
    headers = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    parts_done = fields.List(fields.Integer(), required=True)
    sha256 = nullable_str(required=True)
    expected_sha256 = nullable_str(required=True)
    error = fields.String(required=True)


class UploadLinksRequestSchema(In):
    parts = fields.List(
        fields.Integer(strict=True, validate=validate.Range(min=1, max=10000)),
        load_default=list,
        validate=validate.Length(max=100),
        metadata={"description": "Part numbers (multipart uploads); leave empty for a single-PUT upload."},
    )


class UploadLinksSchema(Out):
    urls = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        required=True,
        metadata={"description": 'Part number → presigned PUT URL ("0" for a single-PUT upload).'},
    )


class ImportCreateSchema(In):
    organisation = fields.String(load_default=None, validate=SLUG)
    format = fields.String(required=True, validate=validate.OneOf(["csv", "jsonl", "croissant"]))
    content = fields.String(
        required=True,
        validate=validate.Length(min=1, max=16 * 1024 * 1024),
        metadata={"description": "The catalog file's text (UTF-8)."},
    )
    filename = fields.String(load_default="", validate=validate.Length(max=255))


class JobSchema(Out):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(["queued", "running", "succeeded", "failed"]))
    organisation = fields.String(required=True)
    result = fields.Dict(allow_none=True, required=True)
    error = fields.String(required=True)
    problems = fields.List(fields.Nested(ProblemSchema), required=True)
    created_at = fields.DateTime(required=True)
    started_at = nullable_dt()
    finished_at = nullable_dt()


# --- webhooks --------------------------------------------------------------------------------------------------


class EndpointQuerySchema(In):
    organisation = fields.String(load_default=None, validate=SLUG)


class EndpointCreateSchema(In):
    organisation = fields.String(load_default=None, validate=SLUG)
    url = fields.String(required=True, validate=validate.Length(min=1, max=2048))
    events = fields.List(
        fields.String(validate=validate.OneOf(list(EVENT_TYPES))), required=True, validate=validate.Length(min=1)
    )
    description = fields.String(load_default="", validate=validate.Length(max=500))


class EndpointSchema(Out):
    id = fields.Integer(required=True)
    organisation = fields.String(required=True)
    url = fields.String(required=True)
    description = fields.String(required=True)
    events = fields.List(fields.String(), required=True)
    active = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)


class EndpointListSchema(Out):
    data = fields.List(fields.Nested(EndpointSchema), required=True)


class EndpointWithSecretSchema(EndpointSchema):
    secret = fields.String(required=True, metadata={"description": "The signing secret, shown only this once."})


class SecretSchema(Out):
    secret = fields.String(required=True, metadata={"description": "The new signing secret, shown only this once."})


class DeliverySchema(Out):
    id = fields.Integer(required=True)
    event_id = fields.String(required=True)
    event_type = fields.String(required=True)
    status = fields.String(required=True)
    attempts = fields.Integer(required=True)
    last_status_code = fields.Integer(allow_none=True, required=True)
    last_error = fields.String(required=True)
    next_attempt_at = nullable_dt()
    created_at = fields.DateTime(required=True)
    delivered_at = nullable_dt()


class DeliveryPageSchema(Out):
    data = fields.List(fields.Nested(DeliverySchema), required=True)
    next_cursor = nullable_str(required=True)
