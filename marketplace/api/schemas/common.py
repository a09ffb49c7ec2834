"""The bases of request and response schemas, and the shapes every part of the API shares (errors, pages)."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, fields, validate

__all__ = [
    "SLUG",
    "ULID",
    "ErrorBodySchema",
    "ErrorSchema",
    "In",
    "OrganisationRefSchema",
    "Out",
    "PageQuerySchema",
    "ProblemSchema",
]

SLUG = validate.Regexp(r"^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$", error="not a valid slug")
ULID = validate.Regexp(r"^[0-9A-HJKMNP-TV-Z]{26}$", error="not a license id")


class In(Schema):
    """Base of request schemas: unknown fields are refused."""

    class Meta:
        unknown = RAISE


class Out(Schema):
    """Base of response schemas."""

    class Meta:
        ordered = True


def nullable_str(**kwargs: Any) -> fields.String:
    return fields.String(allow_none=True, **kwargs)


def nullable_dt() -> fields.DateTime:
    return fields.DateTime(allow_none=True)


# --- shared ------------------------------------------------------------------------------------------------------


class ProblemSchema(Out):
    field = fields.String(required=True)
    message = fields.String(required=True)
    location = fields.String()


class ErrorBodySchema(Out):
    code = fields.String(required=True, metadata={"description": "Stable, machine-readable error code."})
    message = fields.String(required=True)
    details = fields.List(fields.Nested(ProblemSchema), required=True)


class ErrorSchema(Out):
    """Every error, whatever its status: ``{"error": {"code", "message", "details"}}``."""

    error = fields.Nested(ErrorBodySchema, required=True)


class PageQuerySchema(In):
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    cursor = fields.String(load_default=None, validate=validate.Length(max=500))


class OrganisationRefSchema(Out):
    slug = fields.String(required=True)
    name = fields.String(required=True)
