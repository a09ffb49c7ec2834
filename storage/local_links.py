"""Signed links of the local backend: what a link may do, signed with HMAC-SHA256, and checked on every request.

A link looks like ``{base_url}/o/<key>?op=get&exp=<unix time>&fn=...&ref=...&sig=...``. The signature covers the
HTTP method, the key and every query parameter, so none can be changed (or added, or removed) without the server
refusing the link. ``ref`` is the reference the application gave when it issued a download link (for the
marketplace, the audit row of the link); being signed, it cannot be swapped for another one, so the server can ask
the application whether that reference still stands before it serves a byte.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final
from urllib.parse import parse_qsl, quote, urlencode

from storage.errors import BadSignature, LinkExpired
from storage.keys import expiry_seconds, validate_key

__all__ = ["MAX_REFERENCE_LENGTH", "LinkSigner", "SignedLink", "validate_reference"]

#: Query parameters a link may carry besides ``sig``.
_LINK_PARAMS: Final = frozenset({"op", "exp", "fn", "ct", "uid", "pn", "len", "ref"})
_METHOD_FOR_OP: Final = {"get": "GET", "put": "PUT", "part": "PUT"}
MAX_REFERENCE_LENGTH: Final = 128


@dataclass(frozen=True, slots=True)
class SignedLink:
    """The verified content of a link: what the holder may do, on which key, until when, under which reference."""

    op: str
    key: str
    expires: datetime
    filename: str | None = None
    content_type: str | None = None
    upload_id: str | None = None
    part_number: int | None = None
    length: int | None = None
    reference: str | None = None


def validate_reference(reference: str | None) -> str | None:
    """Return ``reference`` when it is 1 to 128 visible ASCII characters (or ``None``); raise ValueError otherwise."""
    if reference is None:
        return None
    if not isinstance(reference, str) or not 1 <= len(reference) <= MAX_REFERENCE_LENGTH:
        raise ValueError("A link reference must be 1 to 128 characters.")
    if not all("!" <= c <= "~" for c in reference):
        raise ValueError("A link reference must be visible ASCII characters only.")
    return reference


class LinkSigner:
    """Signs links with ``secret`` and verifies them against ``clock`` (the time expiry is judged by)."""

    def __init__(self, secret: bytes, clock: Callable[[], datetime]) -> None:
        self._secret = secret
        self._clock = clock

    def _signature(self, method: str, key: str, params: Mapping[str, str]) -> str:
        message = json.dumps(["v1", method, key, sorted(params.items())], separators=(",", ":"))
        mac = hmac.new(self._secret, message.encode("utf-8"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")

    def sign(self, base_url: str, op: str, key: str, expires_in: timedelta, extra: Mapping[str, str | None]) -> str:
        """The link for ``op`` on ``key`` valid for ``expires_in``, carrying the ``extra`` parameters that are set."""
        seconds = expiry_seconds(expires_in)
        params = {"op": op, "exp": str(int(self._clock().timestamp()) + seconds)}
        params.update({name: value for name, value in extra.items() if value is not None})
        params["sig"] = self._signature(_METHOD_FOR_OP[op], key, params)
        return f"{base_url}/o/{quote(key, safe='/')}?{urlencode(params, quote_via=quote)}"

    def verify(self, method: str, key: str, query: str) -> SignedLink:
        """Check a link's signature and expiry and return what it grants.

        ``method`` is the HTTP method (HEAD counts as GET), ``key`` the decoded key from the path and
        ``query`` the raw query string. Raises :class:`~storage.errors.BadSignature` for a missing, forged or
        tampered signature (or a link used with the wrong method), :class:`~storage.errors.LinkExpired` for a
        genuine but expired link, and :class:`~storage.errors.InvalidKey` for a malformed key.
        """
        validate_key(key)
        method = "GET" if method.upper() == "HEAD" else method.upper()
        pairs = parse_qsl(query, keep_blank_values=True)
        params = dict(pairs)
        if len(params) != len(pairs) or "sig" not in params or not set(params) - {"sig"} <= _LINK_PARAMS:
            raise BadSignature("Malformed link: missing signature, or unknown or repeated parameters.")
        signature = params.pop("sig")
        if _METHOD_FOR_OP.get(params.get("op", "")) != method:
            raise BadSignature(f"This link does not allow {method} requests.")
        expected = self._signature(method, key, params)
        if not hmac.compare_digest(signature.encode("ascii", "replace"), expected.encode("ascii")):
            raise BadSignature("Signature does not match.")
        try:
            expires = datetime.fromtimestamp(int(params["exp"]), tz=UTC)
            part_number = int(params["pn"]) if "pn" in params else None
            length = int(params["len"]) if "len" in params else None
        except (KeyError, ValueError, OverflowError, OSError):
            raise BadSignature("Malformed link parameters.") from None
        if self._clock() > expires:
            raise LinkExpired("Request has expired")
        return SignedLink(
            op=params["op"],
            key=key,
            expires=expires,
            filename=params.get("fn"),
            content_type=params.get("ct"),
            upload_id=params.get("uid"),
            part_number=part_number,
            length=length,
            reference=params.get("ref"),
        )
