"""Delivery services: provider uploads into object storage, verified manifests, and audited download links.

Uploads. A provider's browser (or ``marketplace upload``) asks :func:`start_upload` for an upload of one file of
a *draft* version; the bytes go straight to storage through presigned links (:func:`upload_links`), one PUT for
small files and parts for large ones. :func:`upload_progress` asks storage which parts it holds, which is how an
interrupted upload resumes. :func:`complete_upload` assembles the object, checks its size, computes its SHA-256
from the stored bytes and compares it with what the uploader or the declared manifest promised; only then does
the file enter the version's manifest (a ``DatasetFile`` with its ``storage_key``). A version is published only
when every file is uploaded and verified (:func:`publish_uploaded_version`, and the guard in
:mod:`marketplace.delivery.guard` for every other way of publishing).

Downloads. :func:`issue_download_link` is the one gate: the requester belongs to the licensee, the grant is active
and inside its term, the file's version is covered, the download limit is not reached; then it presigns a
short-lived link naming the file and writes a ``DownloadEvent`` in the same transaction. A refusal raises
:class:`~marketplace.delivery.errors.DownloadRefused` (403, with the reason) and writes nothing.
"""

from __future__ import annotations

import posixpath
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

import licensing
import storage
from marketplace.accounts.models import Organisation, User
from marketplace.catalog import vocab
from marketplace.catalog.manifest import compute_manifest_digest
from marketplace.catalog.models import Dataset, DatasetFile, DatasetVersion
from marketplace.catalog.vocab import VersionStatus
from marketplace.db import UnitOfWork
from marketplace.delivery.errors import (
    DownloadRefused,
    FilesNotVerified,
    RefusalReason,
    domain_error,
    storage_errors,
)
from marketplace.delivery.models import DownloadEvent, FileUpload, UploadStatus
from marketplace.errors import (
    Conflict,
    FieldProblem,
    NotFound,
    PermissionDenied,
    ServiceUnavailable,
    ValidationFailed,
)
from marketplace.licenses.models import Grant
from marketplace.licenses.services import grant_value
from marketplace.permissions import Action, require

__all__ = [
    "DownloadLink",
    "complete_upload",
    "covered_versions",
    "dataset_storage",
    "deliverability_problems",
    "download_stats",
    "downloads_used",
    "get_upload",
    "grant_manifest",
    "issue_download_link",
    "issue_download_links",
    "publish_uploaded_version",
    "remove_upload",
    "start_upload",
    "storage_key_for",
    "upload_links",
    "upload_progress",
    "uploads_of",
]

DEFAULT_MEDIA_TYPE = "application/octet-stream"
_MAX_LINKS_PER_REQUEST = 100


# --- storage -------------------------------------------------------------------------------------------------------


def regional_storage(uow: UnitOfWork) -> storage.RegionalStorage:
    backend = uow.context.storage
    if backend is None:
        raise ServiceUnavailable(message="File storage is not configured.", code="storage_not_configured")
    return backend


def dataset_storage(uow: UnitOfWork, dataset: Dataset) -> storage.Storage:
    """The backend (bucket) of the dataset's residency region; an unconfigured region is refused, never swapped."""
    region = dataset.storage_region.value if dataset.storage_region is not None else None
    with storage_errors():
        return regional_storage(uow).for_region(region)


def storage_key_for(dataset: Dataset, version: DatasetVersion, path: str) -> str:
    """``datasets/<dataset id>/versions/<version id>/<path>``, validated (a bad path names the ``path`` field)."""
    try:
        clean = vocab.manifest_path(path)
    except ValueError as error:
        raise ValidationFailed.for_field("path", str(error)) from error
    if clean != path:
        raise ValidationFailed.for_field("path", "must not start or end with spaces")
    with storage_errors("path"):
        return storage.validate_key(f"datasets/{dataset.id}/versions/{version.id}/{clean}")


