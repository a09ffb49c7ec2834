"""Turns every error into a response: the JSON error shape under ``/api/``, an HTML page elsewhere.

Domain errors get their status from :data:`marketplace.errors.HTTP_STATUS`; HTTP errors raised by Flask or
Werkzeug (404, 405, 413, CSRF's 400) keep theirs; anything else is logged and becomes a 500 that shows no detail.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from marketplace.errors import DomainError, Throttled, error_body, status_for

log = logging.getLogger(__name__)

PAGE_TITLES = {
    400: "Bad request",
    401: "Please log in",
    403: "Not allowed",
    404: "Page not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Too large",
    422: "Please check your input",
    429: "Too many attempts",
    500: "Something went wrong",
}


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path.startswith("/webhooks/")


def _render(status: int, code: str, message: str, details: list[dict[str, Any]] | None = None) -> Response:
    if _wants_json():
        response: Response = jsonify(error_body(code, message, details))
    else:
        html = render_template(
            "error.html",
            status=status,
            title=PAGE_TITLES.get(status, "Error"),
            message=message,
            details=details or [],
        )
        response = Response(html, mimetype="text/html")
    response.status_code = status
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain_error(error: DomainError) -> Response:
        status = status_for(error)
        response = _render(status, error.code, error.message, [d.to_dict() for d in error.details])
        if isinstance(error, Throttled):
            response.headers["Retry-After"] = str(error.retry_after)
        return response

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError) -> Response:
        return _render(
            400,
            "csrf_failed",
            "The form could not be accepted because its security token was missing or stale. "
            "Go back, reload the page and submit it again.",
        )

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        status = error.code or 500
        code = (error.name or "error").lower().replace(" ", "_")
        response = _render(status, code, error.description or PAGE_TITLES.get(status, "Error"))
        if status == 405 and error.get_response().headers.get("Allow"):
            response.headers["Allow"] = error.get_response().headers["Allow"]
        if status == 429:
            retry = error.get_response().headers.get("Retry-After")
            if retry:
                response.headers["Retry-After"] = retry
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _render(500, "internal_error", "Something went wrong on our side. It has been logged.")
