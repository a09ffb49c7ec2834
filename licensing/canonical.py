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


def canonical_json(value: Any) -> bytes:
    """Return the canonical UTF-8 JSON bytes of ``value``.

    Two values that are equal as JSON (same members, any key order) give identical bytes.
    Raises :class:`CanonicalJSONError` for floats, non-string keys, huge integers or non-JSON types.
    """
    out: list[str] = []
    _write(value, "$", out)
    return "".join(out).encode("utf-8")


def sha256_hex(value: Any) -> str:
    """Return the lowercase hex SHA-256 of the canonical JSON of ``value``."""
    return hashlib.sha256(canonical_json(value)).hexdigest()
