"""Delivering notices by each person's preferences, and reading and marking them.

:func:`deliver` is the one way a notice reaches people: for each recipient it writes a :class:`Notification` row
when they keep the kind on in the site, and queues a mail (it leaves only after the commit) when they keep it on
by mail. A notification is only ever read or marked by its recipient (``Action.NOTIFICATION_READ``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from marketplace.accounts.models import Membership, Role, User
from marketplace.db import UnitOfWork
from marketplace.errors import NotFound
from marketplace.mail import send_after_commit
from marketplace.notifications.kinds import SPECS, NotificationKind
from marketplace.notifications.models import Notification, NotificationOnce, NotificationPreference
from marketplace.permissions import Action, can, require

#: The roles that hear of what happens to an organisation (its listings, sales, requests, contracts).
ADMIN_ROLES = (Role.OWNER, Role.ADMIN)
PER_PAGE = 20


@dataclass(frozen=True)
class Notice:
    """What to tell: ``link`` is a site path; the mail ends with it as a full address (after ``link_label``)."""

    kind: NotificationKind
    title: str
    body: str
    link: str = ""
    link_label: str = ""


@dataclass(frozen=True)
class Choice:
    """Where one kind of notice goes for one person."""

    in_site: bool
    by_mail: bool


def choices_of(session: Session, user_ids: list[int], kind: NotificationKind) -> dict[int, Choice]:
    """Each person's choice for ``kind`` (the kind's defaults when they made none; mail forced on when required)."""
    spec = SPECS[kind]
    chosen = {
        p.user_id: Choice(p.in_site, p.by_mail)
        for p in session.exec(
            select(NotificationPreference).where(
                col(NotificationPreference.user_id).in_(user_ids), NotificationPreference.kind == kind
            )
        ).all()
    } if user_ids else {}  # fmt: skip
    default = Choice(spec.in_site, spec.by_mail)
    return {
        uid: Choice(c.in_site, c.by_mail or spec.mail_required)
        for uid, c in ((uid, chosen.get(uid, default)) for uid in user_ids)
    }


def deliver(uow: UnitOfWork, users: Iterable[User | None], notice: Notice, *, mail: bool = True) -> int:
    """Give ``notice`` to each of ``users`` (once each) as they chose; returns how many rows were written.
    ``mail=False`` gives it in the site only (for people who hear of it by mail some other way, e.g. a digest)."""
    people = {u.id: u for u in users if u is not None and u.id is not None}
    if not people:
        return 0
    choices = choices_of(uow.session, sorted(people), notice.kind)
    now, written = uow.now(), 0
    url = f"{str(uow.settings['BASE_URL']).rstrip('/')}{notice.link}" if notice.link else ""
    ending = f"\n\n{notice.link_label + ': ' if notice.link_label else ''}{url}\n" if url else "\n"
    for user_id in sorted(people):
        choice = choices[user_id]
        if choice.in_site:
            uow.session.add(
                Notification(
                    recipient_id=user_id, kind=notice.kind, title=notice.title[:300], body=notice.body,
                    link=notice.link[:500], created_at=now,
                )
            )  # fmt: skip
            written += 1
        if choice.by_mail and mail:
            send_after_commit(uow, people[user_id].email, notice.title, notice.body.rstrip("\n") + ending)
    if written:
        uow.session.flush()
    return written


def people_of(session: Session, org_ids: Iterable[int | None], roles: tuple[Role, ...] = ADMIN_ROLES) -> list[User]:
    """The members of the organisations ``org_ids`` with one of ``roles``, by id, without repeats."""
    ids = sorted({i for i in org_ids if i is not None})
    if not ids:
        return []
    return list(
        session.exec(
            select(User)
            .join(Membership, col(Membership.user_id) == col(User.id))
            .where(col(Membership.organisation_id).in_(ids), col(Membership.role).in_(roles))
            .order_by(col(User.id))
            .distinct()
        ).all()
    )


def platform_reviewers(session: Session) -> list[User]:
    """The platform admins, who review listings."""
    return list(session.exec(select(User).where(col(User.is_platform_admin).is_(True)).order_by(col(User.id))).all())


def once(uow: UnitOfWork, key: str) -> bool:
    """True the first time ``key`` is claimed (recorded in the unit of work), False ever after."""
    if uow.session.get(NotificationOnce, key) is not None:
        return False
    try:
        with uow.session.begin_nested():
            uow.session.add(NotificationOnce(key=key, created_at=uow.now()))
    except IntegrityError:
        return False  # claimed by a concurrent run
    return True


# --- reading and marking ---------------------------------------------------------------------------------------


def unread_count(session: Session, user: User | None) -> int:
    """How many notifications ``user`` has not read (one COUNT on the recipient index); 0 when nobody is in."""
    if user is None or user.id is None:
        return 0
    return int(
        session.exec(
            select(func.count())
            .select_from(Notification)
            .where(Notification.recipient_id == user.id, col(Notification.read_at).is_(None))
        ).one()
    )


@dataclass(frozen=True)
class Inbox:
    """The target of "may this user read the notifications of ``recipient_id`` as a whole?"."""

    recipient_id: int | None


@dataclass(frozen=True)
class Page:
    items: list[Notification]
    page: int
    pages: int
    total: int
    unread: int


def list_page(session: Session, user: User, page: int = 1, *, unread_only: bool = False) -> Page:
    """One page of ``user``'s notifications, newest first (:data:`PER_PAGE` a page); not through an
    organisation's API credential (notifications are personal)."""
    require(session, user, Action.NOTIFICATION_READ, Inbox(user.id))
    where: list[Any] = [col(Notification.recipient_id) == user.id]
    if unread_only:
        where.append(col(Notification.read_at).is_(None))
    total = int(session.exec(select(func.count()).select_from(Notification).where(*where)).one())
    pages = max(1, math.ceil(total / PER_PAGE))
    page = min(max(1, page), pages)
    items = session.exec(
        select(Notification)
        .where(*where)
        .order_by(col(Notification.id).desc())
        .offset((page - 1) * PER_PAGE)
        .limit(PER_PAGE)
    ).all()
    return Page(list(items), page, pages, total, unread_count(session, user))


