"""Milestones of a contract: delivered as versions of the private dataset, reviewed, accepted or rejected.

The provider uploads a milestone's files into a draft version of the contract's private dataset through the
ordinary uploads (SHA-256 and size verified), then :func:`deliver_milestone` publishes that version (it can never
change again), records the delivery, opens the buyer's review window (``CUSTOM_REVIEW_DAYS``) and gives the buyer a
review grant for that version alone. The buyer then :func:`accept_milestone` (the provider is paid, the contract
license extended) or :func:`reject_milestone` with a reason. A rejected milestone is redelivered (up to the
contract's ``max_redeliveries``) or escalated (:func:`escalate_milestone`) for the platform admin to decide
(:func:`marketplace.custom.settlement.decide_escalation`). :func:`sweep` accepts every milestone whose review window
passed in silence. Accepting the last open milestone completes the contract.

Only funded milestones are delivered: the whole price paid upfront, or the milestone's own payment.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from marketplace.accounts.models import User
from marketplace.catalog import services as catalog
from marketplace.catalog.models import Dataset, DatasetVersion
from marketplace.catalog.vocab import VersionStatus
from marketplace.custom import contract_events as events
from marketplace.custom.contract_license import end_review_grant, issue_review_grant, license_accepted_work
from marketplace.custom.errors import CustomErrorCode
from marketplace.custom.escrow import funding_payment, milestones_of
from marketplace.custom.funding_models import MilestoneDelivery
from marketplace.custom.models import Contract, Milestone
from marketplace.custom.settlement import finish_if_done, release_to_provider
from marketplace.custom.states import ContractState, Machine, MilestoneState
from marketplace.custom.transitions import move
from marketplace.db import UnitOfWork
from marketplace.delivery.uploads import require_deliverable
from marketplace.errors import Conflict, NotFound, ValidationFailed
from marketplace.permissions import Action, require

#: States in which a delivery waits for the buyer's review.
UNDER_REVIEW = frozenset({MilestoneState.DELIVERED, MilestoneState.REDELIVERED})


def get_milestone(uow: UnitOfWork, contract: Contract, position: int) -> Milestone:
    """Milestone ``position`` (1-based) of ``contract`` (which the caller already may see)."""
    milestone = uow.session.exec(
        select(Milestone).where(Milestone.contract_id == contract.id, Milestone.position == position)
    ).first()
    if milestone is None:
        raise NotFound(message=f"The contract has no milestone {position}.")
    return milestone


def deliveries_of(uow: UnitOfWork, milestone: Milestone) -> list[MilestoneDelivery]:
    return list(
        uow.session.exec(
            select(MilestoneDelivery)
            .where(MilestoneDelivery.milestone_id == milestone.id)
            .order_by(col(MilestoneDelivery.attempt))
        )
    )


def _draft_version(uow: UnitOfWork, contract: Contract, label: str) -> DatasetVersion:
    version = uow.session.exec(
        select(DatasetVersion).where(DatasetVersion.dataset_id == contract.dataset_id, DatasetVersion.version == label)
    ).first()
    if version is None:
        raise ValidationFailed.for_field("version", f"the contract's dataset has no version {label!r}")
    if version.status is not VersionStatus.DRAFT:
        raise ValidationFailed.for_field("version", f"version {label} is already published; deliver a new version")
    return version


def _require_live(contract: Contract) -> None:
    if contract.state is not ContractState.ACTIVE:
        raise Conflict(
            message=f"The contract is {contract.state.value.replace('_', ' ')}, not active.",
            code=CustomErrorCode.CONTRACT_NOT_ACTIVE,
        )


def deliver_milestone(
    uow: UnitOfWork, actor: User, contract: Contract, milestone: Milestone, *, version: str
) -> Milestone:
    """Deliver (or, after a rejection, redeliver) ``milestone`` as draft version ``version`` of the contract's
    private dataset, whose files must all be uploaded and verified: the version is published, the buyer gets a
    review grant for it until the review deadline. Provider-organisation members only."""
    session = uow.session
    require(session, actor, Action.CUSTOM_MILESTONE_DELIVER, contract)
    _require_live(contract)
    redelivery = milestone.state is MilestoneState.REJECTED
    if redelivery and milestone.redelivery_count >= contract.max_redeliveries:
        raise Conflict(
            message=f"This milestone was already redelivered {milestone.redelivery_count} times, the contract's "
            "limit; it can only be escalated now.",
            code=CustomErrorCode.REDELIVERY_LIMIT,
        )
    if funding_payment(session, contract, milestone) is None:
        raise Conflict(
            message="This milestone is not paid yet; it is delivered once it is funded.",
            code=CustomErrorCode.NOT_FUNDED,
        )
    draft = _draft_version(uow, contract, version)
    dataset = session.get(Dataset, contract.dataset_id)
    assert dataset is not None
    require_deliverable(session, draft, allow_declared=False)
    target = MilestoneState.REDELIVERED if redelivery else MilestoneState.DELIVERED
    move(uow, Machine.MILESTONE, milestone, target, actor_id=actor.id, reason=f"version {version}")
    catalog.publish_private_version(uow, actor, dataset, draft)
    now = uow.now()
    deadline = now + timedelta(days=int(uow.settings.get("CUSTOM_REVIEW_DAYS", 14)))
    if redelivery:
        milestone.redelivery_count += 1
    milestone.delivered_version_id = draft.id
    milestone.delivered_at = now
    milestone.review_deadline = deadline
    session.add(milestone)
    assert draft.manifest_digest is not None
    review = issue_review_grant(uow, contract, draft, deadline)
    session.add(
        MilestoneDelivery(
            milestone_id=milestone.id,  # type: ignore[arg-type]
            attempt=milestone.redelivery_count,
            version_id=draft.id,  # type: ignore[arg-type]
            manifest_digest=draft.manifest_digest,
            review_grant_id=review.id,
            delivered_by_id=actor.id,
            delivered_at=now,
            review_deadline=deadline,
        )
    )
    session.flush()
    events.milestone_delivered(uow, contract, milestone, draft.version, draft.manifest_digest)
    return milestone


def _current_delivery(uow: UnitOfWork, milestone: Milestone) -> MilestoneDelivery:
    deliveries = deliveries_of(uow, milestone)
    assert deliveries, "a delivered milestone has a delivery"
    return deliveries[-1]


def _label(uow: UnitOfWork, delivery: MilestoneDelivery) -> str:
    version = uow.session.get(DatasetVersion, delivery.version_id)
    assert version is not None
    return version.version


def _accept(
    uow: UnitOfWork, contract: Contract, milestone: Milestone, actor_id: int | None, *, automatic: bool
) -> None:
    target = MilestoneState.AUTO_ACCEPTED if automatic else MilestoneState.ACCEPTED
    reason = "no answer within the review period" if automatic else ""
    move(uow, Machine.MILESTONE, milestone, target, actor_id=actor_id, reason=reason)
    milestone.decided_at = uow.now()
    delivery = _current_delivery(uow, milestone)
    end_review_grant(uow, delivery.review_grant_id, "review ended: accepted into the contract's license")
    release_to_provider(uow, contract, milestone, milestone.amount)
    license_accepted_work(uow, contract, milestones_of(uow.session, contract))
    events.milestone_accepted(uow, contract, milestone, _label(uow, delivery), automatic=automatic)
    finish_if_done(uow, contract, actor_id)


def accept_milestone(uow: UnitOfWork, actor: User, contract: Contract, milestone: Milestone) -> Milestone:
    """Accept a delivered milestone (buyer-organisation members): its money goes to the provider (less the
    platform fee), its version joins the buyer's contract license, and the last acceptance completes the
    contract."""
    require(uow.session, actor, Action.CUSTOM_MILESTONE_REVIEW, contract)
    _require_live(contract)
    _accept(uow, contract, milestone, actor.id, automatic=False)
    return milestone


def reject_milestone(
    uow: UnitOfWork, actor: User, contract: Contract, milestone: Milestone, *, reason: str
) -> Milestone:
    """Reject a delivered milestone with a reason (buyer-organisation members); the money stays held and the
    review grant ends. The provider may then redeliver or escalate."""
    require(uow.session, actor, Action.CUSTOM_MILESTONE_REVIEW, contract)
    _require_live(contract)
    reason = reason.strip()
    if not reason:
        raise ValidationFailed.for_field("reason", "say what is wrong with the delivery")
    move(uow, Machine.MILESTONE, milestone, MilestoneState.REJECTED, actor_id=actor.id, reason=reason)
    milestone.rejection_reason = reason[:4000]
    milestone.decided_at = uow.now()
    uow.session.add(milestone)
    delivery = _current_delivery(uow, milestone)
    end_review_grant(uow, delivery.review_grant_id, "review ended: delivery rejected")
    events.milestone_rejected(uow, contract, milestone, _label(uow, delivery), reason)
    return milestone


def escalate_milestone(
    uow: UnitOfWork, actor: User, contract: Contract, milestone: Milestone, *, reason: str
) -> Contract:
    """Take a rejected milestone to the platform admin (either party): the contract is in dispute until the
    admin decides (refund, pay or split)."""
    require(uow.session, actor, Action.CUSTOM_MILESTONE_ESCALATE, contract)
    reason = reason.strip()
    if not reason:
        raise ValidationFailed.for_field("reason", "say why the platform should decide")
    if milestone.state is not MilestoneState.REJECTED:
        raise Conflict(message="Only a rejected milestone can be escalated.", code=CustomErrorCode.NOT_REJECTED)
    move(
        uow,
        Machine.CONTRACT,
        contract,
        ContractState.IN_DISPUTE,
        actor_id=actor.id,
        reason=f"milestone {milestone.position} escalated: {reason}",
    )
    return contract


def sweep(uow: UnitOfWork) -> list[str]:
    """Accept every delivered milestone of an active contract whose review deadline passed (at ``uow.now()``)
    without an answer; one line per milestone accepted. Safe to run at any time, as often as wanted."""
    due = uow.session.exec(
        select(Milestone)
        .join(Contract, Contract.id == Milestone.contract_id)  # type: ignore[arg-type]
        .where(
            col(Milestone.state).in_(list(UNDER_REVIEW)),
            col(Milestone.review_deadline) <= uow.now(),
            Contract.state == ContractState.ACTIVE,
        )
        .order_by(col(Milestone.id))
        .with_for_update()
    ).all()
    report = []
    for milestone in due:
        contract = uow.session.get(Contract, milestone.contract_id)
        assert contract is not None
        _accept(uow, contract, milestone, None, automatic=True)
        report.append(f"contract {contract.id} milestone {milestone.position}: auto-accepted")
    return report
