"""The notice that a license ends within 14 days: once per license, run by the periodic license-expiry job."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import col, select

import licensing
from marketplace.accounts.models import User
from marketplace.catalog.models import Dataset
from marketplace.db import UnitOfWork
from marketplace.licenses.models import Grant
from marketplace.notifications.kinds import NotificationKind
from marketplace.notifications.models import NotificationOnce
from marketplace.notifications.services import Notice, deliver, once, people_of

NOTICE_DAYS = 14
BATCH = 500
KEY_PREFIX = "license_expiring:"


def notify_expiring_licenses(uow: UnitOfWork) -> int:
    """Tell the licensee's owners and admins, and whoever acquired it, of each active license whose term ends within
    :data:`NOTICE_DAYS` days and that was not told of yet; returns how many licenses were. Each license is told
    of once however often this runs (its key is recorded in the same transaction as the notices)."""
    now = uow.now()
    told = select(NotificationOnce.key).where(
        col(NotificationOnce.key) == sa.literal(KEY_PREFIX) + col(Grant.id)
    ).exists()  # fmt: skip
    grants = uow.session.exec(
        select(Grant)
        .where(
            Grant.status == licensing.GrantStatus.ACTIVE,
            col(Grant.valid_until).is_not(None),
            col(Grant.valid_until) > now,
            col(Grant.valid_until) <= now + timedelta(days=NOTICE_DAYS),
            ~told,
        )
        .order_by(col(Grant.valid_until))
        .limit(BATCH)
    ).all()
    count = 0
    for grant in grants:
        if not once(uow, f"{KEY_PREFIX}{grant.id}"):
            continue
        dataset = uow.session.get(Dataset, grant.dataset_id)
        title = dataset.title if dataset else "a dataset"
        assert grant.valid_until is not None
        day = f"{grant.valid_until:%Y-%m-%d}"
        people: list[User | None] = list(people_of(uow.session, [grant.licensee_org_id]))
        if grant.acquired_by_id is not None:
            people.append(uow.session.get(User, grant.acquired_by_id))
        deliver(
            uow,
            people,
            Notice(
                NotificationKind.LICENSE_EXPIRING,
                f"License ends on {day}: {title}",
                f"Your organisation's license {grant.id} to {title} ends on {day} "
                f"({grant.valid_until:%H:%M} UTC); downloads stop then. Buy it again or ask the provider to renew "
                "it before then.",
                f"/licenses/{grant.id}",
            ),
        )
        count += 1
    return count
