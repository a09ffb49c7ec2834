"""The machinery every ``/api/v1`` operation shares: declaration, authentication, scopes, input and output.

An operation is declared once with :func:`operation`: its path, method, scope, request and response schemas. The
declaration registers the Flask route *and* the OpenAPI operation (``marketplace.api.openapi``), so the document
cannot drift from what is served. For each request the wrapper

1. authenticates the ``Authorization: Bearer`` credential (an API key or an OAuth access token; never the session
   cookie) and checks the operation's scope (403 ``insufficient_scope``);
2. runs the view inside :func:`marketplace.permissions.delegated`, so every service's permission check sees the
   credential's limits (its organisation only; no platform-admin powers);
3. loads the query string and the JSON body with the operation's marshmallow schemas (422 naming each field);
4. for a POST with an ``Idempotency-Key``, replays the first response or refuses a different request (409);
5. dumps the view's result with the response schema.

Views stay thin: they take the parsed input, call one service and return what it returned.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, cast

import sqlalchemy as sa
from flask import Blueprint, current_app, g, jsonify, request
from itsdangerous import BadSignature, URLSafeSerializer
from marshmallow import Schema
from marshmallow import ValidationError as MarshmallowError
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from werkzeug.wrappers import Response

from marketplace import boundedjson
from marketplace.api.errors import ApiErrorCode
from marketplace.apikeys.models import IdempotencyRecord
from marketplace.apikeys.services import CredentialRefused, Principal, authenticate, record_use, refuse_unless
from marketplace.db import UnitOfWork, unit_of_work
from marketplace.errors import BadRequest, Conflict, FieldProblem, NotAuthenticated, NotFound, ValidationFailed
from marketplace.forms import field_problems
from marketplace.logs import identify
from marketplace.permissions import delegated
from marketplace.web import client_ip, database, service_context, uow

bp = Blueprint("api", __name__, url_prefix="/api")

IDEMPOTENCY_TTL = timedelta(hours=24)
IDEMPOTENCY_KEY_RE = re.compile(r"^[\x21-\x7e]{1,255}$")
MAX_INT = 2**31 - 1

#: Path parameter kinds: (werkzeug converter, OpenAPI schema, pattern the value must match).
PATH_KINDS: dict[str, tuple[str, dict[str, Any], re.Pattern[str] | None]] = {
    "id": (f"int(min=1, max={MAX_INT})", {"type": "integer", "minimum": 1, "maximum": MAX_INT}, None),
    "slug": (
        "string(maxlength=80)",
        {"type": "string", "pattern": "^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$", "maxLength": 80},
        re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$"),
    ),
    "license": (
        "string(length=26)",
        {"type": "string", "pattern": "^[0-9A-HJKMNP-TV-Z]{26}$", "minLength": 26, "maxLength": 26},
        re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$"),
    ),
    "version": (
        "string(maxlength=64)",
        {"type": "string", "pattern": r"^[0-9]+\.[0-9]+\.[0-9]+(?:-[0-9A-Za-z.-]+)?$", "maxLength": 64},
        re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+(?:-[0-9A-Za-z.-]+)?$"),
    ),
    "section": ("string(maxlength=40)", {"type": "string", "maxLength": 40}, re.compile(r"^[a-z_]{1,40}$")),
}


@dataclass
class Operation:
    """One API operation, as served and as documented."""

    method: str
    path: str  # OpenAPI style, below /api: "/v1/orders/{order_id}"
    endpoint: str
    summary: str
    tag: str
    scope: str | None
    public: bool
    path_params: dict[str, str]
    query: Schema | None
    body: Schema | None
    response: Schema | dict[str, Any] | None  # a dict: a raw JSON Schema, the value is sent as it is
    status: int
    description: str = ""
    media_type: str = "application/json"
    extra_statuses: dict[int, str] = field(default_factory=dict)


OPERATIONS: list[Operation] = []


@dataclass
class Call:
    """What a view gets: the caller, the parsed query and body, and the request's unit of work."""

    principal: Principal | None
    query: dict[str, Any]
    body: dict[str, Any]

    @property
    def uow(self) -> UnitOfWork:
        return uow()

    @property
    def caller(self) -> Principal:
        assert self.principal is not None
        return self.principal


@dataclass
class Result:
    """A view's result with a status other than the operation's default, or extra headers."""

    value: Any
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Prepared:
    """A view's result already serialised with its response schema (:func:`prepare`): sent as it is."""

    body: bytes


def prepare(schema: Schema, value: Any) -> Prepared:
    """``value`` dumped with ``schema`` into the very JSON body the operation would send for it."""
    return Prepared(jsonify(schema.dump(value)).get_data())


