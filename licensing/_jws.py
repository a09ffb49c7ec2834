"""The compact-JWS plumbing of certificates: strict base64url, strict JSON and header segments, without overhead.

These helpers sit on the hot path of :func:`~licensing.certificates.issue_certificate` and
:func:`~licensing.certificates.verify_certificate`, whose cost should be that of the Ed25519 operation itself, so
they call a vectorised base64 decoder (pybase64), orjson and a prebuilt :class:`json.JSONDecoder` directly. What
they accept is exactly what the straightforward versions accept:

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
import pybase64

_URL_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
#: The 6-bit value of each base64url byte, to check that unused trailing bits are zero (63 for other bytes).
VALUE = bytes(_URL_ALPHABET.find(bytes([b])) & 0x3F for b in range(256))
_TO_URL = bytes.maketrans(b"+/", b"-_")
#: By ``len(segment) % 4``: the padding that completes an unpadded segment and the mask of its last character's
#: unused bits.
PADDING = (b"", b"", b"==", b"=")
UNUSED_BITS = (0, 0, 0x0F, 0x03)
#: ``pybase64.b64decode(data, altchars, validate)``: a vectorised decoder with the standard library's semantics.
DECODE: Callable[[bytes, bytes, bool], bytes] = pybase64.b64decode
URL_CHARS = b"-_"


def b64encode(data: bytes) -> bytes:
    """Unpadded base64url of ``data``."""
    return binascii.b2a_base64(data, newline=False).translate(_TO_URL).rstrip(b"=")


def b64decode(segment: bytes) -> bytes | None:
    """The bytes of a strict, canonical, unpadded base64url segment; None for anything else.

    With ``altchars`` the decoder also takes ``+`` and ``/``, and it takes ``=`` as padding: those are refused here
    first, as are lengths that no unpadded encoding has and unused trailing bits that are not zero. What is left
    holds base64url characters only when the decoder (``validate``) finds no other byte.
    """
    size = len(segment)
    remainder = size & 3
    if size == 0 or remainder == 1 or b"+" in segment or b"/" in segment or b"=" in segment:
        return None
    if remainder:
        if VALUE[segment[-1]] & UNUSED_BITS[remainder]:
            return None
        segment += PADDING[remainder]
    try:
        return DECODE(segment, URL_CHARS, True)
    except ValueError:  # binascii.Error: a byte outside the alphabet
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
