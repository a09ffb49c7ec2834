"""Notices about governed access (in the site, and by mail after the commit of the change they announce).

:func:`on_event` is called by the notifications subscriber for access events: reviewers hear of new requests
(those who chose real time at once by mail, the others by mail in the daily digest, :func:`send_digests`; all of
them in the site), the requester hears of approval or rejection (with the reason), of access ending within 14 days
and of its end. Each notice follows the person's preferences (:func:`marketplace.notifications.services.deliver`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import click
from flask.cli import with_appcontext
from sqlmodel import col, select

from marketplace.access.models import AccessRequest, DigestEntry, Reviewer
from marketplace.access.states import RequestState, ReviewerNotice
from marketplace.accounts.models import Membership, Organisation, Role, User
from marketplace.catalog.models import Dataset
from marketplace.db import UnitOfWork
from marketplace.mail import send_after_commit
from marketplace.notifications.kinds import NotificationKind
from marketplace.notifications.services import Notice, choices_of, deliver


def _base(uow: UnitOfWork) -> str:
    return str(uow.settings["BASE_URL"]).rstrip("/")


def _title(uow: UnitOfWork, slug: str | None) -> str:
    if not slug:
        return "a dataset"
    dataset = uow.session.exec(select(Dataset).where(Dataset.slug == slug)).first()
    return dataset.title if dataset else slug


def reviewers_to_tell(uow: UnitOfWork, provider_id: int, notice: ReviewerNotice) -> list[User]:
    """The provider's reviewers who chose ``notice``; its admins without a reviewer flag count as real time."""
    session = uow.session
    flagged = {
        r.user_id: r.notice for r in session.exec(select(Reviewer).where(Reviewer.organisation_id == provider_id))
    }
    admins = session.exec(
        select(Membership.user_id).where(
            Membership.organisation_id == provider_id, col(Membership.role).in_([Role.ADMIN, Role.OWNER])
        )
    ).all()
    ids = {uid for uid, n in flagged.items() if n is notice}
    if notice is ReviewerNotice.REALTIME:
        ids |= {uid for uid in admins if uid not in flagged}
    users = [session.get(User, uid) for uid in sorted(ids)]
    return [u for u in users if u is not None]


def on_event(uow: UnitOfWork, event_type: str, data: dict[str, Any], audience: list[int]) -> None:
    """Give the notices an access event calls for (other events are ignored); called by the notifications
    subscriber (:mod:`marketplace.notifications.subscriber`), the one domain-event handler."""
    handler = _HANDLERS.get(event_type)
    if handler is not None:
        handler(uow, data)


def _requested(uow: UnitOfWork, data: dict[str, Any]) -> None:
    request = uow.session.get(AccessRequest, data.get("request_id") or 0)
    if request is None:
        return
    title = _title(uow, data.get("dataset"))
    notice = Notice(
        NotificationKind.ACCESS_REQUEST, f"New access request: {title}",
        f"{request.full_name} asked for access to {title}.", "/access/review", "Review it",
    )  # fmt: skip
    deliver(uow, reviewers_to_tell(uow, request.provider_org_id, ReviewerNotice.REALTIME), notice)
    # Reviewers who chose the daily digest see it in the site now; their mail is the digest (send_digests).
    deliver(uow, reviewers_to_tell(uow, request.provider_org_id, ReviewerNotice.DAILY_DIGEST), notice, mail=False)


def _person(uow: UnitOfWork, data: dict[str, Any]) -> User | None:
    user_id = data.get("requester_id") or data.get("user_id")
    return uow.session.get(User, user_id) if user_id else None


def _tell_person(uow: UnitOfWork, data: dict[str, Any], title: str, body: str, link: str = "/access") -> None:
    label = "My access" if link == "/access" else ""
    deliver(uow, [_person(uow, data)], Notice(NotificationKind.ACCESS_DECISION, title, body, link, label))


def _approved(uow: UnitOfWork, data: dict[str, Any]) -> None:
    title = _title(uow, data.get("dataset"))
    until = f"until {data['expires_at'][:10]}" if data.get("expires_at") else "until further notice"
    reason = f"\nReviewer's note: {data['reason']}\n" if data.get("reason") else ""
    _tell_person(uow, data, f"Access approved: {title}", f"Your access to {title} was approved, {until}.\n{reason}")


def _rejected(uow: UnitOfWork, data: dict[str, Any]) -> None:
    title = _title(uow, data.get("dataset"))
    _tell_person(
        uow, data, f"Access request rejected: {title}",
        f"Your request for access to {title} was rejected.\n\nReason: {data.get('reason', '')}",
    )  # fmt: skip


