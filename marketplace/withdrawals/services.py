"""Withdrawals: file one against a published version, publish its patched version, tell every licensee, record
their signed confirmations of deletion, and remind them (then mark them overdue) as the deadline comes.

Filing stops the withdrawn version's downloads at once (delivery asks :mod:`marketplace.withdrawals.lookup`) and
creates the patched draft: the withdrawn version's manifest minus the withdrawn files. Files that still hold
withdrawn records are replaced by upload into that draft (the ordinary upload services) before it is published.
Publishing it moves the withdrawal to ``patched_version_published`` and, in the same transaction, notifies every
licensee organisation whose licenses covered the withdrawn version: a notice row with its deadline, mail to its
admins and to the people who acquired the licenses, and the ``dataset.withdrawal`` webhook event to it alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlmodel import Session, col, select

import licensing
from marketplace.accounts.models import Membership, Organisation, User
from marketplace.catalog import vocab
from marketplace.catalog.manifest import compute_manifest_digest
from marketplace.catalog.models import Dataset, DatasetFile, DatasetVersion
from marketplace.catalog.services.records import record_event
from marketplace.catalog.services.versions import publish_for_withdrawal
from marketplace.catalog.vocab import VersionStatus
from marketplace.db import UnitOfWork
from marketplace.delivery.models import FileUpload, UploadStatus
from marketplace.errors import Conflict, FieldProblem, NotFound, ValidationFailed
from marketplace.licenses.models import Grant
from marketplace.licenses.services import grant_value
from marketplace.permissions import Action, can, require
from marketplace.withdrawals import lookup, notify, trail
from marketplace.withdrawals.errors import WithdrawalErrorCode
from marketplace.withdrawals.models import Withdrawal, WithdrawalNotice
from marketplace.withdrawals.states import (
    NoticeState,
    WithdrawalReason,
    WithdrawalState,
    check_notice_move,
    check_withdrawal_move,
)

MAX_RECORD_IDS = 10_000
_RECORD_ID = re.compile(r"^[\x21-\x7e]{1,200}$")
#: Licenses in these states never delivered a byte, so their holders have nothing to delete.
_NEVER_DELIVERED = (licensing.GrantStatus.PENDING_PAYMENT, licensing.GrantStatus.PENDING_APPROVAL)


# --- reading -------------------------------------------------------------------------------------------------------


def get_withdrawal(uow: UnitOfWork, user: User | None, withdrawal_id: int) -> Withdrawal:
    """The withdrawal, for the provider's members and platform admins; :class:`NotFound` for anyone else (ids of
    other providers' withdrawals are not confirmed)."""
    row = uow.session.get(Withdrawal, withdrawal_id)
    if row is None or not can(uow.session, user, Action.WITHDRAWAL_VIEW, row):
        raise NotFound(message="No such withdrawal.")
    return row


def get_notice(uow: UnitOfWork, user: User | None, notice_id: int) -> tuple[WithdrawalNotice, Withdrawal]:
    """A licensee's notice with its withdrawal, for the licensee's and the provider's members and platform
    admins; :class:`NotFound` for anyone else."""
    notice = uow.session.get(WithdrawalNotice, notice_id)
    if notice is None or not can(uow.session, user, Action.WITHDRAWAL_NOTICE_VIEW, notice):
        raise NotFound(message="No such withdrawal notice.")
    withdrawal = uow.session.get(Withdrawal, notice.withdrawal_id)
    assert withdrawal is not None
    return notice, withdrawal


def _member_org_ids(session: Session, user: User) -> list[int]:
    return list(session.exec(select(Membership.organisation_id).where(Membership.user_id == user.id)).all())