def get_own(session: Session, user: User | None, notification_id: int) -> Notification:
    """The notification ``notification_id`` of ``user``; anyone else's is not found (its existence is not told)."""
    notification = session.get(Notification, notification_id)
    if notification is None or not can(session, user, Action.NOTIFICATION_READ, notification):
        if user is None:
            require(session, user, Action.NOTIFICATION_READ, notification)
        raise NotFound(message="No such notification.")
    return notification


def mark_read(uow: UnitOfWork, user: User | None, notification_id: int) -> Notification:
    """Mark one of ``user``'s notifications read (reading it again changes nothing)."""
    notification = get_own(uow.session, user, notification_id)
    if notification.read_at is None:
        notification.read_at = uow.now()
        uow.session.add(notification)
        uow.session.flush()
    return notification


def mark_all_read(uow: UnitOfWork, user: User) -> int:
    """Mark every unread notification of ``user`` read; returns how many were."""
    require(uow.session, user, Action.NOTIFICATION_READ, Inbox(user.id))
    result = uow.session.execute(
        sa.update(Notification)
        .where(col(Notification.recipient_id) == user.id, col(Notification.read_at).is_(None))
        .values(read_at=uow.now())
    )
    return int(getattr(result, "rowcount", 0) or 0)


# --- preferences -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreferenceRow:
    kind: NotificationKind
    label: str
    hint: str
    in_site: bool
    by_mail: bool
    mail_required: bool


def preferences(session: Session, user: User) -> list[PreferenceRow]:
    """Every kind with ``user``'s choice (or its default), in the order of :class:`NotificationKind`."""
    chosen = {
        p.kind: p for p in session.exec(select(NotificationPreference).where(NotificationPreference.user_id == user.id))
    }
    rows = []
    for kind, spec in SPECS.items():
        row = chosen.get(kind)
        in_site, by_mail = (row.in_site, row.by_mail) if row else (spec.in_site, spec.by_mail)
        rows.append(
            PreferenceRow(kind, spec.label, spec.hint, in_site, by_mail or spec.mail_required, spec.mail_required)
        )
    return rows


def save_preferences(uow: UnitOfWork, user: User, chosen: dict[NotificationKind, Choice]) -> None:
    """Record ``user``'s choice for each kind in ``chosen`` (a required mail stays on whatever is asked)."""
    existing = {
        p.kind: p
        for p in uow.session.exec(select(NotificationPreference).where(NotificationPreference.user_id == user.id))
    }
    for kind, choice in chosen.items():
        row = existing.get(kind) or NotificationPreference(user_id=user.id, kind=kind)  # type: ignore[arg-type]
        row.in_site = choice.in_site
        row.by_mail = choice.by_mail or SPECS[kind].mail_required
        uow.session.add(row)
    uow.session.flush()
