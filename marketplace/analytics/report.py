"""The provider's report: the funnel over time, downloads per licensee and revenue per listing and currency.

Definitions (the page and the CSV files say the same):

* **listing views** and **offer views**: rows of :mod:`marketplace.analytics.models` (an offer view is a visitor
  opening an offer's terms), per day;
* **checkouts**: orders created with at least one line of the provider's listings (the buyer started checkout),
  by the day the order was created;
* **sales**: those orders that were paid, by the day of payment; an order refunded later still counts as a sale
  (it happened), and its money shows in the revenue table as refunded;
* **revenue**: per listing and currency, the paid lines' gross amount, the platform fee, what was refunded and the
  net (gross less fee of the lines not refunded), in integer minor units; currencies are never added together;
* **downloads**: download links handed out under the provider's licenses, per licensee organisation.

A scope is a provider organisation (all its listings) or one listing. A period is the last 30, 90 or 365 days up to
today (UTC), in day or week buckets (weeks start on Monday; the first bucket starts with the period).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from marketplace.accounts.models import Organisation, User
from marketplace.analytics.models import ListingView, OfferView
from marketplace.catalog.models import Dataset
from marketplace.db import UnitOfWork
from marketplace.delivery.models import DownloadEvent
from marketplace.orders.models import Order, OrderLine, OrderStatus
from marketplace.permissions import Action, require

__all__ = [
    "BUCKETS",
    "PERIODS",
    "Bucket",
    "DownloadRow",
    "Period",
    "Report",
    "RevenueRow",
    "build_report",
    "period_ending",
]

#: The periods the page offers, in days.
PERIODS = (30, 90, 365)
BUCKETS = ("day", "week")


@dataclass(frozen=True)
class Period:
    """The days ``first`` to ``last`` (both included) cut into buckets of ``bucket`` ("day" or "week")."""

    first: date
    last: date
    days: int
    bucket: str

    def starts(self) -> list[date]:
        """The first day of each bucket, oldest first."""
        if self.bucket == "day":
            return [self.first + timedelta(days=i) for i in range(self.days)]
        monday = self.first - timedelta(days=self.first.weekday())
        weeks = range(0, (self.last - monday).days + 1, 7)
        return [max(self.first, monday + timedelta(days=offset)) for offset in weeks]

    def start_of(self, day: date) -> date:
        """The first day of the bucket holding ``day`` (a day of the period)."""
        if self.bucket == "day":
            return day
        return max(self.first, day - timedelta(days=day.weekday()))

    def since(self) -> datetime:
        """The period's first moment (midnight UTC of its first day)."""
        return datetime.combine(self.first, time.min, tzinfo=UTC)


def period_ending(today: date, days: int, bucket: str) -> Period:
    """The last ``days`` days up to and including ``today``."""
    return Period(first=today - timedelta(days=days - 1), last=today, days=days, bucket=bucket)


@dataclass(frozen=True)
class Bucket:
    """One row of the funnel: the bucket's first and last day and its four counts."""

    first: date
    last: date
    listing_views: int
    offer_views: int
    checkouts: int
    sales: int


@dataclass(frozen=True)
class RevenueRow:
    """One listing's paid lines in one currency, amounts in minor units."""

    dataset_slug: str
    dataset_title: str
    currency: str
    sales: int
    gross: int
    fee: int
    refunded: int
    net: int


@dataclass(frozen=True)
class DownloadRow:
    """Download links handed out to one licensee organisation."""

    licensee: str
    downloads: int
    files: int
    last: datetime


@dataclass(frozen=True)
class Report:
    """Everything the analytics page shows for one scope and period."""

    organisation: Organisation
    dataset: Dataset | None
    period: Period
    funnel: list[Bucket]
    revenue: list[RevenueRow]
    downloads: list[DownloadRow]
    #: The listings in scope as ``(slug, title)``, by title.
    listings: list[tuple[str, str]]

    def totals(self) -> dict[str, int]:
        names = ("listing_views", "offer_views", "checkouts", "sales")
        return {name: sum(getattr(row, name) for row in self.funnel) for name in names}


def _scope(session: Session, organisation: Organisation, dataset: Dataset | None) -> list[Dataset]:
    if dataset is not None:
        return [dataset]
    return list(
        session.exec(
            select(Dataset).where(Dataset.organisation_id == organisation.id).order_by(col(Dataset.title))
        ).all()
    )