def withdrawals_filed(uow: UnitOfWork, user: User, organisation: Organisation | None = None) -> list[Withdrawal]:
    """Withdrawals of the providers ``user`` belongs to (or of ``organisation`` only), newest first; a platform
    admin (on the site) sees every provider's."""
    query = select(Withdrawal).order_by(col(Withdrawal.filed_at).desc(), col(Withdrawal.id).desc())
    if organisation is not None:
        query = query.where(Withdrawal.organisation_id == organisation.id)
    elif not can(uow.session, user, Action.PLATFORM_ADMIN):
        query = query.where(col(Withdrawal.organisation_id).in_(_member_org_ids(uow.session, user)))
    return [w for w in uow.session.exec(query).all() if can(uow.session, user, Action.WITHDRAWAL_VIEW, w)]


def notices_received(uow: UnitOfWork, user: User) -> list[tuple[WithdrawalNotice, Withdrawal]]:
    """The notices sent to the licensee organisations ``user`` belongs to (as far as its credential reaches)."""
    rows = uow.session.exec(
        select(WithdrawalNotice, Withdrawal)
        .join(Withdrawal, col(Withdrawal.id) == col(WithdrawalNotice.withdrawal_id))
        .where(col(WithdrawalNotice.licensee_org_id).in_(_member_org_ids(uow.session, user)))
        .order_by(col(WithdrawalNotice.notified_at).desc(), col(WithdrawalNotice.id).desc())
    ).all()
    return [(n, w) for n, w in rows if can(uow.session, user, Action.WITHDRAWAL_CONFIRM, n)]


def notices_of(session: Session, withdrawal: Withdrawal) -> list[WithdrawalNotice]:
    return list(
        session.exec(
            select(WithdrawalNotice)
            .where(WithdrawalNotice.withdrawal_id == withdrawal.id)
            .order_by(col(WithdrawalNotice.id))
        ).all()
    )


def overview(uow: UnitOfWork, user: User) -> dict[str, Any]:
    """What the withdrawals page lists: those filed by ``user``'s providers with each one's licensee counts, the
    notices its organisations received, and the datasets they name (by id)."""
    filed = withdrawals_filed(uow, user)
    received = notices_received(uow, user)
    ids = {w.dataset_id for w in filed} | {w.dataset_id for _, w in received}
    datasets = uow.session.exec(select(Dataset).where(col(Dataset.id).in_(ids))).all() if ids else []
    return {
        "filed": filed,
        "received": received,
        "datasets": {d.id: d for d in datasets},
        "counts": {w.id: status_counts(notices_of(uow.session, w)) for w in filed},
    }


def filing_options(session: Session, dataset: Dataset) -> dict[str, list[str]]:
    """The published versions of ``dataset`` not yet withdrawn (newest first), each with its manifest's paths."""
    withdrawn = set(session.exec(select(Withdrawal.version_id).where(Withdrawal.dataset_id == dataset.id)).all())
    versions = session.exec(
        select(DatasetVersion)
        .where(DatasetVersion.dataset_id == dataset.id, DatasetVersion.status == VersionStatus.PUBLISHED)
        .order_by(col(DatasetVersion.id).desc())
    ).all()
    return {
        v.version: list(
            session.exec(
                select(DatasetFile.path).where(DatasetFile.version_id == v.id).order_by(col(DatasetFile.path))
            ).all()
        )
        for v in versions
        if v.id not in withdrawn
    }


# --- filing --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filing:
    """What a provider asks to withdraw (already parsed; the service checks it against the version)."""

    version: str
    reason: str
    details: str = ""
    files: tuple[str, ...] = ()
    record_ids: tuple[str, ...] = ()
    deletion_days: int | None = None
    patched_version: str | None = None


def _published_version(session: Session, dataset: Dataset, label: str) -> DatasetVersion:
    version = session.exec(
        select(DatasetVersion).where(DatasetVersion.dataset_id == dataset.id, DatasetVersion.version == label)
    ).first()
    if version is None:
        raise ValidationFailed.for_field("version", f"{dataset.title} has no version {label}")
    if version.status is not VersionStatus.PUBLISHED:
        raise Conflict(
            message=f"Version {label} is a draft: only a published version can be withdrawn (delete the draft "
            "or change its files instead).",
            code=WithdrawalErrorCode.VERSION_NOT_PUBLISHED,
        )
    return version


