"""The provider's download statistics: links issued per day and per licensee, from the audit rows."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import col, select

from marketplace.accounts.models import Organisation, User
from marketplace.catalog.models import Dataset
from marketplace.db import UnitOfWork
from marketplace.delivery.models import DownloadEvent
from marketplace.permissions import Action, require

__all__ = ["DownloadStats", "download_stats"]


@dataclass(frozen=True)
class DownloadStats:
    """Links issued per day (oldest first, gaps as 0) and per licensee (most first), since ``since``."""

    days: list[tuple[str, int]]
    licensees: list[tuple[str, int]]
    total: int
    since: datetime


def download_stats(uow: UnitOfWork, user: User | None, dataset: Dataset, *, days: int = 30) -> DownloadStats:
    """Links issued for the dataset per day (the last ``days`` days, gaps as 0) and per licensee, for its provider."""
    require(uow.session, user, Action.DATASET_DOWNLOAD_STATS, dataset)
    session = uow.session
    today = uow.now().date()
    first_day = today - timedelta(days=days - 1)
    since = uow.now().replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=days - 1)
    rows = session.exec(
        select(DownloadEvent.issued_at, DownloadEvent.licensee_org_id).where(
            DownloadEvent.dataset_id == dataset.id, col(DownloadEvent.issued_at) >= since
        )
    ).all()
    per_day: Counter[str] = Counter(issued.date().isoformat() for issued, _org in rows)
    day_list = [((first_day + timedelta(days=i)).isoformat(), 0) for i in range(days)]
    day_list = [(day, per_day.get(day, 0)) for day, _zero in day_list]
    by_org = session.exec(
        select(Organisation.name, sa.func.count(col(DownloadEvent.id)))
        .join(Organisation, col(Organisation.id) == col(DownloadEvent.licensee_org_id))
        .where(DownloadEvent.dataset_id == dataset.id)
        .group_by(col(Organisation.name))
        .order_by(sa.func.count(col(DownloadEvent.id)).desc(), col(Organisation.name))
    ).all()
    licensees = [(str(name), int(count)) for name, count in by_org]
    return DownloadStats(days=day_list, licensees=licensees, total=sum(c for _n, c in licensees), since=since)
