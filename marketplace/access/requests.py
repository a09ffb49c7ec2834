"""Access requests and their review: submit and sign, the reviewers' queue, approve or reject in batches with a
reason the requester sees, reset, revoke, grant without a request, and the provider's median time to a decision.

Every decision is checked against the state machines (:mod:`marketplace.access.states`), written to the audit log
and announced as a domain event (``access.requested/approved/rejected/expired/revoked``) for outbound webhooks.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from marketplace.access import agreements, audit
from marketplace.access.errors import AccessErrorCode
from marketplace.access.forms import clean_answers, clean_fixed
from marketplace.access.gate import current_version, policy_of
from marketplace.access.models import AccessEvent, AccessRequest, Approval, Signature
from marketplace.access.states import AccessMode, ApprovalState, HolderKind, RequestState, check_move
from marketplace.accounts.models import Organisation, OrgKind, User
from marketplace.catalog.models import Dataset
from marketplace.db import UnitOfWork
from marketplace.errors import Conflict, NotFound, ValidationFailed
from marketplace.events import emit
from marketplace.permissions import Action, can, require

MAX_BATCH = 100


def _event(uow: UnitOfWork, name: str, dataset: Dataset | None, data: dict[str, Any], orgs: list[int]) -> None:
    emit(uow, name, {"dataset": dataset.slug if dataset else None, **data}, audience=sorted(set(orgs)))


def submit_request(
    uow: UnitOfWork,
    user: User,
    dataset: Dataset,
    *,
    organisation_slug: str,
    full_name: str,
    intended_uses: list[str],
    intended_use_text: str,
    country: str,
    answers: dict[str, Any] | None = None,
) -> AccessRequest:
    """Ask for access to a governed dataset for one of the person's buyer organisations.

    The fixed fields and the provider's extra fields are validated (errors name the field's label); one open
    request per person and dataset. When the dataset has an agreement, the request records its current version,
    which the person then signs (:func:`sign_request`); a ``gated_auto`` dataset approves at once when the form
    and the agreement are complete.
    """
    session = uow.session
    if dataset.access_mode is AccessMode.OPEN or not dataset.is_public:
        raise Conflict(message="This dataset needs no access request.", code=AccessErrorCode.ACCESS_NOT_GOVERNED)
    org = session.exec(select(Organisation).where(Organisation.slug == organisation_slug)).first()
    if org is None or org.kind is not OrgKind.BUYER or not can(session, user, Action.ORG_ACT_FOR, org):
        raise ValidationFailed.for_field("Organisation", "choose a buyer organisation you belong to")
    name, uses, text, code = clean_fixed(
        full_name=full_name, intended_uses=intended_uses, intended_use_text=intended_use_text, country=country
    )
    policy = policy_of(session, dataset)
    extra = clean_answers(policy.form_fields if policy else [], answers or {})
    open_one = session.exec(
        select(AccessRequest.id).where(
            AccessRequest.dataset_id == dataset.id,
            AccessRequest.requester_id == user.id,
            AccessRequest.state == RequestState.SUBMITTED,
        )
    ).first()
    if open_one is not None:
        raise Conflict(message="You already have a request waiting for review.", code=AccessErrorCode.REQUEST_PENDING)
    version = current_version(session, policy.agreement_id) if policy and policy.agreement_id else None
    request = AccessRequest(
        dataset_id=dataset.id,  # type: ignore[arg-type]
        provider_org_id=dataset.organisation_id,
        requester_id=user.id,  # type: ignore[arg-type]
        organisation_id=org.id,  # type: ignore[arg-type]
        full_name=name,
        intended_uses=uses,
        intended_use_text=text,
        country=code,
        answers=extra,
        agreement_version_id=version.id if version else None,
        submitted_at=uow.now(),
    )
    session.add(request)
    session.flush()
    _log(uow, user, request, "submitted", None, RequestState.SUBMITTED, "")
    _event(uow, "access.requested", dataset, _request_data(request), [dataset.organisation_id])
    _auto_approve(uow, request, dataset)
    return request


def _request_data(request: AccessRequest) -> dict[str, Any]:
    return {"request_id": request.id, "state": request.state.value, "requester_id": request.requester_id}


def _log(
    uow: UnitOfWork,
    actor: User | None,
    request: AccessRequest,
    action: str,
    before: RequestState | None,
    after: RequestState,
    reason: str,
) -> None:
    audit.record(
        uow, actor=actor, subject="request", subject_id=request.id or 0, action=action, from_state=before,
        to_state=after, reason=reason, dataset_id=request.dataset_id, provider_org_id=request.provider_org_id,
        person_id=request.requester_id, requester_org_id=request.organisation_id,
    )  # fmt: skip


def _complete(request: AccessRequest) -> bool:
    return request.agreement_version_id is None or request.signature_id is not None


def _auto_approve(uow: UnitOfWork, request: AccessRequest, dataset: Dataset) -> None:
    if dataset.access_mode is AccessMode.GATED_AUTO and _complete(request):
        _approve(uow, None, request, dataset, reason="approved automatically", expires_at=None)


def sign_request(
    uow: UnitOfWork,
    user: User,
    request: AccessRequest,
    *,
    full_name: str,
    shown_sha256: str,
    ip_address: str,
    user_agent: str,
) -> Signature:
    """Sign the agreement version ``request`` names, as its requester (see :func:`agreements.sign`); completes a
    ``gated_auto`` request, which is then approved at once."""
    if request.requester_id != user.id:
        raise NotFound(message="No such access request.")
    if request.state is not RequestState.SUBMITTED:
        raise Conflict(message=f"This request is {request.state.value}.", code=AccessErrorCode.REQUEST_CLOSED)
    version = agreements.request_version(uow.session, request)
    if version is None:
        raise Conflict(message="This dataset has no agreement to sign.", code=AccessErrorCode.NO_AGREEMENT)
    signature = agreements.sign(
        uow, user, version, full_name=full_name, shown_sha256=shown_sha256, ip_address=ip_address,
        user_agent=user_agent,
    )  # fmt: skip
    request.signature_id = signature.id
    uow.session.add(request)
    uow.session.flush()
    dataset = uow.session.get(Dataset, request.dataset_id)
    if dataset is not None:
        _auto_approve(uow, request, dataset)
    return signature


def withdraw_request(uow: UnitOfWork, user: User, request: AccessRequest) -> AccessRequest:
    """The requester withdraws their open request."""
    if request.requester_id != user.id:
        raise NotFound(message="No such access request.")
    check_move(request.state, RequestState.WITHDRAWN)
    before, request.state = request.state, RequestState.WITHDRAWN
    request.decided_at = uow.now()
    uow.session.add(request)
    _log(uow, user, request, "withdrawn", before, RequestState.WITHDRAWN, "")
    return request


def get_request(session: Session, user: User | None, request_id: int) -> AccessRequest:
    """A request its requester or a reviewer of its provider may see; everyone else gets 404 (ids unconfirmed)."""
    request = session.get(AccessRequest, request_id)
    if request is None or not can(session, user, Action.ACCESS_REQUEST_VIEW, request):
        raise NotFound(message="No such access request.")
    return request


def requests_of(session: Session, user: User) -> list[AccessRequest]:
    """The person's own requests, newest first."""
    return list(
        session.exec(
            select(AccessRequest)
            .where(AccessRequest.requester_id == user.id)
            .order_by(col(AccessRequest.submitted_at).desc(), col(AccessRequest.id).desc())
        ).all()
    )


