"""Exports of a licensed version into the licensee's bucket: asked for on the site or through the API, run as a
background job, verified object by object at the destination, audited, and repeatable.

Asking (:func:`request_export`) goes through the one download gate (:func:`marketplace.delivery.issue_download_links`
for the version): the same permission, license state, governed-access and download-limit checks as a download, and
one audited ``download.link_issued`` per file, so an export counts toward the license's download limit as the same
files downloaded would. The job (:func:`run_export`) checks the license again before each file (a revocation or a
suspension stops the export at the next file), copies each file from the dataset's storage into
``<prefix>/<dataset>/<version>/<path>``, reads the object back from the destination and compares its SHA-256 with the
manifest's. Progress is committed after each verified object in its own transaction, so the export page shows it and
a job that crashed resumes after the last verified object. A storage error raises (the queue retries the job with
backoff; when it gives up, :func:`give_up` marks the export failed); a mismatch or a refusal fails it at once.
"""

from __future__ import annotations

import hashlib
import posixpath
from dataclasses import dataclass
from typing import Any

from sqlmodel import col, select

import storage
from marketplace import audit
from marketplace.accounts.models import User
from marketplace.catalog.models import Dataset
from marketplace.db import UnitOfWork, unit_of_work
from marketplace.delivery import downloads
from marketplace.delivery.models import DownloadChannel
from marketplace.delivery.stores import dataset_storage
from marketplace.errors import DomainError, NotFound
from marketplace.exports import destinations
from marketplace.exports.models import BucketDestination, BucketExport
from marketplace.exports.states import ExportState, check_move
from marketplace.jobs.models import JobKind
from marketplace.jobs.queue import enqueue
from marketplace.licenses.models import Grant
from marketplace.permissions import Action, can

MiB = 1024 * 1024
#: Attempts of an export job before it is given up (storage errors are retried with the queue's backoff).
EXPORT_ATTEMPTS = 4


def _visible_grant(uow: UnitOfWork, user: User | None, grant_id: str) -> Grant:
    grant = uow.session.get(Grant, grant_id) if len(grant_id) <= 26 else None
    if grant is None or user is None or not can(uow.session, user, Action.GRANT_DOWNLOAD, grant):
        raise NotFound(message="No such license.")
    return grant


def request_export(
    uow: UnitOfWork, requester: downloads.Requester, grant_id: str, *, destination_id: int, version_label: str
) -> BucketExport:
    """Queue an export of ``version_label`` under the license into one of the licensee organisation's destinations.

    Raises :class:`NotFound` for a license or destination the requester's organisation does not hold,
    :class:`~marketplace.delivery.errors.DownloadRefused` when a download would be refused (nothing is written).
    """
    user = requester.user
    grant = _visible_grant(uow, user, grant_id)
    destination = uow.session.get(BucketDestination, destination_id)
    if (
        destination is None
        or destination.organisation_id != grant.licensee_org_id
        or not can(uow.session, user, Action.EXPORT_DESTINATION_USE, destination)
    ):
        raise NotFound(message="No such destination.")
    links = downloads.issue_download_links(
        uow, grant=grant, requester=requester, version_label=version_label, channel=DownloadChannel.BUCKET_EXPORT
    )
    export = BucketExport(
        grant_id=grant.id,
        licensee_org_id=grant.licensee_org_id,
        destination_id=destination.id,
        destination_location=destination.location[:700],
        version_label=links[0].version.version,
        files_total=len(links),
        bytes_total=sum(link.file.size_bytes for link in links),
        requested_by_id=user.id if user is not None else None,
        created_at=uow.now(),
    )
    uow.session.add(export)
    uow.session.flush()
    assert export.id is not None
    audit.append(
        uow,
        organisation_ids=[grant.licensee_org_id, grant.licensor_org_id],
        kind="delivery.bucket_export_requested",
        subject_type="license",
        subject_id=grant.id,
        actor=audit.actor_of(user, api_key_id=requester.api_key_id, oauth_client_id=requester.oauth_client_id),
        data={"export": export.id, "destination": export.destination_location, "version": export.version_label},
    )
    enqueue(uow, JobKind.BUCKET_EXPORT, {"export_id": export.id}, max_attempts=EXPORT_ATTEMPTS)
    return export


def repeat_export(uow: UnitOfWork, requester: downloads.Requester, export_id: int) -> BucketExport:
    """A new export of the same version into the same destination (the old one stays as it was)."""
    old = get_export(uow, requester.user, export_id)
    if old.destination_id is None:
        raise NotFound(message="The destination of this export has been removed; choose another one.")
    return request_export(
        uow, requester, old.grant_id, destination_id=old.destination_id, version_label=old.version_label
    )


def get_export(uow: UnitOfWork, user: User | None, export_id: int) -> BucketExport:
    """An export its licensee organisation's members may see; anyone else gets 404."""
    export = uow.session.get(BucketExport, export_id)
    if export is None or user is None or not can(uow.session, user, Action.EXPORT_VIEW, export):
        raise NotFound(message="No such export.")
    return export


def exports_of(uow: UnitOfWork, user: User | None, grant_id: str, *, limit: int = 20) -> list[BucketExport]:
    """The license's latest exports, newest first (its licensee's members only)."""
    grant = _visible_grant(uow, user, grant_id)
    statement = select(BucketExport).where(BucketExport.grant_id == grant.id)
    return list(uow.session.exec(statement.order_by(col(BucketExport.id).desc()).limit(limit)))


