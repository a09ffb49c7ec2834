"""Versions of a listing: add, change and delete drafts, publish (a published version never changes again)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from marketplace.accounts.models import User
from marketplace.catalog import vocab
from marketplace.catalog.errors import CatalogErrorCode
from marketplace.catalog.manifest import compute_manifest_digest
from marketplace.catalog.models import (
    Dataset,
    DatasetFile,
    DatasetVersion,
)
from marketplace.catalog.services.reading import version_files, versions_of
from marketplace.catalog.services.records import _require_edit, _require_editable, record_event
from marketplace.catalog.vocab import DatasetStatus, VersionStatus
from marketplace.db import UnitOfWork
from marketplace.delivery import guard
from marketplace.errors import Conflict, ValidationFailed
from marketplace.viewer import statistics as viewer_statistics

# --- versions --------------------------------------------------------------------------------------------------


def _latest_published_label(session: Session, dataset: Dataset) -> str | None:
    published = versions_of(session, dataset)
    return published[0].version if published else None


def _check_label_order(session: Session, dataset: Dataset, label: str) -> None:
    latest = _latest_published_label(session, dataset)
    if latest is not None and vocab.semver_key(label) <= vocab.semver_key(latest):
        raise ValidationFailed.for_field("version", f"must be greater than the latest published version {latest}")


def add_version(
    uow: UnitOfWork,
    user: User | None,
    dataset: Dataset,
    *,
    version: str,
    changelog: str = "",
    files: list[dict[str, Any]] | None = None,
) -> DatasetVersion:
    """Add a draft version, optionally with its manifest (until uploads exist, entered as metadata)."""
    _require_edit(uow, user, dataset)
    _require_editable(dataset)
    session = uow.session
    label = vocab.semantic_version(version)
    if session.exec(
        select(DatasetVersion.id).where(DatasetVersion.dataset_id == dataset.id, DatasetVersion.version == label)
    ).first():
        raise ValidationFailed.for_field("version", f"{dataset.title} already has a version {label}")
    _check_label_order(session, dataset, label)
    row = DatasetVersion(dataset_id=dataset.id, version=label, changelog=changelog.strip(), created_at=uow.now())  # type: ignore[arg-type]
    session.add(row)
    session.flush()
    if files:
        _replace_files(uow, row, files)
    record_event(uow, dataset, user, "version_added", label)
    return row


def _require_draft(version: DatasetVersion) -> None:
    if version.is_published:
        raise Conflict(
            message=f"Version {version.version} is published and can no longer change; add a new version instead.",
            code=CatalogErrorCode.VERSION_IMMUTABLE,
        )


def _replace_files(uow: UnitOfWork, version: DatasetVersion, files: list[dict[str, Any]]) -> None:
    session = uow.session
    session.execute(sa.delete(DatasetFile).where(col(DatasetFile.version_id) == version.id))
    session.flush()
    if files:
        rows = [
            {
                "version_id": version.id,
                "path": f["path"],
                "size_bytes": int(f["size_bytes"]),
                "sha256": f["sha256"],
                "media_type": f["media_type"],
                "storage_key": None,
            }
            for f in files
        ]
        session.execute(sa.insert(DatasetFile), rows)
    version.file_count = len(files)
    version.total_bytes = sum(int(f["size_bytes"]) for f in files)
    version.manifest_digest = compute_manifest_digest(files) if files else None
    session.add(version)


def manifest_matches(version: DatasetVersion, files: list[dict[str, Any]]) -> bool:
    """Whether ``files`` is exactly the manifest ``version`` has (compared by digest)."""
    return version.manifest_digest == (compute_manifest_digest(files) if files else None)


def update_version(
    uow: UnitOfWork,
    user: User | None,
    dataset: Dataset,
    version: DatasetVersion,
    *,
    changelog: str | None = None,
    files: list[dict[str, Any]] | None = None,
) -> bool:
    """Change a draft version's changelog and/or manifest; a published version is refused. Returns changed."""
    _require_edit(uow, user, dataset)
    _require_editable(dataset)
    changed = False
    if changelog is not None and changelog.strip() != version.changelog:
        _require_draft(version)
        version.changelog = changelog.strip()
        uow.session.add(version)
        changed = True
    if files is not None and not manifest_matches(version, files):
        _require_draft(version)
        _replace_files(uow, version, files)
        changed = True
    if changed:
        record_event(uow, dataset, user, "version_updated", version.version)
    return changed