@dataclass(frozen=True)
class QueueFilter:
    """The reviewers' queue filters: state, dataset, and a submission date range (inclusive)."""

    state: RequestState | None = RequestState.SUBMITTED
    dataset_id: int | None = None
    submitted_from: date | None = None
    submitted_to: date | None = None


def review_queue(
    session: Session, user: User, provider: Organisation, filters: QueueFilter = QueueFilter(), *, limit: int = 100
) -> list[AccessRequest]:
    """Requests to ``provider`` matching ``filters``, oldest first; its reviewers and admins only."""
    statement = queue_statement(session, user, provider, filters)
    statement = statement.order_by(col(AccessRequest.submitted_at), col(AccessRequest.id)).limit(min(limit, 500))
    return list(session.exec(statement).all())


def queue_statement(
    session: Session, user: User, provider: Organisation, filters: QueueFilter
) -> SelectOfScalar[AccessRequest]:
    """The unordered query of requests to ``provider`` matching ``filters`` (state, dataset, days sent, in UTC),
    after checking that ``user`` reviews for ``provider`` (:class:`PermissionDenied` otherwise)."""
    require(session, user, Action.ACCESS_REVIEW, provider)
    statement = select(AccessRequest).where(AccessRequest.provider_org_id == provider.id)
    if filters.state is not None:
        statement = statement.where(AccessRequest.state == filters.state)
    if filters.dataset_id is not None:
        statement = statement.where(AccessRequest.dataset_id == filters.dataset_id)
    if filters.submitted_from is not None:
        statement = statement.where(col(AccessRequest.submitted_at) >= _utc_day(filters.submitted_from))
    if filters.submitted_to is not None:
        statement = statement.where(
            col(AccessRequest.submitted_at) < _utc_day(filters.submitted_to) + timedelta(days=1)
        )
    return statement


