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

from marketplace.api import present
from marketplace.api.core import Call, operation
from marketplace.api.schemas import contracts as schemas
from marketplace.apikeys.scopes import ORDERS_WRITE, PROVIDER_WRITE
from marketplace.custom import escrow, milestones, settlement
from marketplace.custom.contract_summary import contract_summary, payment_summary
from marketplace.custom.models import Contract, Milestone

TAG = "Contracts"
_PATH = "/v1/contracts/{contract_id}"
_MILESTONE = _PATH + "/milestones/{position}"
_IDS = {"contract_id": "id"}
_MILESTONE_IDS = {"contract_id": "id", "position": "id"}


def _contract(call: Call, contract_id: int) -> Contract:
    return escrow.get_contract(call.uow.session, call.caller.user, contract_id)


def _target(call: Call, contract_id: int, position: int) -> tuple[Contract, Milestone]:
    contract = _contract(call, contract_id)
    return contract, milestones.get_milestone(call.uow, contract, position)


@operation(_PATH, "GET", summary="Read a contract", tag=TAG, path_params=_IDS, response=schemas.ContractSchema())
def get_contract(call: Call, contract_id: int) -> dict[str, Any]:
    """A contract with its milestones, each delivery, the payments held and the timeline of every transition.
    Either party, with any scope; 404 for everyone else."""
    return contract_summary(call.uow, _contract(call, contract_id))


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
    return payment_summary(call.uow.session, payment) | {
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
    return contract_summary(call.uow, contract)


@_review("/redeliver", "Redeliver a rejected milestone", PROVIDER_WRITE, schemas.MilestoneDeliverSchema())
def redeliver(call: Call, contract_id: int, position: int) -> dict[str, Any]:
    """Deliver a new version for a rejected milestone (up to the contract's ``max_redeliveries``)."""
    contract, milestone = _target(call, contract_id, position)
    milestones.deliver_milestone(call.uow, call.caller.user, contract, milestone, version=call.body["version"])
    return contract_summary(call.uow, contract)


@_review("/accept", "Accept a delivered milestone", ORDERS_WRITE, schemas.NoBodySchema())
def accept(call: Call, contract_id: int, position: int) -> dict[str, Any]:
    """Accept the delivery: the milestone's money goes to the provider (less the platform fee), its version joins
    the buyer's contract license; the last acceptance completes the contract. Buyer members only."""
    contract, milestone = _target(call, contract_id, position)
    milestones.accept_milestone(call.uow, call.caller.user, contract, milestone)
    return contract_summary(call.uow, contract)


@_review("/reject", "Reject a delivered milestone", ORDERS_WRITE, schemas.MilestoneReasonSchema())
def reject(call: Call, contract_id: int, position: int) -> dict[str, Any]:
    """Reject the delivery with a reason; the money stays held. Buyer members only."""
    contract, milestone = _target(call, contract_id, position)
    milestones.reject_milestone(call.uow, call.caller.user, contract, milestone, reason=call.body["reason"])
    return contract_summary(call.uow, contract)


@_review("/cancel", "Cancel a pending milestone", ORDERS_WRITE, schemas.MilestoneReasonSchema())
def cancel(call: Call, contract_id: int, position: int) -> dict[str, Any]:
    """Cancel a milestone before it is delivered; what was paid for it is refunded. Buyer members only."""
    contract, milestone = _target(call, contract_id, position)
    settlement.cancel_milestone(call.uow, call.caller.user, contract, milestone, reason=call.body["reason"])
    return contract_summary(call.uow, contract)


@_review("/escalate", "Escalate a rejected milestone", None, schemas.MilestoneReasonSchema())
def escalate(call: Call, contract_id: int, position: int) -> dict[str, Any]:
    """Ask the platform admin to decide a rejected milestone (refund, pay or split); either party."""
    contract, milestone = _target(call, contract_id, position)
    milestones.escalate_milestone(call.uow, call.caller.user, contract, milestone, reason=call.body["reason"])
    return contract_summary(call.uow, contract)