def _check_filing(uow: UnitOfWork, filing: Filing, manifest: list[DatasetFile]) -> tuple[WithdrawalReason, int]:
    """Every problem with the filing at once, each naming its field."""
    problems: list[FieldProblem] = []
    reason = None
    try:
        reason = WithdrawalReason(filing.reason)
    except ValueError:
        choices = ", ".join(r.value for r in WithdrawalReason)
        problems.append(FieldProblem("reason", f"choose one of: {choices}"))
    paths = {f.path for f in manifest}
    unknown = [p for p in filing.files if p not in paths]
    if unknown:
        problems.append(FieldProblem("files", "not in the version's manifest: " + ", ".join(unknown[:10])))
    bad_ids = [r for r in filing.record_ids if not _RECORD_ID.match(r)]
    if bad_ids:
        problems.append(FieldProblem("record_ids", "record ids are 1 to 200 printable characters without spaces"))
    if len(filing.record_ids) > MAX_RECORD_IDS:
        problems.append(FieldProblem("record_ids", f"at most {MAX_RECORD_IDS} record ids in one withdrawal"))
    if not filing.files and not filing.record_ids:
        problems.append(FieldProblem("files", "choose at least one file or give at least one record id"))
    if len(filing.details) > 5000:
        problems.append(FieldProblem("details", "at most 5000 characters"))
    days = filing.deletion_days if filing.deletion_days is not None else int(uow.settings["WITHDRAWAL_DELETION_DAYS"])
    if not 1 <= days <= 365:
        problems.append(FieldProblem("deletion_days", "licensees get between 1 and 365 days to delete"))
    if problems or reason is None:
        raise ValidationFailed(message="; ".join(f"{p.field}: {p.message}" for p in problems), details=problems)
    return reason, days


def _patched_label(session: Session, dataset: Dataset, wanted: str | None) -> str:
    labels = set(session.exec(select(DatasetVersion.version).where(DatasetVersion.dataset_id == dataset.id)).all())
    if wanted:
        try:
            label = vocab.semantic_version(wanted)
        except ValueError as error:
            raise ValidationFailed.for_field("patched_version", str(error)) from error
        if label in labels:
            raise ValidationFailed.for_field("patched_version", f"{dataset.title} already has a version {label}")
        return label
    # The next patch release after the greatest label (published or draft), so it sorts after every published one.
    greatest = max(labels, key=vocab.semver_key)
    major, minor, patch = (int(part) for part in greatest.split("-", 1)[0].split(".")[:3])
    return f"{major}.{minor}.{patch + 1}"


def _create_patched_draft(
    uow: UnitOfWork, actor: User, dataset: Dataset, withdrawn: DatasetVersion, kept: list[DatasetFile], label: str
) -> DatasetVersion:
    """The withdrawn version's manifest minus the withdrawn files, as a new draft. Kept files that were uploaded
    keep their stored object and its verified upload, so the draft is publishable as soon as nothing else needs
    replacing. A kept file uploaded again into the draft replaces it (the ordinary upload services), and the upload
    service then deletes the replaced object: the provider's own copy of the withdrawn records goes too (only
    withdrawn versions shared it)."""
    now = uow.now()
    draft = DatasetVersion(
        dataset_id=withdrawn.dataset_id,
        version=label,
        changelog=f"Patched version of {withdrawn.version}: withdrawn files and records removed.",
        created_at=now,
    )
    uow.session.add(draft)
    uow.session.flush()
    for f in kept:
        uow.session.add(
            DatasetFile(
                version_id=draft.id,  # type: ignore[arg-type]
                path=f.path,
                size_bytes=f.size_bytes,
                sha256=f.sha256,
                media_type=f.media_type,
                storage_key=f.storage_key,
            )
        )
        if f.storage_key is not None:
            uow.session.add(
                FileUpload(
                    version_id=draft.id,  # type: ignore[arg-type]
                    path=f.path,
                    size_bytes=f.size_bytes,
                    media_type=f.media_type,
                    expected_sha256=f.sha256,
                    storage_region=dataset.storage_region.value if dataset.storage_region is not None else None,
                    storage_key=f.storage_key,
                    status=UploadStatus.VERIFIED,
                    sha256=f.sha256,
                    created_by_id=actor.id,
                    created_at=now,
                    updated_at=now,
                    completed_at=now,
                )
            )
    draft.file_count = len(kept)
    draft.total_bytes = sum(f.size_bytes for f in kept)
    draft.manifest_digest = compute_manifest_digest(kept) if kept else None
    uow.session.add(draft)
    uow.session.flush()
    record_event(uow, dataset, actor, "version_added", label)
    return draft


