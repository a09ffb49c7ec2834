"""The domain events of a contract's milestones, to both parties (outbound webhooks, and the notices of
:mod:`marketplace.custom.notify` that the notifications subscriber gives each side's admins)."""

from __future__ import annotations

from marketplace.custom.models import Contract, Milestone
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


def milestone_accepted(
    uow: UnitOfWork, contract: Contract, milestone: Milestone, label: str, *, automatic: bool
) -> None:
    emit(
        uow,
        "milestone.accepted",
        _base(contract, milestone) | {"version": label, "automatic": automatic, "amount": milestone.amount},
        audience=_audience(contract),
    )


def milestone_rejected(uow: UnitOfWork, contract: Contract, milestone: Milestone, label: str, reason: str) -> None:
    emit(
        uow,
        "milestone.rejected",
        _base(contract, milestone) | {"version": label, "reason": reason},
        audience=_audience(contract),
    )


def contract_ended(uow: UnitOfWork, contract: Contract) -> None:
    completed = contract.state is ContractState.COMPLETED
    data: dict[str, object] = {"contract_id": contract.id, "refunded": contract.amount_refunded}
    if completed:
        data |= {"paid_out": contract.amount_paid_out, "fees": contract.fees_amount, "license_id": contract.grant_id}
    emit(uow, f"contract.{contract.state.value}", data, audience=_audience(contract))
