"""The compact-JWS plumbing of certificates: strict base64url, strict JSON and header segments, without overhead.

These helpers sit on the hot path of :func:`~licensing.certificates.issue_certificate` and
:func:`~licensing.certificates.verify_certificate`, whose cost should be that of the Ed25519 operation itself, so
they call :mod:`binascii` and a prebuilt :class:`json.JSONDecoder` directly. What they accept is exactly what the
straightforward versions accept:

* :func:`b64decode` takes the bytes of one segment and returns its bytes only when the segment is non-empty, uses
  the base64url alphabet alone (no ``+``, ``/``, ``=`` or whitespace) and is the canonical encoding of its bytes
  (unused trailing bits are zero), else None.
* :func:`json_object` returns a JSON object only when the text is UTF-8, has no duplicate member at any depth and no
  ``NaN``/``Infinity``, else None. A certificate's own payload (compact, sorted members) is read by orjson and
  accepted when orjson writes the parsed object back to exactly the same bytes: text that is the serialisation of
  an object can hold no duplicate member nor a constant. Anything else goes through the strict decoder.
"""

from __future__ import annotations

import binascii
import json
from collections.abc import Callable
from typing import Any

import orjson

_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
#: base64url -> base64 for ``bytes.translate``; the characters that are not base64url (``+``, ``/`` and ``=``) become
#: ``!``, which :func:`b64decode` refuses. One-to-one on base64url and dots, so it may be applied to a whole token.
TO_STANDARD = bytes.maketrans(b"-_+/=", b"+/!!!")
#: The 6-bit value of each (standard alphabet) byte, to check that unused trailing bits are zero.
_VALUE = bytes(_ALPHABET.find(bytes([b])) & 0x3F for b in range(256))
_TO_URL = bytes.maketrans(b"+/", b"-_")
_PADDING = (b"", b"", b"==", b"=")
_UNUSED_BITS = (0, 0, 0x0F, 0x03)


def b64encode(data: bytes) -> bytes:
    """Unpadded base64url of ``data``."""
    return binascii.b2a_base64(data, newline=False).translate(_TO_URL).rstrip(b"=")


def b64decode(standard: bytes) -> bytes | None:
    """The bytes of a strict, canonical, unpadded base64url segment (already translated with :data:`TO_STANDARD`);
    None for anything else."""
    size = len(standard)
    remainder = size & 3
    if size == 0 or remainder == 1:
        return None
    if remainder:
        if _VALUE[standard[-1]] & _UNUSED_BITS[remainder]:
            return None
        standard += _PADDING[remainder]
    try:
        return binascii.a2b_base64(standard, strict_mode=True)
    except binascii.Error:
        return None


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate member")
    return result


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)


#: The C scanner behind ``_DECODER.decode``: (value, end) of the JSON value at an index.
_SCAN: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]


def json_object(raw: bytes) -> dict[str, Any] | None:
    """The JSON object ``raw`` holds (UTF-8, no duplicate members, no NaN or Infinity), or None.

    Accepts what ``json.loads`` accepts; text without surrounding whitespace skips the decoder's whitespace scans.
    """
    try:
        fast = orjson.loads(raw)
    except orjson.JSONDecodeError:
        fast = None
    if fast.__class__ is dict and orjson.dumps(fast, option=orjson.OPT_SORT_KEYS) == raw:
        return fast
    try:
        text = raw.decode("utf-8")
        try:
            value, end = _SCAN(text, 0)
        except StopIteration:
            end = -1
        if end != len(text):
            value = _DECODER.decode(text)
    except (UnicodeDecodeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def header_segment(header: dict[str, Any]) -> bytes:
    """The encoded protected header, as joserfc writes it (compact JSON in member order, ASCII only)."""
    return b64encode(json.dumps(header, ensure_ascii=True, separators=(",", ":")).encode("ascii"))
