"""Who holds access: named seats of an organisation's approval (its admins manage them, within the licence terms'
seat count), and the sweeps that end access when its term ends and give notice 14 days before."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlmodel import Session, col, select

import licensing
from marketplace.access import audit
from marketplace.access.errors import AccessErrorCode
from marketplace.access.models import Approval, Credential, Seat
from marketplace.access.requests import end_approval
from marketplace.access.states import ApprovalState, CredentialState, HolderKind, check_move
from marketplace.accounts.models import Membership, User
from marketplace.catalog.models import Dataset
from marketplace.db import UnitOfWork
from marketplace.errors import Conflict, NotFound, ValidationFailed
from marketplace.events import emit
from marketplace.licenses.models import Grant, Offer
from marketplace.permissions import Action, require

NOTICE_DAYS = 14


def seat_limit(session: Session, approval: Approval) -> int | None:
    """How many named seats the organisation may have: the largest ``seats`` of the licences it holds for the
    dataset (None = unlimited), or, before it holds one, of the dataset's offers."""
    grants = session.exec(
        select(Grant.record).where(
            Grant.dataset_id == approval.dataset_id,
            Grant.licensee_org_id == approval.organisation_id,
            col(Grant.status).in_(["active", "suspended"]),
        )
    ).all()
    terms = [licensing.Terms.from_dict(record["terms"]) for record in grants]
    if not terms:
        offers = session.exec(
            select(Offer.terms).where(Offer.dataset_id == approval.dataset_id, col(Offer.is_active).is_(True))
        ).all()
        terms = [licensing.Terms.from_dict(t) for t in offers]
    if not terms or any(t.seats is None for t in terms):
        return None
    return max(t.seats or 0 for t in terms)


def seats_of(session: Session, approval: Approval) -> list[Seat]:
    """The approval's named seats, in the order they were given."""
    return list(session.exec(select(Seat).where(Seat.approval_id == approval.id).order_by(col(Seat.id))).all())


def add_seat(uow: UnitOfWork, actor: User, approval: Approval, member: User) -> Seat:
    """Name a member of the holding organisation on one of its seats (its admins only), within the terms' seat
    count; the approval must be held by the organisation and in force."""
    session = uow.session
    require(session, actor, Action.ACCESS_SEATS_MANAGE, approval)
    if approval.holder is not HolderKind.ORGANISATION:
        raise Conflict(message="This access is held by one person: it has no seats.", code=AccessErrorCode.NOT_SEATED)
    if approval.state is not ApprovalState.ACTIVE:
        raise Conflict(message=f"This access is {approval.state.value}.", code=AccessErrorCode.APPROVAL_ENDED)
    is_member = session.exec(
        select(Membership.id).where(
            Membership.organisation_id == approval.organisation_id, Membership.user_id == member.id
        )
    ).first()
    if is_member is None:
        raise ValidationFailed.for_field("Member", f"{member.email} is not a member of your organisation")
    # Lock the approval so two admins cannot both take the last seat.
    session.exec(select(Approval.id).where(Approval.id == approval.id).with_for_update())
    current = seats_of(session, approval)
    if any(s.user_id == member.id for s in current):
        raise Conflict(message=f"{member.email} already has a seat.", code=AccessErrorCode.SEAT_TAKEN)
    limit = seat_limit(session, approval)
    if limit is not None and len(current) >= limit:
        raise Conflict(
            message=f"All {limit} seats of the licence terms are taken.", code=AccessErrorCode.SEATS_EXHAUSTED
        )
    seat = Seat(approval_id=approval.id, user_id=member.id, added_by_id=actor.id, added_at=uow.now())  # type: ignore[arg-type]
    session.add(seat)
    session.flush()
    audit.record(
        uow, actor=actor, subject="seat", subject_id=approval.id or 0, action="seat_added", reason=member.email,
        dataset_id=approval.dataset_id, provider_org_id=approval.provider_org_id, person_id=member.id,
    )  # fmt: skip
    return seat


