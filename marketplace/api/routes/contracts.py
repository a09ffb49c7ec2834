"""Custom-data contracts: pay into escrow, deliver and review milestones, read the contract and its timeline.

Scopes (existing ones, by who acts): the buyer pays and reviews with ``orders:write`` (checkout, accept, reject,
cancel a pending milestone); the provider delivers with ``provider:write`` (deliver, redeliver, after uploading the
files with the provider upload routes); reading a contract and escalating a rejection take any credential of
either party. Everyone else gets 404. The platform admin's decision on an escalation is not in the API (an API
credential never carries platform-admin powers): it is ``marketplace custom decide``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlmodel import Session

from marketplace.api import present
from marketplace.api.core import Call, operation
from marketplace.api.schemas import contracts as schemas
from marketplace.apikeys.scopes import ORDERS_WRITE, PROVIDER_WRITE
from marketplace.catalog.models import Dataset, DatasetVersion
from marketplace.custom import escrow, milestones, settlement
from marketplace.custom.funding_models import ContractPayment
from marketplace.custom.models import Contract, Milestone
from marketplace.custom.states import Machine

TAG = "Contracts"
_PATH = "/v1/contracts/{contract_id}"
_MILESTONE = _PATH + "/milestones/{position}"
_IDS = {"contract_id": "id"}
_MILESTONE_IDS = {"contract_id": "id", "position": "id"}


def _version_label(session: Session, version_id: int | None) -> str | None:
    version = session.get(DatasetVersion, version_id) if version_id else None
    return version.version if version else None


def _milestone(session: Session, call: Call, milestone: Milestone) -> dict[str, Any]:
    deliveries = [
        {
            "attempt": d.attempt,
            "version": _version_label(session, d.version_id) or "",
            "manifest_digest": d.manifest_digest,
            "delivered_at": d.delivered_at,
            "review_deadline": d.review_deadline,
            "review_license_id": d.review_grant_id,
        }
        for d in milestones.deliveries_of(call.uow, milestone)
    ]
    return {
        "id": milestone.id,
        "position": milestone.position,
        "title": milestone.title,
        "deliverable": milestone.deliverable,
        "due_date": milestone.due_date,
        "amount": milestone.amount,
        "currency": milestone.currency,
        "state": milestone.state.value,
        "delivered_version": _version_label(session, milestone.delivered_version_id),
        "review_deadline": milestone.review_deadline,
        "redeliveries": milestone.redelivery_count,
        "rejection_reason": milestone.rejection_reason,
        "paid_out": milestone.settled_payout_amount,
        "refunded": milestone.settled_refund_amount,
        "transfer_reference": milestone.transfer_reference,
        "refund_reference": milestone.refund_reference,
        "deliveries": deliveries,
    }


def _payment(session: Session, payment: ContractPayment) -> dict[str, Any]:
    milestone = session.get(Milestone, payment.milestone_id) if payment.milestone_id else None
    return {
        "id": payment.id,
        "milestone": milestone.position if milestone else None,
        "amount": payment.amount,
        "currency": payment.currency,
        "status": payment.state.value,
        "refunded": payment.refunded_amount,
        "paid_at": payment.paid_at,
    }


def present_contract(call: Call, contract: Contract) -> dict[str, Any]:
    """The contract with its milestones (and their deliveries), payments and timeline."""
    session = call.uow.session
    rows = escrow.milestones_of(session, contract)
    positions = {m.id: m.position for m in rows}
    dataset = session.get(Dataset, contract.dataset_id)
    return {
        "id": contract.id,
        "state": contract.state.value,
        "buyer_organisation": escrow.organisation_slug(session, contract.buyer_org_id),
        "provider_organisation": escrow.organisation_slug(session, contract.provider_org_id),
        "dataset": dataset.slug if dataset else "",
        "price_amount": contract.price_amount,
        "currency": contract.currency,
        "payment_plan": contract.payment_plan.value,
        "max_redeliveries": contract.max_redeliveries,
        "transfer_group": contract.transfer_group,
        "amount_held": contract.amount_held,
        "amount_paid_out": contract.amount_paid_out,
        "amount_refunded": contract.amount_refunded,
        "fees_amount": contract.fees_amount,
        "license_id": contract.grant_id,
        "amount_due": escrow.amount_due(session, contract)[0],
        "milestones": [_milestone(session, call, m) for m in rows],
        "payments": [_payment(session, p) for p in escrow.payments_of(session, contract)],
        "timeline": [
            {
                "subject": "contract" if t.machine is Machine.CONTRACT else f"milestone {positions.get(t.subject_id)}",
                "from_state": t.from_state,
                "to_state": t.to_state,
                "at": t.at,
                "reason": t.reason,
            }
            for t in escrow.timeline(session, contract)
        ],
    }


def _contract(call: Call, contract_id: int) -> Contract:
    return escrow.get_contract(call.uow.session, call.caller.user, contract_id)


def _target(call: Call, contract_id: int, position: int) -> tuple[Contract, Milestone]:
    contract = _contract(call, contract_id)
    return contract, milestones.get_milestone(call.uow, contract, position)


@operation(_PATH, "GET", summary="Read a contract", tag=TAG, path_params=_IDS, response=schemas.ContractSchema())
def get_contract(call: Call, contract_id: int) -> dict[str, Any]:
    """A contract with its milestones, each delivery, the payments held and the timeline of every transition.
    Either party, with any scope; 404 for everyone else."""
    return present_contract(call, _contract(call, contract_id))


@operation(
    _PATH + "/checkout",
    "POST",
    summary="Pay what is due on a contract",
    tag=TAG,
    scope=ORDERS_WRITE,
    path_params=_IDS,
    body=schemas.ContractCheckoutRequestSchema(),
    response=schemas.ContractCheckoutSchema(),
)
def checkout(call: Call, contract_id: int) -> dict[str, Any]:
    """A checkout link for what the buyer owes now: the whole price (payment plan ``upfront``) or the next
    milestone (``per_milestone``: the first at once, each next one once the one before it is settled). The
    platform holds the money until a milestone is accepted. Asking again returns the same open checkout."""
    contract = _contract(call, contract_id)
    base = present.base_url()
    success = call.body.get("success_url") or base + "/contracts/{CONTRACT_ID}?paid=1&session_id={CHECKOUT_SESSION_ID}"
    if "{CHECKOUT_SESSION_ID}" not in success:
        success += ("&" if "?" in success else "?") + "checkout_session_id={CHECKOUT_SESSION_ID}"
    cancel = call.body.get("cancel_url") or base + "/contracts/{CONTRACT_ID}?cancelled=1"
    payment = escrow.start_payment(call.uow, call.caller.user, contract, success_url=success, cancel_url=cancel)
    return _payment(call.uow.session, payment) | {
        "contract_id": contract.id,
        "payment_id": payment.id,
        "checkout_url": payment.checkout_url,
    }


def _review(
    path: str, summary: str, scope: str | None, body: Any
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """One declaration per milestone action, each answering with the whole contract."""
    return operation(
        _MILESTONE + path,
        "POST",
        summary=summary,
        tag=TAG,
        scope=scope,
        path_params=_MILESTONE_IDS,
        body=body,
        response=schemas.ContractSchema(),
    )


@_review("/deliver", "Deliver a milestone", PROVIDER_WRITE, schemas.MilestoneDeliverSchema())
def deliver(call: Call, contract_id: int, position: int) -> dict[str, Any]:
    """Deliver a funded milestone as a draft version of the contract's private dataset whose files are all
    uploaded and verified: the version is published (it never changes again) and the buyer may download it under a
    review license until the review deadline. Provider members only."""
    contract, milestone = _target(call, contract_id, position)
    milestones.deliver_milestone(call.uow, call.caller.user, contract, milestone, version=call.body["version"])
    return present_contract(call, contract)


@_review("/redeliver", "Redeliver a rejected milestone", PROVIDER_WRITE, schemas.MilestoneDeliverSchema())
def redeliver(call: Call, contract_id: int, position: int) -> dict[str, Any]:
    """Deliver a new version for a rejected milestone (up to the contract's ``max_redeliveries``)."""
    contract, milestone = _target(call, contract_id, position)
    milestones.deliver_milestone(call.uow, call.caller.user, contract, milestone, version=call.body["version"])
    return present_contract(call, contract)


@_review("/accept", "Accept a delivered milestone", ORDERS_WRITE, schemas.NoBodySchema())
def accept(call: Call, contract_id: int, position: int) -> dict[str, Any]:
    """Accept the delivery: the milestone's money goes to the provider (less the platform fee), its version joins
    the buyer's contract license; the last acceptance completes the contract. Buyer members only."""
    contract, milestone = _target(call, contract_id, position)
    milestones.accept_milestone(call.uow, call.caller.user, contract, milestone)
    return present_contract(call, contract)


@_review("/reject", "Reject a delivered milestone", ORDERS_WRITE, schemas.MilestoneReasonSchema())
def reject(call: Call, contract_id: int, position: int) -> dict[str, Any]:
    """Reject the delivery with a reason; the money stays held. Buyer members only."""
    contract, milestone = _target(call, contract_id, position)
    milestones.reject_milestone(call.uow, call.caller.user, contract, milestone, reason=call.body["reason"])
    return present_contract(call, contract)


@_review("/cancel", "Cancel a pending milestone", ORDERS_WRITE, schemas.MilestoneReasonSchema())
def cancel(call: Call, contract_id: int, position: int) -> dict[str, Any]:
    """Cancel a milestone before it is delivered; what was paid for it is refunded. Buyer members only."""
    contract, milestone = _target(call, contract_id, position)
    settlement.cancel_milestone(call.uow, call.caller.user, contract, milestone, reason=call.body["reason"])
    return present_contract(call, contract)


@_review("/escalate", "Escalate a rejected milestone", None, schemas.MilestoneReasonSchema())
def escalate(call: Call, contract_id: int, position: int) -> dict[str, Any]:
    """Ask the platform admin to decide a rejected milestone (refund, pay or split); either party."""
    contract, milestone = _target(call, contract_id, position)
    milestones.escalate_milestone(call.uow, call.caller.user, contract, milestone, reason=call.body["reason"])
    return present_contract(call, contract)