def file_withdrawal(uow: UnitOfWork, user: User | None, dataset: Dataset, filing: Filing) -> Withdrawal:
    """File a withdrawal against a published version of ``dataset`` and create its patched draft.

    From this moment the version serves no download (and links issued before stop). Raises
    :class:`ValidationFailed` naming each bad field (a path not in the manifest, nothing chosen, a bad reason or
    deadline), :class:`Conflict` for a draft or an already withdrawn version.
    """
    actor = require(uow.session, user, Action.WITHDRAWAL_FILE, dataset)
    session = uow.session
    version = _published_version(session, dataset, filing.version)
    if lookup.withdrawal_of_version(session, version.id) is not None:  # type: ignore[arg-type]
        raise Conflict(
            message=f"Version {version.version} has already been withdrawn; withdraw more from its patched version.",
            code=WithdrawalErrorCode.ALREADY_WITHDRAWN,
        )
    manifest = list(session.exec(select(DatasetFile).where(DatasetFile.version_id == version.id)).all())
    reason, days = _check_filing(uow, filing, manifest)
    label = _patched_label(session, dataset, filing.patched_version)
    chosen = set(filing.files)
    draft = _create_patched_draft(uow, actor, dataset, version, [f for f in manifest if f.path not in chosen], label)
    withdrawal = Withdrawal(
        dataset_id=dataset.id,  # type: ignore[arg-type]
        organisation_id=dataset.organisation_id,
        version_id=version.id,  # type: ignore[arg-type]
        version_label=version.version,
        patched_version_id=draft.id,
        reason=reason,
        details=filing.details.strip(),
        files=sorted(chosen),
        record_ids=list(dict.fromkeys(filing.record_ids)),
        deletion_days=days,
        filed_by_id=actor.id,
        filed_at=uow.now(),
    )
    session.add(withdrawal)
    session.flush()
    record_event(uow, dataset, actor, "withdrawal_filed", f"{version.version}: {reason.label}")
    trail.filed(uow, actor, dataset, withdrawal)
    return withdrawal


# --- the patched version and the notices ---------------------------------------------------------------------------


def _lock(uow: UnitOfWork, row: Withdrawal | WithdrawalNotice) -> None:
    """Lock ``row`` until the transaction ends and reload it (PostgreSQL; SQLite has one writer anyway)."""
    model = type(row)
    uow.session.exec(
        select(model).where(model.id == row.id).with_for_update().execution_options(populate_existing=True)
    ).one()


def patched_version(session: Session, withdrawal: Withdrawal) -> DatasetVersion | None:
    return session.get(DatasetVersion, withdrawal.patched_version_id) if withdrawal.patched_version_id else None