def _seconds_setting(uow: UnitOfWork, name: str, default: int) -> timedelta:
    return timedelta(seconds=int(uow.settings.get(name) or default))


# --- uploads -------------------------------------------------------------------------------------------------------


def _require_edit(uow: UnitOfWork, user: User | None, dataset: Dataset, *, operator: bool) -> None:
    # ``operator``: the server's own command line, run by whoever administers the installation.
    if not operator:
        require(uow.session, user, Action.DATASET_EDIT, dataset)


def _require_draft(version: DatasetVersion) -> None:
    if version.status is not VersionStatus.DRAFT:
        raise Conflict(
            message=f"Version {version.version} is published and can no longer change; add a new version instead.",
            code="version_immutable",
        )


def _storage_session(row: FileUpload) -> storage.UploadSession:
    with storage_errors():
        return storage.UploadSession.from_dict(row.storage_session)


def uploads_of(session: Session, version: DatasetVersion) -> list[FileUpload]:
    return list(
        session.exec(select(FileUpload).where(FileUpload.version_id == version.id).order_by(col(FileUpload.path))).all()
    )


def get_upload(uow: UnitOfWork, user: User | None, upload_id: int, *, operator: bool = False) -> FileUpload:
    """The upload with this id, for a member of the dataset's provider (others get 404: ids are not confirmed)."""
    row = uow.session.get(FileUpload, upload_id)
    version = uow.session.get(DatasetVersion, row.version_id) if row else None
    dataset = uow.session.get(Dataset, version.dataset_id) if version else None
    if row is None or dataset is None:
        raise NotFound(message="No such upload.")
    if not operator:
        try:
            require(uow.session, user, Action.DATASET_EDIT, dataset)
        except PermissionDenied as error:
            raise NotFound(message="No such upload.") from error
    return row


def _context(uow: UnitOfWork, row: FileUpload) -> tuple[Dataset, DatasetVersion]:
    version = uow.session.get(DatasetVersion, row.version_id)
    dataset = uow.session.get(Dataset, version.dataset_id) if version else None
    assert version is not None and dataset is not None
    return dataset, version


def _declared_file(session: Session, version: DatasetVersion, path: str) -> DatasetFile | None:
    return session.exec(
        select(DatasetFile).where(DatasetFile.version_id == version.id, DatasetFile.path == path)
    ).first()


def start_upload(
    uow: UnitOfWork,
    user: User | None,
    dataset: Dataset,
    version: DatasetVersion,
    *,
    path: str,
    size: int,
    media_type: str | None = None,
    sha256: str | None = None,
    operator: bool = False,
) -> FileUpload:
    """Begin (or resume) the upload of one file of a draft version and return its session row.

    Asking again for the same path with the same size and hash returns the unfinished session, so a reloaded
    page carries on where it stopped. Anything else replaces it: a new upload of a path that was already
    verified takes that file out of the manifest until the new bytes are verified.
    """
    _require_edit(uow, user, dataset, operator=operator)
    if version.dataset_id != dataset.id:
        raise NotFound(message="No such version.")
    _require_draft(version)
    key = storage_key_for(dataset, version, path)
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise ValidationFailed.for_field("size", "must be a whole number of bytes, 0 or more")
    if size > storage.MAX_OBJECT_SIZE:
        raise ValidationFailed.for_field("size", "a file may be at most 5 TiB")
    try:
        media = vocab.media_type(media_type) if media_type else DEFAULT_MEDIA_TYPE
    except ValueError as error:
        raise ValidationFailed.for_field("media_type", str(error)) from error
    expected: str | None = None
    if sha256:
        try:
            expected = vocab.sha256_hex(sha256)
        except ValueError as error:
            raise ValidationFailed.for_field("sha256", str(error)) from error
    declared = _declared_file(uow.session, version, path)
    if declared is not None and declared.storage_key is None and declared.size_bytes != size:
        raise ValidationFailed.for_field(
            "size", f"the version's manifest declares {declared.size_bytes} bytes for {path}, not {size}"
        )
    if declared is not None and declared.storage_key is None and expected and declared.sha256 != expected:
        raise ValidationFailed.for_field("sha256", f"the version's manifest declares another SHA-256 for {path}")

    store = dataset_storage(uow, dataset)
    now = uow.now()
    existing = uow.session.exec(
        select(FileUpload).where(FileUpload.version_id == version.id, FileUpload.path == path)
    ).first()
    if existing is not None:
        if (
            existing.status is UploadStatus.UPLOADING
            and existing.size_bytes == size
            and existing.media_type == media
            and (expected is None or existing.expected_sha256 in (None, expected))
        ):
            if expected and existing.expected_sha256 is None:
                existing.expected_sha256 = expected
            existing.updated_at = now
            uow.session.add(existing)
            return existing
        _forget_upload(uow, store, existing, version)
    with storage_errors():
        session = store.create_upload(key, size=size, content_type=media)
    row = existing or FileUpload(version_id=version.id, path=path, storage_key=key, size_bytes=size)  # type: ignore[arg-type]
    row.size_bytes = size
    row.media_type = media
    row.expected_sha256 = expected
    row.storage_region = dataset.storage_region.value if dataset.storage_region is not None else None
    row.storage_key = key
    row.storage_session = session.to_dict()
    row.parts_done = []
    row.status = UploadStatus.UPLOADING
    row.sha256 = None
    row.error = ""
    row.created_by_id = user.id if user else None
    row.created_at = now
    row.updated_at = now
    row.completed_at = None
    uow.session.add(row)
    uow.session.flush()
    return row