# --- the job ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Item:
    path: str
    source_key: str
    size: int
    sha256: str
    media_type: str


def object_key(prefix: str, dataset_slug: str, version: str, path: str) -> str:
    """Where a file lands in the destination: ``<prefix>/<dataset>/<version>/<path>`` (no prefix: from the top)."""
    return posixpath.join(*[part for part in (prefix.strip("/"), dataset_slug, version, path) if part])


def _finish(uow: UnitOfWork, export: BucketExport, target: ExportState, error: str = "") -> None:
    check_move(export.state, target)
    export.state, export.error, export.finished_at = target, error[:1000], uow.now()
    uow.session.add(export)
    grant = uow.session.get(Grant, export.grant_id)
    audit.append(
        uow,
        organisation_ids=[export.licensee_org_id, grant.licensor_org_id if grant else None],
        kind="delivery.bucket_export_succeeded" if target is ExportState.SUCCEEDED else "delivery.bucket_export_failed",
        subject_type="license",
        subject_id=export.grant_id,
        actor="system",
        data={"export": export.id, "objects": len(export.objects), "error": export.error},
    )


def _check_license(uow: UnitOfWork, export: BucketExport) -> tuple[Grant, Any]:
    """The grant and its engine value, if the export's requester may still download under it; else a DomainError."""
    grant = uow.session.get(Grant, export.grant_id)
    user = uow.session.get(User, export.requested_by_id) if export.requested_by_id is not None else None
    if grant is None:
        raise NotFound(message="The license no longer exists.")
    return grant, downloads.check_download_allowed(uow, grant, user=user)


def _plan(uow: UnitOfWork, export: BucketExport) -> tuple[list[_Item], storage.Storage, Any, str]:
    """Check the license (as its requester) and the destination; the files still to copy, the source storage,
    the destination bucket and the key prefix. Raises a DomainError when the export may not go on."""
    grant, value = _check_license(uow, export)
    destination = uow.session.get(BucketDestination, export.destination_id) if export.destination_id else None
    if destination is None:
        raise NotFound(message="The destination was removed before the export finished.")
    dataset = uow.session.get(Dataset, grant.dataset_id)
    assert dataset is not None
    done = {entry["path"] for entry in export.objects}
    items = [
        _Item(f.path, f.storage_key, f.size_bytes, f.sha256, f.media_type or "application/octet-stream")
        for v, f in downloads.deliverable_files(uow.session, grant, value)
        if v.version == export.version_label and f.storage_key and f.path not in done
    ]
    base = object_key(destination.prefix, dataset.slug, export.version_label, "")
    return items, dataset_storage(uow, dataset), destinations.open_bucket(uow.settings, destination), base


def _copy(source: storage.Storage, bucket: Any, item: _Item, key: str) -> str:
    """Copy one file and return the SHA-256 of the bytes read back from the destination."""
    with source.open(item.source_key) as stream:
        bucket.put(key, stream, content_type=item.media_type)
    digest = hashlib.sha256()
    with bucket.open(key) as stored:
        while chunk := stored.read(MiB):
            digest.update(chunk)
    return digest.hexdigest()


def run_export(work: UnitOfWork, payload: dict[str, Any]) -> None:
    """The export job (see the module documentation). Everything is committed in units of work of its own, so
    progress is visible while it runs; ``work`` (the job's own) is left untouched."""
    queue = work.context.queue
    assert queue is not None
    export_id = int(payload["export_id"])
    with unit_of_work(queue.database, work.context) as uow:
        export = uow.session.get(BucketExport, export_id)
        if export is None or export.state.finished:
            return
        try:
            items, source, bucket, prefix = _plan(uow, export)
        except DomainError as error:
            _finish(uow, export, ExportState.FAILED, error.message)
            return
        if export.state is ExportState.QUEUED:
            check_move(export.state, ExportState.RUNNING)
            export.state, export.started_at = ExportState.RUNNING, uow.now()
            uow.session.add(export)
    for item in items:
        key = posixpath.join(prefix, item.path)
        digest = _copy(source, bucket, item, key)  # a storage error raises: the queue retries the job
        with unit_of_work(queue.database, work.context) as uow:
            export = uow.session.get(BucketExport, export_id)
            assert export is not None
            if digest != item.sha256:
                problem = f"{key}: the file's SHA-256 at the destination differs from the manifest ({digest})"
                _finish(uow, export, ExportState.FAILED, problem)
                return
            export.objects = [*export.objects, {"path": item.path, "key": key, "size": item.size, "sha256": digest}]
            export.files_done, export.bytes_done = export.files_done + 1, export.bytes_done + item.size
            uow.session.add(export)
            try:  # the license is checked again before the next file: a revocation stops the export there
                _check_license(uow, export)
            except DomainError as error:
                _finish(uow, export, ExportState.FAILED, error.message)
                return
    with unit_of_work(queue.database, work.context) as uow:
        export = uow.session.get(BucketExport, export_id)
        assert export is not None
        if not export.state.finished:
            _finish(uow, export, ExportState.SUCCEEDED)


def give_up(work: UnitOfWork, payload: dict[str, Any], reason: str) -> None:
    """Every attempt failed (the destination kept refusing, or storage kept failing): the export is failed."""
    export = work.session.get(BucketExport, int(payload["export_id"]))
    if export is None or export.state.finished:
        return
    _finish(work, export, ExportState.FAILED, f"The files could not be copied: {reason}")
