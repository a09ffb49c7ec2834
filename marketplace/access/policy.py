"""What a provider sets: a dataset's access mode and policy (holder, agreement, extra fields, default expiry,
public samples), and which of its members review requests."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from marketplace.access import audit
from marketplace.access.forms import clean_field_definitions
from marketplace.access.gate import policy_of
from marketplace.access.models import AccessPolicy, Agreement, Reviewer
from marketplace.access.states import AccessMode, HolderKind, ReviewerNotice
from marketplace.accounts.models import Membership, Organisation, User
from marketplace.catalog.models import Dataset
from marketplace.db import UnitOfWork
from marketplace.errors import NotFound, ValidationFailed
from marketplace.permissions import Action, require

_UNSET: Any = object()


def provider_of(session: Session, dataset: Dataset) -> Organisation:
    """The provider organisation that owns ``dataset``."""
    provider = session.get(Organisation, dataset.organisation_id)
    if provider is None:
        raise NotFound(message="No such provider.")
    return provider


def ensure_policy(uow: UnitOfWork, dataset: Dataset) -> AccessPolicy:
    """The dataset's policy row, created with the defaults (per person, public samples) when missing."""
    policy = policy_of(uow.session, dataset)
    if policy is None:
        policy = AccessPolicy(dataset_id=dataset.id, updated_at=uow.now())  # type: ignore[arg-type]
        uow.session.add(policy)
        uow.session.flush()
    return policy


def configure_access(
    uow: UnitOfWork,
    actor: User,
    dataset: Dataset,
    *,
    mode: AccessMode | None = None,
    holder: HolderKind | None = None,
    samples_public: bool | None = None,
    default_expiry_days: int | None = _UNSET,
    agreement_id: int | None = _UNSET,
    form_fields: list[dict[str, Any]] | None = None,
) -> AccessPolicy:
    """Set how access to ``dataset`` is governed; admins of its provider only. Arguments left out keep their value.

    ``credentialed`` needs an agreement; the agreement must be the provider's own; extra fields are validated
    (see :func:`~marketplace.access.forms.clean_field_definitions`). The change is written to the audit log.
    """
    session = uow.session
    provider = provider_of(session, dataset)
    require(session, actor, Action.ACCESS_MANAGE, provider)
    policy = ensure_policy(uow, dataset)
    if holder is not None:
        policy.holder = holder
    if samples_public is not None:
        policy.samples_public = samples_public
    if default_expiry_days is not _UNSET:
        if default_expiry_days is not None and not 1 <= default_expiry_days <= 36500:
            raise ValidationFailed.for_field("Default expiry (days)", "must be between 1 and 36500")
        policy.default_expiry_days = default_expiry_days
    if agreement_id is not _UNSET:
        if agreement_id is not None:
            agreement = session.get(Agreement, agreement_id)
            if agreement is None or agreement.organisation_id != provider.id:
                raise ValidationFailed.for_field("Agreement", "choose one of your organisation's agreements")
        policy.agreement_id = agreement_id
    if form_fields is not None:
        policy.form_fields = clean_field_definitions(form_fields)
    new_mode = mode if mode is not None else dataset.access_mode
    if new_mode is AccessMode.CREDENTIALED and policy.agreement_id is None:
        raise ValidationFailed.for_field("Agreement", "a credentialed dataset needs a data-use agreement")
    if new_mode is not dataset.access_mode:
        audit.record(
            uow, actor=actor, subject="policy", subject_id=policy.id or 0, action="mode_changed",
            from_state=dataset.access_mode, to_state=new_mode, dataset_id=dataset.id, provider_org_id=provider.id,
        )  # fmt: skip
        dataset.access_mode = new_mode
        dataset.updated_at = uow.now()
        session.add(dataset)
    policy.updated_at = uow.now()
    session.add(policy)
    session.flush()
    return policy


def samples_visible(session: Session, dataset: Dataset) -> bool:
    """Whether the dataset's samples may be shown to anyone (the provider's choice; always for open datasets)."""
    policy = policy_of(session, dataset)
    return dataset.access_mode is AccessMode.OPEN or policy is None or policy.samples_public


def set_reviewer(
    uow: UnitOfWork,
    actor: User,
    provider: Organisation,
    member: User,
    *,
    reviewer: bool = True,
    verifies_credentials: bool = False,
    notice: ReviewerNotice = ReviewerNotice.REALTIME,
) -> Reviewer | None:
    """Make a member of ``provider`` an access reviewer (optionally trusted to verify credentials), or stop it
    (``reviewer=False``); admins of ``provider`` only."""
    session = uow.session
    require(session, actor, Action.ACCESS_MANAGE, provider)
    membership = session.exec(
        select(Membership).where(Membership.organisation_id == provider.id, Membership.user_id == member.id)
    ).first()
    if membership is None:
        raise ValidationFailed.for_field("Member", f"{member.email} is not a member of {provider.name}")
    row = session.exec(select(Reviewer).where(Reviewer.membership_id == membership.id)).first()
    if not reviewer:
        if row is not None:
            session.delete(row)
        return None
    if row is None:
        row = Reviewer(
            membership_id=membership.id,  # type: ignore[arg-type]
            organisation_id=provider.id,  # type: ignore[arg-type]
            user_id=member.id,  # type: ignore[arg-type]
            created_at=uow.now(),
        )
    row.verifies_credentials = verifies_credentials
    row.notice = notice
    session.add(row)
    session.flush()
    return row


def reviewers_of(session: Session, provider: Organisation) -> list[Reviewer]:
    """The provider's flagged reviewers (its admins review too, without a flag)."""
    return list(
        session.exec(select(Reviewer).where(Reviewer.organisation_id == provider.id).order_by(col(Reviewer.id))).all()
    )