def _forget_upload(uow: UnitOfWork, store: storage.Storage, row: FileUpload, version: DatasetVersion) -> None:
    """Abort ``row``'s storage upload (after commit) and take its file out of the manifest if it was in it."""
    if row.status is UploadStatus.UPLOADING:
        old = storage.UploadSession.from_dict(row.storage_session)
        uow.after_commit(lambda: store.abort_upload(old))
    listed = _declared_file(uow.session, version, row.path)
    if listed is not None and listed.storage_key is not None:
        uow.session.delete(listed)
        uow.session.flush()
        _refresh_manifest(uow.session, version)


def upload_progress(uow: UnitOfWork, row: FileUpload) -> list[storage.UploadedPart]:
    """The parts storage already holds (what a resumed upload skips); recorded on the row as ``parts_done``."""
    if row.status is not UploadStatus.UPLOADING:
        return []
    dataset, _version = _context(uow, row)
    session = _storage_session(row)
    if not session.multipart:
        return []
    with storage_errors():
        held = dataset_storage(uow, dataset).list_uploaded_parts(session)
    good = [p for p in held if p.size == session.part_length(p.part_number)]
    numbers = sorted(p.part_number for p in good)
    if numbers != row.parts_done:
        row.parts_done = numbers
        row.updated_at = uow.now()
        uow.session.add(row)
    return good


def upload_links(uow: UnitOfWork, row: FileUpload, part_numbers: list[int] | None = None) -> dict[int, str]:
    """Presigned PUT links: ``{0: url}`` for a single-PUT upload, else ``{part number: url}`` for each part asked."""
    if row.status is not UploadStatus.UPLOADING:
        raise Conflict(message=f"The upload of {row.path} is {row.status.value}; start it again.", code="upload_closed")
    dataset, version = _context(uow, row)
    _require_draft(version)
    session = _storage_session(row)
    store = dataset_storage(uow, dataset)
    lifetime = _seconds_setting(uow, "UPLOAD_LINK_SECONDS", 3600)
    with storage_errors():
        if not session.multipart:
            return {0: store.presign_upload(session, expires_in=lifetime)}
        numbers = part_numbers or []
        if not numbers or len(numbers) > _MAX_LINKS_PER_REQUEST:
            raise ValidationFailed.for_field("parts", f"ask for 1 to {_MAX_LINKS_PER_REQUEST} part numbers at a time")
        for number in numbers:
            if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= session.part_count:
                raise ValidationFailed.for_field("parts", f"part numbers run from 1 to {session.part_count}")
        return {n: store.presign_upload_part(session, n, expires_in=lifetime) for n in sorted(set(numbers))}


