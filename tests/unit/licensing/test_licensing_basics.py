"""Canonical JSON, ISO 8601 durations, UTC handling and ULIDs."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from licensing import CanonicalJSONError, Duration, LicensingError, TermsError, canonical_json, new_ulid, sha256_hex
from licensing.duration import format_datetime, parse_datetime, require_utc
from licensing.ulid import is_ulid, ulid_time


def test_canonical_json_shape() -> None:
    value = {"b": [1, True, None, "x"], "a": {"z": False, "é": 'ü\n"', "A": -3}}
    assert canonical_json(value) == '{"a":{"A":-3,"z":false,"é":"ü\\n\\""},"b":[1,true,null,"x"]}'.encode()
    assert sha256_hex(value) == hashlib.sha256(canonical_json(value)).hexdigest()


def test_canonical_json_sorts_by_utf16_code_units() -> None:
    # U+1F600 (surrogates D83D DE00) sorts before U+FB01 in UTF-16, after it in code points.
    assert canonical_json({"\ufb01": 1, "\U0001f600": 2}) == '{"\U0001f600":2,"\ufb01":1}'.encode()


def test_canonical_json_escapes_control_characters_like_ecmascript() -> None:
    assert canonical_json("\x01\t\x7f") == b'"\\u0001\\t\x7f"'


@pytest.mark.parametrize("bad", [1.5, {"a": float("nan")}, {1: "x"}, 2**53, object(), "\ud800", {"k": {1, 2}}])
def test_canonical_json_rejects(bad: object) -> None:
    with pytest.raises(CanonicalJSONError):
        canonical_json(bad)


@given(st.dictionaries(st.text(), st.integers(-(2**53) + 1, 2**53 - 1)), st.randoms())
def test_canonical_json_ignores_key_order(value: dict[str, int], rnd: object) -> None:
    items = list(value.items())
    rnd.shuffle(items)  # type: ignore[attr-defined]
    assert canonical_json(dict(items)) == canonical_json(value)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_JSON)
def test_canonical_json_writes_what_the_general_writer_writes(value: object) -> None:
    # The fast writer for plain built-in values must give exactly the general writer's bytes (non-ASCII keys too).
    from licensing.canonical import _write

    out: list[str] = []
    _write(value, "$", out)
    assert canonical_json(value) == "".join(out).encode("utf-8")


def test_canonical_json_of_subclasses_and_other_mappings() -> None:
    from collections import OrderedDict
    from enum import IntEnum, StrEnum
    from types import MappingProxyType

    class Colour(StrEnum):
        RED = "red"

    class Size(IntEnum):
        BIG = 3

    value = {"c": Colour.RED, "s": Size.BIG, "m": MappingProxyType({"b": 1, "a": OrderedDict(z=True)})}
    assert canonical_json(value) == b'{"c":"red","m":{"a":{"z":true},"b":1},"s":3}'
    with pytest.raises(CanonicalJSONError, match=r"at \$\.m\.b"):
        canonical_json({"m": MappingProxyType({"b": 1.5})})
    with pytest.raises(CanonicalJSONError, match=r"at \$\.a\[1\]"):
        canonical_json({"a": [1, 2**53]})


@pytest.mark.parametrize(
    ("text", "parts", "describe"),
    [
        ("P1Y", (1, 0, 0, 0), "1 year"),
        ("P6M", (0, 6, 0, 0), "6 months"),
        ("P30D", (0, 0, 0, 30), "30 days"),
        ("P2W", (0, 0, 2, 0), "2 weeks"),
        ("P1Y6M", (1, 6, 0, 0), "1 year and 6 months"),
        ("P1Y2M3W4D", (1, 2, 3, 4), "1 year, 2 months, 3 weeks and 4 days"),
    ],
)
def test_duration_parse(text: str, parts: tuple[int, int, int, int], describe: str) -> None:
    duration = Duration.parse(text)
    assert (duration.years, duration.months, duration.weeks, duration.days) == parts
    assert duration.iso() == str(duration) == text
    assert duration.describe() == describe


@pytest.mark.parametrize("bad", ["P", "P0D", "1Y", "PT1H", "P1.5Y", "P-1D", "", "perpetual", 5])
def test_duration_rejects(bad: object) -> None:
    with pytest.raises(TermsError) as info:
        Duration.parse(bad)  # type: ignore[arg-type]
    assert info.value.fields == ("term",)


@pytest.mark.parametrize("parts", [(0, 0, 0, 0), (-1, 0, 0, 0), (True, 0, 0, 0)])
def test_duration_components_are_validated(parts: tuple[int, int, int, int]) -> None:
    with pytest.raises(TermsError):
        Duration(*parts)


def test_duration_calendar_arithmetic() -> None:
    jan31 = datetime(2024, 1, 31, 9, tzinfo=UTC)
    assert Duration(months=1).add_to(jan31) == datetime(2024, 2, 29, 9, tzinfo=UTC)
    assert Duration(years=1).add_to(datetime(2024, 2, 29, tzinfo=UTC)) == datetime(2025, 2, 28, tzinfo=UTC)
    assert Duration(months=11).add_to(jan31) == datetime(2024, 12, 31, 9, tzinfo=UTC)
    assert Duration(weeks=1, days=1).add_to(jan31) == jan31 + timedelta(days=8)
    assert Duration(years=1).approximate_days() == 366
    cet = timezone(timedelta(hours=1))
    assert Duration(days=1).add_to(datetime(2024, 1, 1, 0, 30, tzinfo=cet)) == datetime(2024, 1, 1, 23, 30, tzinfo=UTC)


def test_naive_datetimes_are_rejected() -> None:
    with pytest.raises(LicensingError) as info:
        require_utc(datetime(2024, 1, 1), "issued_at")
    assert info.value.fields == ("issued_at",)
    with pytest.raises(LicensingError):
        require_utc("2024-01-01", "x")  # type: ignore[arg-type]
    with pytest.raises(LicensingError):
        parse_datetime("2024-01-01T00:00:00", "x")
    with pytest.raises(LicensingError):
        parse_datetime("yesterday", "x")
    with pytest.raises(LicensingError):
        parse_datetime(5, "x")  # type: ignore[arg-type]
    assert parse_datetime("2024-01-01T01:00:00+01:00", "x") == datetime(2024, 1, 1, tzinfo=UTC)
    assert format_datetime(datetime(2024, 1, 1, tzinfo=UTC)) == "2024-01-01T00:00:00Z"


def test_ulids_are_unique_sortable_and_carry_time() -> None:
    at = datetime(2025, 5, 5, 5, 5, 5, 123000, tzinfo=UTC)
    same_ms = [new_ulid(at) for _ in range(200)]
    assert len(set(same_ms)) == 200 and same_ms == sorted(same_ms)
    later = new_ulid(at + timedelta(milliseconds=1))
    earlier = new_ulid(at - timedelta(days=1))
    assert earlier < same_ms[0] < same_ms[-1] < later
    assert all(is_ulid(u) for u in [*same_ms, later, earlier])
    assert ulid_time(same_ms[0]) == at
    assert ulid_time(earlier) == at - timedelta(days=1)
    assert is_ulid(new_ulid())
    assert not is_ulid("01ARZ3NDEKTSV4RRFFQ69G5FAU")  # U is not Crockford base32
    assert not is_ulid(42)
    with pytest.raises(LicensingError):
        ulid_time("nope")
    with pytest.raises(LicensingError):
        new_ulid(datetime(1960, 1, 1, tzinfo=UTC))
