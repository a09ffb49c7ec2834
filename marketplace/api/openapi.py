"""The OpenAPI 3.1 document of ``/api/v1``, generated with apispec from the declared operations and their
marshmallow schemas: security schemes (bearer API keys, OAuth 2.0 client credentials), each operation's scope,
parameters, request body, responses, and the one error shape for every status."""

from __future__ import annotations

from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask
from marshmallow import Schema

from marketplace.api import schemas
from marketplace.api.core import OPERATIONS, PATH_KINDS, Operation
from marketplace.apikeys.scopes import SCOPES
from marketplace.catalog.schemas import SECTION_FIELDS

API_VERSION = "1.0.0"

DESCRIPTION = """\
Everything the website does, from code: search the catalog, buy licenses, download the exact bytes, and publish
datasets as a provider.

**Authentication.** Send `Authorization: Bearer <credential>`: an API key (`mkp_live_…`, or `mkp_test_…` which
works only against sandbox payments), created on the website under *Settings → API access*, or an access token
from the OAuth 2.0 client-credentials grant at `/oauth/token`. Each operation names the scope it needs.

**Errors.** Every error, whatever its status, is `{"error": {"code": ..., "message": ..., "details": [...]}}`;
`details` names each offending field.

**Pagination.** Lists return `{"data": [...], "next_cursor": ...}`; pass `cursor=<next_cursor>` for the next page
(cursors are opaque and signed; the order is stable).

**Idempotency.** Every POST accepts an `Idempotency-Key` header: the same key with the same request returns the
first (successful) response again, with `Idempotent-Replayed: true`; with a different request it is refused (409).
Keys are kept per credential for 24 hours.

**Rate limits.** Per credential and per address; a 429 carries `Retry-After` and the `X-RateLimit-*` headers.
"""

ERROR_STATUSES = {
    400: "The request is malformed (bad JSON, a bad cursor or search parameter).",
    401: "No credential, or an unknown, revoked or expired one.",
    403: "The credential lacks the scope, or its user may not do this.",
    404: "No such resource (or not visible to this credential).",
    409: "Conflicts with the resource's state, or an Idempotency-Key reused for another request.",
    422: "Invalid input; `details` names each field.",
    429: "Too many requests; wait `Retry-After` seconds.",
}


def _schema_name(schema: Any) -> str:
    cls = schema if isinstance(schema, type) else type(schema)
    name = cls.__name__.removesuffix("Schema")
    if not isinstance(schema, type) and (schema.only or schema.exclude):
        name += "Input"
    return name


def _path_parameter(name: str, kind: str) -> dict[str, Any]:
    schema = dict(PATH_KINDS[kind][1])
    if kind == "section":
        schema["enum"] = list(SECTION_FIELDS)
    return {"in": "path", "name": name, "required": True, "schema": schema}


def _has_required(schema: Schema) -> bool:
    return any(field.required for field in schema.fields.values())


def _content(op: Operation) -> dict[str, Any] | None:
    if op.response is None:
        return None
    return {op.media_type: {"schema": op.response}}


def _operation(op: Operation) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [_path_parameter(name, kind) for name, kind in op.path_params.items()]
    if op.query is not None:
        parameters.append({"in": "query", "schema": op.query})
    if op.method == "POST":
        parameters.append(
            {
                "in": "header",
                "name": "Idempotency-Key",
                "required": False,
                "description": "Makes a retried POST safe: same key and request, same response (24 hours).",
                "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
            }
        )
    success: dict[str, Any] = {"description": op.summary}
    content = _content(op)
    if content is not None and op.status != 204:
        success["content"] = content
    responses: dict[str, Any] = {str(op.status): success}
    statuses = dict(ERROR_STATUSES)
    if op.public:
        statuses.pop(403)
    for status, why in statuses.items():
        responses[str(status)] = {"$ref": f"#/components/responses/Error{status}"}
        del why
    responses["default"] = {"$ref": "#/components/responses/Error"}
    scopes = [op.scope] if op.scope else []
    result: dict[str, Any] = {
        "operationId": op.endpoint,
        "summary": op.summary,
        "description": op.description + (f"\n\nRequires scope `{op.scope}`." if op.scope else ""),
        "tags": [op.tag],
        "parameters": parameters,
        "responses": responses,
        "security": [] if op.public else [{"apiKey": scopes}, {"oauth2": scopes}],
    }
    if op.scope:
        result["x-required-scope"] = op.scope
    if op.body is not None:
        result["requestBody"] = {
            "required": _has_required(op.body),
            "content": {"application/json": {"schema": op.body}},
        }
    return result


def build_document(base_url: str) -> dict[str, Any]:
    """The whole OpenAPI 3.1 document, for the site at ``base_url``."""
    spec = APISpec(
        title="Dataset Marketplace API",
        version=API_VERSION,
        openapi_version="3.1.0",
        plugins=[MarshmallowPlugin(schema_name_resolver=_schema_name)],
        info={"description": DESCRIPTION, "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"}},
        servers=[{"url": base_url}],
    )
    spec.components.security_scheme(
        "apiKey",
        {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "API key (mkp_live_… / mkp_test_…) or OAuth access token (mkp_at_…)",
            "description": "An API key from Settings → API access, or a token from /oauth/token.",
        },
    )
    spec.components.security_scheme(
        "oauth2",
        {
            "type": "oauth2",
            "description": "Client credentials of an organisation's service account (Settings → API access).",
            "flows": {"clientCredentials": {"tokenUrl": f"{base_url}/oauth/token", "scopes": dict(SCOPES)}},
        },
    )
    spec.components.schema("Error", schema=schemas.ErrorSchema)
    spec.components.response(
        "Error",
        {"description": "An error.", "content": {"application/json": {"schema": "Error"}}},
    )
    for status, why in ERROR_STATUSES.items():
        response: dict[str, Any] = {"description": why, "content": {"application/json": {"schema": "Error"}}}
        if status == 429:
            response["headers"] = {
                "Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}},
            }
        spec.components.response(f"Error{status}", response)
    by_path: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        by_path.setdefault("/api" + op.path, {})[op.method.lower()] = _operation(op)
    for path, operations in by_path.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


def document(app: Flask) -> dict[str, Any]:
    """The application's document, built once."""
    cached = app.extensions.get("marketplace.openapi")
    if cached is None:
        cached = build_document(str(app.config["BASE_URL"]))
        app.extensions["marketplace.openapi"] = cached
    return dict(cached)
