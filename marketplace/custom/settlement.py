"""Moving a milestone's held money: to the provider on acceptance, back to the buyer on a refund.

Stripe's *separate charges and transfers*: the buyer's charge stays with the platform; accepting a milestone makes
one transfer to the provider's connected account of the milestone's amount less the platform fee
(``PLATFORM_FEE_BPS``, taken on each transfer), with the contract's ``transfer_group`` and the funding charge as
``source_transaction``. Its idempotency key (``transfer:contract-<id>-m<milestone id>:<account>``) makes a retry
safe. A milestone cancelled before delivery, or a rejection settled as a refund, is refunded by a partial refund
of the funding charge (key ``contract-refund:<milestone id>``). An admin's split does both, in the amounts given.

A transfer that fails (the provider unreachable, no payout account yet) leaves the milestone accepted with no
``transfer_reference``: :func:`retry_transfers` (run by the reconcile commands) pays it later.
"""

from __future__ import annotations

import enum
import logging

from sqlmodel import col, select

from marketplace.accounts.models import User
from marketplace.custom.errors import CustomErrorCode
from marketplace.custom.escrow import (
    backend,
    funding_payment,
    milestones_of,
    payment_failure,
    provider_account_id,
    transfer_group,
)
from marketplace.custom.funding_models import ContractPayment
from marketplace.custom.models import Contract, Milestone
from marketplace.custom.states import ContractState, Machine, MilestoneState
from marketplace.custom.transitions import move
from marketplace.db import UnitOfWork
from marketplace.errors import Conflict, ValidationFailed
from marketplace.orders.payments import PaymentError, platform_fee, platform_fee_bps_from_settings
from marketplace.permissions import Action, require

log = logging.getLogger(__name__)


class Decision(enum.StrEnum):
    """What the platform admin decides about an escalated rejection."""

    REFUND = "refund"  # the buyer gets the milestone's money back
    PAY = "pay"  # the provider is paid as if the buyer had accepted
    SPLIT = "split"  # the provider gets ``payout_amount``, the buyer the rest


def release_to_provider(uow: UnitOfWork, contract: Contract, milestone: Milestone, gross: int) -> None:
    """Transfer ``gross`` less the platform fee to the provider for ``milestone`` (nothing when ``gross`` is 0).

    Records the amounts on the milestone and the contract at once; the transfer itself may fail and is retried
    later (see the module docstring).
    """
    fee = platform_fee(gross, platform_fee_bps_from_settings(uow.settings))
    milestone.settled_payout_amount = gross
    contract.amount_held -= gross
    contract.amount_paid_out += gross - fee
    contract.fees_amount += fee
    uow.session.add(contract)
    uow.session.add(milestone)
    if gross > fee:
        _transfer(uow, contract, milestone)


def _transfer(uow: UnitOfWork, contract: Contract, milestone: Milestone) -> bool:
    gross = milestone.settled_payout_amount or 0
    net = gross - platform_fee(gross, platform_fee_bps_from_settings(uow.settings))
    payment = funding_payment(uow.session, contract, milestone)
    account = provider_account_id(uow.session, contract)
    if payment is None or account is None or net <= 0:
        log.warning("milestone %s: no funding charge or payout account yet; the transfer waits", milestone.id)
        return False
    try:
        if payment.charge_id is None and payment.checkout_session_id:
            # Events carry the session without its charge; the provider's API expands it on request.
            payment.charge_id = backend(uow).retrieve_checkout(payment.checkout_session_id).charge_id
            uow.session.add(payment)
        if payment.charge_id is None:
            raise PaymentError("the charge of this payment is not known yet")
        (transfer,) = backend(uow).create_transfers(
            f"contract-{contract.id}-m{milestone.id}",
            payment.charge_id,
            transfer_group(contract),
            [(account, net, contract.currency.lower())],
        )
    except PaymentError:
        log.exception("transfer for milestone %s failed; reconcile will retry", milestone.id)
        return False
    milestone.transfer_reference = transfer.id
    uow.session.add(milestone)
    return True


def refund_to_buyer(uow: UnitOfWork, contract: Contract, milestone: Milestone, amount: int, reason: str) -> None:
    """Refund ``amount`` of the milestone's held money to the buyer (a partial refund of its funding charge).

    Nothing is refunded for a milestone that was never paid. A refusal by the payment provider raises (and the
    caller's whole change rolls back), so a milestone is never marked refunded without its refund.
    """
    payment = funding_payment(uow.session, contract, milestone)
    if payment is None or amount <= 0:
        return
    if payment.payment_intent_id is None:
        raise Conflict(message="The payment of this milestone is not settled yet; try again later.")
    try:
        refund = backend(uow).refund(
            payment.payment_intent_id,
            amount=amount,
            reverse_transfer=False,
            refund_application_fee=False,
            idempotency_key=f"contract-refund:{milestone.id}",
            reason="requested_by_customer",
        )
    except PaymentError as error:
        raise payment_failure(error) from error
    payment.refunded_amount += amount
    uow.session.add(payment)
    milestone.refund_reference = refund.id
    milestone.settled_refund_amount = amount
    contract.amount_held -= amount
    contract.amount_refunded += amount
    uow.session.add(milestone)
    uow.session.add(contract)
    log.info("milestone %s: %s refunded (%s)", milestone.id, amount, reason)


