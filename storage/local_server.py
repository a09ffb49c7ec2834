"""A plain WSGI application that serves :class:`~storage.local.LocalStorage` links: signed GET and PUT.

Mount it wherever ``LocalStorage.base_url`` points, e.g. with Werkzeug's ``DispatcherMiddleware`` under
``/storage``; it only looks at ``PATH_INFO`` (``/o/<key>``), so any ``SCRIPT_NAME`` prefix works.

* ``GET``/``HEAD`` on a download link streams the object with ``Content-Type``, ``Content-Disposition``
  (always an attachment), ``ETag``, ``Last-Modified`` and HTTP Range support (206 with ``Content-Range``,
  416 when unsatisfiable). With ``x_accel_redirect_prefix`` it answers with ``X-Accel-Redirect`` instead
  and lets nginx send the bytes (and handle ranges) from an ``internal`` location aliased to
  ``<root>/objects/``.
* ``PUT`` on an upload link stores the body (the whole file, or one part of a multipart upload) and
  answers 200 with the ``ETag`` the client passes to ``complete_upload``.
* Expired links get 403 ``Request has expired``; forged or tampered ones 403 ``Signature does not match``.
* With a ``reference_check``, every download link must carry a reference (signed into it) and the check must
  accept it before a byte is served: a refused reference gets 410 ``Gone`` with the check's reason, and a check
  that fails (its database is down) 503 with ``Retry-After``; the link is never served unchecked.
"""

from __future__ import annotations

import email.utils
import logging
import re
from collections.abc import Iterable, Iterator
from typing import BinaryIO, Final, Protocol
from urllib.parse import quote
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from storage.base import KiB
from storage.errors import (
    BadSignature,
    InvalidContentType,
    InvalidKey,
    LinkExpired,
    ObjectNotFound,
    StorageError,
    UploadError,
)
from storage.keys import content_disposition, validate_content_type
from storage.local import LocalStorage, SignedLink

__all__ = ["RangeNotSatisfiable", "ReferenceCheck", "make_wsgi_app", "parse_range"]

log = logging.getLogger(__name__)

_RANGE_SPEC = re.compile(r"(\d*)-(\d*)")
_DRAIN_LIMIT: Final = 1024 * KiB
_COMMON_HEADERS: Final = [
    ("X-Content-Type-Options", "nosniff"),
    ("Cache-Control", "private, no-store"),
]


class ReferenceCheck(Protocol):
    """Decides whether a download link's reference (what the application issued it under) still stands."""

    def __call__(self, reference: str) -> str | None:
        """``None`` to serve the file; otherwise the reason it is refused, shown to the link's holder."""
        ...


class RangeNotSatisfiable(Exception):
    """The Range header is valid but selects no byte of the object (answer 416)."""


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """Return the ``(first, last)`` byte positions (inclusive) a ``Range`` header asks for, or ``None``.

    ``None`` means "send the whole object": no header, another unit than ``bytes``, a malformed header or
    several ranges (which RFC 9110 lets a server ignore). Raises :class:`RangeNotSatisfiable` when the
    single range starts at or past the end, or is an empty suffix (``bytes=-0``).
    """
    if header is None:
        return None
    unit, _, spec = header.strip().partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    match = _RANGE_SPEC.fullmatch(spec.strip())
    if match is None or match.group(1) == match.group(2) == "":
        return None
    first_text, last_text = match.groups()
    if first_text == "":
        suffix = int(last_text)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable
        return max(0, size - suffix), size - 1
    first = int(first_text)
    if last_text != "" and int(last_text) < first:
        return None  # syntactically invalid: ignore the header
    if first >= size:
        raise RangeNotSatisfiable
    last = size - 1 if last_text == "" else min(int(last_text), size - 1)
    return first, last


class _FileIterator:
    """A WSGI response body: ``length`` bytes of ``file`` in chunks; the server calls :meth:`close`."""

    def __init__(self, file: BinaryIO, length: int, chunk_size: int) -> None:
        self._file = file
        self._remaining = length
        self._chunk_size = chunk_size

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        if self._remaining <= 0:
            raise StopIteration
        chunk = self._file.read(min(self._chunk_size, self._remaining))
        if not chunk:
            raise StopIteration
        self._remaining -= len(chunk)
        return chunk

    def close(self) -> None:
        self._file.close()