# --- authentication ----------------------------------------------------------------------------------------------


def _resolve_credential() -> tuple[Principal | None, CredentialRefused | None]:
    """Authenticate the request's bearer credential once (the rate limiter may ask first)."""
    if "api_credential" in g:
        return cast(tuple[Principal | None, CredentialRefused | None], g.api_credential)
    header = request.headers.get("Authorization", "")
    principal: Principal | None = None
    error: CredentialRefused | None = None
    if header:
        scheme, _, secret = header.partition(" ")
        secret = secret.strip()
        if scheme.lower() != "bearer" or not secret:
            error = CredentialRefused(
                message="Send the credential as 'Authorization: Bearer <API key or access token>'.",
                code=ApiErrorCode.INVALID_AUTHORIZATION_HEADER,
            )
        else:
            _write_lock_first()
            try:
                principal = authenticate(uow(), secret, ip=client_ip())
            except CredentialRefused as refused:
                error = refused
    if principal is not None:
        identify(user_id=principal.user.id, organisation_id=principal.organisation_id)
        kind = "api-key" if principal.kind == "api_key" else "oauth-client"
        uow().acting_credential = f"{kind}:{principal.credential_id}"
    if principal is not None and principal.use_to_record:
        uow().after_commit(functools.partial(_record_use, principal, client_ip()))
    g.api_credential = (principal, error)
    return principal, error


def _write_lock_first() -> None:
    """On SQLite, a request that will write takes the write lock before it reads anything.

    SQLite has one writer at a time. A transaction that read first and then writes, after another writer committed
    in between, fails at once ("database is locked") instead of waiting; taking the lock first makes concurrent
    API writes queue (``busy_timeout``) instead. PostgreSQL needs nothing of the sort.
    """
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    session = uow().session
    if session.get_bind().dialect.name == "sqlite":
        session.execute(sa.text("UPDATE idempotency_record SET id = id WHERE 1 = 0"))


def _record_use(principal: Principal, ip: str) -> None:
    with unit_of_work(database(), service_context()) as work:
        record_use(work, principal, ip)


def current_principal(*, required: bool = True) -> Principal | None:
    """The authenticated caller; raises 401 for a refused credential, or for none when ``required``."""
    principal, error = _resolve_credential()
    if error is not None:
        raise error
    if principal is None and required:
        raise NotAuthenticated(
            message="This endpoint needs an API key or OAuth access token sent as 'Authorization: Bearer ...'.",
            code=ApiErrorCode.AUTHENTICATION_REQUIRED,
        )
    return principal


def credential_rate_key() -> str:
    """The rate-limit bucket of the request's credential (``key:12`` / ``client:3``), "" when there is none."""
    principal, _error = _resolve_credential()
    return principal.ref if principal is not None else ""


# --- input ---------------------------------------------------------------------------------------------------------


def load(schema: Schema, data: Any, *, location: str) -> dict[str, Any]:
    """Load ``data`` with ``schema``; :class:`ValidationFailed` (422) names each bad field by its dotted path."""
    try:
        return cast(dict[str, Any], schema.load(data))
    except MarshmallowError as error:
        problems = field_problems(error, schema, location=location)
        summary = "; ".join(f"{p.field}: {p.message}" for p in problems[:5])
        raise ValidationFailed(message=f"The {location} is not valid: {summary}", details=problems) from error


def _query_data(schema: Schema) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name, values in request.args.lists():
        target = schema.fields.get(name)
        many = target is not None and target.__class__.__name__ == "List"
        data[name] = values if many else values[-1]
    return data


def _body_data(schema: Schema | None) -> dict[str, Any]:
    """The request's JSON object; 400 for text that is not JSON or a document past the bounds of ``boundedjson``."""
    raw = request.get_data(cache=True)
    if schema is None:
        return {}
    if not raw.strip():
        return {}
    try:
        data = boundedjson.loads(raw)
    except boundedjson.JsonTooComplex as error:
        raise BadRequest(
            message=f"The request body is too complex: it is {error.message}.",
            code=ApiErrorCode.JSON_TOO_DEEP if error.too_deep else ApiErrorCode.JSON_TOO_LARGE,
            details=[FieldProblem("body", error.message, "body")],
        ) from None
    except (ValueError, UnicodeDecodeError) as error:
        raise BadRequest(
            message="The request body is not valid JSON.",
            code=ApiErrorCode.INVALID_JSON,
            details=[FieldProblem("body", str(error)[:200], "body")],
        ) from error
    if not isinstance(data, dict):
        raise ValidationFailed(
            message="The request body must be a JSON object.", details=[FieldProblem("body", "send a JSON object")]
        )
    return data


