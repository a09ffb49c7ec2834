"""Turns every error into a response: the JSON error shape under ``/api/``, an HTML page elsewhere.

Domain errors get their status from :data:`marketplace.errors.HTTP_STATUS`; HTTP errors raised by Flask or
Werkzeug (404, 405, 413, CSRF's 400) keep theirs; library errors that stand for a domain error (a lost database
connection is :class:`~marketplace.errors.DatabaseUnavailable`, 503; a statement cancelled by its time limit
:class:`~marketplace.errors.StatementTimedOut`, 503, after its failed transaction is rolled back) are translated by
:func:`marketplace.errors.translate`; anything else is logged and becomes a 500 that shows no detail.

A 429 or 503 carries ``Retry-After``. When the database is unreachable the HTML page is rendered without the
context processors (they look up the logged-in user), so it renders for visitors and members alike.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, current_app, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from marketplace.errors import (
    DatabaseUnavailable,
    DomainError,
    ErrorCode,
    ServiceUnavailable,
    Throttled,
    error_body,
    status_for,
    translate,
)
from marketplace.web import discard_changes

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
    503: "Temporarily unavailable",
}


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path.startswith("/webhooks/")


def _page(status: int, message: str, details: list[dict[str, Any]], *, without_database: bool) -> str:
    context: dict[str, Any] = {
        "status": status,
        "title": PAGE_TITLES.get(status, "Error"),
        "message": message,
        "details": details,
    }
    if not without_database:
        return render_template("error.html", **context)
    # Context processors may query the database (the current user); this page must render while it is down.
    template = current_app.jinja_env.get_template("error.html")
    return template.render(current_user=None, marketplace_env=current_app.config.get("MARKETPLACE_ENV"), **context)


def _render(
    status: int,
    code: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
    *,
    without_database: bool = False,
) -> Response:
    if _wants_json():
        response: Response = jsonify(error_body(code, message, details))
        response.status_code = status
        return response
    try:
        html = _page(status, message, details or [], without_database=without_database)
    except Exception as error:
        # Rendering a page for another error (a 404 for a logged-in member, say) found the database down.
        outage = translate(error)
        if not isinstance(outage, DatabaseUnavailable) or without_database:
            raise
        return _domain_response(outage)
    response = Response(html, mimetype="text/html")
    response.status_code = status
    return response


def _domain_response(error: DomainError) -> Response:
    response = _render(
        status_for(error),
        error.code,
        error.message,
        [d.to_dict() for d in error.details],
        without_database=isinstance(error, DatabaseUnavailable),
    )
    if isinstance(error, Throttled | ServiceUnavailable):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain_error(error: DomainError) -> Response:
        return _domain_response(error)

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError) -> Response:
        return _render(
            400,
            ErrorCode.CSRF_FAILED,
            "The form could not be accepted because its security token was missing or stale. "
            "Go back, reload the page and submit it again.",
        )

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        status = error.code or 500
        # Werkzeug's name of the status (not_found, method_not_allowed, request_entity_too_large, ...).
        code = (error.name or ErrorCode.ERROR).lower().replace(" ", "_")
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
        translated = translate(error)
        if translated is not None:
            log.warning("%s on %s %s: %s", type(translated).__name__, request.method, request.path, _first_line(error))
            if not isinstance(translated, DatabaseUnavailable):
                _discard_failed_transaction()
            return _domain_response(translated)
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _render(500, ErrorCode.INTERNAL_ERROR, "Something went wrong on our side. It has been logged.")


def _discard_failed_transaction() -> None:
    """Roll back the request's failed transaction (a cancelled statement), so the error page may query again."""
    try:
        discard_changes()
    except Exception:  # the page then renders as it can; the teardown rolls back again
        log.debug("rolling back the failed transaction failed", exc_info=True)


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__
