"""Mail about a contract's money and milestones, to the administrators (and owners) of one party's organisation."""

from __future__ import annotations

from sqlmodel import select

from marketplace.accounts.models import Membership, Role, User
from marketplace.db import UnitOfWork
from marketplace.mail import send_after_commit


def tell_organisation(uow: UnitOfWork, org_id: int, subject: str, body: str, path: str) -> None:
    """Mail ``subject`` and ``body`` with a link to ``path`` (on the site) to every admin and owner of ``org_id``,
    once the unit of work commits."""
    rows = uow.session.exec(
        select(User.email)
        .join(Membership, Membership.user_id == User.id)  # type: ignore[arg-type]
        .where(Membership.organisation_id == org_id, Membership.role.in_([Role.ADMIN, Role.OWNER]))  # type: ignore[attr-defined]
    ).all()
    link = f"{uow.settings['BASE_URL']}{path}"
    for email in sorted(set(rows)):
        send_after_commit(uow, email, subject, f"{body}\n\n{link}\n")
