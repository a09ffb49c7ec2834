"""Canonical JSON (RFC 8785 style) and the SHA-256 hash used for terms.

The canonical form is: object members sorted by key (compared as UTF-16 code units, as RFC 8785
requires), no insignificant whitespace, strings escaped the way ECMAScript ``JSON.stringify`` does,
encoded as UTF-8. Only ``None``, booleans, integers within the IEEE-754 safe range (|n| < 2**53),
strings, lists/tuples and string-keyed mappings are accepted: floats are refused, so a hash never
depends on how a number happens to be printed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from json.encoder import encode_basestring
from typing import Any

from .errors import CanonicalJSONError

_MAX_SAFE_INTEGER = 2**53 - 1


def _utf16_key(key: str) -> bytes:
    return key.encode("utf-16-be", "surrogatepass")


def _string(value: str, path: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise CanonicalJSONError(f"string at {path} is not valid Unicode (lone surrogate)") from exc
    return encode_basestring(value)  # what json.dumps(value, ensure_ascii=False) returns, without its overhead


def _write(value: Any, path: str, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        if abs(value) > _MAX_SAFE_INTEGER:
            raise CanonicalJSONError(f"integer at {path} is outside the interoperable range (|n| < 2**53)")
        out.append(str(int(value)))
    elif isinstance(value, float):
        raise CanonicalJSONError(f"float at {path}: canonical terms use integers only")
    elif isinstance(value, str):
        out.append(_string(value, path))
    elif isinstance(value, Mapping):
        keys = list(value.keys())
        for key in keys:
            if not isinstance(key, str):
                raise CanonicalJSONError(f"object key {key!r} at {path} is not a string")
        out.append("{")
        for index, key in enumerate(sorted(keys, key=_utf16_key)):
            if index:
                out.append(",")
            out.append(_string(key, path))
            out.append(":")
            _write(value[key], f"{path}.{key}", out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _write(item, f"{path}[{index}]", out)
        out.append("]")
    else:
        raise CanonicalJSONError(f"value of type {type(value).__name__} at {path} is not JSON")


class _Unusual(Exception):
    """Raised by :func:`_write_plain` for anything it does not handle itself (see there)."""


def _plain_string(value: str) -> str:
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise _Unusual from exc
    return encode_basestring(value)


def _write_plain(value: Any, out: list[str]) -> None:
    """:func:`_write` for values made of the exact built-in types only (``dict`` with ``str`` keys, ``list``,
    ``tuple``, ``str``, ``int``, ``bool``, ``None``), without carrying a path for error messages: the same bytes,
    several times faster. Raises :class:`_Unusual` for anything else (a subclass such as an enum, another
    mapping, a float, an error of any kind), and :func:`canonical_json` then starts over with :func:`_write`,
    which decides and words the error."""
    kind = type(value)
    if kind is str:
        out.append(_plain_string(value))
    elif kind is dict:
        keys = list(value)
        ascii_keys = True
        for key in keys:
            if type(key) is not str:
                raise _Unusual
            ascii_keys = ascii_keys and key.isascii()
        # Sorting ASCII keys by code point is sorting them by UTF-16 code unit.
        out.append("{")
        for index, key in enumerate(sorted(keys) if ascii_keys else sorted(keys, key=_utf16_key)):
            if index:
                out.append(",")
            out.append(_plain_string(key))
            out.append(":")
            _write_plain(value[key], out)
        out.append("}")
    elif value is None:
        out.append("null")
    elif kind is bool:
        out.append("true" if value else "false")
    elif kind is int:
        if abs(value) > _MAX_SAFE_INTEGER:
            raise _Unusual
        out.append(str(value))
    elif kind is list or kind is tuple:
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _write_plain(item, out)
        out.append("]")
    else:
        raise _Unusual


def canonical_json(value: Any) -> bytes:
    """Return the canonical UTF-8 JSON bytes of ``value``.

    Two values that are equal as JSON (same members, any key order) give identical bytes.
    Raises :class:`CanonicalJSONError` for floats, non-string keys, huge integers or non-JSON types.
    """
    out: list[str] = []
    try:
        _write_plain(value, out)
    except (_Unusual, RecursionError):
        out = []
        _write(value, "$", out)
    return "".join(out).encode("utf-8")


def sha256_hex(value: Any) -> str:
    """Return the lowercase hex SHA-256 of the canonical JSON of ``value``."""
    return hashlib.sha256(canonical_json(value)).hexdigest()
