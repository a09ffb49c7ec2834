"""Recording the end of licenses whose term ran out.

A grant stops giving access the moment its term ends (the gate reads ``valid_until``); this sweep records that end
as the ``expire`` transition, so the license's stored status, its event log and its page say "expired" too.
"""

from __future__ import annotations

from sqlmodel import col, select

import licensing
from marketplace.db import UnitOfWork
from marketplace.licenses.models import Grant
from marketplace.licenses.services import transition_grant

# The stored statuses the engine may move to "expired" once the term has ended.
EXPIRABLE = (licensing.GrantStatus.ACTIVE, licensing.GrantStatus.SUSPENDED)
BATCH = 500


def expire_ended(uow: UnitOfWork) -> list[str]:
    """Move up to :data:`BATCH` grants whose term has ended to "expired"; returns their ids (run it again for more)."""
    now = uow.now()
    grants = uow.session.exec(
        select(Grant)
        .where(col(Grant.status).in_(EXPIRABLE), col(Grant.valid_until).is_not(None), col(Grant.valid_until) <= now)
        .order_by(col(Grant.valid_until))
        .limit(BATCH)
    ).all()
    for grant in grants:
        transition_grant(uow, grant, licensing.GrantAction.EXPIRE, reason="term ended", actor="system")
    return [grant.id for grant in grants]
