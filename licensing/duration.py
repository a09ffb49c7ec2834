"""ISO 8601 calendar durations (``P1Y``, ``P6M``, ``P30D``, ``P2W``, ``P1Y6M``) and UTC time helpers.

Only date components (years, months, weeks, days) are supported: license terms are never stated in
hours. Adding a duration to a datetime is calendar arithmetic: years and months move the calendar
month and clamp the day to the month's end (31 January + P1M = 28/29 February); weeks and days add
exact days.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from .errors import LicensingError, TermsError

_PATTERN = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$")


def require_utc(value: datetime, field: str) -> datetime:
    """Return ``value`` converted to UTC; raise :class:`LicensingError` naming ``field`` if it is naive.

    Every datetime the engine accepts must be timezone-aware; naive datetimes are ambiguous.
    """
    if not isinstance(value, datetime):
        raise LicensingError(f"expected a datetime, got {type(value).__name__}", field)
    if value.tzinfo is None or value.utcoffset() is None:
        raise LicensingError("naive datetime: use a timezone-aware UTC datetime", field)
    return value.astimezone(UTC)


def parse_datetime(text: str, field: str) -> datetime:
    """Parse an ISO 8601 timestamp that carries a UTC offset (or ``Z``) and return it in UTC."""
    if not isinstance(text, str):
        raise LicensingError("expected an ISO 8601 timestamp string", field)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise LicensingError(f"{text!r} is not an ISO 8601 timestamp", field) from exc
    return require_utc(parsed, field)


def format_datetime(value: datetime) -> str:
    """Format an aware datetime as ISO 8601 in UTC with a ``Z`` suffix (e.g. ``2025-01-31T12:00:00Z``)."""
    text = require_utc(value, "datetime").isoformat()
    return text.removesuffix("+00:00") + "Z"


@dataclass(frozen=True)
class Duration:
    """A positive ISO 8601 calendar duration made of years, months, weeks and days."""

    years: int = 0
    months: int = 0
    weeks: int = 0
    days: int = 0

    def __post_init__(self) -> None:
        parts = (self.years, self.months, self.weeks, self.days)
        if any(isinstance(p, bool) or not isinstance(p, int) for p in parts):
            raise TermsError("duration components must be integers", "term")
        if any(p < 0 for p in parts):
            raise TermsError("duration components must not be negative", "term")
        if not any(parts):
            raise TermsError("a duration must be longer than zero", "term")

    @classmethod
    def parse(cls, text: str) -> Duration:
        """Parse ``PnYnMnWnD`` (each part optional, at least one non-zero); raise on anything else."""
        match = _PATTERN.match(text) if isinstance(text, str) else None
        if match is None or text == "P":
            raise TermsError(f"{text!r} is not an ISO 8601 duration with date parts only (e.g. P1Y, P6M, P30D)", "term")
        years, months, weeks, days = (int(g) if g else 0 for g in match.groups())
        return cls(years, months, weeks, days)

    def iso(self) -> str:
        """Return the ISO 8601 text, e.g. ``P1Y6M``; zero components are left out."""
        parts = [(self.years, "Y"), (self.months, "M"), (self.weeks, "W"), (self.days, "D")]
        return "P" + "".join(f"{n}{unit}" for n, unit in parts if n)

    def __str__(self) -> str:
        return self.iso()

    def add_to(self, start: datetime) -> datetime:
        """Return ``start`` plus this duration (calendar months, clamped to the month's last day)."""
        start = require_utc(start, "start")
        month_index = start.month - 1 + self.months + 12 * self.years
        year = start.year + month_index // 12
        month = month_index % 12 + 1
        day = min(start.day, calendar.monthrange(year, month)[1])
        return start.replace(year=year, month=month, day=day) + timedelta(weeks=self.weeks, days=self.days)

    def describe(self) -> str:
        """Return plain English, e.g. ``"1 year and 6 months"``."""
        names = [(self.years, "year"), (self.months, "month"), (self.weeks, "week"), (self.days, "day")]
        words = [f"{n} {unit}{'' if n == 1 else 's'}" for n, unit in names if n]
        return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]

    def approximate_days(self) -> int:
        """Return the length in days counted from 2000-01-01 (used only to order durations)."""
        origin = datetime(2000, 1, 1, tzinfo=UTC)
        return (self.add_to(origin) - origin).days