def _views_per_day(
    session: Session, model: type[ListingView] | type[OfferView], ids: list[int], period: Period
) -> Counter[date]:
    rows = session.exec(
        select(col(model.day), sa.func.count())
        .where(col(model.dataset_id).in_(ids), col(model.day) >= period.first, col(model.day) <= period.last)
        .group_by(col(model.day))
    ).all()
    return Counter({day: int(count) for day, count in rows})


def _orders_per_day(session: Session, ids: list[int], period: Period, stamp: Any) -> Counter[date]:
    """Distinct orders with a line of the scope, per day of ``stamp`` (``Order.created_at`` or ``Order.paid_at``)."""
    rows = session.exec(
        select(col(Order.id), stamp)
        .join(OrderLine, col(OrderLine.order_id) == col(Order.id))
        .where(col(OrderLine.dataset_id).in_(ids), stamp >= period.since())
        .distinct()
    ).all()
    return Counter(when.date() for _order_id, when in rows if when.date() <= period.last)


def _funnel(session: Session, ids: list[int], period: Period) -> list[Bucket]:
    series = [
        _views_per_day(session, ListingView, ids, period),
        _views_per_day(session, OfferView, ids, period),
        _orders_per_day(session, ids, period, col(Order.created_at)),
        _orders_per_day(session, ids, period, col(Order.paid_at)),
    ]
    per_bucket: list[Counter[date]] = []
    for counts in series:
        bucketed: Counter[date] = Counter()
        for day, count in counts.items():
            bucketed[period.start_of(day)] += count
        per_bucket.append(bucketed)
    starts = period.starts()
    ends = [*(s - timedelta(days=1) for s in starts[1:]), period.last]
    return [
        Bucket(first, last, *(counts.get(first, 0) for counts in per_bucket))
        for first, last in zip(starts, ends, strict=True)
    ]


def _revenue(session: Session, ids: list[int], period: Period) -> list[RevenueRow]:
    rows = session.exec(
        select(OrderLine, Order.status, Dataset.slug, Dataset.title)
        .join(Order, col(Order.id) == col(OrderLine.order_id))
        .join(Dataset, col(Dataset.id) == col(OrderLine.dataset_id))
        .where(col(OrderLine.dataset_id).in_(ids), col(Order.paid_at) >= period.since())
    ).all()
    sums: dict[tuple[str, str, str], list[int]] = {}
    for line, status, slug, title in rows:
        entry = sums.setdefault((title, slug, line.currency), [0, 0, 0, 0, 0])
        refunded = status is OrderStatus.REFUNDED
        entry[0] += 1
        entry[1] += line.amount
        entry[2] += line.platform_fee_amount
        entry[3] += line.amount if refunded else 0
        entry[4] += 0 if refunded else line.net_amount
    return [RevenueRow(slug, title, currency, *figures) for (title, slug, currency), figures in sorted(sums.items())]


def _downloads(session: Session, ids: list[int], period: Period) -> list[DownloadRow]:
    count = sa.func.count(col(DownloadEvent.id))
    rows = session.exec(
        select(
            Organisation.name,
            count,
            sa.func.count(sa.distinct(col(DownloadEvent.file_id))),
            sa.func.max(col(DownloadEvent.issued_at)),
        )
        .join(Organisation, col(Organisation.id) == col(DownloadEvent.licensee_org_id))
        .where(col(DownloadEvent.dataset_id).in_(ids), col(DownloadEvent.issued_at) >= period.since())
        .group_by(col(Organisation.id), col(Organisation.name))
        .order_by(count.desc(), col(Organisation.name))
    ).all()
    return [DownloadRow(str(name), int(n), int(files), _aware(last)) for name, n, files, last in rows]


def _aware(value: Any) -> datetime:
    """``max()`` of a timestamp column comes back without the column's type on SQLite: a string or naive value."""
    parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def build_report(
    uow: UnitOfWork, user: User | None, organisation: Organisation, dataset: Dataset | None, *, days: int, bucket: str
) -> Report:
    """The report of ``organisation`` (or of its listing ``dataset``) for the last ``days`` days, for ``user``:
    a member of the organisation or a platform admin (anyone else gets PermissionDenied/NotAuthenticated)."""
    require(uow.session, user, Action.ANALYTICS_VIEW, dataset if dataset is not None else organisation)
    period = period_ending(uow.now().date(), days, bucket)
    scope = _scope(uow.session, organisation, dataset)
    ids = [d.id for d in scope if d.id is not None]
    return Report(
        organisation=organisation,
        dataset=dataset,
        period=period,
        funnel=_funnel(uow.session, ids, period),
        revenue=_revenue(uow.session, ids, period),
        downloads=_downloads(uow.session, ids, period),
        listings=[(d.slug, d.title) for d in scope],
    )
