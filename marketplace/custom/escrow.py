"""Paying a contract into escrow: the buyer's checkout, the payment provider's events, and reconciling.

The buyer pays through the same payment backend and event path as orders (``uow.context.payments``: Stripe
Checkout, or the embedded sandbox): :func:`start_payment` opens a checkout for what is due, and the provider's
``checkout.session.*`` event, verified and stored once in the orders' payment-event table, reaches
:func:`apply_checkout_event` (the orders event handler hands over every session whose reference starts with
``contract-``). Nothing is paid to the provider here: the charge is the platform's own (no destination, no
application fee), tagged with the contract's ``transfer_group``; the provider is paid milestone by milestone, on
acceptance (:mod:`marketplace.custom.settlement`).

What is due, by payment plan:

* ``upfront``: the whole price, once, before any work is delivered.
* ``per_milestone``: each milestone's amount, one at a time, in order. The next milestone may be paid once the one
  before it is settled (accepted, auto-accepted, settled by the admin, refunded or cancelled): the provider delivers
  only funded milestones, so the buyer never pays for more than one milestone of work in advance.

The first payment makes the contract ``active``.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlmodel import Session, and_, col, or_, select

from marketplace.accounts.models import Organisation, User
from marketplace.custom.errors import CustomErrorCode
from marketplace.custom.funding_models import ContractPayment, PaymentState
from marketplace.custom.models import Contract, Milestone, PaymentPlan, Transition
from marketplace.custom.notify import tell
from marketplace.custom.states import FINAL_MILESTONE_STATES, ContractState, Machine
from marketplace.custom.transitions import move
from marketplace.db import UnitOfWork
from marketplace.errors import Conflict, DomainError, NotFound
from marketplace.notifications.kinds import NotificationKind
from marketplace.orders.base import PaymentUnavailable
from marketplace.orders.errors import OrderErrorCode
from marketplace.orders.payments import (
    CheckoutLine,
    CheckoutRequest,
    CheckoutSession,
    PaymentBackend,
    PaymentError,
    PaymentProviderUnavailable,
    platform_fee_bps_from_settings,
)
from marketplace.permissions import Action, can, require

log = logging.getLogger(__name__)

#: Checkout references of contract payments start with this (orders use their bare numeric id).
REFERENCE_PREFIX = "contract-"


def backend(uow: UnitOfWork) -> PaymentBackend:
    payments = uow.context.payments
    if payments is None:
        raise RuntimeError("no payment backend configured")
    return payments


def payment_failure(error: PaymentError) -> DomainError:
    """The domain error for a payment provider's failure: 503 when it is unreachable (retry), else a conflict."""
    if isinstance(error, PaymentProviderUnavailable):
        return PaymentUnavailable()
    return Conflict(message=f"The payment provider refused: {error.message}", code=OrderErrorCode.PAYMENT_REFUSED)


# --- reading ----------------------------------------------------------------------------------------------------


def get_contract(session: Session, user: User | None, contract_id: int) -> Contract:
    """The contract if ``user`` is on one of its two sides; :class:`NotFound` otherwise (existence stays hidden)."""
    contract = session.get(Contract, contract_id)
    if contract is None or not can(session, user, Action.CUSTOM_CONTRACT_VIEW, contract):
        raise NotFound(message="No such contract.")
    return contract


def milestones_of(session: Session, contract: Contract) -> list[Milestone]:
    return list(
        session.exec(select(Milestone).where(Milestone.contract_id == contract.id).order_by(col(Milestone.position)))
    )


def payments_of(session: Session, contract: Contract) -> list[ContractPayment]:
    return list(
        session.exec(
            select(ContractPayment).where(ContractPayment.contract_id == contract.id).order_by(col(ContractPayment.id))
        )
    )


def funding_payment(session: Session, contract: Contract, milestone: Milestone) -> ContractPayment | None:
    """The paid payment that holds ``milestone``'s money: the upfront one, or the milestone's own."""
    statement = select(ContractPayment).where(
        ContractPayment.contract_id == contract.id, ContractPayment.state == PaymentState.PAID
    )
    if contract.payment_plan is PaymentPlan.PER_MILESTONE:
        statement = statement.where(ContractPayment.milestone_id == milestone.id)
    return session.exec(statement.order_by(col(ContractPayment.id))).first()


def timeline(session: Session, contract: Contract) -> list[Transition]:
    """Every transition of the contract and of its milestones, oldest first."""
    milestone_ids = [m.id for m in milestones_of(session, contract)]
    rows = session.exec(
        select(Transition).where(
            or_(
                and_(col(Transition.machine) == Machine.CONTRACT, col(Transition.subject_id) == contract.id),
                and_(col(Transition.machine) == Machine.MILESTONE, col(Transition.subject_id).in_(milestone_ids)),
            )
        )
    ).all()
    return sorted(rows, key=lambda t: (t.at, t.id or 0))


