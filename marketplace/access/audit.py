"""The audit log of governed access: every decision with who, when and why; the requester's history and the
provider's CSV export read from it."""

from __future__ import annotations

import csv
import enum
import io
import re
from datetime import datetime

from sqlmodel import Session, col, select

from marketplace import audit as audit_log
from marketplace.access.models import AccessEvent
from marketplace.accounts.models import Organisation, User
from marketplace.catalog.models import Dataset
from marketplace.db import UnitOfWork
from marketplace.permissions import Action, require


def record(
    uow: UnitOfWork,
    *,
    actor: User | None,
    subject: str,
    subject_id: int,
    action: str,
    from_state: enum.StrEnum | None = None,
    to_state: enum.StrEnum | None = None,
    reason: str = "",
    dataset_id: int | None = None,
    provider_org_id: int | None = None,
    person_id: int | None = None,
    requester_org_id: int | None = None,
) -> AccessEvent:
    """Append one entry to the audit log, at the unit of work's clock time (rows are never changed).

    The decision is also appended to the tamper-evident audit chains (:func:`marketplace.audit.append`) of the
    provider and of the organisation that asked (``requester_org_id``), in the same unit of work.
    """
    row = AccessEvent(
        at=uow.now(),
        actor_id=actor.id if actor is not None else None,
        subject=subject,
        subject_id=subject_id,
        action=action,
        from_state=from_state.value if from_state is not None else None,
        to_state=to_state.value if to_state is not None else None,
        reason=reason[:1000],
        dataset_id=dataset_id,
        provider_org_id=provider_org_id,
        person_id=person_id,
    )
    uow.session.add(row)
    audit_log.append(
        uow,
        organisation_ids=[provider_org_id, requester_org_id],
        kind="access." + _KIND_WORD.sub("_", f"{subject}_{action}".lower()).strip("_"),
        subject_type=f"access_{subject}",
        subject_id=subject_id,
        actor=audit_log.actor_of(actor),
        data={
            "from_state": row.from_state,
            "to_state": row.to_state,
            "reason": row.reason,
            "dataset": dataset_id,
            "person": person_id,
        },
    )
    return row


_KIND_WORD = re.compile(r"[^a-z0-9_]+")


def history_of(session: Session, person: User) -> list[AccessEvent]:
    """Every decision about ``person`` (their requests, approvals, credentials), oldest first: their own history."""
    return list(
        session.exec(
            select(AccessEvent)
            .where(AccessEvent.person_id == person.id)
            .order_by(col(AccessEvent.at), col(AccessEvent.id))
        ).all()
    )


CSV_COLUMNS = ["at", "actor", "subject", "subject_id", "action", "from", "to", "reason", "dataset", "person"]


def export_csv(session: Session, actor: User, provider: Organisation, *, since: datetime | None = None) -> str:
    """The provider's access report as CSV (one row per logged decision, oldest first): reviewers and admins of
    ``provider`` only. Cells that a spreadsheet would run as a formula are quoted with a leading apostrophe."""
    require(session, actor, Action.ACCESS_REVIEW, provider)
    statement = select(AccessEvent).where(AccessEvent.provider_org_id == provider.id)
    if since is not None:
        statement = statement.where(col(AccessEvent.at) >= since)
    rows = session.exec(statement.order_by(col(AccessEvent.at), col(AccessEvent.id))).all()
    users: dict[int, str] = {}
    datasets: dict[int, str] = {}

    def user_label(user_id: int | None) -> str:
        if user_id is None:
            return ""
        if user_id not in users:
            user = session.get(User, user_id)
            users[user_id] = user.email if user else f"user {user_id}"
        return users[user_id]

    def dataset_label(dataset_id: int | None) -> str:
        if dataset_id is None:
            return ""
        if dataset_id not in datasets:
            dataset = session.get(Dataset, dataset_id)
            datasets[dataset_id] = dataset.slug if dataset else str(dataset_id)
        return datasets[dataset_id]

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        cells = [
            row.at.isoformat(), user_label(row.actor_id), row.subject, str(row.subject_id), row.action,
            row.from_state or "", row.to_state or "", row.reason, dataset_label(row.dataset_id),
            user_label(row.person_id),
        ]  # fmt: skip
        writer.writerow([_safe_cell(cell) for cell in cells])
    return out.getvalue()


def _safe_cell(value: str) -> str:
    # CSV injection: a cell starting with = + - @ would be evaluated by spreadsheet software.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