def _ended(uow: UnitOfWork, data: dict[str, Any]) -> None:
    title = _title(uow, data.get("dataset"))
    state = data.get("state", "expired")
    words = {"expired": "has expired", "revoked": "was revoked", "reset": "was reset: you may request it again"}
    reason = f"\nReason: {data['reason']}\n" if data.get("reason") else ""
    _tell_person(
        uow, data, f"Access {state}: {title}",
        f"Your access to {title} {words.get(state, 'ended')}; downloads have stopped.\n{reason}",
    )  # fmt: skip


def _expiring(uow: UnitOfWork, data: dict[str, Any]) -> None:
    title = _title(uow, data.get("dataset"))
    day = (data.get("expires_at") or "")[:10]
    _tell_person(
        uow, data, f"Access ends on {day}: {title}",
        f"Your access to {title} ends on {day} (in 14 days or less). Ask the provider to renew it, or request "
        "access again after it ends.",
    )  # fmt: skip


def _credential_expiring(uow: UnitOfWork, data: dict[str, Any]) -> None:
    _tell_person(
        uow, data, f"Your training certificate expires on {data.get('expires_on')}",
        "The access it supports to credentialed datasets is suspended when it expires. Upload a renewed "
        "certificate:", "/access/credentials",
    )  # fmt: skip


_HANDLERS = {
    "access.requested": _requested,
    "access.approved": _approved,
    "access.rejected": _rejected,
    "access.expired": _ended,
    "access.revoked": _ended,
    "access.expiring": _expiring,
    "access.credential_expiring": _credential_expiring,
}


def send_digests(uow: UnitOfWork, *, since: datetime | None = None) -> int:
    """Mail each reviewer who chose the daily digest the requests still waiting that arrived since ``since``
    (default: the last 24 hours at the unit of work's clock) and that no earlier digest named to them; returns how
    many digests were sent. Each request is in at most one digest per reviewer however often this runs (what was
    sent is recorded in the same transaction as the mail is queued, and the mail goes only if it commits). A
    reviewer who turned access-request mail off gets no digest. Run it once a day (``marketplace access
    digest``)."""
    session, now = uow.session, uow.now()
    since = since or now - timedelta(days=1)
    waiting = session.exec(
        select(AccessRequest)
        .where(AccessRequest.state == RequestState.SUBMITTED, col(AccessRequest.submitted_at) >= since)
        .order_by(col(AccessRequest.provider_org_id), col(AccessRequest.submitted_at), col(AccessRequest.id))
    ).all()
    by_provider: dict[int, list[AccessRequest]] = {}
    for request in waiting:
        by_provider.setdefault(request.provider_org_id, []).append(request)
    sent = 0
    for provider_id, rows in by_provider.items():
        provider = session.get(Organisation, provider_id)
        digest_readers = reviewers_to_tell(uow, provider_id, ReviewerNotice.DAILY_DIGEST)
        by_mail = choices_of(session, [r.id for r in digest_readers if r.id], NotificationKind.ACCESS_REQUEST)
        for reviewer in digest_readers:
            if not by_mail[reviewer.id or 0].by_mail:
                continue  # the reviewer turned access-request mail off: no digest either
            already = set(
                session.exec(
                    select(DigestEntry.request_id).where(
                        DigestEntry.reviewer_id == reviewer.id,
                        col(DigestEntry.request_id).in_([r.id for r in rows]),
                    )
                ).all()
            )
            new = [r for r in rows if r.id not in already]
            if not new:
                continue
            for request in new:
                session.add(DigestEntry(reviewer_id=reviewer.id, request_id=request.id, sent_at=now))  # type: ignore[arg-type]
            send_after_commit(
                uow, reviewer.email, f"Access requests waiting: {len(new)}",
                _digest_body(uow, provider.name if provider else str(provider_id), new),
            )  # fmt: skip
            sent += 1
    session.flush()
    return sent


def _digest_body(uow: UnitOfWork, provider_name: str, requests: list[AccessRequest]) -> str:
    lines = []
    for request in requests:
        dataset = uow.session.get(Dataset, request.dataset_id)
        lines.append(f"  - {request.full_name}: {dataset.title if dataset else request.dataset_id}")
    return (
        f"{len(requests)} new access request(s) to {provider_name} are waiting:\n"
        + "\n".join(lines)
        + f"\n\nReview: {_base(uow)}/access/review\n"
    )


@click.command("digest")
@with_appcontext  # added to the group by create_app, so it does not get the group's app context by itself
def digest_command() -> None:
    """Mail each reviewer who chose the daily digest the requests of the last 24 hours no digest named to them yet."""
    from marketplace.cli import _uow

    with _uow() as work:
        sent = send_digests(work)
    click.echo(f"digests sent: {sent}")
