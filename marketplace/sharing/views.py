"""The Delta Sharing protocol's read endpoints under ``/delta-sharing`` (bearer tokens of recipient profiles).

Every request is authenticated afresh (:func:`~marketplace.sharing.recipients.authenticate`), so a license that
ends, or a profile that is revoked, stops the next request. Errors are the protocol's JSON, ``{"errorCode",
"message"}``, with the status the marketplace's error table gives the domain error. The session cookie plays no
part here, so the blueprint is exempt from CSRF (see :func:`marketplace.create_app`).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, request

from marketplace.errors import DomainError, status_for
from marketplace.sharing import protocol
from marketplace.sharing.errors import protocol_code
from marketplace.sharing.recipients import Access, authenticate
from marketplace.sharing.tables import TABLE_VERSION
from marketplace.web import client_ip, discard_changes, uow

bp = Blueprint("delta_sharing", __name__, url_prefix="/delta-sharing")

_TABLE = "/shares/<share>/schemas/<schema>/tables/<table>"
_NDJSON = "application/x-ndjson; charset=utf-8"


@bp.errorhandler(DomainError)
def _protocol_error(error: DomainError) -> Response:
    discard_changes()
    status = status_for(error)
    body = {"errorCode": protocol_code(status).value, "message": error.message}
    response = Response(json.dumps(body), status=status, mimetype="application/json")
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="delta-sharing"'
    return response


def _secret() -> str:
    return str(current_app.config["SECRET_KEY"])


def _json(body: dict[str, Any]) -> Response:
    return Response(json.dumps(body), mimetype="application/json")


def _ndjson(lines: list[str]) -> Response:
    response = Response("\n".join(lines) + "\n", mimetype=_NDJSON)
    response.headers["delta-table-version"] = str(TABLE_VERSION)
    response.headers["delta-sharing-capabilities"] = "responseformat=parquet"
    return response


def authenticated(view: Callable[..., Response]) -> Callable[..., Response]:
    """Run ``view`` with the request's :class:`Access` as its first argument."""

    @functools.wraps(view)
    def wrapper(**kwargs: Any) -> Response:
        access = authenticate(
            uow(),
            request.headers.get("Authorization"),
            ip=client_ip(),
            user_agent=request.headers.get("User-Agent", ""),
        )
        return view(access, **kwargs)

    return wrapper


@bp.get("/shares")
@authenticated
def shares(access: Access) -> Response:
    return _json(protocol.list_shares(access, request.args, _secret()))


@bp.get("/shares/<share>")
@authenticated
def share(access: Access, share: str) -> Response:
    return _json(protocol.get_share(access, share))


@bp.get("/shares/<share>/schemas")
@authenticated
def schemas(access: Access, share: str) -> Response:
    return _json(protocol.list_schemas(access, share, request.args, _secret()))


@bp.get("/shares/<share>/schemas/<schema>/tables")
@authenticated
def tables(access: Access, share: str, schema: str) -> Response:
    return _json(protocol.list_tables(uow(), access, share, schema, request.args, _secret()))


@bp.get("/shares/<share>/all-tables")
@authenticated
def all_tables(access: Access, share: str) -> Response:
    return _json(protocol.list_all_tables(uow(), access, share, request.args, _secret()))


@bp.route(f"{_TABLE}/version", methods=["GET", "HEAD"])
@authenticated
def table_version(access: Access, share: str, schema: str, table: str) -> Response:
    protocol.table_of(uow(), access, share, schema, table)
    response = Response("", status=200)
    response.headers["delta-table-version"] = str(TABLE_VERSION)
    return response


@bp.get(f"{_TABLE}/metadata")
@authenticated
def metadata(access: Access, share: str, schema: str, table: str) -> Response:
    return _ndjson(protocol.metadata_lines(uow(), access, share, schema, table))


@bp.post(f"{_TABLE}/query")
@authenticated
def query(access: Access, share: str, schema: str, table: str) -> Response:
    body = request.get_json(force=True, silent=True) if request.content_length else {}
    return _ndjson(protocol.query_lines(uow(), access, share, schema, table, body))