# --- paying -------------------------------------------------------------------------------------------------------


def amount_due(session: Session, contract: Contract) -> tuple[int, Milestone | None]:
    """What the buyer must pay next, and for which milestone (None for the whole price); ``(0, None)`` when
    nothing is due now. See the module docstring for the rule of each payment plan."""
    if contract.state not in (ContractState.AWAITING_PAYMENT, ContractState.ACTIVE):
        return 0, None
    paid = [p for p in payments_of(session, contract) if p.state is PaymentState.PAID]
    if contract.payment_plan is PaymentPlan.UPFRONT:
        return (0, None) if paid else (contract.price_amount, None)
    funded = {p.milestone_id for p in paid}
    for milestone in milestones_of(session, contract):
        if milestone.id in funded:
            if milestone.state not in FINAL_MILESTONE_STATES:
                return 0, None  # the funded milestone is still under way
            continue
        if milestone.state in FINAL_MILESTONE_STATES:
            continue  # cancelled before it was paid
        return milestone.amount, milestone
    return 0, None


def start_payment(
    uow: UnitOfWork, actor: User, contract: Contract, *, success_url: str, cancel_url: str
) -> ContractPayment:
    """Open (or return the open) checkout for what is due on ``contract``; a buyer-organisation member only.

    Asking twice returns the same pending checkout; after one failed or expired, a new attempt gets a new
    idempotency key. Raises :class:`Conflict` when nothing is due (paid already, or the next milestone waits for
    the previous one to be settled).
    """
    session = uow.session
    require(session, actor, Action.CUSTOM_CONTRACT_PAY, contract)
    # Lock the contract row: two clicks on Pay at once open one checkout, not two.
    session.exec(select(Contract).where(Contract.id == contract.id).with_for_update()).one()
    amount, milestone = amount_due(session, contract)
    if amount <= 0:
        raise Conflict(message="Nothing is due on this contract now.", code=CustomErrorCode.NOTHING_DUE)
    milestone_id = milestone.id if milestone else None
    earlier = [p for p in payments_of(session, contract) if p.milestone_id == milestone_id]
    pending = [p for p in earlier if p.state is PaymentState.PENDING]
    if pending:
        return pending[-1]
    payment = ContractPayment(
        contract_id=contract.id,  # type: ignore[arg-type]
        milestone_id=milestone_id,
        amount=amount,
        currency=contract.currency,
        backend=backend(uow).name,
        attempt=len(earlier) + 1,
        paid_by_id=actor.id,
        created_at=uow.now(),
    )
    session.add(payment)
    session.flush()
    _open_checkout(uow, contract, payment, milestone, success_url, cancel_url, actor)
    return payment


def transfer_group(contract: Contract) -> str:
    """The contract's transfer group (set when the contract is made; ``contract_<id>`` for older rows), which tags
    the buyer's charges and every transfer to the provider."""
    if contract.transfer_group is None:
        contract.transfer_group = f"contract_{contract.id}"
    return contract.transfer_group


def _reference(payment: ContractPayment) -> str:
    return f"{REFERENCE_PREFIX}{payment.contract_id}-p{payment.id}"


def _open_checkout(
    uow: UnitOfWork,
    contract: Contract,
    payment: ContractPayment,
    milestone: Milestone | None,
    success_url: str,
    cancel_url: str,
    actor: User,
) -> None:
    what = f"milestone {milestone.position}: {milestone.title}" if milestone else "the whole contract"
    request = CheckoutRequest(
        order_id=_reference(payment),
        lines=(
            CheckoutLine(
                offer_id=str(contract.offer_id),
                name=f"Custom dataset, contract {contract.id}, {what}"[:250],
                description="Held by the platform until you accept the delivery.",
                amount=payment.amount,
                currency=payment.currency.lower(),
                # No connected account: the platform is charged and holds the money until acceptance.
                provider_account_id=None,
                provider_id=str(contract.provider_org_id),
            ),
        ),
        buyer_email=actor.email,
        success_url=success_url.replace("{CONTRACT_ID}", str(contract.id)),
        cancel_url=cancel_url.replace("{CONTRACT_ID}", str(contract.id)),
        platform_fee_bps=platform_fee_bps_from_settings(uow.settings),
        idempotency_key=f"contract-checkout:{payment.id}:{payment.attempt}",
        hold_for_transfer_group=transfer_group(contract),
    )
    try:
        created = backend(uow).create_checkout(request)
    except PaymentError as error:
        raise payment_failure(error) from error
    payment.checkout_session_id = created.id
    payment.checkout_url = created.url
    uow.session.add(payment)


# --- the payment provider's events ----------------------------------------------------------------------------------


