"""Withdrawals and licensees' notices as the API sends them."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from marketplace.accounts.models import Organisation
from marketplace.catalog.models import Dataset
from marketplace.withdrawals import services
from marketplace.withdrawals.models import Withdrawal, WithdrawalNotice


def _org(session: Session, org_id: int) -> dict[str, str]:
    org = session.get(Organisation, org_id)
    return {"slug": org.slug, "name": org.name} if org else {"slug": "", "name": ""}


def licensee_status(session: Session, notice: WithdrawalNotice) -> dict[str, Any]:
    """One licensee's standing: told, confirmed (by whom, saying what) or overdue."""
    return {
        "notice_id": notice.id,
        "licensee": _org(session, notice.licensee_org_id),
        "license_ids": list(notice.grant_ids),
        "status": notice.state.value,
        "notified_at": notice.notified_at,
        "deadline": notice.deadline_at,
        "reminders_sent": notice.reminders_sent,
        "overdue_at": notice.overdue_at,
        "confirmed_at": notice.confirmed_at,
        "signer_name": notice.signer_name or None,
        "signer_role": notice.signer_role or None,
        "statement": notice.statement or None,
        "deleted_on": notice.deleted_on,
    }


def withdrawal(session: Session, row: Withdrawal) -> dict[str, Any]:
    """The provider's view: what was withdrawn, the patched version, and every licensee's status."""
    dataset = session.get(Dataset, row.dataset_id)
    patched = services.patched_version(session, row)
    notices = services.notices_of(session, row)
    return {
        "id": row.id,
        "dataset": dataset.slug if dataset else "",
        "provider": _org(session, row.organisation_id),
        "withdrawn_version": row.version_label,
        "patched_version": patched.version if patched else None,
        "patched_version_status": patched.status.value if patched else None,
        "state": row.state.value,
        "reason": row.reason.value,
        "details": row.details,
        "files": list(row.files),
        "record_ids": list(row.record_ids),
        "deletion_days": row.deletion_days,
        "filed_at": row.filed_at,
        "patch_published_at": row.patch_published_at,
        "notified_at": row.notified_at,
        "deadline": row.deadline_at,
        "counts": services.status_counts(notices),
        "licensees": [licensee_status(session, n) for n in notices],
    }


def notice(session: Session, row: WithdrawalNotice, parent: Withdrawal) -> dict[str, Any]:
    """A licensee's notice: what to delete, by when, what replaces it, and the confirmation once signed."""
    dataset = session.get(Dataset, parent.dataset_id)
    patched = services.patched_version(session, parent)
    return {
        "id": row.id,
        "withdrawal_id": parent.id,
        "dataset": dataset.slug if dataset else "",
        "provider": _org(session, parent.organisation_id),
        "licensee": _org(session, row.licensee_org_id),
        "withdrawn_version": parent.version_label,
        "patched_version": patched.version if patched else None,
        "reason": parent.reason.value,
        "details": parent.details,
        "files": list(parent.files),
        "record_ids": list(parent.record_ids),
        "license_ids": list(row.grant_ids),
        "status": row.state.value,
        "notified_at": row.notified_at,
        "deadline": row.deadline_at,
        "confirmed_at": row.confirmed_at,
        "signer_name": row.signer_name or None,
        "signer_role": row.signer_role or None,
        "statement": row.statement or None,
        "deleted_on": row.deleted_on,
    }