def _utc_day(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _reviewable(uow: UnitOfWork, actor: User, request_ids: list[int]) -> list[AccessRequest]:
    if not request_ids:
        raise ValidationFailed.for_field("Requests", "choose at least one request")
    if len(request_ids) > MAX_BATCH:
        raise ValidationFailed.for_field("Requests", f"at most {MAX_BATCH} at once")
    # Lock the rows: two reviewers deciding the same request at once are serialised, the second sees the decision.
    rows = uow.session.exec(
        select(AccessRequest)
        .where(col(AccessRequest.id).in_(sorted(set(request_ids))))
        .order_by(col(AccessRequest.id))
        .with_for_update()
    ).all()
    found = {r.id: r for r in rows}
    out = []
    for request_id in dict.fromkeys(request_ids):
        request = found.get(request_id)
        if request is None or not can(uow.session, actor, Action.ACCESS_REVIEW, _provider(uow.session, request)):
            raise NotFound(message=f"No such access request: {request_id}.")
        uow.session.refresh(request)
        out.append(request)
    return out


def _provider(session: Session, request: AccessRequest) -> Organisation | None:
    return session.get(Organisation, request.provider_org_id)


def _approve(
    uow: UnitOfWork,
    actor: User | None,
    request: AccessRequest,
    dataset: Dataset,
    *,
    reason: str,
    expires_at: datetime | None,
) -> Approval:
    check_move(request.state, RequestState.APPROVED)
    if request.agreement_version_id is not None and request.signature_id is None:
        raise Conflict(
            message=f"Request {request.id}: the requester has not signed the agreement yet.",
            code=AccessErrorCode.UNSIGNED,
        )
    policy = policy_of(uow.session, dataset)
    now = uow.now()
    if expires_at is None and policy is not None and policy.default_expiry_days:
        expires_at = now + timedelta(days=policy.default_expiry_days)
    if expires_at is not None and expires_at <= now:
        raise ValidationFailed.for_field("Expiry", "must be in the future")
    before = request.state
    request.state = RequestState.APPROVED
    request.decided_at, request.decided_by_id, request.decision_reason = now, actor.id if actor else None, reason
    uow.session.add(request)
    approval = Approval(
        dataset_id=dataset.id,  # type: ignore[arg-type]
        provider_org_id=dataset.organisation_id,
        request_id=request.id,
        holder=policy.holder if policy else HolderKind.PERSON,
        user_id=request.requester_id,
        organisation_id=request.organisation_id,
        signature_id=request.signature_id,
        granted_by_id=actor.id if actor else None,
        granted_at=now,
        expires_at=expires_at,
        reason=reason,
    )
    uow.session.add(approval)
    uow.session.flush()
    if approval.holder is HolderKind.ORGANISATION:
        from marketplace.access.models import Seat

        # The person who asked takes the organisation's first named seat.
        uow.session.add(Seat(approval_id=approval.id, user_id=request.requester_id, added_at=now))  # type: ignore[arg-type]
    _log(uow, actor, request, "approved", before, RequestState.APPROVED, reason)
    data = {**_request_data(request), "approval_id": approval.id, "expires_at": _iso(expires_at), "reason": reason}
    _event(uow, "access.approved", dataset, data, [dataset.organisation_id, request.organisation_id])
    return approval


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def approve_requests(
    uow: UnitOfWork, actor: User, request_ids: list[int], *, reason: str = "", expires_at: datetime | None = None
) -> list[Approval]:
    """Approve one or many requests (all or none), each giving one approval; ``expires_at`` defaults to the
    dataset's default expiry. Reviewers and admins of each request's provider only; a request already decided is
    refused by name (409), so two reviewers approving at once give one approval."""
    approvals = []
    for request in _reviewable(uow, actor, request_ids):
        dataset = uow.session.get(Dataset, request.dataset_id)
        assert dataset is not None
        approvals.append(_approve(uow, actor, request, dataset, reason=reason.strip()[:1000], expires_at=expires_at))
    return approvals


def reject_requests(uow: UnitOfWork, actor: User, request_ids: list[int], *, reason: str) -> list[AccessRequest]:
    """Reject one or many requests (all or none) with a reason the requester sees (1 to 200 characters)."""
    reason = (reason or "").strip()
    if not 1 <= len(reason) <= 200:
        raise ValidationFailed.for_field("Reason", "give the requester a reason (at most 200 characters)")
    rows = _reviewable(uow, actor, request_ids)
    for request in rows:
        check_move(request.state, RequestState.REJECTED)
        before, request.state = request.state, RequestState.REJECTED
        request.decided_at, request.decided_by_id, request.decision_reason = uow.now(), actor.id, reason
        uow.session.add(request)
        _log(uow, actor, request, "rejected", before, RequestState.REJECTED, reason)
        dataset = uow.session.get(Dataset, request.dataset_id)
        data = {**_request_data(request), "reason": reason}
        _event(uow, "access.rejected", dataset, data, [request.provider_org_id, request.organisation_id])
    return rows


def get_approval(session: Session, user: User | None, approval_id: int) -> Approval:
    """An approval its holder (person, or an admin of the holding organisation) or a reviewer of its provider may
    see; 404 for everyone else."""
    approval = session.get(Approval, approval_id)
    provider = session.get(Organisation, approval.provider_org_id) if approval else None
    visible = (
        approval is not None
        and user is not None
        and (
            approval.user_id == user.id
            or can(session, user, Action.ACCESS_REVIEW, provider)
            or can(session, user, Action.ACCESS_SEATS_MANAGE, approval)
        )
    )
    if not visible or approval is None:
        raise NotFound(message="No such approval.")
    return approval


def end_approval(
    uow: UnitOfWork, actor: User | None, approval: Approval, to: ApprovalState, *, reason: str
) -> Approval:
    """Move an active approval to ``expired``, ``reset`` (the person must ask again) or ``revoked``; reviewers and
    admins of its provider only (the sweep expires with no actor). Downloads stop at once."""
    if actor is not None:
        require(uow.session, actor, Action.ACCESS_REVIEW, uow.session.get(Organisation, approval.provider_org_id))
    check_move(approval.state, to)
    if to is ApprovalState.REVOKED and not reason.strip():
        raise ValidationFailed.for_field("Reason", "say why access is revoked")
    before, approval.state, approval.ended_at = approval.state, to, uow.now()
    uow.session.add(approval)
    audit.record(
        uow, actor=actor, subject="approval", subject_id=approval.id or 0, action=to.value, from_state=before,
        to_state=to, reason=reason, dataset_id=approval.dataset_id, provider_org_id=approval.provider_org_id,
        person_id=approval.user_id, requester_org_id=approval.organisation_id,
    )  # fmt: skip
    event = {ApprovalState.EXPIRED: "access.expired", ApprovalState.REVOKED: "access.revoked"}.get(to)
    if to is ApprovalState.RESET:
        event = "access.revoked"  # for integrators a reset ends access like a revocation; "reason" tells them apart
    if event is not None:
        dataset = uow.session.get(Dataset, approval.dataset_id)
        data = {"approval_id": approval.id, "state": to.value, "reason": reason, "user_id": approval.user_id}
        _event(uow, event, dataset, data, [approval.provider_org_id, approval.organisation_id])
    return approval


def reset_approval(uow: UnitOfWork, actor: User, approval: Approval, *, reason: str = "") -> Approval:
    """Reset a decision: access ends and the person must ask again."""
    return end_approval(uow, actor, approval, ApprovalState.RESET, reason=reason)


def revoke_approval(uow: UnitOfWork, actor: User, approval: Approval, *, reason: str) -> Approval:
    """Revoke access (a breach of the agreement, …) with a reason."""
    return end_approval(uow, actor, approval, ApprovalState.REVOKED, reason=reason)


def grant_access(
    uow: UnitOfWork,
    actor: User,
    dataset: Dataset,
    *,
    person: User,
    organisation_slug: str,
    expires_at: datetime | None = None,
    reason: str = "",
) -> Approval:
    """Grant access without a request (reviewers and admins of the dataset's provider). The person still signs
    the agreement before access is in force, when the dataset has one."""
    session = uow.session
    provider = session.get(Organisation, dataset.organisation_id)
    require(session, actor, Action.ACCESS_REVIEW, provider)
    if dataset.access_mode is AccessMode.OPEN:
        raise Conflict(message="This dataset is open: no access to grant.", code=AccessErrorCode.ACCESS_NOT_GOVERNED)
    org = session.exec(select(Organisation).where(Organisation.slug == organisation_slug)).first()
    if org is None or org.kind is not OrgKind.BUYER:
        raise ValidationFailed.for_field("Organisation", f"no buyer organisation {organisation_slug!r}")
    policy = policy_of(session, dataset)
    now = uow.now()
    if expires_at is None and policy is not None and policy.default_expiry_days:
        expires_at = now + timedelta(days=policy.default_expiry_days)
    approval = Approval(
        dataset_id=dataset.id,  # type: ignore[arg-type]
        provider_org_id=dataset.organisation_id,
        holder=policy.holder if policy else HolderKind.PERSON,
        user_id=person.id,
        organisation_id=org.id,  # type: ignore[arg-type]
        granted_by_id=actor.id,
        granted_at=now,
        expires_at=expires_at,
        reason=reason,
    )
    session.add(approval)
    session.flush()
    if approval.holder is HolderKind.ORGANISATION:
        from marketplace.access.models import Seat

        session.add(Seat(approval_id=approval.id, user_id=person.id, added_by_id=actor.id, added_at=now))  # type: ignore[arg-type]
    audit.record(
        uow, actor=actor, subject="approval", subject_id=approval.id or 0, action="granted",
        to_state=ApprovalState.ACTIVE, reason=reason, dataset_id=dataset.id, provider_org_id=dataset.organisation_id,
        person_id=person.id, requester_org_id=org.id,
    )  # fmt: skip
    data = {"approval_id": approval.id, "user_id": person.id, "expires_at": _iso(expires_at), "reason": reason}
    _event(uow, "access.approved", dataset, data, [dataset.organisation_id, org.id or 0])
    return approval


def median_decision_hours(session: Session, provider: Organisation, now: datetime, *, days: int = 90) -> float | None:
    """The provider's median time from request to decision (approved or rejected), in hours, over requests decided
    in the last ``days`` days; None when it decided none."""
    rows = session.exec(
        select(AccessRequest.submitted_at, AccessRequest.decided_at).where(
            AccessRequest.provider_org_id == provider.id,
            col(AccessRequest.state).in_([RequestState.APPROVED, RequestState.REJECTED]),
            col(AccessRequest.decided_at) >= now - timedelta(days=days),
        )
    ).all()
    waits = [(decided - submitted).total_seconds() / 3600 for submitted, decided in rows if decided is not None]
    return round(statistics.median(waits), 2) if waits else None


def decisions_for(session: Session, request: AccessRequest) -> list[AccessEvent]:
    """The audit entries of one request, oldest first (shown to its requester and reviewers)."""
    return list(
        session.exec(
            select(AccessEvent)
            .where(AccessEvent.subject == "request", AccessEvent.subject_id == request.id)
            .order_by(col(AccessEvent.at), col(AccessEvent.id))
        ).all()
    )
