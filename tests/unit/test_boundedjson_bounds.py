"""The quick bounds check agrees with the plain walk: a document within both bounds passes, any other is refused
with the message of the first bound the walk finds broken."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketplace import boundedjson

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=3),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=2), children, max_size=4),
    max_leaves=40,
)


def _walk_within(value: Any, max_depth: int, max_values: int) -> bool:
    """The reference: visit every value, count it, refuse a non-empty container at the deepest level."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    count = 0
    while stack:
        item, depth = stack.pop()
        count += 1
        if count > max_values:
            return False
        children: Any = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        if depth >= max_depth and children:
            return False
        stack.extend((child, depth + 1) for child in children)
    return True


@settings(max_examples=300, deadline=None)
@given(JSON, st.integers(1, 6), st.integers(1, 60))
def test_the_quick_check_agrees_with_the_walk(value: Any, max_depth: int, max_values: int) -> None:
    assert boundedjson._within(value, max_depth, max_values) == _walk_within(value, max_depth, max_values)
    if _walk_within(value, max_depth, max_values):
        boundedjson.check_bounds(value, max_depth=max_depth, max_values=max_values)
    else:
        with pytest.raises(boundedjson.JsonTooComplex):
            boundedjson.check_bounds(value, max_depth=max_depth, max_values=max_values)


def test_the_first_broken_bound_is_named() -> None:
    with pytest.raises(boundedjson.JsonTooComplex, match="more than 3 values"):
        boundedjson.check_bounds([1, 2, 3], max_values=3)
    with pytest.raises(boundedjson.JsonTooComplex, match="nested more than 2 levels deep"):
        boundedjson.check_bounds([[[1]]], max_depth=2)
