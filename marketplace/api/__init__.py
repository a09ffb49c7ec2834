"""The JSON API at ``/api/v1``: bearer-authenticated (API keys, OAuth client-credentials tokens), scoped,
rate-limited, idempotent POSTs, one error shape, and an OpenAPI 3.1 document generated from its schemas.

:data:`bp` keeps the blueprint name ``api`` (``/api/v1/status`` is the liveness probe). :func:`init_app` adds the
rate limiter, the OAuth token endpoint and the ``marketplace api`` commands.
"""

from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template, request
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.wrappers import Response

from marketplace.api.core import bp
from marketplace.api.routes import (
    access,
    access_review,
    aiact,
    analytics,
    audit,
    catalog,
    contracts,
    custom,
    exports,
    licenses,
    meta,
    notifications,
    orders,
    provider,
    sharing,
    viewer,
    webhooks,
    withdrawals,
)

__all__ = ["bp", "init_app"]
_ROUTE_MODULES = (
    meta,
    catalog,
    aiact,
    orders,
    licenses,
    sharing,
    exports,
    provider,
    webhooks,
    access,
    access_review,
    custom,
    contracts,
    withdrawals,
    audit,
    viewer,
    analytics,
    notifications,
)


@bp.get("/v1/status")
def status() -> Response:
    """Liveness: answers when the process serves requests; it does not touch the database."""
    return jsonify({"status": "ok", "api_version": "v1"})


@bp.get("/v1/openapi.json")
def openapi_document() -> Response:
    """The OpenAPI 3.1 document (public)."""
    from marketplace.api.openapi import document

    response = jsonify(document(current_app))
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/docs")
def docs() -> Response:
    """Interactive documentation: Swagger UI, vendored in ``static/vendor/swagger-ui`` and started from
    ``static/js/apidocs.js``, so the site's own Content-Security-Policy (no inline script or style) holds here too."""
    return Response(render_template("apikeys/docs.html"), mimetype="text/html")


@bp.route("/<path:_unknown>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown(_unknown: str) -> Response:
    # Keeps unknown API paths in the JSON error shape even when no other /api route matches their prefix; a path
    # that exists with other methods gets 405 with Allow.
    adapter = current_app.url_map.bind("localhost")
    allowed = set()
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        if method == request.method:
            continue
        try:
            endpoint, _args = adapter.match(request.path, method=method)
        except Exception:  # noqa: S112 - not routable with this method (404, 405, redirect)
            continue
        if endpoint != "api.unknown":
            allowed.add(method)
    if allowed:
        raise MethodNotAllowed(valid_methods=sorted(allowed | ({"HEAD"} if "GET" in allowed else set())))
    raise NotFound(description="No such API endpoint.")


@bp.after_request
def _challenge(response: Response) -> Response:
    if response.status_code == 401:
        response.headers.setdefault("WWW-Authenticate", 'Bearer realm="api"')
    return response


def init_app(app: Flask) -> None:
    """Rate limits, the OAuth token endpoint and the CLI; call after the blueprint is registered."""
    from marketplace.api.cli import api_group
    from marketplace.api.limits import init_limiter
    from marketplace.oauth.server import init_app as init_oauth

    init_oauth(app)
    init_limiter(app)
    app.cli.add_command(api_group)
