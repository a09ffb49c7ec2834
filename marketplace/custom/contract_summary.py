"""A contract as plain values for reading: its milestones with every delivery, its payments and its timeline."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from marketplace.catalog.models import Dataset, DatasetVersion
from marketplace.custom import escrow, milestones
from marketplace.custom.funding_models import ContractPayment
from marketplace.custom.models import Contract, Milestone
from marketplace.custom.states import Machine
from marketplace.db import UnitOfWork


def _version_label(session: Session, version_id: int | None) -> str | None:
    version = session.get(DatasetVersion, version_id) if version_id else None
    return version.version if version else None


def _milestone(uow: UnitOfWork, milestone: Milestone) -> dict[str, Any]:
    deliveries = [
        {
            "attempt": d.attempt,
            "version": _version_label(uow.session, d.version_id) or "",
            "manifest_digest": d.manifest_digest,
            "delivered_at": d.delivered_at,
            "review_deadline": d.review_deadline,
            "review_license_id": d.review_grant_id,
        }
        for d in milestones.deliveries_of(uow, milestone)
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
        "delivered_version": _version_label(uow.session, milestone.delivered_version_id),
        "review_deadline": milestone.review_deadline,
        "redeliveries": milestone.redelivery_count,
        "rejection_reason": milestone.rejection_reason,
        "paid_out": milestone.settled_payout_amount,
        "refunded": milestone.settled_refund_amount,
        "transfer_reference": milestone.transfer_reference,
        "refund_reference": milestone.refund_reference,
        "deliveries": deliveries,
    }


def payment_summary(session: Session, payment: ContractPayment) -> dict[str, Any]:
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


def contract_summary(uow: UnitOfWork, contract: Contract) -> dict[str, Any]:
    """The contract with its milestones (and their deliveries), payments and timeline, as plain values: what the
    API returns and the contract page shows to either party (the caller has checked that the reader may see it)."""
    session = uow.session
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
        "milestones": [_milestone(uow, m) for m in rows],
        "payments": [payment_summary(session, p) for p in escrow.payments_of(session, contract)],
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