def publish_patched_version(uow: UnitOfWork, user: User | None, withdrawal: Withdrawal) -> list[WithdrawalNotice]:
    """Publish the withdrawal's patched version, then notify every licensee of the withdrawn version.

    Refused (:class:`IllegalTransition`) once published; :class:`Conflict` ``patched_version_not_ready`` while the
    draft has no file, or the very files of the withdrawn version (records withdrawn but no file replaced yet);
    the catalog's own rules (every file uploaded and verified) apply.
    """
    dataset = uow.session.get(Dataset, withdrawal.dataset_id)
    assert dataset is not None
    actor = require(uow.session, user, Action.WITHDRAWAL_FILE, dataset)
    _lock(uow, withdrawal)  # two publishes at once: the second sees the first's state and is refused
    check_withdrawal_move(withdrawal.state, WithdrawalState.PATCHED_VERSION_PUBLISHED)
    draft = patched_version(uow.session, withdrawal)
    withdrawn = uow.session.get(DatasetVersion, withdrawal.version_id)
    if draft is None or draft.is_published or withdrawn is None:
        raise Conflict(message="The patched version is gone; file the withdrawal again.")
    if draft.file_count == 0:
        raise Conflict(
            message=f"Version {draft.version} has no file yet: upload the corrected files before publishing it.",
            code=WithdrawalErrorCode.PATCH_NOT_READY,
        )
    if draft.manifest_digest == withdrawn.manifest_digest:
        raise Conflict(
            message=f"Version {draft.version} still has exactly the files of version {withdrawn.version}: upload "
            "the files without the withdrawn records before publishing it.",
            code=WithdrawalErrorCode.PATCH_NOT_READY,
        )
    publish_for_withdrawal(uow, actor, dataset, draft)
    withdrawal.state = WithdrawalState.PATCHED_VERSION_PUBLISHED
    withdrawal.patch_published_at = uow.now()
    uow.session.add(withdrawal)
    uow.session.flush()
    record_event(uow, dataset, actor, "withdrawal_patch_published", draft.version)
    trail.patch_published(uow, actor, dataset, withdrawal, draft)
    return _notify_licensees(uow, actor, dataset, withdrawal, draft)


def affected_grants(session: Session, withdrawal: Withdrawal) -> list[Grant]:
    """The licenses whose holders may have the withdrawn version: those covering it, directly or through an
    earlier withdrawal's patched version, issued before the withdrawal was filed and that ever delivered (not
    awaiting payment or approval)."""
    versions = {
        v.id: v
        for v in session.exec(
            select(DatasetVersion).where(
                DatasetVersion.dataset_id == withdrawal.dataset_id, DatasetVersion.status == VersionStatus.PUBLISHED
            )
        ).all()
    }
    withdrawn = lookup.withdrawn_versions(session, withdrawal.dataset_id)
    grants = session.exec(
        select(Grant)
        .where(
            Grant.dataset_id == withdrawal.dataset_id,
            col(Grant.status).not_in(_NEVER_DELIVERED),
            # A license issued once the version had stopped serving never delivered it.
            col(Grant.issued_at) <= withdrawal.filed_at,
        )
        .order_by(col(Grant.issued_at), col(Grant.id))
    ).all()
    result = []
    for grant in grants:
        value = grant_value(grant)
        direct = {vid for vid, v in versions.items() if _covers(value, v)}
        if withdrawal.version_id in lookup.reach(withdrawn, direct):  # type: ignore[arg-type]
            result.append(grant)
    return result


def _covers(value: licensing.Grant, version: DatasetVersion) -> bool:
    if version.version in value.versions:
        return True
    if not value.all_versions or version.published_at is None:
        return False
    return value.valid_until is None or version.published_at < value.valid_until


