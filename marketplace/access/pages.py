"""What the governed-access pages show, composed from the access services: the dataset page's access block, the
person's "My access" page, the reviewers' queue rows, and a few page actions that call several service functions in
one unit of work (a batch with an expiry per approval, a credential decision with its mail).

Nothing here decides a rule: every rule lives in the service modules it calls.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlmodel import Session, col, select

from marketplace.access import agreements, audit, credentials, holders
from marketplace.access import requests as reqs
from marketplace.access.forms import clean_answers
from marketplace.access.gate import check_access, current_version, policy_of
from marketplace.access.models import (
    AccessPolicy,
    AccessRequest,
    Agreement,
    AgreementVersion,
    Approval,
    Credential,
    Reviewer,
    Signature,
)
from marketplace.access.policy import may_see_samples
from marketplace.access.states import AccessMode, ReviewerNotice
from marketplace.accounts.models import Organisation, OrgKind, User
from marketplace.accounts.services import organisations_of
from marketplace.catalog.models import Dataset
from marketplace.db import UnitOfWork
from marketplace.errors import FieldProblem, NotFound, ValidationFailed
from marketplace.notifications.kinds import NotificationKind
from marketplace.notifications.services import Notice, deliver
from marketplace.permissions import Action, can

MODE_LABELS = {
    AccessMode.OPEN: "Open: anyone may license it",
    AccessMode.GATED_AUTO: "Gated, approved automatically once the form and agreement are complete",
    AccessMode.GATED_MANUAL: "Gated, each request approved by a reviewer",
    AccessMode.CREDENTIALED: "Credentialed: a reviewer's approval and a verified training certificate",
}


@dataclass(frozen=True)
class DatasetAccess:
    """The dataset page's access block for one viewer."""

    mode: AccessMode
    allowed: bool
    problem: str | None
    request: AccessRequest | None
    approval: Approval | None
    samples_visible: bool

    @property
    def governed(self) -> bool:
        return self.mode.is_governed


def dataset_access(session: Session, user: User | None, dataset: Dataset, now: datetime) -> DatasetAccess:
    """Whether ``user`` holds access in force to ``dataset``, their latest request, and whether samples show."""
    check = check_access(session, user, dataset, None, now)
    latest = None
    if user is not None and dataset.access_mode.is_governed:
        latest = session.exec(
            select(AccessRequest)
            .where(AccessRequest.dataset_id == dataset.id, AccessRequest.requester_id == user.id)
            .order_by(col(AccessRequest.submitted_at).desc(), col(AccessRequest.id).desc())
        ).first()
    visible = may_see_samples(session, user, dataset, now)
    return DatasetAccess(dataset.access_mode, check.allowed, check.problem, latest, check.approval, visible)


def request_form_context(session: Session, user: User, dataset: Dataset) -> dict[str, Any]:
    """What the request form needs: the provider's extra fields, the person's buyer organisations, the agreement."""
    policy = policy_of(session, dataset)
    agreement = session.get(Agreement, policy.agreement_id) if policy and policy.agreement_id else None
    buyer_orgs = [
        org
        for org, _ in organisations_of(session, user)
        if org.kind is OrgKind.BUYER and can(session, user, Action.ORG_ACT_FOR, org)
    ]
    return {
        "extra_fields": policy.form_fields if policy else [],
        "buyer_orgs": buyer_orgs,
        "agreement": agreement,
        "agreement_version": current_version(session, agreement.id or 0) if agreement else None,
    }


def request_view(session: Session, request: AccessRequest) -> dict[str, Any]:
    """One request as its status page shows it: dataset, agreement version to sign, signature, history."""
    version = agreements.request_version(session, request)
    approval = session.exec(select(Approval).where(Approval.request_id == request.id)).first()
    return {
        "request": request,
        "dataset": session.get(Dataset, request.dataset_id),
        "provider": session.get(Organisation, request.provider_org_id),
        "organisation": session.get(Organisation, request.organisation_id),
        "version": version,
        "agreement": session.get(Agreement, version.agreement_id) if version else None,
        "signature": session.get(Signature, request.signature_id) if request.signature_id else None,
        "approval": approval,
        "history": reqs.decisions_for(session, request),
        "requester": session.get(User, request.requester_id),
    }