def _publish(uow: UnitOfWork, actor: User | None, dataset: Dataset, version: DatasetVersion) -> None:
    """Publish ``version``: every way of publishing comes here, so the delivery rule is checked here, once."""
    _check_label_order(uow.session, dataset, version.version)
    guard.require_publishable(uow.session, version, allow_declared=guard.declared_manifests_allowed(uow.settings))
    files = version_files(uow.session, version)
    version.manifest_digest = compute_manifest_digest(files)
    version.status = VersionStatus.PUBLISHED
    version.published_at = uow.now()
    version.published_by_id = actor.id if actor else None
    uow.session.add(version)
    uow.session.flush()
    record_event(uow, dataset, actor, "version_published", version.version)
    # Its CSV and JSON Lines files get their Parquet form for Delta Sharing, in the background.
    from marketplace.sharing.conversion import request_conversion

    request_conversion(uow, version)
    # The data viewer's statistics of the version's tables, computed once by a background job.
    viewer_statistics.request_for_version(uow, version)


def publish_version(uow: UnitOfWork, user: User | None, dataset: Dataset, version: DatasetVersion) -> DatasetVersion:
    """Freeze a draft version of a published listing; it must list files and be newer than every published one."""
    _require_edit(uow, user, dataset)
    _require_draft(version)
    if dataset.status is not DatasetStatus.PUBLISHED:
        raise Conflict(
            message="Versions of a listing are published when the listing is approved; "
            "after that, new versions of a published listing can be published here."
        )
    if version.file_count == 0:
        raise ValidationFailed.for_field("manifest", "a version needs at least one file before it is published")
    _publish(uow, user, dataset, version)
    return version


def publish_private_version(
    uow: UnitOfWork, user: User | None, dataset: Dataset, version: DatasetVersion
) -> DatasetVersion:
    """Freeze a draft version of a contract's private dataset (a milestone delivery): the same rules as
    :func:`publish_version` (uploaded and verified files, a label newer than every published one), but only for a
    private dataset, which is never published as a listing."""
    _require_edit(uow, user, dataset)
    _require_draft(version)
    if dataset.status is not DatasetStatus.PRIVATE:
        raise Conflict(message="Only a contract's private dataset takes versions delivered for a milestone.")
    if version.file_count == 0:
        raise ValidationFailed.for_field("version", "a version needs at least one file before it is delivered")
    _publish(uow, user, dataset, version)
    return version


def delete_version(uow: UnitOfWork, user: User | None, dataset: Dataset, version: DatasetVersion) -> None:
    """Delete a draft version (a published one is refused)."""
    _require_edit(uow, user, dataset)
    _require_draft(version)
    uow.session.delete(version)
    record_event(uow, dataset, user, "version_deleted", version.version)


def publish_for_withdrawal(uow: UnitOfWork, actor: User, dataset: Dataset, version: DatasetVersion) -> DatasetVersion:
    """Publish a withdrawal's patched draft (:mod:`marketplace.withdrawals`), which has already checked that
    ``actor`` may withdraw from ``dataset`` (its provider's members, or a platform admin). The publishing rules are
    the same as for any version: uploaded and verified files, a label newer than every published one."""
    _require_draft(version)
    if version.file_count == 0:
        raise ValidationFailed.for_field("manifest", "a version needs at least one file before it is published")
    _publish(uow, actor, dataset, version)
    return version
