"""Input of the upload endpoints (JSON from the browser) and of the batch-link form."""

from __future__ import annotations

from marshmallow import fields, validate

from marketplace.forms import FormSchema


class StartUploadSchema(FormSchema):
    """One file the browser is about to upload; the service validates path, media type and hash in depth."""

    path = fields.String(required=True, validate=validate.Length(min=1, max=1024))
    size = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    media_type = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=255))
    sha256 = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))
    # The person ticked "Upload an empty file": without it the browser's empty file is refused (usually a mistake).
    confirm_empty = fields.Boolean(load_default=False)


class PartLinksSchema(FormSchema):
    """Which parts the browser wants links for (empty for a single-PUT upload)."""

    parts = fields.List(fields.Integer(strict=True), load_default=list, validate=validate.Length(max=100))


class LinkListSchema(FormSchema):
    """The batch list: which tool's format, and optionally one version only."""

    format = fields.String(load_default="curl", validate=validate.OneOf(["curl", "aria2"]))
    version = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))