def my_access(session: Session, user: User) -> dict[str, Any]:
    """The "My access" page: the person's requests (with dataset and approval), access granted to them directly,
    the agreement versions they must sign to use an approval (by approval id), the organisation access whose seats
    they manage, and their history."""
    rows = []
    held: list[Approval] = []
    for request in reqs.requests_of(session, user):
        approval = session.exec(select(Approval).where(Approval.request_id == request.id)).first()
        rows.append({"request": request, "dataset": session.get(Dataset, request.dataset_id), "approval": approval})
        held.extend([approval] if approval is not None else [])
    granted = session.exec(
        select(Approval).where(Approval.user_id == user.id, col(Approval.request_id).is_(None))
    ).all()
    grants = [{"approval": a, "dataset": session.get(Dataset, a.dataset_id)} for a in granted]
    held.extend(granted)
    to_sign = {a.id: v for a in held if (v := agreements.version_to_sign(session, a)) is not None}
    managed = [
        {"approval": a, "dataset": session.get(Dataset, a.dataset_id), "organisation": session.get(Organisation,
         a.organisation_id)} for a in holders.seat_managed_approvals(session, user)
    ]  # fmt: skip
    return {
        "rows": rows, "grants": grants, "to_sign": to_sign, "managed": managed,
        "history": audit.history_of(session, user),
    }  # fmt: skip


def seats_page(session: Session, user: User, approval_id: int) -> dict[str, Any]:
    """The seat management page of an organisation's access (its admins only, else 404): who holds a seat, the
    licence terms' seat count (None: unlimited)."""
    approval = holders.managed_approval(session, user, approval_id)
    seats = holders.seats_of(session, approval)
    return {
        "approval": approval,
        "dataset": session.get(Dataset, approval.dataset_id),
        "organisation": session.get(Organisation, approval.organisation_id),
        "seats": [{"seat": s, "person": session.get(User, s.user_id)} for s in seats],
        "limit": holders.seat_limit(session, approval),
    }


def approval_signing_page(session: Session, user: User, approval_id: int) -> dict[str, Any]:
    """The page on which the person an approval names signs its agreement to use it: the approval, its dataset,
    the version to sign (None when nothing is to be signed) and their current signature. 404 for anyone else."""
    approval = session.get(Approval, approval_id)
    if approval is None or approval.user_id != user.id:
        raise NotFound(message="No such access.")
    version = agreements.version_to_sign(session, approval)
    signature = session.get(Signature, approval.signature_id) if approval.signature_id else None
    return {
        "approval": approval,
        "dataset": session.get(Dataset, approval.dataset_id),
        "version": version,
        "agreement": session.get(Agreement, version.agreement_id) if version else None,
        "signature": signature,
    }


def reviewable_providers(session: Session, user: User) -> list[Organisation]:
    """The provider organisations whose access requests ``user`` may review."""
    return [
        org
        for org, _ in organisations_of(session, user)
        if org.kind is OrgKind.PROVIDER and can(session, user, Action.ACCESS_REVIEW, org)
    ]


def queue_rows(session: Session, requests: list[AccessRequest]) -> list[dict[str, Any]]:
    """Queue rows with the dataset, the requester, the credential state and the default expiry for each request."""
    rows = []
    for request in requests:
        dataset = session.get(Dataset, request.dataset_id)
        policy = policy_of(session, dataset) if dataset else None
        rows.append(
            {
                "request": request,
                "dataset": dataset,
                "requester": session.get(User, request.requester_id),
                "organisation": session.get(Organisation, request.organisation_id),
                "credential": _latest_credential(session, request.requester_id),
                "default_expiry_days": policy.default_expiry_days if policy else None,
            }
        )
    return rows


def _latest_credential(session: Session, user_id: int) -> Credential | None:
    return session.exec(
        select(Credential).where(Credential.user_id == user_id).order_by(col(Credential.submitted_at).desc())
    ).first()


def datasets_of(session: Session, provider: Organisation) -> list[Dataset]:
    """The provider's governed datasets (for the queue's dataset filter and the grant form)."""
    return list(
        session.exec(
            select(Dataset)
            .where(Dataset.organisation_id == provider.id, Dataset.access_mode != AccessMode.OPEN)
            .order_by(col(Dataset.title))
        ).all()
    )


