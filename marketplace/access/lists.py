"""Governed access as the JSON API reads and decides it: pages (by id cursor) of the reviewers' queue, of a
person's own requests and of approvals held or reviewed, and batches of decisions in which each request carries its
own reason and expiry.

Permissions are those of the services underneath (:mod:`marketplace.access.requests`): the queue and a provider's
approvals are for its reviewers and admins; a person's lists hold only what they may see themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, or_, select

from marketplace.access.models import AccessRequest, Approval, Seat
from marketplace.access.requests import MAX_BATCH, QueueFilter, approve_requests, queue_statement, reject_requests
from marketplace.access.states import ApprovalState
from marketplace.accounts.models import Membership, Organisation, Role, User
from marketplace.db import UnitOfWork
from marketplace.errors import Conflict, FieldProblem, ValidationFailed
from marketplace.permissions import Action, current_delegation, require, role_in


def queue_page(
    session: Session,
    user: User,
    provider: Organisation,
    filters: QueueFilter,
    *,
    after_id: int | None = None,
    limit: int = 20,
) -> list[AccessRequest]:
    """Requests to ``provider`` matching ``filters`` in the order they arrived (by id), after ``after_id``, at most
    ``limit``; reviewers and admins of ``provider`` only (:class:`PermissionDenied` otherwise)."""
    statement = queue_statement(session, user, provider, filters)
    if after_id is not None:
        statement = statement.where(col(AccessRequest.id) > after_id)
    return list(session.exec(statement.order_by(col(AccessRequest.id)).limit(limit)).all())


def own_requests_page(
    session: Session, user: User, *, before_id: int | None = None, limit: int = 20
) -> list[AccessRequest]:
    """The person's own requests, newest first (by id), before ``before_id``. Through an organisation's API
    credential, only the requests made for that organisation."""
    statement = select(AccessRequest).where(AccessRequest.requester_id == user.id)
    delegation = current_delegation()
    if delegation is not None and delegation.organisation_id is not None:
        statement = statement.where(AccessRequest.organisation_id == delegation.organisation_id)
    if before_id is not None:
        statement = statement.where(col(AccessRequest.id) < before_id)
    return list(session.exec(statement.order_by(col(AccessRequest.id).desc()).limit(limit)).all())


def held_approvals_page(
    session: Session, user: User, *, before_id: int | None = None, limit: int = 20
) -> list[Approval]:
    """Approvals the person holds, sits on a named seat of, or manages the seats of (as an admin of the holding
    organisation), newest first, before ``before_id``."""
    admin_of = [
        org.id
        for org in session.exec(
            select(Organisation)
            .join(Membership, col(Membership.organisation_id) == col(Organisation.id))
            .where(Membership.user_id == user.id)
        ).all()
        if (role := role_in(session, user, org)) is not None and role.rank >= Role.ADMIN.rank
    ]
    seated = select(Seat.approval_id).where(Seat.user_id == user.id)
    statement = select(Approval).where(
        or_(col(Approval.user_id) == user.id, col(Approval.id).in_(seated), col(Approval.organisation_id).in_(admin_of))
    )
    delegation = current_delegation()
    if delegation is not None and delegation.organisation_id is not None:
        statement = statement.where(Approval.organisation_id == delegation.organisation_id)
    if before_id is not None:
        statement = statement.where(col(Approval.id) < before_id)
    return list(session.exec(statement.order_by(col(Approval.id).desc()).limit(limit)).all())


def provider_approvals_page(
    session: Session,
    user: User,
    provider: Organisation,
    *,
    dataset_id: int | None = None,
    state: ApprovalState | None = None,
    before_id: int | None = None,
    limit: int = 20,
) -> list[Approval]:
    """Who holds access to ``provider``'s datasets, newest first; its reviewers and admins only."""
    require(session, user, Action.ACCESS_REVIEW, provider)
    statement = select(Approval).where(Approval.provider_org_id == provider.id)
    if dataset_id is not None:
        statement = statement.where(Approval.dataset_id == dataset_id)
    if state is not None:
        statement = statement.where(Approval.state == state)
    if before_id is not None:
        statement = statement.where(col(Approval.id) < before_id)
    return list(session.exec(statement.order_by(col(Approval.id).desc()).limit(limit)).all())


@dataclass(frozen=True)
class Decision:
    """One request of a batch, with its own reason (what the requester sees) and, for an approval, expiry (None:
    the dataset's default)."""

    request_id: int
    reason: str = ""
    expires_at: datetime | None = None


def _checked(decisions: list[Decision]) -> list[Decision]:
    if not decisions:
        raise ValidationFailed.for_field("Requests", "choose at least one request")
    if len(decisions) > MAX_BATCH:
        raise ValidationFailed.for_field("Requests", f"at most {MAX_BATCH} at once")
    ids = [d.request_id for d in decisions]
    if len(set(ids)) != len(ids):
        raise ValidationFailed.for_field("Requests", "name each request once")
    # Rows are locked in id order, whatever order the caller sent: two batches never wait on each other in a cycle.
    return sorted(decisions, key=lambda d: d.request_id)


def _named(request_id: int, error: Conflict) -> Conflict:
    message = error.message if error.message.startswith("Request ") else f"Request {request_id}: {error.message}"
    return Conflict(message=message, code=error.code, details=[FieldProblem(f"Request {request_id}", error.message)])


def approve_batch(uow: UnitOfWork, actor: User, decisions: list[Decision]) -> list[Approval]:
    """Approve every request of the batch (all or none: one unit of work), each with its reason and expiry; the
    approvals come back in the order the batch named the requests. A request already decided is refused by its id
    (409), so of two reviewers approving the same request at once, one wins and the other is told."""
    made: dict[int, Approval] = {}
    for decision in _checked(decisions):
        try:
            [approval] = approve_requests(
                uow, actor, [decision.request_id], reason=decision.reason, expires_at=decision.expires_at
            )
        except Conflict as error:
            raise _named(decision.request_id, error) from error
        made[decision.request_id] = approval
    return [made[d.request_id] for d in decisions]


def reject_batch(uow: UnitOfWork, actor: User, decisions: list[Decision]) -> list[AccessRequest]:
    """Reject every request of the batch (all or none), each with its reason (1 to 200 characters, required)."""
    done: dict[int, AccessRequest] = {}
    for decision in _checked(decisions):
        try:
            [request] = reject_requests(uow, actor, [decision.request_id], reason=decision.reason)
        except Conflict as error:
            raise _named(decision.request_id, error) from error
        done[decision.request_id] = request
    return [done[d.request_id] for d in decisions]
