"""The record schema's compiled fast path accepts exactly what the schema accepts, with the same output.

For every input: either the fast path gives up (``Fallback``: the schema then loads the record and words every
error), or it returns what ``DatasetRecordSchema().load`` returns, key for key and in the same order. Checked on the
benchmark's generated catalog (JSON Lines and CSV shapes, every one of which must take the fast path) and on every
field of a full record set in turn to a pool of awkward values.
"""

from __future__ import annotations

import copy
import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from marketplace.catalog import fast_records
from marketplace.catalog.flat_records import unflatten
from marketplace.catalog.schemas import DatasetRecordSchema, load_record, record_fields

ROOT = Path(__file__).resolve().parents[3]


def _bench() -> Any:
    spec = importlib.util.spec_from_file_location("bench_import_records", ROOT / "bench" / "bench_import.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)
    spec.loader.exec_module(module)
    return module


BENCH = _bench()
FAST = fast_records.compile_schema(DatasetRecordSchema())
SCHEMA = DatasetRecordSchema()


def _shape(value: Any) -> Any:
    """The value with every dict's key order made visible (``==`` ignores it)."""
    if isinstance(value, dict):
        return [(k, _shape(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [_shape(v) for v in value]
    return (type(value).__name__, value)


def _same_as_schema(data: Any) -> bool:
    """Assert the fast path agrees with the schema on ``data``; true when it took the fast path."""
    try:
        expected = SCHEMA.load(copy.deepcopy(data))
    except ValidationError:
        expected = None
    try:
        got = FAST(copy.deepcopy(data))
    except fast_records.Fallback:
        return False
    assert expected is not None, f"the fast path accepted what the schema rejects: {data!r}"
    assert _shape(got) == _shape(expected)
    return True


def _records() -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if v is not None} for r in BENCH.catalog_records(150)]


def _csv_records() -> list[dict[str, Any]]:
    import csv
    import io

    text = BENCH.as_csv(BENCH.catalog_records(150, revision=1)).decode()
    return [unflatten(row, split=lambda v: v.split("|")) for row in csv.DictReader(io.StringIO(text))]


def test_every_generated_record_takes_the_fast_path_with_the_schemas_output() -> None:
    for record in _records() + _csv_records():
        assert _same_as_schema(record), record


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found: list[tuple[Any, ...]] = []
    if isinstance(value, dict):
        for key, inner in value.items():
            found.append((*prefix, key))
            found.extend(_paths(inner, (*prefix, key)))
    elif isinstance(value, list):
        for index, inner in enumerate(value[:2]):
            found.append((*prefix, index))
            found.extend(_paths(inner, (*prefix, index)))
    return found


def _set(record: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(record)
    target: Any = out
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return out


AWKWARD: list[Any] = [
    None,
    "",
    " ",
    "x",
    "ab",
    "abc",
    "a" * 81,
    "a" * 301,
    "0",
    "12",
    "-1",
    "1.5",
    " 7 ",
    "1_000",
    "nan",
    "inf",
    "true",
    "yes",
    "off",
    "2024-02-30",
    "2024-01-01",
    "en",
    "EN",
    "de-ch",
    "xx-zz",
    "de",
    "DE",
    "audio",
    "text",
    "none",
    "https://example.org/a",
    "ftp://example.org/a",
    "a,b",
    "text/csv",
    "eur",
    0,
    1,
    -1,
    7,
    10**16,
    1.5,
    float("nan"),
    float("inf"),
    True,
    False,
    [],
    ["en", "en"],
    ["audio", "text"],
    ["none", "pseudonymisation"],
    [None],
    [1],
    {},
    {"unknown": 1},
    ("en",),
]


def test_every_field_set_to_awkward_values_agrees_with_the_schema() -> None:
    base = _records()[3]
    taken = 0
    for path in _paths(base):
        for value in AWKWARD:
            taken += _same_as_schema(_set(base, path, value))
    unknown = {**base, "no_such_field": 1}
    assert not _same_as_schema(unknown)
    missing_title = {k: v for k, v in base.items() if k != "title"}
    assert not _same_as_schema(missing_title)
    assert taken > 100  # the fast path is really exercised, not only given up on


@pytest.mark.parametrize(
    "record",
    [
        {"title": "Only a title"},
        {"title": "Tags", "tags": "one"},
        {"title": "Tags", "tags": ["b", "a", "b"]},
        {"title": "Dates", "collection_start": "2024-05-01", "collection_end": "2024-01-01"},
        {"title": "Modality", "modality": "text", "modality_details": {"audio": {"hours": 3}}},
        {"title": "Agreement", "agreement_value": 0.5},
        {"title": "Prices", "service_price_min": 10, "service_price_max": 5, "service_price_currency": "EUR"},
        {"title": "Prices", "service_price_min": "10", "service_price_currency": None},
        {"title": "Versions", "versions": [{"version": "1"}, {"version": "1"}]},
        {"title": "Nested not a dict", "ai_act": []},
        {"title": "List not a list", "sources": {"name": "x"}},
        {"title": "Personal", "personal_data": "no", "special_categories": ["health"]},
        {"title": "Annotation", "annotation_methods": ["none", "expert"]},
        {"title": 5},
        {"title": b"bytes"},
        {"title": None},
        {"title": "Ext", "external_id": "-starts-with-hyphen"},
        {"title": "Ext", "external_id": "ok:id/1.2"},
    ],
)
def test_edge_records_agree_with_the_schema(record: dict[str, Any]) -> None:
    try:
        SCHEMA.load(copy.deepcopy(record))
        valid = True
    except ValidationError:
        valid = False
    assert _same_as_schema(record) == valid  # each valid one here takes the fast path


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(sorted(DatasetRecordSchema().load_fields)),
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(-5, 10**6),
            st.floats(allow_nan=True),
            st.text(max_size=12),
            st.sampled_from(AWKWARD[:40]),
            st.lists(st.sampled_from(AWKWARD[:40]), max_size=3),
        ),
        max_size=6,
    )
)
def test_random_records_agree_with_the_schema(extra: dict[str, Any]) -> None:
    _same_as_schema({"title": "A random record", **extra})


def test_load_record_words_errors_as_the_schema_does() -> None:
    bad = {**_records()[0], "languages": ["en", "xx-zz"], "title": "ab"}
    with pytest.raises(ValidationError) as fast_error:
        load_record(bad)
    with pytest.raises(ValidationError) as schema_error:
        record_fields().load(bad)
    assert fast_error.value.messages == schema_error.value.messages
