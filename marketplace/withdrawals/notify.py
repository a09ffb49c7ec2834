"""What withdrawals tell people: the licensee's notice (mail and the ``dataset.withdrawal`` webhook event), and the
periodic sweep that reminds licensees before the deadline and marks them overdue after it (telling the provider).

Each notice is given in the site and by mail (always: the license obliges the licensee to act), the mail leaving
only after the change is committed (:func:`marketplace.notifications.services.deliver`); the webhook event is
recorded in the same transaction (:func:`marketplace.events.emit`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import Session, col, select

from marketplace import events
from marketplace.accounts.models import Membership, Organisation, Role, User
from marketplace.catalog.models import Dataset, DatasetVersion
from marketplace.catalog.services.records import record_event
from marketplace.db import UnitOfWork
from marketplace.licenses.models import Grant
from marketplace.notifications.kinds import NotificationKind
from marketplace.notifications.services import Notice, deliver
from marketplace.withdrawals import trail
from marketplace.withdrawals.models import Withdrawal, WithdrawalNotice
from marketplace.withdrawals.states import NoticeState, check_notice_move


def recipients(session: Session, org_id: int, grants: list[Grant]) -> list[User]:
    """The licensee's admins and owners, and whoever acquired its affected licenses."""
    ids = set(
        session.exec(
            select(Membership.user_id).where(
                Membership.organisation_id == org_id, col(Membership.role).in_([Role.ADMIN, Role.OWNER])
            )
        ).all()
    )
    ids |= {g.acquired_by_id for g in grants if g.acquired_by_id is not None}
    users = session.exec(select(User).where(col(User.id).in_(ids)).order_by(col(User.id))).all() if ids else []
    return list(users)


def _notice(subject: str, body: str, notice: WithdrawalNotice) -> Notice:
    """The licensee's notice (or reminder), with a link to its notice page."""
    return Notice(NotificationKind.WITHDRAWAL, subject, body, f"/withdrawal-notices/{notice.id}", "Notice")


def tell_licensee(
    uow: UnitOfWork,
    dataset: Dataset,
    withdrawal: Withdrawal,
    patched: DatasetVersion,
    notice: WithdrawalNotice,
    grants: list[Grant],
) -> None:
    """Mail the licensee's people and emit ``dataset.withdrawal`` to the licensee organisation alone."""
    what = []
    if withdrawal.files:
        what.append("files: " + ", ".join(withdrawal.files))
    if withdrawal.record_ids:
        what.append(f"{len(withdrawal.record_ids)} record(s) (ids listed on the notice page)")
    body = (
        f"{dataset.title}, version {withdrawal.version_label}, has been withdrawn by its provider "
        f"({withdrawal.reason.label.lower()}).\n\nWithdrawn: {'; '.join(what)}.\n"
        + (f"Details: {withdrawal.details}\n" if withdrawal.details else "")
        + f"\nYour licenses {', '.join(g.id for g in grants)} now cover the patched version {patched.version} "
        f"instead.\n\nDelete the withdrawn data you hold by {notice.deadline_at:%Y-%m-%d %H:%M} UTC and confirm "
        "the deletion, signed by a named person, on the notice page."
    )
    subject = (
        f"Withdrawal: delete data from {dataset.title} {withdrawal.version_label} by {notice.deadline_at:%Y-%m-%d}"
    )
    deliver(uow, recipients(uow.session, notice.licensee_org_id, grants), _notice(subject, body, notice))
    events.emit(
        uow, "dataset.withdrawal", _event_data(dataset, withdrawal, patched, notice), audience=[notice.licensee_org_id]
    )