def check_no_nul(value: Any) -> bool:
    """True when no string inside ``value`` holds a NUL character (PostgreSQL text cannot)."""
    return not boundedjson.has_nul(value)


# --- pagination ----------------------------------------------------------------------------------------------------


def _cursor_serializer(kind: str) -> URLSafeSerializer:
    return URLSafeSerializer(str(current_app.config["SECRET_KEY"]), salt=f"marketplace-api-cursor:{kind}")


def encode_cursor(kind: str, value: Any) -> str:
    """An opaque, signed cursor for the next page of a ``kind`` listing."""
    return str(_cursor_serializer(kind).dumps(value))


def decode_cursor(kind: str, cursor: str | None) -> Any:
    """The position a cursor from :func:`encode_cursor` names; 400 ``invalid_cursor`` for anything else."""
    if not cursor:
        return None
    try:
        return _cursor_serializer(kind).loads(cursor)
    except (BadSignature, ValueError, UnicodeDecodeError) as error:
        raise BadRequest(
            message="The cursor is not valid: pass next_cursor from the previous page unchanged.",
            code=ApiErrorCode.INVALID_CURSOR,
            details=[FieldProblem("cursor", "not a cursor from this listing", "query")],
        ) from error


def page(kind: str, items: list[Any], limit: int, position: Callable[[Any], Any]) -> dict[str, Any]:
    """``{"data": items[:limit], "next_cursor": ...}`` from ``limit + 1`` fetched items."""
    more = len(items) > limit
    items = items[:limit]
    return {"data": items, "next_cursor": encode_cursor(kind, position(items[-1])) if more and items else None}


# --- idempotency ---------------------------------------------------------------------------------------------------