def _fail(uow: UnitOfWork, store: storage.Storage, row: FileUpload, message: str, *, delete: bool) -> FileUpload:
    row.status = UploadStatus.FAILED
    row.error = message[:1000]
    row.updated_at = uow.now()
    uow.session.add(row)
    if delete:
        key = row.storage_key
        uow.after_commit(lambda: store.delete(key))
    return row


def complete_upload(uow: UnitOfWork, row: FileUpload) -> FileUpload:
    """Assemble the upload, check its size and SHA-256 against every promise, and put it in the manifest.

    Returns the row: ``verified`` (the file is now in the version's manifest with its storage key) or ``failed``
    with the reason in ``error`` (the stored bytes are deleted after commit; the caller commits so the failure is
    recorded). Missing parts raise :class:`Conflict` and leave the upload open, so it can still be resumed.
    """
    if row.status is UploadStatus.VERIFIED:
        return row
    if row.status is not UploadStatus.UPLOADING:
        raise Conflict(message=f"The upload of {row.path} is {row.status.value}; start it again.", code="upload_closed")
    dataset, version = _context(uow, row)
    _require_draft(version)
    session = _storage_session(row)
    store = dataset_storage(uow, dataset)
    parts: list[storage.UploadedPart] = []
    if session.multipart:
        parts = upload_progress(uow, row)
        missing = sorted(set(range(1, session.part_count + 1)) - {p.part_number for p in parts})
        if missing:
            shown = ", ".join(map(str, missing[:10])) + (" …" if len(missing) > 10 else "")
            raise Conflict(
                message=f"{row.path}: {len(missing)} of {session.part_count} parts are not uploaded yet ({shown}).",
                code="upload_incomplete",
            )
    try:
        info = store.complete_upload(session, parts, compute_sha256=True)
        if info.sha256 is None:
            info = store.ensure_sha256(row.storage_key)
    except storage.UploadError as error:
        return _fail(uow, store, row, f"{row.path}: {error}", delete=False)
    except storage.ObjectNotFound:
        return _fail(uow, store, row, f"{row.path}: nothing was uploaded.", delete=False)
    except storage.StorageError as error:
        raise domain_error(error) from error
    if info.size != row.size_bytes:
        return _fail(uow, store, row, f"{row.path}: stored {info.size} bytes, expected {row.size_bytes}.", delete=True)
    sha256 = info.sha256 or ""
    if row.expected_sha256 and sha256 != row.expected_sha256:
        message = f"{row.path}: the stored bytes hash to {sha256}, not the {row.expected_sha256} the uploader computed."
        return _fail(uow, store, row, message, delete=True)
    declared = _declared_file(uow.session, version, row.path)
    if declared is not None and declared.storage_key is None and declared.sha256 != sha256:
        message = f"{row.path}: the stored bytes hash to {sha256}, not the {declared.sha256} the manifest declares."
        return _fail(uow, store, row, message, delete=True)

    now = uow.now()
    row.status = UploadStatus.VERIFIED
    row.sha256 = sha256
    row.error = ""
    row.parts_done = [p.part_number for p in parts]
    row.completed_at = now
    row.updated_at = now
    uow.session.add(row)
    listed = declared or DatasetFile(version_id=version.id, path=row.path, size_bytes=0, sha256="", media_type="")  # type: ignore[arg-type]
    listed.size_bytes = info.size
    listed.sha256 = sha256
    listed.media_type = row.media_type
    listed.storage_key = row.storage_key
    uow.session.add(listed)
    uow.session.flush()
    _refresh_manifest(uow.session, version)
    return row