def _notify_licensees(
    uow: UnitOfWork, actor: User, dataset: Dataset, withdrawal: Withdrawal, patched: DatasetVersion
) -> list[WithdrawalNotice]:
    check_withdrawal_move(withdrawal.state, WithdrawalState.LICENSEES_NOTIFIED)
    now = uow.now()
    deadline = now + timedelta(days=withdrawal.deletion_days)
    by_org: dict[int, list[Grant]] = {}
    for grant in affected_grants(uow.session, withdrawal):
        by_org.setdefault(grant.licensee_org_id, []).append(grant)
    notices = []
    for org_id, grants in by_org.items():
        notice = WithdrawalNotice(
            withdrawal_id=withdrawal.id,  # type: ignore[arg-type]
            licensee_org_id=org_id,
            provider_org_id=withdrawal.organisation_id,
            grant_ids=[g.id for g in grants],
            notified_at=now,
            deadline_at=deadline,
        )
        uow.session.add(notice)
        uow.session.flush()
        notices.append(notice)
        notify.tell_licensee(uow, dataset, withdrawal, patched, notice, grants)
        trail.licensee_notified(uow, dataset, withdrawal, notice)
    withdrawal.state = WithdrawalState.LICENSEES_NOTIFIED
    withdrawal.notified_at = now
    withdrawal.deadline_at = deadline
    uow.session.add(withdrawal)
    uow.session.flush()
    record_event(uow, dataset, actor, "withdrawal_notified", f"{len(notices)} licensee(s)")
    return notices


# --- confirmation --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Confirmation:
    """A signed statement of deletion: who signs (name and role), what was deleted, and when."""

    signer_name: str
    signer_role: str
    statement: str
    deleted_on: date


def _check_confirmation(uow: UnitOfWork, confirmation: Confirmation) -> None:
    problems = []
    if not 2 <= len(confirmation.signer_name.strip()) <= 200:
        problems.append(FieldProblem("signer_name", "give the full name of the person who signs (2 to 200 characters)"))
    if not 2 <= len(confirmation.signer_role.strip()) <= 200:
        problems.append(FieldProblem("signer_role", "give the signer's role (2 to 200 characters)"))
    if not 10 <= len(confirmation.statement.strip()) <= 5000:
        problems.append(FieldProblem("statement", "say what was deleted, and where (10 to 5000 characters)"))
    if confirmation.deleted_on > uow.now().date():
        problems.append(FieldProblem("deleted_on", "the date of deletion cannot be in the future"))
    if problems:
        raise ValidationFailed(message="; ".join(f"{p.field}: {p.message}" for p in problems), details=problems)


def confirm_deletion(
    uow: UnitOfWork, user: User | None, notice: WithdrawalNotice, confirmation: Confirmation
) -> WithdrawalNotice:
    """Record the licensee's signed confirmation of deletion; only a member of the licensee organisation signs.

    Refused once confirmed (:class:`IllegalTransition`); a confirmation after the deadline is still recorded.
    """
    signer = require(uow.session, user, Action.WITHDRAWAL_CONFIRM, notice)
    _check_confirmation(uow, confirmation)
    _lock(uow, notice)  # two signatures at once: the second sees the first and is refused
    check_notice_move(notice.state, NoticeState.CONFIRMED)
    withdrawal = uow.session.get(Withdrawal, notice.withdrawal_id)
    assert withdrawal is not None
    if confirmation.deleted_on < withdrawal.filed_at.date():
        raise ValidationFailed.for_field("deleted_on", "the deletion cannot predate the withdrawal")
    notice.state = NoticeState.CONFIRMED
    notice.confirmed_at = uow.now()
    notice.confirmed_by_id = signer.id
    notice.signer_name = confirmation.signer_name.strip()
    notice.signer_role = confirmation.signer_role.strip()
    notice.statement = confirmation.statement.strip()
    notice.deleted_on = confirmation.deleted_on
    uow.session.add(notice)
    uow.session.flush()
    dataset = uow.session.get(Dataset, withdrawal.dataset_id)
    assert dataset is not None
    licensee = uow.session.get(Organisation, notice.licensee_org_id)
    record_event(uow, dataset, signer, "withdrawal_deletion_confirmed", licensee.name if licensee else "")
    trail.deletion_confirmed(uow, signer, dataset, withdrawal, notice)
    return notice


def status_counts(notices: list[WithdrawalNotice]) -> dict[str, int]:
    """How many licensees are told, confirmed and overdue."""
    counts = {state.value: 0 for state in NoticeState}
    for notice in notices:
        counts[notice.state.value] += 1
    return counts
