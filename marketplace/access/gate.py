"""The one check other domains call: does this person hold access in force to a governed dataset?

``licenses`` (free acquisitions) and ``orders`` (checkout) call :func:`require_approved` explicitly before they sell
an offer of a governed dataset; ``delivery`` calls :func:`download_refusal` whenever it hands out a link *and* when a
link issued earlier is served, so access that ended stops downloads at once. Nothing here is a hook.

Access is in force when an active approval covers the person (held by them, or by their organisation with them on
a named seat), it has not passed its expiry, the agreement they signed still binds (its term has not ended and, if
the provider requires re-signing at once, it is the current version) and, for a credentialed dataset, they hold a
verified, unexpired training credential. A suspension (a new agreement version, an expired credential) is not a
state: it is this check failing, so it ends the moment the person re-signs or renews their credential.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, or_, select

import licensing
from marketplace.access.errors import ACCESS_EXPIRED, AccessRequired
from marketplace.access.models import (
    AccessPolicy,
    AccessRequest,
    Agreement,
    AgreementVersion,
    Approval,
    Credential,
    Seat,
    Signature,
)
from marketplace.access.states import (
    AccessMode,
    ApprovalState,
    CredentialState,
    HolderKind,
    RequestState,
    ResignPolicy,
)
from marketplace.accounts.models import Organisation, User
from marketplace.catalog.models import Dataset
from marketplace.db import UnitOfWork

_ENDED_MESSAGES = {
    ApprovalState.EXPIRED: ACCESS_EXPIRED,
    ApprovalState.RESET: "access was reset: request access again",
    ApprovalState.REVOKED: "access revoked",
}


@dataclass(frozen=True)
class AccessCheck:
    """The answer of :func:`check_access`: the approval in question (if any) and why access is not in force."""

    approval: Approval | None
    problem: str | None

    @property
    def allowed(self) -> bool:
        return self.problem is None


def policy_of(session: Session, dataset: Dataset) -> AccessPolicy | None:
    """The dataset's access policy row, or None while it has none (an open dataset needs none)."""
    return session.exec(select(AccessPolicy).where(AccessPolicy.dataset_id == dataset.id)).first()


def current_version(session: Session, agreement_id: int) -> AgreementVersion | None:
    """The newest version of an agreement: the one new requesters sign."""
    return session.exec(
        select(AgreementVersion)
        .where(AgreementVersion.agreement_id == agreement_id)
        .order_by(col(AgreementVersion.version).desc())
    ).first()


def valid_credential(session: Session, user_id: int, now: datetime) -> Credential | None:
    """The person's verified credential that is still valid on ``now``'s date (the latest-expiring one), or None."""
    rows = session.exec(
        select(Credential).where(Credential.user_id == user_id, Credential.state == CredentialState.VERIFIED)
    ).all()
    today = now.date()
    valid = [c for c in rows if c.expires_on is None or c.expires_on > today]
    return max(valid, key=lambda c: (c.expires_on is None, c.expires_on), default=None)


def approvals_covering(
    session: Session, user_id: int, dataset_id: int, organisation_id: int | None = None
) -> list[Approval]:
    """Every approval (in force or ended) that covers the person for the dataset, newest first: their own, and
    their organisations' where they hold a named seat. ``organisation_id`` narrows to one licensee."""
    seated = select(Seat.approval_id).where(Seat.user_id == user_id)
    statement = select(Approval).where(
        Approval.dataset_id == dataset_id,
        or_(
            (col(Approval.holder) == HolderKind.PERSON) & (col(Approval.user_id) == user_id),
            (col(Approval.holder) == HolderKind.ORGANISATION) & col(Approval.id).in_(seated),
        ),
    )
    if organisation_id is not None:
        statement = statement.where(Approval.organisation_id == organisation_id)
    return list(session.exec(statement.order_by(col(Approval.granted_at).desc(), col(Approval.id).desc())).all())


def signature_problem(session: Session, approval: Approval, policy: AccessPolicy | None, now: datetime) -> str | None:
    """Why the agreement behind ``approval`` no longer binds (its term ended, or a newer version must be signed)."""
    if policy is None or policy.agreement_id is None:
        return None
    signature = session.get(Signature, approval.signature_id) if approval.signature_id else None
    if signature is None:
        return "sign the data-use agreement first"
    version = session.get(AgreementVersion, signature.agreement_version_id)
    if version is None or version.agreement_id != policy.agreement_id:
        return "sign the dataset's current data-use agreement"
    if version.term_days is not None and now >= signature.signed_at + timedelta(days=version.term_days):
        return ACCESS_EXPIRED
    agreement = session.get(Agreement, policy.agreement_id)
    current = current_version(session, policy.agreement_id)
    renew_now = agreement is not None and agreement.resign_policy is ResignPolicy.IMMEDIATELY
    if renew_now and current is not None and current.id != version.id:
        return f"access suspended: sign version {current.version} of the data-use agreement"
    return None


