"""JSON from outside, parsed within bounds: a document nested too deeply or holding too many values is refused.

Python's parser recurses once per nesting level, and so do marshmallow, ``jsonify`` and every walk over the result:
a request body of two thousand nested arrays would otherwise end in ``RecursionError`` somewhere (a 500) instead of
a clear refusal. :func:`loads` turns both that and any document over :data:`MAX_DEPTH` levels or
:data:`MAX_VALUES` values into :class:`JsonTooComplex`, which callers report as bad input.
"""

from __future__ import annotations

import json
from typing import Any

#: The deepest nesting accepted. Listing records nest four levels (``versions.0.files.0.path``); 64 leaves room for
#: any honest document while staying far below the interpreter's recursion limit.
MAX_DEPTH = 64
#: The most values (objects, arrays, strings, numbers...) one document may hold: a version's manifest of 100,000
#: files is about 600,000, while thirty-two megabytes of ``[0,0,...]`` would be sixteen million Python objects.
MAX_VALUES = 2_000_000


class JsonTooComplex(ValueError):
    """The document is valid JSON but nested deeper than :data:`MAX_DEPTH` or larger than :data:`MAX_VALUES`."""

    def __init__(self, message: str, *, too_deep: bool) -> None:
        super().__init__(message)
        self.message = message
        self.too_deep = too_deep


def _too_deep(max_depth: int) -> JsonTooComplex:
    return JsonTooComplex(f"nested more than {max_depth} levels deep", too_deep=True)


def check_bounds(value: Any, *, max_depth: int | None = None, max_values: int | None = None) -> None:
    """Raise :class:`JsonTooComplex` when ``value`` nests deeper than ``max_depth`` or holds over ``max_values``
    (default: :data:`MAX_DEPTH` and :data:`MAX_VALUES`).

    Walks with an explicit stack, never recursion, so it is safe on any input.
    """
    max_depth = MAX_DEPTH if max_depth is None else max_depth
    max_values = MAX_VALUES if max_values is None else max_values
    if _within(value, max_depth, max_values):
        return
    # Over a bound: the walk below finds which one first, and says so.
    stack: list[tuple[Any, int]] = [(value, 1)]
    count = 0
    while stack:
        item, depth = stack.pop()
        count += 1
        if count > max_values:
            raise JsonTooComplex(f"holds more than {max_values:,} values", too_deep=False)
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth >= max_depth and children:
            raise _too_deep(max_depth)
        stack.extend((child, depth + 1) for child in children)


def _within(value: Any, max_depth: int, max_values: int) -> bool:
    """True when ``value`` is within both bounds (what :func:`check_bounds` checks, counting a container's plain
    values by its length rather than visiting each: a listing record is mostly strings and numbers)."""
    if not isinstance(value, dict | list):
        return max_values >= 1
    count = 1
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children: Any = item.values() if isinstance(item, dict) else item
        if not children:
            continue
        if depth >= max_depth:
            return False
        count += len(children)
        if count > max_values:
            return False
        deeper = depth + 1
        for child in children:
            if isinstance(child, dict | list):
                stack.append((child, deeper))
    return True


def loads(text: str | bytes, *, max_depth: int | None = None, max_values: int | None = None) -> Any:
    """``json.loads(text)`` within bounds.

    Raises :class:`json.JSONDecodeError` (or :class:`UnicodeDecodeError`) for text that is not JSON, and
    :class:`JsonTooComplex` for a document nested deeper than ``max_depth`` or holding more than ``max_values``
    values, including one too deep for the parser itself.
    """
    try:
        value = json.loads(text)
    except RecursionError:
        raise _too_deep(MAX_DEPTH if max_depth is None else max_depth) from None
    check_bounds(value, max_depth=max_depth, max_values=max_values)
    return value


def has_nul(value: Any) -> bool:
    """True when a string anywhere in ``value`` (keys included) holds a NUL character, which PostgreSQL refuses."""
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return False