def end_of_day(day: date) -> datetime:
    """An expiry chosen as a date ends at the end of that day (UTC)."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)


def approve_batch(uow: UnitOfWork, actor: User, expiries: dict[int, date | None], *, reason: str) -> list[Approval]:
    """Approve the requests ``expiries`` names, each with its own expiry date (None: the dataset's default), all or
    none: the requests are grouped by expiry and each group is approved by :func:`requests.approve_requests`."""
    groups: dict[date | None, list[int]] = defaultdict(list)
    for request_id, day in expiries.items():
        groups[day].append(request_id)
    approvals: list[Approval] = []
    for day, ids in groups.items():
        expires_at = end_of_day(day) if day is not None else None
        approvals.extend(reqs.approve_requests(uow, actor, ids, reason=reason, expires_at=expires_at))
    return approvals


def decide_credential(
    uow: UnitOfWork, actor: User, credential: Credential, *, verified: bool, reason: str
) -> Credential:
    """Verify or refuse a credential (:func:`credentials.decide_credential`) and tell its owner (site and mail,
    as they chose)."""
    decided = credentials.decide_credential(uow, actor, credential, verified=verified, reason=reason)
    owner = uow.session.get(User, decided.user_id)
    if verified:
        subject = "Your training certificate was verified"
        body = f"Your certificate “{decided.course}” ({decided.issuer}) was verified."
    else:
        subject = "Your training certificate was refused"
        body = (
            f"Your certificate “{decided.course}” ({decided.issuer}) was refused.\n\nReason: "
            f"{decided.decision_reason}\n\nYou can upload another one:"
        )
    deliver(uow, [owner], Notice(NotificationKind.ACCESS_DECISION, subject, body, "/access/credentials"))
    return decided


def set_own_notice(uow: UnitOfWork, user: User, provider: Organisation, notice: ReviewerNotice) -> Reviewer:
    """A reviewer chooses how they hear of new requests to ``provider`` (real time or a daily digest); an admin of
    the provider without a reviewer flag gets one, keeping ``verifies_credentials`` off."""
    from marketplace.access.policy import set_reviewer

    row = uow.session.exec(
        select(Reviewer).where(Reviewer.organisation_id == provider.id, Reviewer.user_id == user.id)
    ).first()
    if row is None:
        if not can(uow.session, user, Action.ACCESS_REVIEW, provider):
            raise NotFound(message="No such provider.")
        made = set_reviewer(uow, user, provider, user, notice=notice)
        assert made is not None
        return made
    row.notice = notice
    uow.session.add(row)
    return row


def own_notice(session: Session, user: User, provider: Organisation) -> ReviewerNotice:
    """How ``user`` hears of new requests to ``provider`` (real time unless they chose the digest)."""
    row = session.exec(
        select(Reviewer).where(Reviewer.organisation_id == provider.id, Reviewer.user_id == user.id)
    ).first()
    return row.notice if row is not None else ReviewerNotice.REALTIME


def agreement_page(session: Session, agreement: Agreement) -> dict[str, Any]:
    versions = agreements.versions_of(session, agreement)
    return {"agreement": agreement, "versions": versions, "current": versions[-1] if versions else None}


def policy_page(session: Session, dataset: Dataset) -> dict[str, Any]:
    """The provider's access settings page: the policy (or defaults), the provider's agreements."""
    provider = session.get(Organisation, dataset.organisation_id)
    assert provider is not None
    policy = policy_of(session, dataset) or AccessPolicy(dataset_id=dataset.id or 0)
    return {"provider": provider, "policy": policy, "agreements": agreements.agreements_of(session, provider)}


def version_of(session: Session, version_id: int | None) -> AgreementVersion | None:
    return session.get(AgreementVersion, version_id) if version_id else None


def provider_median_hours(session: Session, provider: Organisation, now: datetime) -> float | None:
    """The provider page's figure: median hours from request to decision over the last 90 days."""
    return reqs.median_decision_hours(session, provider, now, days=90)


def answer_problems(definitions: list[dict[str, Any]], answers: dict[str, Any]) -> list[FieldProblem]:
    """The problems of the answers to the provider's extra fields alone (none when they are fine)."""
    try:
        clean_answers(definitions, answers)
    except ValidationFailed as error:
        return list(error.details)
    return []