def check_access(
    session: Session, user: User | None, dataset: Dataset, organisation_id: int | None, now: datetime
) -> AccessCheck:
    """Whether ``user`` holds access in force to ``dataset`` now (for the licensee ``organisation_id``, when given).

    Open datasets always pass. The problem is said in the person's words ("access expired", "access revoked",
    "access was reset: request access again", a pending request, an agreement or credential to renew).
    """
    if dataset.access_mode is AccessMode.OPEN:
        return AccessCheck(None, None)
    if user is None or user.id is None:
        return AccessCheck(None, "access to this dataset must be requested and approved first")
    approvals = approvals_covering(session, user.id, dataset.id or 0, organisation_id)
    active = [a for a in approvals if a.state is ApprovalState.ACTIVE]
    if not active:
        if approvals:
            return AccessCheck(approvals[0], _ENDED_MESSAGES[approvals[0].state])
        pending = session.exec(
            select(AccessRequest.id).where(
                AccessRequest.dataset_id == dataset.id,
                AccessRequest.requester_id == user.id,
                AccessRequest.state == RequestState.SUBMITTED,
            )
        ).first()
        if pending is not None:
            return AccessCheck(None, "your access request is waiting for review")
        return AccessCheck(None, "access to this dataset must be requested and approved first")
    approval = active[0]
    if approval.expires_at is not None and now >= approval.expires_at:
        return AccessCheck(approval, ACCESS_EXPIRED)
    problem = signature_problem(session, approval, policy_of(session, dataset), now)
    if problem is not None:
        return AccessCheck(approval, problem)
    if dataset.access_mode is AccessMode.CREDENTIALED and valid_credential(session, user.id, now) is None:
        return AccessCheck(approval, "access suspended: a verified, unexpired training credential is needed")
    return AccessCheck(approval, None)


def agreement_ref(session: Session, approval: Approval | None) -> licensing.AgreementRef | None:
    """The licensing engine's reference to the agreement version signed under ``approval`` (None without one)."""
    signature = session.get(Signature, approval.signature_id) if approval and approval.signature_id else None
    version = session.get(AgreementVersion, signature.agreement_version_id) if signature else None
    if version is None:
        return None
    return licensing.AgreementRef(id=str(version.agreement_id), version=str(version.version), sha256=version.sha256)


def require_approved(
    uow: UnitOfWork, user: User, dataset: Dataset, licensee: Organisation
) -> licensing.AgreementRef | None:
    """Refuse (:class:`AccessRequired`, 403) unless ``user`` may acquire an offer of ``dataset`` for ``licensee``.

    Open datasets pass with None. Governed ones need access in force (see :func:`check_access`); the return value
    is the agreement the person signed, to be written into the grant and its certificate.
    """
    result = check_access(uow.session, user, dataset, licensee.id, uow.now())
    if not result.allowed:
        raise AccessRequired(message=f"{dataset.title}: {result.problem}.")
    return agreement_ref(uow.session, result.approval)


def agreement_for_licensee(
    session: Session, dataset: Dataset, licensee_id: int, user_id: int | None
) -> licensing.AgreementRef | None:
    """The agreement to name in a grant issued later (a paid order's fulfilment): that of the newest approval the
    buyer held for the dataset and licensee, in force or not (what was paid for is still issued)."""
    if dataset.access_mode is AccessMode.OPEN or user_id is None:
        return None
    approvals = approvals_covering(session, user_id, dataset.id or 0, licensee_id)
    return agreement_ref(session, approvals[0]) if approvals else None


def download_refusal(
    session: Session, user: User | None, dataset_id: int, licensee_id: int, now: datetime
) -> str | None:
    """Why ``user`` may not download files of ``dataset_id`` under a license held by ``licensee_id`` now, or None.

    Asked when a link is issued and again when an earlier link is served: rejected, expired, reset or revoked
    requesters get nothing, whatever links they were given before.
    """
    dataset = session.get(Dataset, dataset_id)
    if dataset is None:
        return "no such dataset"
    return check_access(session, user, dataset, licensee_id, now).problem