def remove_seat(uow: UnitOfWork, actor: User, approval: Approval, member_id: int) -> None:
    """Take a person off the organisation's seats (admins only); their downloads stop at once."""
    require(uow.session, actor, Action.ACCESS_SEATS_MANAGE, approval)
    seat = uow.session.exec(select(Seat).where(Seat.approval_id == approval.id, Seat.user_id == member_id)).first()
    if seat is None:
        raise NotFound(message="No such seat.")
    uow.session.delete(seat)
    audit.record(
        uow, actor=actor, subject="seat", subject_id=approval.id or 0, action="seat_removed",
        dataset_id=approval.dataset_id, provider_org_id=approval.provider_org_id, person_id=member_id,
    )  # fmt: skip


@dataclass
class SweepReport:
    """What one sweep did (ids), for the CLI's output and for tests."""

    approvals_expired: list[int] = field(default_factory=list)
    credentials_expired: list[int] = field(default_factory=list)
    approval_notices: list[int] = field(default_factory=list)
    credential_notices: list[int] = field(default_factory=list)


def sweep(uow: UnitOfWork) -> SweepReport:
    """End what has ended and give notice of what ends within 14 days, at the unit of work's clock time.

    Approvals past ``expires_at`` become ``expired`` (``access.expired``); credentials past their expiry become
    ``expired`` (the access they supported is suspended by the gate at once anyway); holders of approvals, and
    owners of credentials, ending within 14 days are told once (``access.expiring``,
    ``access.credential_expiring``). Idempotent: running it twice does nothing more.
    """
    session, now, report = uow.session, uow.now(), SweepReport()
    for approval in session.exec(
        select(Approval).where(Approval.state == ApprovalState.ACTIVE, col(Approval.expires_at) <= now)
    ).all():
        end_approval(uow, None, approval, ApprovalState.EXPIRED, reason="the approval's term ended")
        report.approvals_expired.append(approval.id or 0)
    soon = now + timedelta(days=NOTICE_DAYS)
    for approval in session.exec(
        select(Approval).where(
            Approval.state == ApprovalState.ACTIVE,
            col(Approval.expires_at) <= soon,
            col(Approval.expiry_notice_at).is_(None),
        )
    ).all():
        approval.expiry_notice_at = now
        session.add(approval)
        dataset = session.get(Dataset, approval.dataset_id)
        data = {"approval_id": approval.id, "user_id": approval.user_id, "expires_at": _iso(approval.expires_at)}
        emit(uow, "access.expiring", {"dataset": dataset.slug if dataset else None, **data},
             audience=sorted({approval.provider_org_id, approval.organisation_id}))  # fmt: skip
        report.approval_notices.append(approval.id or 0)
    _sweep_credentials(uow, report)
    return report


def _iso(value: object) -> str | None:
    return value.isoformat() if value is not None else None  # type: ignore[attr-defined]


def _sweep_credentials(uow: UnitOfWork, report: SweepReport) -> None:
    session, now = uow.session, uow.now()
    today, soon = now.date(), (now + timedelta(days=NOTICE_DAYS)).date()
    verified = session.exec(
        select(Credential).where(Credential.state == CredentialState.VERIFIED, col(Credential.expires_on).is_not(None))
    ).all()
    for credential in verified:
        assert credential.expires_on is not None
        if credential.expires_on <= today:
            check_move(credential.state, CredentialState.EXPIRED)
            before, credential.state = credential.state, CredentialState.EXPIRED
            session.add(credential)
            audit.record(
                uow, actor=None, subject="credential", subject_id=credential.id or 0, action="expired",
                from_state=before, to_state=CredentialState.EXPIRED, person_id=credential.user_id,
            )  # fmt: skip
            report.credentials_expired.append(credential.id or 0)
        elif credential.expires_on <= soon and credential.expiry_notice_at is None:
            credential.expiry_notice_at = now
            session.add(credential)
            orgs = session.exec(
                select(Approval.organisation_id, Approval.provider_org_id).where(
                    Approval.user_id == credential.user_id, Approval.state == ApprovalState.ACTIVE
                )
            ).all()
            audience = sorted({org for pair in orgs for org in pair})
            data = {"credential_id": credential.id, "user_id": credential.user_id,
                    "expires_on": credential.expires_on.isoformat()}  # fmt: skip
            emit(uow, "access.credential_expiring", data, audience=audience)
            report.credential_notices.append(credential.id or 0)
