"""Mail about governed access, sent after the commit of the change it announces.

:func:`on_event` is subscribed to the domain events by ``create_app`` (one explicit registration): reviewers hear
of new requests (those who chose real time at once, the others in the daily digest, :func:`send_digests`), the
requester hears of approval or rejection (with the reason), of access ending within 14 days and of its end.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import click
from sqlmodel import col, select

from marketplace.access.models import AccessRequest, Reviewer
from marketplace.access.states import RequestState, ReviewerNotice
from marketplace.accounts.models import Membership, Organisation, Role, User
from marketplace.catalog.models import Dataset
from marketplace.db import UnitOfWork
from marketplace.mail import send_after_commit


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
    """Send the mail an access event calls for (other events are ignored)."""
    handler = _HANDLERS.get(event_type)
    if handler is not None:
        handler(uow, data)


def _requested(uow: UnitOfWork, data: dict[str, Any]) -> None:
    request = uow.session.get(AccessRequest, data.get("request_id") or 0)
    if request is None:
        return
    title = _title(uow, data.get("dataset"))
    for reviewer in reviewers_to_tell(uow, request.provider_org_id, ReviewerNotice.REALTIME):
        send_after_commit(
            uow, reviewer.email, f"New access request: {title}",
            f"{request.full_name} asked for access to {title}.\n\nReview it: {_base(uow)}/access/review\n",
        )  # fmt: skip


def _person(uow: UnitOfWork, data: dict[str, Any]) -> User | None:
    user_id = data.get("requester_id") or data.get("user_id")
    return uow.session.get(User, user_id) if user_id else None


def _approved(uow: UnitOfWork, data: dict[str, Any]) -> None:
    person = _person(uow, data)
    if person is None:
        return
    title = _title(uow, data.get("dataset"))
    until = f"until {data['expires_at'][:10]}" if data.get("expires_at") else "until further notice"
    reason = f"\nReviewer's note: {data['reason']}\n" if data.get("reason") else ""
    send_after_commit(
        uow, person.email, f"Access approved: {title}",
        f"Your access to {title} was approved, {until}.\n{reason}\nMy access: {_base(uow)}/access\n",
    )  # fmt: skip


def _rejected(uow: UnitOfWork, data: dict[str, Any]) -> None:
    person = _person(uow, data)
    if person is None:
        return
    title = _title(uow, data.get("dataset"))
    send_after_commit(
        uow, person.email, f"Access request rejected: {title}",
        f"Your request for access to {title} was rejected.\n\nReason: {data.get('reason', '')}\n\n"
        f"My access: {_base(uow)}/access\n",
    )  # fmt: skip


def _ended(uow: UnitOfWork, data: dict[str, Any]) -> None:
    person = _person(uow, data)
    if person is None:
        return
    title = _title(uow, data.get("dataset"))
    state = data.get("state", "expired")
    words = {"expired": "has expired", "revoked": "was revoked", "reset": "was reset: you may request it again"}
    reason = f"\nReason: {data['reason']}\n" if data.get("reason") else ""
    send_after_commit(
        uow, person.email, f"Access {state}: {title}",
        f"Your access to {title} {words.get(state, 'ended')}; downloads have stopped.\n{reason}\n"
        f"My access: {_base(uow)}/access\n",
    )  # fmt: skip


def _expiring(uow: UnitOfWork, data: dict[str, Any]) -> None:
    person = _person(uow, data)
    if person is None:
        return
    title = _title(uow, data.get("dataset"))
    day = (data.get("expires_at") or "")[:10]
    send_after_commit(
        uow, person.email, f"Access ends on {day}: {title}",
        f"Your access to {title} ends on {day} (in 14 days or less). Ask the provider to renew it, or request "
        f"access again after it ends.\n\nMy access: {_base(uow)}/access\n",
    )  # fmt: skip


def _credential_expiring(uow: UnitOfWork, data: dict[str, Any]) -> None:
    person = _person(uow, data)
    if person is None:
        return
    send_after_commit(
        uow, person.email, f"Your training certificate expires on {data.get('expires_on')}",
        "The access it supports to credentialed datasets is suspended when it expires. Upload a renewed "
        f"certificate: {_base(uow)}/access/credentials\n",
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
    (default: the last 24 hours at the unit of work's clock); returns how many digests were sent. Run it once a
    day (``marketplace access digest``)."""
    session = uow.session
    since = since or uow.now() - timedelta(days=1)
    waiting = session.exec(
        select(AccessRequest)
        .where(AccessRequest.state == RequestState.SUBMITTED, col(AccessRequest.submitted_at) >= since)
        .order_by(col(AccessRequest.provider_org_id), col(AccessRequest.submitted_at))
    ).all()
    by_provider: dict[int, list[AccessRequest]] = {}
    for request in waiting:
        by_provider.setdefault(request.provider_org_id, []).append(request)
    sent = 0
    for provider_id, rows in by_provider.items():
        provider = session.get(Organisation, provider_id)
        lines = []
        for request in rows:
            dataset = session.get(Dataset, request.dataset_id)
            lines.append(f"  - {request.full_name}: {dataset.title if dataset else request.dataset_id}")
        body = (
            f"{len(rows)} access request(s) to {provider.name if provider else provider_id} arrived since "
            f"{since:%Y-%m-%d %H:%M} UTC and are waiting:\n"
            + "\n".join(lines)
            + f"\n\nReview: {_base(uow)}/access/review\n"
        )
        for reviewer in reviewers_to_tell(uow, provider_id, ReviewerNotice.DAILY_DIGEST):
            send_after_commit(uow, reviewer.email, f"Access requests waiting: {len(rows)}", body)
            sent += 1
    return sent


@click.command("digest")
def digest_command() -> None:
    """Mail each reviewer who chose the daily digest the requests that arrived in the last 24 hours."""
    from marketplace.cli import _uow

    with _uow() as work:
        sent = send_digests(work)
    click.echo(f"digests sent: {sent}")