def _event_data(
    dataset: Dataset, withdrawal: Withdrawal, patched: DatasetVersion, notice: WithdrawalNotice
) -> dict[str, Any]:
    return {
        "withdrawal_id": withdrawal.id,
        "notice_id": notice.id,
        "dataset": dataset.slug,
        "withdrawn_version": withdrawal.version_label,
        "patched_version": patched.version,
        "patched_manifest_digest": patched.manifest_digest,
        "reason": withdrawal.reason.value,
        "files": list(withdrawal.files),
        "record_count": len(withdrawal.record_ids),
        "license_ids": list(notice.grant_ids),
        "deadline": notice.deadline_at.isoformat(),
    }


# --- reminders and the deadline ------------------------------------------------------------------------------------


def sweep(uow: UnitOfWork) -> dict[str, int]:
    """Remind licensees whose deadline is near (once), and mark overdue those past it (once): safe to run at any
    time and as often as wanted. Returns how many of each it did."""
    now = uow.now()
    window = timedelta(days=int(uow.settings["WITHDRAWAL_REMINDER_DAYS"]))
    due = uow.session.exec(
        select(WithdrawalNotice)
        .where(WithdrawalNotice.state == NoticeState.NOTIFIED, col(WithdrawalNotice.deadline_at) <= now + window)
        .order_by(col(WithdrawalNotice.id))
        .with_for_update(skip_locked=True)
    ).all()
    done = {"reminded": 0, "overdue": 0}
    for notice in due:
        withdrawal = uow.session.get(Withdrawal, notice.withdrawal_id)
        dataset = uow.session.get(Dataset, withdrawal.dataset_id) if withdrawal else None
        if withdrawal is None or dataset is None:
            continue
        grants = [g for g in (uow.session.get(Grant, i) for i in notice.grant_ids) if g is not None]
        if notice.deadline_at <= now:
            check_notice_move(notice.state, NoticeState.OVERDUE)
            notice.state = NoticeState.OVERDUE
            notice.overdue_at = now
            subject = f"Overdue: confirm the deletion of data from {dataset.title} {withdrawal.version_label}"
            record_event(uow, dataset, None, "withdrawal_overdue", str(notice.licensee_org_id))
            trail.overdue(uow, dataset, withdrawal, notice)
            _tell_provider_overdue(uow, dataset, withdrawal, notice)
            done["overdue"] += 1
        elif notice.reminders_sent == 0:
            subject = (
                f"Reminder: delete data from {dataset.title} {withdrawal.version_label} "
                f"by {notice.deadline_at:%Y-%m-%d}"
            )
            notice.reminders_sent += 1
            notice.last_reminder_at = now
            done["reminded"] += 1
        else:
            continue
        body = (
            f"Version {withdrawal.version_label} of {dataset.title} was withdrawn ({withdrawal.reason.label.lower()}). "
            f"The deadline to delete it is {notice.deadline_at:%Y-%m-%d %H:%M} UTC. Confirm the deletion on the "
            "notice page."
        )
        deliver(uow, recipients(uow.session, notice.licensee_org_id, grants), _notice(subject, body, notice))
        uow.session.add(notice)
    uow.session.flush()
    return done


def _tell_provider_overdue(uow: UnitOfWork, dataset: Dataset, withdrawal: Withdrawal, notice: WithdrawalNotice) -> None:
    """Tell the provider's admins that a licensee let the deadline pass without confirming."""
    licensee = uow.session.get(Organisation, notice.licensee_org_id)
    name = licensee.name if licensee else "A licensee"
    subject = f"Overdue: {name} has not confirmed deleting {dataset.title} {withdrawal.version_label}"
    body = (
        f"{name} was told on {notice.notified_at:%Y-%m-%d} to delete the data withdrawn from {dataset.title} "
        f"{withdrawal.version_label} by {notice.deadline_at:%Y-%m-%d %H:%M} UTC, and has not confirmed it."
    )
    deliver(
        uow,
        recipients(uow.session, withdrawal.organisation_id, []),
        Notice(NotificationKind.WITHDRAWAL, subject, body, f"/withdrawals/{withdrawal.id}", "Each licensee's status"),
    )