class _LocalStorageApp:
    def __init__(
        self,
        storage: LocalStorage,
        x_accel_redirect_prefix: str | None,
        chunk_size: int,
        reference_check: ReferenceCheck | None,
    ) -> None:
        self.storage = storage
        self.reference_check = reference_check
        self.x_accel_redirect_prefix = None if x_accel_redirect_prefix is None else x_accel_redirect_prefix.rstrip("/")
        self.chunk_size = chunk_size

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        try:
            # PEP 3333: PATH_INFO holds the percent-decoded bytes as latin-1 characters.
            path = str(environ.get("PATH_INFO", "")).encode("latin-1").decode("utf-8")
        except UnicodeError:
            return self._text(start_response, "400 Bad Request", "Malformed path.")
        if not path.startswith("/o/"):
            return self._text(start_response, "404 Not Found", "Not found.")
        key = path[3:]
        if method not in ("GET", "HEAD", "PUT"):
            return self._text(
                start_response, "405 Method Not Allowed", "Method not allowed.", [("Allow", "GET, HEAD, PUT")]
            )
        try:
            link = self.storage.verify_link(method, key, str(environ.get("QUERY_STRING", "")))
        except InvalidKey as exc:
            return self._refuse(environ, start_response, "400 Bad Request", str(exc))
        except LinkExpired:
            return self._refuse(environ, start_response, "403 Forbidden", "Request has expired")
        except BadSignature as exc:
            return self._refuse(environ, start_response, "403 Forbidden", str(exc))
        if method == "PUT":
            return self._put(environ, start_response, link)
        refusal = self._check_reference(environ, start_response, link)
        if refusal is not None:
            return refusal
        return self._get(environ, start_response, link, head=method == "HEAD")

    # -- helpers --------------------------------------------------------------------------------------

    @staticmethod
    def _text(
        start_response: StartResponse, status: str, message: str, extra: Iterable[tuple[str, str]] = ()
    ) -> list[bytes]:
        body = message.encode("utf-8")
        headers = [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
            *_COMMON_HEADERS,
            *extra,
        ]
        start_response(status, headers)
        return [body]

    def _refuse(
        self, environ: WSGIEnvironment, start_response: StartResponse, status: str, message: str
    ) -> list[bytes]:
        """Answer an error, first reading a small request body so a keep-alive connection stays usable."""
        length = _content_length(environ)
        if length is not None and 0 < length <= _DRAIN_LIMIT:
            stream = environ.get("wsgi.input")
            if stream is not None:
                stream.read(length)
        return self._text(start_response, status, message)

    # -- downloads -------------------------------------------------------------------------------------

    def _check_reference(
        self, environ: WSGIEnvironment, start_response: StartResponse, link: SignedLink
    ) -> list[bytes] | None:
        """The refusal to send when the application no longer stands behind the link, else ``None``."""
        if self.reference_check is None:
            return None
        if link.reference is None:
            return self._refuse(
                environ, start_response, "403 Forbidden", "This link names no license; ask for a new one."
            )
        try:
            reason = self.reference_check(link.reference)
        except Exception:  # the check's own store is down: refuse rather than serve unchecked
            log.exception("checking download link reference %s failed", link.reference)
            return self._text(
                start_response,
                "503 Service Unavailable",
                "The link cannot be checked right now; try again shortly.",
                [("Retry-After", "30")],
            )
        if reason is not None:
            return self._text(start_response, "410 Gone", reason)
        return None

    def _get(
        self, environ: WSGIEnvironment, start_response: StartResponse, link: SignedLink, *, head: bool
    ) -> Iterable[bytes]:
        try:
            file, info = self.storage.open_with_info(link.key)
        except ObjectNotFound:
            return self._text(start_response, "404 Not Found", "Not found.")
        except InvalidKey as exc:
            return self._text(start_response, "400 Bad Request", str(exc))
        try:
            content_type = _safe_content_type(link.content_type) or _safe_content_type(info.content_type)
            headers = [
                ("Content-Type", content_type or "application/octet-stream"),
                # Always an attachment: the link is served from the application's own origin.
                ("Content-Disposition", content_disposition(link.filename)),
                ("Content-Security-Policy", "default-src 'none'; sandbox"),
                *_COMMON_HEADERS,
            ]
            if self.x_accel_redirect_prefix is not None:
                file.close()
                target = f"{self.x_accel_redirect_prefix}/{quote(link.key, safe='/')}"
                start_response("200 OK", [*headers, ("X-Accel-Redirect", target)])
                return []
            etag = f'"{info.etag}"'
            last_modified = email.utils.format_datetime(info.last_modified, usegmt=True) if info.last_modified else None
            headers += [("Accept-Ranges", "bytes"), ("ETag", etag)]
            if last_modified:
                headers.append(("Last-Modified", last_modified))
            byte_range: tuple[int, int] | None = None
            if_range = environ.get("HTTP_IF_RANGE")
            if if_range is None or if_range.strip() in (etag, last_modified):
                try:
                    byte_range = parse_range(environ.get("HTTP_RANGE"), info.size)
                except RangeNotSatisfiable:
                    file.close()
                    return self._text(
                        start_response,
                        "416 Range Not Satisfiable",
                        "Requested range not satisfiable.",
                        [("Content-Range", f"bytes */{info.size}")],
                    )
            if byte_range is None:
                status, first, length = "200 OK", 0, info.size
            else:
                first, last = byte_range
                status, length = "206 Partial Content", last - first + 1
                headers.append(("Content-Range", f"bytes {first}-{last}/{info.size}"))
            headers.append(("Content-Length", str(length)))
            start_response(status, headers)
            if head or length == 0:
                file.close()
                return []
            file.seek(first)
            return _FileIterator(file, length, self.chunk_size)
        except BaseException:
            file.close()
            raise

    # -- uploads ---------------------------------------------------------------------------------------

    def _put(self, environ: WSGIEnvironment, start_response: StartResponse, link: SignedLink) -> list[bytes]:
        length = _content_length(environ)
        if length is None:
            return self._text(start_response, "411 Length Required", "A Content-Length header is required.")
        if link.length is not None and length != link.length:
            status = "413 Content Too Large" if length > link.length else "400 Bad Request"
            return self._refuse(environ, start_response, status, f"The body must be exactly {link.length} bytes.")
        stream = environ["wsgi.input"]
        try:
            if link.op == "part":
                if link.part_number is None:
                    return self._refuse(environ, start_response, "400 Bad Request", "The link names no part.")
                try:
                    session = self.storage.session_for_link(link)
                except UploadError as exc:
                    return self._refuse(environ, start_response, "404 Not Found", str(exc))
                etag = self.storage.write_part(session, link.part_number, stream).etag
            else:
                etag = self.storage.put_exact(link.key, stream, length, content_type=link.content_type).etag or ""
        except (UploadError, InvalidKey, InvalidContentType) as exc:
            return self._text(start_response, "400 Bad Request", str(exc))
        except StorageError as exc:
            return self._text(start_response, "500 Internal Server Error", f"Could not store the upload: {exc}")
        start_response(
            "200 OK",
            [
                ("ETag", f'"{etag}"'),
                ("Content-Length", "0"),
                ("Access-Control-Expose-Headers", "ETag"),
                *_COMMON_HEADERS,
            ],
        )
        return []


def _content_length(environ: WSGIEnvironment) -> int | None:
    raw = str(environ.get("CONTENT_LENGTH") or "").strip()
    if not raw.isdigit():
        return None
    return int(raw)


def _safe_content_type(value: str | None) -> str | None:
    try:
        return validate_content_type(value)
    except InvalidContentType:
        return None


def make_wsgi_app(
    storage: LocalStorage,
    *,
    x_accel_redirect_prefix: str | None = None,
    chunk_size: int = 256 * KiB,
    reference_check: ReferenceCheck | None = None,
) -> WSGIApplication:
    """Return the WSGI application serving ``storage``'s signed links (see the module docstring).

    ``x_accel_redirect_prefix`` (e.g. ``"/_protected_storage"``) makes verified downloads answer with an
    ``X-Accel-Redirect`` to ``<prefix>/<key>`` for nginx to serve; ``chunk_size`` is the streaming chunk.
    ``reference_check`` is asked about each download link's reference before it is served (see
    :class:`ReferenceCheck`); without one, any genuine unexpired link is served.
    """
    return _LocalStorageApp(storage, x_accel_redirect_prefix, chunk_size, reference_check)
