"""No secret in a log line: tokens and link signatures in logged addresses are replaced by a placeholder.

E-mail verification, password reset, e-mail change and invitation links carry their token in the query string,
download and upload links their signature (``sig``, S3's ``X-Amz-Signature``), and an OpenID Connect callback its
authorization ``code``. Every server logs the request line: werkzeug's development server, gunicorn's access log
(request line and ``Referer``), and the app's own messages. Whoever can read the logs could otherwise reset a
password or download a licensed file.

:func:`install_redaction` wraps the process's log record factory, so every record from every logger (``werkzeug``,
``gunicorn.access``, ``marketplace.*``, libraries) is redacted once, when it is made, before any handler or
formatter sees it. A record without anything to redact is left exactly as it was (message and arguments).

Log lines are rendered by structlog (:func:`configure_logging`): with ``LOG_FORMAT=json`` (production's default)
one JSON object per line on stderr, else readable text. Records of the standard library's loggers (the app's own,
werkzeug, SQLAlchemy, boto3, …) go through the same renderer (structlog's ``ProcessorFormatter``), and every
string of every record is redacted again just before it is rendered (:func:`redact_event`), so a structured field
(an access line's path, an exception's text) cannot carry a secret either.

Each request (:func:`init_app`) gets a request id, taken from a sane incoming ``X-Request-ID`` (at most 128 of
``A-Z a-z 0-9 . _ -``) or made fresh, echoed in the response's ``X-Request-ID`` and carried by every record logged
while the request runs, with the ids of the user (a logged-in member or an API credential's user) and of the API
credential's organisation once known. The request ends with one access line (``event: "request"``): method,
route (the Flask endpoint), path (redacted; no query string), status and ``duration_ms``. Headers are never logged.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog
from flask import Flask, g, request
from werkzeug.wrappers import Response

PLACEHOLDER = "[redacted]"

#: Query parameters whose value is a secret (compared without case).
SECRET_PARAMETERS = (
    "token",
    "sig",
    "signature",
    "code",
    "access_token",
    "refresh_token",
    "id_token",
    "client_secret",
    "password",
    "x-amz-signature",
    "x-amz-credential",
    "x-amz-security-token",
)

_PARAMETER = re.compile(
    r"(?P<name>[?&;](?:" + "|".join(re.escape(p) for p in SECRET_PARAMETERS) + r")=)(?P<value>[^&;#\s\"'<>]+)",
    re.IGNORECASE,
)
#: A path segment that looks like a token: long, and mixing upper-case letters, lower-case letters and digits
#: (slugs are lower-case, digests are hex, ULIDs are 26 characters, so none of them is taken for one).
_SEGMENT = re.compile(r"(?<=/)[A-Za-z0-9_.~=-]{32,}(?=[/?#\s\"']|$)")


def _secret_looking(segment: str) -> bool:
    return any(c.isupper() for c in segment) and any(c.islower() for c in segment) and any(c.isdigit() for c in segment)


def _segment(match: re.Match[str]) -> str:
    return PLACEHOLDER if _secret_looking(match.group()) else match.group()


def redact(text: str) -> str:
    """``text`` with every secret query value and token-like path segment replaced by :data:`PLACEHOLDER`."""
    if "=" in text:  # every secret parameter is ``name=value``
        text = _PARAMETER.sub(lambda m: m.group("name") + PLACEHOLDER, text)
    if len(text) > 32 and "/" in text:  # a secret-looking segment is a slash and at least 32 more characters
        text = _SEGMENT.sub(_segment, text)
    return text


class _RedactingFactory:
    """A log record factory that redacts what the wrapped factory made."""

    def __init__(self, wrapped: Any) -> None:
        self.wrapped = wrapped

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = self.wrapped(*args, **kwargs)
        if isinstance(record.msg, Mapping):  # structlog's event dict, on its way to the formatter
            record.msg = _redacted(record.msg)
            return record
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: leave it for logging to report as it always does
            return record
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return record


def install_redaction() -> None:
    """Redact every log record made from now on in this process (idempotent)."""
    current = logging.getLogRecordFactory()
    if not isinstance(current, _RedactingFactory):
        logging.setLogRecordFactory(_RedactingFactory(current))


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {key: _redacted(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_redacted(item) for item in value)
    return value


def redact_event(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: every string of the record (message, fields, exception text) redacted."""
    for key, value in list(event_dict.items()):
        if not key.startswith("_"):  # structlog's own bookkeeping (the record, the logger) stays as it is
            event_dict[key] = _redacted(value)
    return event_dict


# --- structured logging --------------------------------------------------------------------------------------------

#: Processors every record passes, whether it came from structlog or from a standard library logger.
_SHARED: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def make_formatter(log_format: str) -> logging.Formatter:
    """The formatter that renders every record: one JSON object per line (``json``) or readable text."""
    renderer: Any = (
        structlog.processors.JSONRenderer(sort_keys=False)
        if log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_SHARED,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact_event,
            renderer,
        ],
    )


class _MarketplaceHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler :func:`configure_logging` installs (told apart from anyone else's when it is replaced)."""


def configure_logging(level: str, log_format: str) -> None:
    """Render every log record of the process with structlog, on stderr (idempotent).

    The handler goes onto the root logger unless someone else configured it first (a test runner, an embedding
    application): their handlers are left alone, and records still carry the request's fields.
    """
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_SHARED,
            redact_event,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    root = logging.getLogger()
    ours = [handler for handler in root.handlers if isinstance(handler, _MarketplaceHandler)]
    for handler in ours:
        root.removeHandler(handler)
    if root.handlers and not ours:
        return
    handler = _MarketplaceHandler(sys.stderr)
    handler.setFormatter(make_formatter(log_format))
    root.addHandler(handler)
    root.setLevel(level)
    install_redaction()


# --- the request's fields and its access line ----------------------------------------------------------------------

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")

access_log = structlog.stdlib.get_logger("marketplace.access")


def request_id_from(header: str | None) -> str:
    """The incoming request id when it is sane, else a fresh one (a uuid4 in hex)."""
    if header and _SANE_REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


def identify(*, user_id: int | None, organisation_id: int | None = None) -> None:
    """Name the request's user (and organisation) in every record logged from now on in this request."""
    structlog.contextvars.bind_contextvars(user_id=user_id, organisation_id=organisation_id)


def init_app(app: Flask) -> None:
    """Give every request an id (``X-Request-ID``) and end it with one access line."""

    def _begin() -> None:
        structlog.contextvars.clear_contextvars()
        g.request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
        g.request_started = time.perf_counter()
        structlog.contextvars.bind_contextvars(request_id=g.request_id)

    # First of all, so a request refused by another hook (rate limit, CSRF) has its id too.
    app.before_request_funcs.setdefault(None, []).insert(0, _begin)

    @app.after_request
    def _access_line(response: Response) -> Response:
        request_id = g.get("request_id") or request_id_from(None)
        response.headers[REQUEST_ID_HEADER] = request_id
        started = g.get("request_started")
        rule = request.url_rule
        access_log.info(
            "request",
            request_id=request_id,
            method=request.method,
            route=rule.endpoint if rule is not None else None,
            path=request.path,
            status=response.status_code,
            duration_ms=round((time.perf_counter() - started) * 1000, 1) if started is not None else None,
        )
        return response

    @app.teardown_request
    def _end(_exc: BaseException | None) -> None:
        structlog.contextvars.clear_contextvars()