def remove_upload(uow: UnitOfWork, user: User | None, row: FileUpload, *, operator: bool = False) -> None:
    """Give up an upload (or take an uploaded file out of a draft version): parts and bytes are deleted."""
    dataset, version = _context(uow, row)
    _require_edit(uow, user, dataset, operator=operator)
    _require_draft(version)
    store = dataset_storage(uow, dataset)
    _forget_upload(uow, store, row, version)
    key = row.storage_key
    if row.status is not UploadStatus.UPLOADING or not storage.UploadSession.from_dict(row.storage_session).multipart:
        uow.after_commit(lambda: store.delete(key))
    uow.session.delete(row)
    uow.session.flush()


def _refresh_manifest(session: Session, version: DatasetVersion) -> None:
    """Recompute the version's file count, total size and manifest digest from its files."""
    files = list(session.exec(select(DatasetFile).where(DatasetFile.version_id == version.id)).all())
    version.file_count = len(files)
    version.total_bytes = sum(f.size_bytes for f in files)
    version.manifest_digest = compute_manifest_digest(files) if files else None
    session.add(version)
    session.flush()


# --- publishing ----------------------------------------------------------------------------------------------------


def deliverability_problems(session: Session, version: DatasetVersion, *, allow_declared: bool) -> list[FieldProblem]:
    """Why the version's files cannot be delivered: each file not uploaded, still uploading, failed or unverified.

    With ``allow_declared`` a version whose files were all only declared (nothing uploaded at all) passes: it is
    demo data with nothing to download. A version that uses uploads must have every file uploaded and verified.
    """
    files = list(session.exec(select(DatasetFile).where(DatasetFile.version_id == version.id)).all())
    uploads = {u.path: u for u in session.exec(select(FileUpload).where(FileUpload.version_id == version.id)).all()}
    if allow_declared and not uploads and all(f.storage_key is None for f in files):
        return []
    problems: list[FieldProblem] = []
    if not files and not uploads:
        problems.append(FieldProblem("files", "the version has no file yet"))
    for file in files:
        upload = uploads.get(file.path)
        if upload is None or file.storage_key is None:
            state = f"upload {upload.status.value}" if upload is not None else "not uploaded"
            problems.append(FieldProblem("files", state, file.path))
        elif (
            upload.status is not UploadStatus.VERIFIED
            or upload.sha256 != file.sha256
            or upload.size_bytes != file.size_bytes
            or upload.storage_key != file.storage_key
        ):
            problems.append(FieldProblem("files", f"upload {upload.status.value}, not verified", file.path))
    listed = {f.path for f in files}
    for path, upload in sorted(uploads.items()):
        if path not in listed:
            problems.append(FieldProblem("files", f"upload {upload.status.value}", path))
    return problems


