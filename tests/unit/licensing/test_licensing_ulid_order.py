"""ULIDs for one millisecond keep increasing even when ids for other milliseconds are made in between."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from licensing import ulid
from licensing.ulid import new_ulid


def test_interleaved_milliseconds_stay_monotonic() -> None:
    past = datetime(2024, 1, 1, tzinfo=UTC)
    ids = []
    for _ in range(50):
        ids.append(new_ulid(past))
        new_ulid()  # "now", a later millisecond, in between
        new_ulid(past - timedelta(days=3))  # and an earlier one
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_exhausted_millisecond_starts_a_fresh_random_part() -> None:
    at = datetime(2023, 6, 1, tzinfo=UTC)
    millis = int(at.timestamp() * 1000)
    ulid._recent[millis] = 2**80 - 1
    fresh = new_ulid(at)
    assert ulid.ulid_time(fresh) == at
    assert ulid._recent[millis] < 2**79


def test_the_memory_of_recent_milliseconds_is_bounded() -> None:
    start = datetime(2022, 1, 1, tzinfo=UTC)
    for i in range(ulid._RECENT_MAX + 10):
        new_ulid(start + timedelta(milliseconds=i))
    assert len(ulid._recent) == ulid._RECENT_MAX
