"""Withdrawal events in the tamper-evident audit log (:mod:`marketplace.audit`), in the caller's unit of work.

Filing and publishing the patch concern the provider alone and go into its chain; each licensee's notice, its
signed deletion confirmation and its lapse into overdue concern both parties and go into both chains, so either
organisation's export proves what it was told and what it answered.
"""

from __future__ import annotations

from typing import Any

from marketplace import audit
from marketplace.accounts.models import User
from marketplace.catalog.models import Dataset, DatasetVersion
from marketplace.db import UnitOfWork
from marketplace.withdrawals.models import Withdrawal, WithdrawalNotice


def _append(
    uow: UnitOfWork, user: User | None, kind: str, organisation_ids: list[int], subject: Any, data: dict[str, Any]
) -> None:
    subject_type = "withdrawal" if isinstance(subject, Withdrawal) else "withdrawal_notice"
    audit.append(
        uow,
        organisation_ids=organisation_ids,
        kind=kind,
        subject_type=subject_type,
        subject_id=str(subject.id),
        actor=audit.actor_of(user),
        data=data,
    )


def filed(uow: UnitOfWork, user: User, dataset: Dataset, withdrawal: Withdrawal) -> None:
    """``withdrawal.filed``: which version, why, which files and how many records, the days given to delete."""
    _append(
        uow,
        user,
        "withdrawal.filed",
        [withdrawal.organisation_id],
        withdrawal,
        {
            "dataset": dataset.slug,
            "version": withdrawal.version_label,
            "reason": withdrawal.reason.value,
            "files": list(withdrawal.files),
            "record_count": len(withdrawal.record_ids),
            "deletion_days": withdrawal.deletion_days,
        },
    )


def patch_published(
    uow: UnitOfWork, user: User, dataset: Dataset, withdrawal: Withdrawal, patched: DatasetVersion
) -> None:
    """``withdrawal.patch_published``: the patched version and its manifest digest."""
    _append(
        uow,
        user,
        "withdrawal.patch_published",
        [withdrawal.organisation_id],
        withdrawal,
        {
            "dataset": dataset.slug,
            "version": withdrawal.version_label,
            "patched_version": patched.version,
            "manifest_digest": patched.manifest_digest,
        },
    )


def _notice_data(dataset: Dataset, withdrawal: Withdrawal, notice: WithdrawalNotice) -> dict[str, Any]:
    return {
        "dataset": dataset.slug,
        "version": withdrawal.version_label,
        "withdrawal": withdrawal.id,
        "licensee_organisation": notice.licensee_org_id,
        "licenses": list(notice.grant_ids),
        "deadline": notice.deadline_at.isoformat(),
    }


def licensee_notified(uow: UnitOfWork, dataset: Dataset, withdrawal: Withdrawal, notice: WithdrawalNotice) -> None:
    """``withdrawal.licensee_notified``: the licenses concerned and the deadline to delete (both chains)."""
    _append(
        uow,
        None,
        "withdrawal.licensee_notified",
        [notice.provider_org_id, notice.licensee_org_id],
        notice,
        _notice_data(dataset, withdrawal, notice),
    )


def deletion_confirmed(
    uow: UnitOfWork, signer: User, dataset: Dataset, withdrawal: Withdrawal, notice: WithdrawalNotice
) -> None:
    """``withdrawal.deletion_confirmed``: who signed (name and role as typed), the date of deletion, the statement."""
    _append(
        uow,
        signer,
        "withdrawal.deletion_confirmed",
        [notice.provider_org_id, notice.licensee_org_id],
        notice,
        {
            **_notice_data(dataset, withdrawal, notice),
            "signer_name": notice.signer_name,
            "signer_role": notice.signer_role,
            "deleted_on": notice.deleted_on.isoformat() if notice.deleted_on else None,
            "statement": notice.statement,
        },
    )


def overdue(uow: UnitOfWork, dataset: Dataset, withdrawal: Withdrawal, notice: WithdrawalNotice) -> None:
    """``withdrawal.overdue``: the deadline passed without a confirmation (both chains)."""
    _append(
        uow,
        None,
        "withdrawal.overdue",
        [notice.provider_org_id, notice.licensee_org_id],
        notice,
        _notice_data(dataset, withdrawal, notice),
    )