def require_deliverable(session: Session, version: DatasetVersion, *, allow_declared: bool) -> None:
    """Raise :class:`FilesNotVerified` listing every file that stands in the way of publishing ``version``."""
    problems = deliverability_problems(session, version, allow_declared=allow_declared)
    if problems:
        shown = "; ".join(f"{p.location}: {p.message}" if p.location else p.message for p in problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise FilesNotVerified(
            message=f"Version {version.version} cannot be published until every file is uploaded and verified: "
            f"{shown}{more}.",
            details=problems,
        )


def publish_uploaded_version(
    uow: UnitOfWork, user: User | None, dataset: Dataset, version: DatasetVersion
) -> DatasetVersion:
    """Publish a draft version whose every file is uploaded and verified (declared-only files are refused here)."""
    from marketplace.catalog import services as catalog

    require(uow.session, user, Action.DATASET_EDIT, dataset)
    _require_draft(version)
    require_deliverable(uow.session, version, allow_declared=False)
    return catalog.publish_version(uow, user, dataset, version)


# --- downloads -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DownloadLink:
    """A presigned link handed out for one file, and the audit row that records it."""

    url: str
    file: DatasetFile
    version: DatasetVersion
    expires_at: datetime
    event: DownloadEvent

    @property
    def filename(self) -> str:
        return posixpath.basename(self.file.path)


def covered_versions(session: Session, grant: Grant, value: licensing.Grant | None = None) -> list[DatasetVersion]:
    """The published versions of the grant's dataset that the grant covers, oldest first."""
    value = value or grant_value(grant)
    published = session.exec(
        select(DatasetVersion)
        .where(DatasetVersion.dataset_id == grant.dataset_id, DatasetVersion.status == VersionStatus.PUBLISHED)
        .order_by(col(DatasetVersion.published_at), col(DatasetVersion.id))
    ).all()
    return [v for v in published if _covers(value, v)]


def _covers(value: licensing.Grant, version: DatasetVersion) -> bool:
    if not value.covers_version(version.version):
        return False
    if value.all_versions and version.version not in value.versions and value.valid_until is not None:
        # "Every version published during the term": not the ones published after it ended.
        return version.published_at is not None and version.published_at < value.valid_until
    return True


def downloads_used(session: Session, grant: Grant) -> int:
    """How many download links were issued under ``grant`` (what its download limit counts)."""
    return int(
        session.exec(select(func.count()).select_from(DownloadEvent).where(DownloadEvent.grant_id == grant.id)).one()
    )


def _refusal_for(value: licensing.Grant, now: datetime) -> RefusalReason | None:
    status = value.status_at(now)
    if status is licensing.GrantStatus.REVOKED:
        return RefusalReason.REVOKED
    if status is licensing.GrantStatus.SUSPENDED:
        return RefusalReason.SUSPENDED
    if status is licensing.GrantStatus.EXPIRED:
        return RefusalReason.EXPIRED
    if status is not licensing.GrantStatus.ACTIVE:
        return RefusalReason.NOT_ACTIVE
    if now < value.valid_from:
        return RefusalReason.NOT_YET_VALID
    if not value.is_valid_at(now):
        return RefusalReason.EXPIRED
    return None


def _requester_is_licensee(
    uow: UnitOfWork, grant: Grant, user: User | None, api_key_id: int | None, api_key_org_id: int | None
) -> bool:
    from marketplace.permissions import can

    if api_key_id is not None:
        return api_key_org_id is not None and api_key_org_id == grant.licensee_org_id
    return can(uow.session, user, Action.GRANT_DOWNLOAD, grant)


def check_download_allowed(
    uow: UnitOfWork,
    grant: Grant,
    *,
    user: User | None = None,
    api_key_id: int | None = None,
    api_key_org_id: int | None = None,
) -> licensing.Grant:
    """Return the engine's grant when the requester may download under it now; raise DownloadRefused otherwise.

    Checks who asks first (a stranger learns nothing about the grant's state), then the grant's status and term.
    """
    if not _requester_is_licensee(uow, grant, user, api_key_id, api_key_org_id):
        raise DownloadRefused.because(RefusalReason.NOT_LICENSEE)
    value = grant_value(grant)
    reason = _refusal_for(value, uow.now())
    if reason is not None:
        raise DownloadRefused.because(reason)
    return value


def _lock_grant(session: Session, grant: Grant) -> None:
    # Serialise link issuance per grant so two requests cannot both take the last download (PostgreSQL).
    session.exec(select(Grant.id).where(Grant.id == grant.id).with_for_update())


def _check_limit(session: Session, grant: Grant, value: licensing.Grant, wanted: int) -> None:
    limit = value.terms.download_limit
    if limit is None:
        return
    _lock_grant(session, grant)
    used = downloads_used(session, grant)
    if used + wanted > limit:
        left = max(0, limit - used)
        message = RefusalReason.LIMIT_REACHED.message + f" ({used} of {limit} used"
        message += f"; {left} left, {wanted} asked for)" if wanted > 1 and left else ")"
        raise DownloadRefused.because(RefusalReason.LIMIT_REACHED, message)


def _file_of_grant(
    session: Session, grant: Grant, value: licensing.Grant, file_id: int
) -> tuple[DatasetFile, DatasetVersion]:
    file = session.get(DatasetFile, file_id) if isinstance(file_id, int) and not isinstance(file_id, bool) else None
    version = session.get(DatasetVersion, file.version_id) if file is not None else None
    if file is None or version is None or version.dataset_id != grant.dataset_id:
        raise NotFound(message="No such file under this license.")
    if version.status is not VersionStatus.PUBLISHED or not _covers(value, version):
        raise DownloadRefused.because(RefusalReason.VERSION_NOT_COVERED)
    if file.storage_key is None:
        raise Conflict(
            message=f"{file.path} was declared but never uploaded, so it cannot be downloaded.", code="file_unavailable"
        )
    return file, version


def _issue(
    uow: UnitOfWork,
    grant: Grant,
    dataset: Dataset,
    file: DatasetFile,
    *,
    user: User | None,
    api_key_id: int | None,
    ip: str,
    user_agent: str,
) -> DownloadLink:
    now = uow.now()
    lifetime = _seconds_setting(uow, "DOWNLOAD_LINK_SECONDS", 900)
    if grant.valid_until is not None:
        # A link never outlives the license it was issued under.
        lifetime = max(timedelta(seconds=1), min(lifetime, grant.valid_until - now))
    assert file.storage_key is not None
    with storage_errors("path"):
        url = dataset_storage(uow, dataset).presign_download(
            file.storage_key,
            expires_in=lifetime,
            filename=posixpath.basename(file.path),
            content_type=file.media_type or None,
        )
    expires_at = now + timedelta(seconds=storage.expiry_seconds(lifetime))
    event = DownloadEvent(
        grant_id=grant.id,
        file_id=file.id,  # type: ignore[arg-type]
        dataset_id=grant.dataset_id,
        licensee_org_id=grant.licensee_org_id,
        user_id=user.id if user is not None and api_key_id is None else None,
        api_key_id=api_key_id,
        ip_address=(ip or "")[:64],
        user_agent=(user_agent or "")[:512],
        issued_at=now,
        expires_at=expires_at,
    )
    uow.session.add(event)
    version = uow.session.get(DatasetVersion, file.version_id)
    assert version is not None
    return DownloadLink(url=url, file=file, version=version, expires_at=expires_at, event=event)


def issue_download_link(
    uow: UnitOfWork,
    *,
    grant: Grant,
    file_id: int,
    user: User | None = None,
    api_key_id: int | None = None,
    api_key_org_id: int | None = None,
    ip: str,
    user_agent: str,
) -> DownloadLink:
    """Hand out one short-lived link to one file of a grant and record it (see the module documentation).

    ``user`` is the logged-in requester; an API caller passes its key's id and organisation instead. Raises
    :class:`DownloadRefused` (not licensee, revoked, suspended, expired, not yet valid, version not covered,
    limit reached), :class:`NotFound` for a file outside the grant's dataset; nothing is written then.
    """
    value = check_download_allowed(uow, grant, user=user, api_key_id=api_key_id, api_key_org_id=api_key_org_id)
    file, _version = _file_of_grant(uow.session, grant, value, file_id)
    _check_limit(uow.session, grant, value, 1)
    dataset = uow.session.get(Dataset, grant.dataset_id)
    assert dataset is not None
    link = _issue(uow, grant, dataset, file, user=user, api_key_id=api_key_id, ip=ip, user_agent=user_agent)
    uow.session.flush()
    return link


def deliverable_files(
    session: Session, grant: Grant, value: licensing.Grant
) -> list[tuple[DatasetVersion, DatasetFile]]:
    """Every uploaded file of every covered version, by version then path."""
    result: list[tuple[DatasetVersion, DatasetFile]] = []
    for version in covered_versions(session, grant, value):
        files = session.exec(
            select(DatasetFile)
            .where(DatasetFile.version_id == version.id, col(DatasetFile.storage_key).is_not(None))
            .order_by(col(DatasetFile.path))
        ).all()
        result.extend((version, f) for f in files)
    return result


def issue_download_links(
    uow: UnitOfWork,
    *,
    grant: Grant,
    user: User | None = None,
    api_key_id: int | None = None,
    api_key_org_id: int | None = None,
    ip: str,
    user_agent: str,
    version_label: str | None = None,
) -> list[DownloadLink]:
    """Fresh links for every file the grant covers (or of one version), each one audited; all or nothing."""
    value = check_download_allowed(uow, grant, user=user, api_key_id=api_key_id, api_key_org_id=api_key_org_id)
    files = [(v, f) for v, f in deliverable_files(uow.session, grant, value) if version_label in (None, v.version)]
    if version_label is not None and not files:
        raise NotFound(message=f"No downloadable file in version {version_label} under this license.")
    _check_limit(uow.session, grant, value, len(files))
    dataset = uow.session.get(Dataset, grant.dataset_id)
    assert dataset is not None
    links = [
        _issue(uow, grant, dataset, f, user=user, api_key_id=api_key_id, ip=ip, user_agent=user_agent)
        for _v, f in files
    ]
    uow.session.flush()
    return links


def grant_manifest(session: Session, grant: Grant) -> dict[str, Any]:
    """The files the grant covers with size and SHA-256 per file, per version (for checking downloads)."""
    value = grant_value(grant)
    dataset = session.get(Dataset, grant.dataset_id)
    versions = []
    for version in covered_versions(session, grant, value):
        files = session.exec(
            select(DatasetFile).where(DatasetFile.version_id == version.id).order_by(col(DatasetFile.path))
        ).all()
        versions.append(
            {
                "version": version.version,
                "manifest_digest": version.manifest_digest,
                "file_count": version.file_count,
                "total_bytes": version.total_bytes,
                "files": [
                    {
                        "id": f.id,
                        "path": f.path,
                        "size_bytes": f.size_bytes,
                        "sha256": f.sha256,
                        "media_type": f.media_type,
                        "downloadable": f.storage_key is not None,
                    }
                    for f in files
                ],
            }
        )
    return {
        "license": grant.id,
        "dataset": dataset.slug if dataset else None,
        "license_manifest_digest": grant.manifest_digest,
        "versions": versions,
    }


# --- provider statistics -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DownloadStats:
    days: list[tuple[str, int]]
    licensees: list[tuple[str, int]]
    total: int
    since: datetime


def download_stats(uow: UnitOfWork, user: User | None, dataset: Dataset, *, days: int = 30) -> DownloadStats:
    """Links issued for the dataset per day (the last ``days`` days, gaps as 0) and per licensee, for its provider."""
    require(uow.session, user, Action.DATASET_DOWNLOAD_STATS, dataset)
    session = uow.session
    today = uow.now().date()
    first_day = today - timedelta(days=days - 1)
    since = uow.now().replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=days - 1)
    rows = session.exec(
        select(DownloadEvent.issued_at, DownloadEvent.licensee_org_id).where(
            DownloadEvent.dataset_id == dataset.id, col(DownloadEvent.issued_at) >= since
        )
    ).all()
    per_day: Counter[str] = Counter(issued.date().isoformat() for issued, _org in rows)
    day_list = [((first_day + timedelta(days=i)).isoformat(), 0) for i in range(days)]
    day_list = [(day, per_day.get(day, 0)) for day, _zero in day_list]
    by_org = session.exec(
        select(Organisation.name, sa.func.count(col(DownloadEvent.id)))
        .join(Organisation, col(Organisation.id) == col(DownloadEvent.licensee_org_id))
        .where(DownloadEvent.dataset_id == dataset.id)
        .group_by(col(Organisation.name))
        .order_by(sa.func.count(col(DownloadEvent.id)).desc(), col(Organisation.name))
    ).all()
    licensees = [(str(name), int(count)) for name, count in by_org]
    return DownloadStats(days=day_list, licensees=licensees, total=sum(c for _n, c in licensees), since=since)
