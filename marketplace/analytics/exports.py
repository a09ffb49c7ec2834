"""The report's tables as CSV (RFC 4180: a header row, CRLF line ends, quoting where needed).

Dates are ISO 8601 (``2026-11-30``; times ``2026-11-30T10:15:00Z`` in UTC); amounts are in major units with a
decimal point and no grouping (``1250.00``), each row naming its currency.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable

import licensing
from marketplace.analytics.report import Report
from marketplace.errors import NotFound

__all__ = ["TABLES", "csv_for", "filename_for"]


def _major(amount: int, currency: str) -> str:
    return licensing.Money(amount, currency).decimal_string()


def _funnel(report: Report) -> Iterable[list[str]]:
    yield ["period_start", "period_end", "listing_views", "offer_views", "checkouts", "sales"]
    for row in report.funnel:
        yield [row.first.isoformat(), row.last.isoformat(), *map(str, (row.listing_views, row.offer_views,
                                                                         row.checkouts, row.sales))]  # fmt: skip


def _revenue(report: Report) -> Iterable[list[str]]:
    yield ["listing", "listing_slug", "currency", "sales", "gross", "platform_fee", "refunded", "net"]
    for row in report.revenue:
        amounts = (row.gross, row.fee, row.refunded, row.net)
        yield [row.dataset_title, row.dataset_slug, row.currency, str(row.sales),
               *(_major(amount, row.currency) for amount in amounts)]  # fmt: skip


def _downloads(report: Report) -> Iterable[list[str]]:
    yield ["licensee", "downloads", "files", "last_download"]
    for row in report.downloads:
        last = row.last.strftime("%Y-%m-%dT%H:%M:%SZ")
        yield [row.licensee, str(row.downloads), str(row.files), last]


#: The tables that may be exported, by the name in the URL.
TABLES: dict[str, Callable[[Report], Iterable[list[str]]]] = {
    "funnel": _funnel,
    "revenue": _revenue,
    "downloads": _downloads,
}


def csv_for(report: Report, table: str) -> str:
    """The ``table`` (``funnel``, ``revenue`` or ``downloads``) of ``report`` as CSV text."""
    writer_rows = TABLES.get(table)
    if writer_rows is None:
        raise NotFound(message=f"No table called {table!r}: choose funnel, revenue or downloads.")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows(writer_rows(report))
    return out.getvalue()


def filename_for(report: Report, table: str) -> str:
    """``<provider>[-<listing>]-<table>-<first day>-<last day>.csv``."""
    scope = report.organisation.slug + (f"-{report.dataset.slug}" if report.dataset is not None else "")
    return f"{scope}-{table}-{report.period.first.isoformat()}-{report.period.last.isoformat()}.csv"