def retry_transfers(uow: UnitOfWork) -> list[str]:
    """Pay every accepted milestone whose transfer has not gone through yet; one line per milestone tried."""
    rows = uow.session.exec(
        select(Milestone).where(
            col(Milestone.transfer_reference).is_(None),
            col(Milestone.settled_payout_amount) > 0,
        )
    ).all()
    report = []
    for milestone in rows:
        contract = uow.session.get(Contract, milestone.contract_id)
        assert contract is not None
        done = _transfer(uow, contract, milestone)
        report.append(f"contract {contract.id} milestone {milestone.position}: {'transferred' if done else 'waiting'}")
    return report


# --- cancelling and the admin's decision ---------------------------------------------------------------------------


def finish_if_done(uow: UnitOfWork, contract: Contract, actor_id: int | None) -> bool:
    """Complete the contract when every milestone is settled (cancel it when none was ever accepted or paid out).
    Returns True when the contract ended."""
    from marketplace.custom.contract_events import contract_ended

    milestones = milestones_of(uow.session, contract)
    if any(m.state not in _SETTLED for m in milestones):
        return False
    delivered = any((m.settled_payout_amount or 0) > 0 for m in milestones)
    target = ContractState.COMPLETED if delivered else ContractState.CANCELLED
    move(uow, Machine.CONTRACT, contract, target, actor_id=actor_id, reason="every milestone is settled")
    contract.closed_at = uow.now()
    uow.session.add(contract)
    contract_ended(uow, contract)
    return True


_SETTLED = frozenset(
    {
        MilestoneState.ACCEPTED,
        MilestoneState.AUTO_ACCEPTED,
        MilestoneState.CANCELLED,
        MilestoneState.REFUNDED,
        MilestoneState.SETTLED_BY_ADMIN,
    }
)


def cancel_milestone(uow: UnitOfWork, actor: User, contract: Contract, milestone: Milestone, *, reason: str) -> None:
    """Cancel a milestone before it is delivered (buyer-organisation members); its held money is refunded."""
    require(uow.session, actor, Action.CUSTOM_MILESTONE_REVIEW, contract)
    if not reason.strip():
        raise ValidationFailed.for_field("reason", "say why the milestone is cancelled")
    move(uow, Machine.MILESTONE, milestone, MilestoneState.CANCELLED, actor_id=actor.id, reason=reason)
    milestone.decided_at = uow.now()
    if contract.state is ContractState.ACTIVE:
        refund_to_buyer(uow, contract, milestone, milestone.amount, reason)
    finish_if_done(uow, contract, actor.id)


def decide_escalation(
    uow: UnitOfWork,
    admin: User,
    contract: Contract,
    milestone: Milestone,
    *,
    decision: Decision,
    reason: str,
    payout_amount: int | None = None,
) -> None:
    """The platform admin settles an escalated rejection: refund the buyer, pay the provider, or split the amount
    (``payout_amount`` to the provider, the rest refunded). The reason is recorded in both timelines."""
    require(uow.session, admin, Action.CUSTOM_ESCALATION_DECIDE, contract)
    if not reason.strip():
        raise ValidationFailed.for_field("reason", "record the reason for the decision")
    if contract.state is not ContractState.IN_DISPUTE or milestone.state is not MilestoneState.REJECTED:
        raise Conflict(
            message="Only a rejected milestone escalated to the platform can be decided.",
            code=CustomErrorCode.NOT_ESCALATED,
        )
    if decision is Decision.SPLIT:
        if (
            not isinstance(payout_amount, int)
            or isinstance(payout_amount, bool)
            or not 0 < payout_amount < milestone.amount
        ):
            raise ValidationFailed.for_field(
                "payout_amount", f"a split pays the provider more than 0 and less than {milestone.amount}"
            )
        payout = payout_amount
    else:
        payout = milestone.amount if decision is Decision.PAY else 0
    target = MilestoneState.REFUNDED if payout == 0 else MilestoneState.SETTLED_BY_ADMIN
    move(uow, Machine.MILESTONE, milestone, target, actor_id=admin.id, reason=f"{decision.value}: {reason}")
    milestone.decided_at = uow.now()
    if payout:
        release_to_provider(uow, contract, milestone, payout)
    refund_to_buyer(uow, contract, milestone, milestone.amount - payout, reason)
    move(uow, Machine.CONTRACT, contract, ContractState.ACTIVE, actor_id=admin.id, reason=f"{decision.value}: {reason}")
    if payout:
        from marketplace.custom.contract_license import license_accepted_work

        license_accepted_work(uow, contract, milestones_of(uow.session, contract))
    finish_if_done(uow, contract, admin.id)


def payments_summary(payments: list[ContractPayment]) -> dict[str, int]:
    """Paid and refunded totals of a contract's payments (minor units)."""
    paid = [p for p in payments if p.paid_at is not None]
    return {"paid": sum(p.amount for p in paid), "refunded": sum(p.refunded_amount for p in paid)}
