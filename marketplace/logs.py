"""No secret in a log line: tokens and link signatures in logged addresses are replaced by a placeholder.

E-mail verification, password reset, e-mail change and invitation links carry their token in the query string,
download and upload links their signature (``sig``, S3's ``X-Amz-Signature``), and an OpenID Connect callback its
authorization ``code``. Every server logs the request line: werkzeug's development server, gunicorn's access log
(request line and ``Referer``), and the app's own messages. Whoever can read the logs could otherwise reset a
password or download a licensed file.

:func:`install_redaction` wraps the process's log record factory, so every record from every logger (``werkzeug``,
``gunicorn.access``, ``marketplace.*``, libraries) is redacted once, when it is made, before any handler or
formatter sees it. A record without anything to redact is left exactly as it was (message and arguments).
"""

from __future__ import annotations

import logging
import re
from typing import Any

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
    text = _PARAMETER.sub(lambda m: m.group("name") + PLACEHOLDER, text)
    if "/" in text:
        text = _SEGMENT.sub(_segment, text)
    return text


class _RedactingFactory:
    """A log record factory that redacts what the wrapped factory made."""

    def __init__(self, wrapped: Any) -> None:
        self.wrapped = wrapped

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = self.wrapped(*args, **kwargs)
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
