"""The domain events of a contract's milestones (outbound webhooks to both parties) and the mail that goes with
them, to the admins of the organisation that must act next."""

from __future__ import annotations

from marketplace.custom.models import Contract, Milestone
from marketplace.custom.notify import tell
from marketplace.custom.states import ContractState
from marketplace.db import UnitOfWork
from marketplace.events import emit


def _audience(contract: Contract) -> list[int]:
    return [contract.buyer_org_id, contract.provider_org_id]


def _base(contract: Contract, milestone: Milestone) -> dict[str, object]:
    return {"contract_id": contract.id, "milestone": milestone.position, "title": milestone.title}


def milestone_delivered(uow: UnitOfWork, contract: Contract, milestone: Milestone, label: str, digest: str) -> None:
    deadline = milestone.review_deadline.isoformat() if milestone.review_deadline else None
    emit(
        uow,
        "milestone.delivered",
        _base(contract, milestone) | {"version": label, "manifest_digest": digest, "review_deadline": deadline},
        audience=_audience(contract),
    )
    tell(
        uow,
        [contract.buyer_org_id],
        f"Milestone {milestone.position} of contract {contract.id} is delivered",
        f"Version {label} was delivered for '{milestone.title}'. Review it and accept or reject it by "
        f"{milestone.review_deadline:%Y-%m-%d %H:%M} UTC; silence until then accepts it."
        if milestone.review_deadline
        else f"Version {label} was delivered for '{milestone.title}'. Review it and accept or reject it.",
        f"/contracts/{contract.id}",
    )


def milestone_accepted(
    uow: UnitOfWork, contract: Contract, milestone: Milestone, label: str, *, automatic: bool
) -> None:
    emit(
        uow,
        "milestone.accepted",
        _base(contract, milestone) | {"version": label, "automatic": automatic, "amount": milestone.amount},
        audience=_audience(contract),
    )
    how = "was accepted automatically after the review period" if automatic else "was accepted"
    tell(
        uow,
        [contract.provider_org_id],
        f"Milestone {milestone.position} of contract {contract.id} accepted",
        f"Version {label} of '{milestone.title}' {how}; its payment is on its way to your payout account.",
        f"/contracts/{contract.id}",
    )


def milestone_rejected(uow: UnitOfWork, contract: Contract, milestone: Milestone, label: str, reason: str) -> None:
    emit(
        uow,
        "milestone.rejected",
        _base(contract, milestone) | {"version": label, "reason": reason},
        audience=_audience(contract),
    )
    tell(
        uow,
        [contract.provider_org_id],
        f"Milestone {milestone.position} of contract {contract.id} rejected",
        f"Version {label} of '{milestone.title}' was rejected: {reason}\nYou may redeliver it or escalate it.",
        f"/contracts/{contract.id}",
    )


def contract_ended(uow: UnitOfWork, contract: Contract) -> None:
    completed = contract.state is ContractState.COMPLETED
    data: dict[str, object] = {"contract_id": contract.id, "refunded": contract.amount_refunded}
    if completed:
        data |= {"paid_out": contract.amount_paid_out, "fees": contract.fees_amount, "license_id": contract.grant_id}
    emit(uow, f"contract.{contract.state.value}", data, audience=_audience(contract))
    for org_id in _audience(contract):
        tell(
            uow,
            [org_id],
            f"Contract {contract.id} is {contract.state.value}",
            "Every milestone is settled." if completed else "The contract was cancelled; held money was refunded.",
            f"/contracts/{contract.id}",
        )
