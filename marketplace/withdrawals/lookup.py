"""What other domains ask about withdrawals: which versions are withdrawn (delivery refuses them and serves the
patched version instead) and which notices concern a license (its page and its public verification).

Only reads; imports no service, so delivery and licenses can call it without import cycles.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from marketplace.catalog.models import DatasetVersion
from marketplace.withdrawals.models import Withdrawal, WithdrawalNotice


def withdrawn_versions(session: Session, dataset_id: int) -> dict[int, int | None]:
    """Each withdrawn version of the dataset (by id), with its patched version's id once that is published."""
    rows = session.exec(
        select(Withdrawal.version_id, Withdrawal.patched_version_id, Withdrawal.patch_published_at).where(
            Withdrawal.dataset_id == dataset_id
        )
    ).all()
    return {version_id: (patched if published is not None else None) for version_id, patched, published in rows}


def withdrawals_by_version(session: Session, dataset_id: int) -> dict[int, Withdrawal]:
    """The dataset's withdrawals by the id of the version each withdrew (for the public page's version list)."""
    rows = session.exec(select(Withdrawal).where(Withdrawal.dataset_id == dataset_id)).all()
    return {row.version_id: row for row in rows}


def withdrawal_of_version(session: Session, version_id: int) -> Withdrawal | None:
    return session.exec(select(Withdrawal).where(Withdrawal.version_id == version_id)).first()


def reach(withdrawn: dict[int, int | None], covered: set[int]) -> set[int]:
    """``covered`` version ids plus, transitively, the patched version of every withdrawn one among them: a
    license that covered a withdrawn version moves on to its patched version (and on, if that is withdrawn too)."""
    result = set(covered)
    frontier = list(covered)
    while frontier:
        patched = withdrawn.get(frontier.pop())
        if patched is not None and patched not in result:
            result.add(patched)
            frontier.append(patched)
    return result


def with_substitutes(withdrawn: dict[int, int | None], covered: set[int]) -> set[int]:
    """What a license serves now: :func:`reach` of the versions it covers, minus every withdrawn version."""
    return {v for v in reach(withdrawn, covered) if v not in withdrawn}


def notices_for_grant(
    session: Session, grant_id: str, licensee_org_id: int
) -> list[tuple[WithdrawalNotice, Withdrawal]]:
    """The withdrawal notices sent to the licensee about this license, newest first."""
    rows = session.exec(
        select(WithdrawalNotice, Withdrawal)
        .join(Withdrawal, col(Withdrawal.id) == col(WithdrawalNotice.withdrawal_id))
        .where(WithdrawalNotice.licensee_org_id == licensee_org_id)
        .order_by(col(WithdrawalNotice.notified_at).desc(), col(WithdrawalNotice.id).desc())
    ).all()
    return [(notice, withdrawal) for notice, withdrawal in rows if grant_id in (notice.grant_ids or [])]


def notice_summary(session: Session, notice: WithdrawalNotice, withdrawal: Withdrawal) -> dict[str, Any]:
    """The withdrawal notice as a license's verification and page report it: which version, why, the deadline
    to delete, the patched version, and where the licensee stands."""
    patched = session.get(DatasetVersion, withdrawal.patched_version_id) if withdrawal.patched_version_id else None
    return {
        "withdrawal_id": withdrawal.id,
        "notice_id": notice.id,
        "withdrawn_version": withdrawal.version_label,
        "reason": withdrawal.reason.value,
        "reason_label": withdrawal.reason.label,
        "files": list(withdrawal.files),
        "record_count": len(withdrawal.record_ids),
        "deadline": notice.deadline_at.isoformat(),
        "patched_version": patched.version if patched is not None else None,
        "patched_manifest_digest": patched.manifest_digest if patched is not None else None,
        "status": notice.state.value,
        "confirmed_at": notice.confirmed_at.isoformat() if notice.confirmed_at else None,
    }