def is_contract_session(facts: CheckoutSession) -> bool:
    """True when the checkout session was opened for a contract payment (not an order)."""
    return (facts.order_id or "").startswith(REFERENCE_PREFIX)


def _locked_payment(session: Session, session_id: str) -> ContractPayment | None:
    return session.exec(
        select(ContractPayment).where(ContractPayment.checkout_session_id == session_id).with_for_update()
    ).first()


def apply_checkout_event(uow: UnitOfWork, event_type: str, facts: CheckoutSession) -> str:
    """Apply a verified ``checkout.session.*`` event of a contract payment (the caller stored the event once)."""
    payment = _locked_payment(uow.session, facts.id)
    if payment is None:
        return "ignored: no contract payment for this session"
    if event_type in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
        return settle_checkout(uow, payment, facts)
    if payment.state is not PaymentState.PENDING:
        return f"ignored: contract payment already {payment.state.value}"
    payment.state = PaymentState.FAILED if event_type.endswith("failed") else PaymentState.EXPIRED
    uow.session.add(payment)
    return f"contract payment {payment.state.value}"


def settle_checkout(uow: UnitOfWork, payment: ContractPayment, facts: CheckoutSession) -> str:
    """Record a paid checkout once: the money is held, and the contract becomes active. Idempotent."""
    if payment.state is PaymentState.PAID:
        return "ignored: contract payment already paid"
    if not facts.is_paid:
        return "contract payment waiting for a delayed method"
    if facts.amount_total is not None and facts.amount_total != payment.amount:
        raise Conflict(
            message="The amount paid does not match the contract payment.", code=OrderErrorCode.AMOUNT_MISMATCH
        )
    session = uow.session
    contract = session.exec(select(Contract).where(Contract.id == payment.contract_id).with_for_update()).one()
    payment.state = PaymentState.PAID
    payment.paid_at = uow.now()
    payment.payment_intent_id = facts.payment_intent_id or payment.payment_intent_id
    payment.charge_id = facts.charge_id or payment.charge_id
    session.add(payment)
    contract.amount_held += payment.amount
    contract.payment_reference = contract.payment_reference or payment.payment_intent_id
    if contract.state is ContractState.AWAITING_PAYMENT:
        contract.activated_at = uow.now()
        move(uow, Machine.CONTRACT, contract, ContractState.ACTIVE, actor_id=payment.paid_by_id, reason="paid")
    session.add(contract)
    _tell_provider_paid(uow, contract, payment)
    return f"contract {contract.id} payment {payment.id} paid"


def _tell_provider_paid(uow: UnitOfWork, contract: Contract, payment: ContractPayment) -> None:
    milestone = uow.session.get(Milestone, payment.milestone_id) if payment.milestone_id else None
    what = f"milestone {milestone.position}" if milestone is not None else "the whole contract"
    tell(
        uow,
        [contract.provider_org_id],
        f"Contract {contract.id} is funded",
        f"The buyer paid {what}; the platform holds the money until each milestone is accepted.",
        f"/contracts/{contract.id}",
        NotificationKind.CONTRACT,
    )


def reconcile(uow: UnitOfWork, *, older_than: timedelta = timedelta(minutes=5)) -> list[str]:
    """Ask the payment provider about contract payments still pending (webhooks that never came), and retry
    transfers to providers that failed; one line per payment or milestone looked at."""
    from marketplace.custom import settlement

    session = uow.session
    cutoff = uow.now() - older_than
    pending = session.exec(
        select(ContractPayment).where(
            ContractPayment.state == PaymentState.PENDING,
            col(ContractPayment.checkout_session_id).is_not(None),
            col(ContractPayment.created_at) <= cutoff,
        )
    ).all()
    report: list[str] = []
    for payment in pending:
        assert payment.checkout_session_id is not None
        try:
            facts = backend(uow).retrieve_checkout(payment.checkout_session_id)
        except PaymentError as error:
            report.append(f"contract {payment.contract_id} payment {payment.id}: unavailable ({error.message})")
            continue
        if facts.is_paid:
            report.append(settle_checkout(uow, payment, facts) + " (reconciled)")
        elif facts.status == "expired":
            payment.state = PaymentState.EXPIRED
            session.add(payment)
            report.append(f"contract {payment.contract_id} payment {payment.id}: expired")
        else:
            report.append(f"contract {payment.contract_id} payment {payment.id}: still {facts.status}")
    report.extend(settlement.retry_transfers(uow))
    return report


def provider_account_id(session: Session, contract: Contract) -> str | None:
    from marketplace.orders.models import ProviderAccount

    account = session.exec(
        select(ProviderAccount).where(ProviderAccount.organisation_id == contract.provider_org_id)
    ).first()
    return account.account_id if account is not None else None


def organisation_slug(session: Session, org_id: int) -> str:
    org = session.get(Organisation, org_id)
    return org.slug if org is not None else str(org_id)