def _fingerprint(body: dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    query = "&".join(f"{k}={v}" for k, v in sorted(request.args.items(multi=True)))
    material = f"{request.method} {request.path}?{query}\n{canonical}"
    return hashlib.sha256(material.encode()).hexdigest()


def _replay(record: IdempotencyRecord) -> Response:
    response = Response(record.response_body or "", status=record.status_code or 200)
    for name, value in (record.response_headers or {}).items():
        response.headers[name] = value
    response.headers["Idempotent-Replayed"] = "true"
    return response


def idempotent(principal: Principal, body: dict[str, Any], run: Callable[[], Response]) -> Response:
    """Run a POST at most once per ``Idempotency-Key`` (per credential, for 24 hours).

    The key's row is inserted before the work, in the same transaction; a concurrent duplicate cannot insert it
    (unique constraint) and, once the first commits, replays its response. Only a successful (2xx) response is
    kept: a failed request rolled back and left nothing, so it may be retried with the same key.
    """
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return run()
    if not IDEMPOTENCY_KEY_RE.match(key):
        raise ValidationFailed(
            message="Idempotency-Key must be 1 to 255 visible ASCII characters.",
            details=[FieldProblem("Idempotency-Key", "1 to 255 visible ASCII characters", "header")],
        )
    work = uow()
    session = work.session
    now = work.now()
    fingerprint = _fingerprint(body)
    session.execute(
        delete(IdempotencyRecord).where(
            col(IdempotencyRecord.principal) == principal.ref,
            col(IdempotencyRecord.key) == key,
            col(IdempotencyRecord.expires_at) <= now,
        )
    )
    record = IdempotencyRecord(
        principal=principal.ref, key=key, request_hash=fingerprint, created_at=now, expires_at=now + IDEMPOTENCY_TTL
    )
    try:
        with session.begin_nested():
            session.add(record)
            session.flush()
    except IntegrityError:
        existing = session.exec(
            select(IdempotencyRecord).where(IdempotencyRecord.principal == principal.ref, IdempotencyRecord.key == key)
        ).first()
        if existing is not None and existing.request_hash != fingerprint:
            raise Conflict(
                message="This Idempotency-Key was already used with a different request; use a new key.",
                code=ApiErrorCode.IDEMPOTENCY_KEY_REUSED,
                details=[FieldProblem("Idempotency-Key", "already used with another request", "header")],
            ) from None
        if existing is None or existing.status_code is None:
            raise Conflict(
                message="A request with this Idempotency-Key is still in progress; retry in a moment.",
                code=ApiErrorCode.IDEMPOTENCY_IN_PROGRESS,
            ) from None
        return _replay(existing)
    response = run()
    if 200 <= response.status_code < 300:
        record.status_code = response.status_code
        record.response_body = response.get_data(as_text=True)
        record.response_headers = {
            name: response.headers[name] for name in ("Content-Type", "Location") if name in response.headers
        }
        session.add(record)
    else:
        session.delete(record)
    session.flush()
    return response


# --- declaring operations ----------------------------------------------------------------------------------------


def _rule(path: str, path_params: dict[str, str]) -> str:
    def convert(match: re.Match[str]) -> str:
        name = match.group(1)
        return f"<{PATH_KINDS[path_params[name]][0]}:{name}>"

    return re.sub(r"\{(\w+)\}", convert, path)


def _dump(op: Operation, value: Any) -> Any:
    if not isinstance(op.response, Schema) or value is None:
        return value
    return op.response.dump(value)


def operation(
    path: str,
    method: str,
    *,
    summary: str,
    tag: str,
    scope: str | None = None,
    public: bool = False,
    path_params: dict[str, str] | None = None,
    query: Schema | None = None,
    body: Schema | None = None,
    response: Schema | dict[str, Any] | None = None,
    status: int = 200,
    description: str = "",
    media_type: str = "application/json",
    extra_statuses: dict[int, str] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare (route + document) one API operation; see the module documentation for what the wrapper does."""
    params = dict(path_params or {})

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        op = Operation(
            method=method.upper(),
            path=path,
            endpoint=f"{tag.lower().replace(' ', '_')}_{view.__name__}",
            summary=summary,
            tag=tag,
            scope=scope,
            public=public,
            path_params=params,
            query=query,
            body=body,
            response=response,
            status=status,
            description=description or (view.__doc__ or "").strip(),
            media_type=media_type,
            extra_statuses=dict(extra_statuses or {}),
        )
        OPERATIONS.append(op)

        @functools.wraps(view)
        def wrapper(**kwargs: Any) -> Response:
            return _serve(op, view, kwargs)

        bp.add_url_rule(_rule(path, params), endpoint=op.endpoint, view_func=wrapper, methods=[op.method])
        return wrapper

    return decorate


def _serve(op: Operation, view: Callable[..., Any], kwargs: dict[str, Any]) -> Response:
    """Steps 1 to 5 of the module documentation for one request to ``op``."""
    for name, kind in op.path_params.items():
        pattern = PATH_KINDS[kind][2]
        if pattern is not None and not pattern.match(str(kwargs.get(name, ""))):
            raise NotFound(message=f"No such {name.replace('_', ' ')}.")
    principal = current_principal(required=not op.public)
    if op.scope is not None and principal is not None:
        refuse_unless(principal, op.scope)
    restriction = delegated(principal.organisation_id) if principal is not None else nullcontext()
    with restriction:
        call, raw_body = _parse_call(op, principal)

        def run() -> Response:
            return _respond(op, view(call, **kwargs))

        if op.method == "POST" and principal is not None:
            return idempotent(principal, raw_body, run)
        return run()


def _parse_call(op: Operation, principal: Principal | None) -> tuple[Call, dict[str, Any]]:
    """The view's :class:`Call` and the raw JSON body (the idempotency fingerprint is taken over it)."""
    parsed_query = load(op.query, _query_data(op.query), location="query") if op.query is not None else {}
    raw_body = _body_data(op.body)
    if not check_no_nul(raw_body) or not check_no_nul(dict(request.args.lists())):
        raise ValidationFailed(
            message="Text must not contain NUL characters.",
            details=[FieldProblem("body", "contains a NUL character")],
        )
    parsed_body = load(op.body, raw_body, location="body") if op.body is not None else {}
    return Call(principal=principal, query=parsed_query, body=parsed_body), raw_body


def _respond(op: Operation, result: Any) -> Response:
    """The response for a view's result: ``op``'s status and media type unless a :class:`Result` says otherwise."""
    headers: dict[str, str] = {}
    code = op.status
    if isinstance(result, Result):
        code = result.status or code
        headers = result.headers
        result = result.value
    if code == 204:
        response = Response(status=204)
    elif isinstance(result, Prepared):
        response = current_app.response_class(result.body, status=code, mimetype="application/json")  # as jsonify
    elif op.media_type != "application/json" and isinstance(result, str | bytes):
        # A document sent as it is (a CSV report, an uploaded file); headers may name its exact media type.
        response = Response(result, status=code, mimetype=op.media_type)
    elif op.media_type != "application/json":
        response = Response(
            json.dumps(_dump(op, result), ensure_ascii=False, indent=2), status=code, mimetype=op.media_type
        )
    else:
        response = jsonify(_dump(op, result))
        response.status_code = code
    response.headers.update(headers)
    response.headers.setdefault("Cache-Control", "no-store")
    return response
