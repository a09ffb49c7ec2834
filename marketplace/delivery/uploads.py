"""Provider uploads into object storage, verified manifests, and publishing a version once its files are verified.

A provider's browser (or ``marketplace upload``) asks :func:`start_upload` for an upload of one file of a *draft*
version; the bytes go straight to storage through presigned links (:func:`upload_links`), one PUT for small files
and parts for large ones. :func:`upload_progress` asks storage which parts it holds, which is how an interrupted
upload resumes. :func:`complete_upload` assembles the object, checks its size, takes its SHA-256 from the stored
bytes and compares it with what the uploader or the declared manifest promised; only then does the file enter the
version's manifest (a ``DatasetFile`` with its ``storage_key``). Where the hash means reading the object back (S3),
the upload is ``verifying`` until a background job (:func:`verify_upload`) has done that and the same checks. A
version is published only when every file is uploaded and verified (:func:`publish_uploaded_version`, and the guard
in :mod:`marketplace.delivery.guard` for every other way of publishing).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

import storage
from marketplace.accounts.models import User
from marketplace.catalog import vocab
from marketplace.catalog.manifest import compute_manifest_digest
from marketplace.catalog.models import Dataset, DatasetFile, DatasetVersion
from marketplace.catalog.vocab import VersionStatus
from marketplace.db import UnitOfWork
from marketplace.delivery.errors import DeliveryErrorCode, FilesNotVerified, domain_error, storage_errors
from marketplace.delivery.models import FileUpload, UploadStatus
from marketplace.delivery.stores import dataset_storage, seconds_setting, storage_key_for
from marketplace.errors import Conflict, FieldProblem, NotFound, PermissionDenied, ValidationFailed
from marketplace.permissions import Action, require

__all__ = [
    "DEFAULT_MEDIA_TYPE",
    "complete_upload",
    "deliverability_problems",
    "get_upload",
    "publish_uploaded_version",
    "remove_upload",
    "require_deliverable",
    "start_upload",
    "upload_links",
    "upload_progress",
    "uploads_of",
    "verification_given_up",
    "verify_upload",
]

DEFAULT_MEDIA_TYPE = "application/octet-stream"
_MAX_LINKS_PER_REQUEST = 100


# --- uploads -------------------------------------------------------------------------------------------------------


def _require_edit(uow: UnitOfWork, user: User | None, dataset: Dataset, *, operator: bool) -> None:
    # ``operator``: the server's own command line, run by whoever administers the installation.
    if not operator:
        require(uow.session, user, Action.DATASET_EDIT, dataset)


def _require_draft(version: DatasetVersion) -> None:
    if version.status is not VersionStatus.DRAFT:
        raise Conflict(
            message=f"Version {version.version} is published and can no longer change; add a new version instead.",
            code=DeliveryErrorCode.VERSION_IMMUTABLE,
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


@dataclass(frozen=True)
class _Wanted:
    """What an uploader asks to upload, validated: where it goes and what it promises about the bytes."""

    path: str
    key: str
    size: int
    media_type: str
    sha256: str | None


def _wanted_upload(
    dataset: Dataset, version: DatasetVersion, path: str, size: int, media_type: str | None, sha256: str | None
) -> _Wanted:
    """Validate the request field by field (each problem names its field)."""
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
    return _Wanted(path=path, key=key, size=size, media_type=media, sha256=expected)


def _check_declared(session: Session, version: DatasetVersion, wanted: _Wanted) -> None:
    """A file the version's manifest only declared must be uploaded with the declared size and hash."""
    declared = _declared_file(session, version, wanted.path)
    if declared is None or declared.storage_key is not None:
        return
    if declared.size_bytes != wanted.size:
        raise ValidationFailed.for_field(
            "size", f"the version's manifest declares {declared.size_bytes} bytes for {wanted.path}, not {wanted.size}"
        )
    if wanted.sha256 and declared.sha256 != wanted.sha256:
        raise ValidationFailed.for_field("sha256", f"{wanted.path}: the file's SHA-256 differs from the manifest")


def _resumes(row: FileUpload, wanted: _Wanted) -> bool:
    """Whether ``row`` is the unfinished upload of the very same file (so the uploader carries on with it)."""
    return (
        row.status is UploadStatus.UPLOADING
        and row.size_bytes == wanted.size
        and row.media_type == wanted.media_type
        and (wanted.sha256 is None or row.expected_sha256 in (None, wanted.sha256))
    )


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
    wanted = _wanted_upload(dataset, version, path, size, media_type, sha256)
    _check_declared(uow.session, version, wanted)

    store = dataset_storage(uow, dataset)
    now = uow.now()
    existing = uow.session.exec(
        select(FileUpload).where(FileUpload.version_id == version.id, FileUpload.path == path)
    ).first()
    if existing is not None:
        if _resumes(existing, wanted):
            existing.expected_sha256 = existing.expected_sha256 or wanted.sha256
            existing.updated_at = now
            uow.session.add(existing)
            return existing
        _forget_upload(uow, store, existing, version)
    with storage_errors():
        session = store.create_upload(wanted.key, size=wanted.size, content_type=wanted.media_type)
    row = existing or FileUpload(version_id=version.id, path=path, storage_key=wanted.key, size_bytes=size)  # type: ignore[arg-type]
    row.size_bytes = wanted.size
    row.media_type = wanted.media_type
    row.expected_sha256 = wanted.sha256
    row.storage_region = dataset.storage_region.value if dataset.storage_region is not None else None
    row.storage_key = wanted.key
    row.storage_session = session.to_dict()
    row.parts_done = []
    row.status = UploadStatus.UPLOADING
    row.sha256 = None
    row.error = ""
    row.created_by_id = user.id if user else None
    row.created_at = row.updated_at = now
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


def _open_upload(uow: UnitOfWork, row: FileUpload) -> tuple[DatasetVersion, storage.UploadSession, storage.Storage]:
    """The draft version, storage session and backend of an upload still taking bytes; else a conflict."""
    if row.status is not UploadStatus.UPLOADING:
        raise Conflict(
            message=f"The upload of {row.path} is {row.status.value}; start it again.",
            code=DeliveryErrorCode.UPLOAD_CLOSED,
        )
    dataset, version = _context(uow, row)
    _require_draft(version)
    return version, _storage_session(row), dataset_storage(uow, dataset)


def upload_links(uow: UnitOfWork, row: FileUpload, part_numbers: list[int] | None = None) -> dict[int, str]:
    """Presigned PUT links: ``{0: url}`` for a single-PUT upload, else ``{part number: url}`` for each part asked."""
    _version, session, store = _open_upload(uow, row)
    lifetime = seconds_setting(uow, "UPLOAD_LINK_SECONDS", 3600)
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


def _assembled_parts(uow: UnitOfWork, row: FileUpload, session: storage.UploadSession) -> list[storage.UploadedPart]:
    """Every part of a multipart upload as storage holds it; :class:`Conflict` naming the missing ones."""
    if not session.multipart:
        return []
    parts = upload_progress(uow, row)
    missing = sorted(set(range(1, session.part_count + 1)) - {p.part_number for p in parts})
    if missing:
        shown = ", ".join(map(str, missing[:10])) + (" …" if len(missing) > 10 else "")
        raise Conflict(
            message=f"{row.path}: {len(missing)} of {session.part_count} parts are not uploaded yet ({shown}).",
            code=DeliveryErrorCode.UPLOAD_INCOMPLETE,
        )
    return parts


def complete_upload(uow: UnitOfWork, row: FileUpload) -> FileUpload:
    """Assemble the upload, check its size, then check its SHA-256 against every promise and put it in the
    manifest.

    Returns the row: ``verified`` (the file is now in the version's manifest with its storage key) or ``failed``
    with the reason in ``error`` (the stored bytes are deleted after commit; the caller commits so the failure is
    recorded). When storage cannot tell the SHA-256 without reading the whole object back (S3), the row is
    ``verifying`` instead and a :data:`~marketplace.jobs.models.JobKind.VERIFY_UPLOAD` job, committed with it,
    computes the hash and ends it ``verified`` or ``failed`` (:func:`verify_upload`): this request never reads
    the object. A wrong size fails at once either way. Missing parts raise :class:`Conflict` and leave the upload
    open, so it can still be resumed. Completing an upload that is already verified or verifying changes nothing.
    """
    from marketplace.jobs.models import JobKind
    from marketplace.jobs.queue import enqueue

    if row.status in (UploadStatus.VERIFIED, UploadStatus.VERIFYING):
        return row
    version, session, store = _open_upload(uow, row)
    parts = _assembled_parts(uow, row, session)
    try:
        info = store.complete_upload(session, parts, compute_sha256=False)
    except storage.UploadError as error:
        return _fail(uow, store, row, f"{row.path}: {error}", delete=False)
    except storage.ObjectNotFound:
        return _fail(uow, store, row, f"{row.path}: nothing was uploaded.", delete=False)
    except storage.StorageError as error:
        raise domain_error(error) from error
    if info.size != row.size_bytes:
        return _fail(uow, store, row, f"{row.path}: stored {info.size} bytes, expected {row.size_bytes}.", delete=True)
    now = uow.now()
    row.parts_done = [p.part_number for p in parts]
    row.completed_at = now
    row.updated_at = now
    if info.sha256 is not None:
        return _accept(uow, store, row, version, info.size, info.sha256)
    row.status = UploadStatus.VERIFYING
    row.error = ""
    uow.session.add(row)
    uow.session.flush()
    # ``completed_at`` tells this completion from a later one of the same row (removed, uploaded again).
    enqueue(uow, JobKind.VERIFY_UPLOAD, {"upload_id": row.id, "completed_at": now.isoformat()})
    return row


def _accept(
    uow: UnitOfWork, store: storage.Storage, row: FileUpload, version: DatasetVersion, size: int, sha256: str
) -> FileUpload:
    """Check the stored bytes' SHA-256 against the uploader's and the declared manifest's; then ``verified`` with
    the file in the version's manifest, or ``failed`` with the reason (the bytes deleted after commit)."""
    if row.expected_sha256 and sha256 != row.expected_sha256:
        message = (
            f"{row.path}: the file's SHA-256 differs from the one computed before the upload "
            f"(stored {sha256}, expected {row.expected_sha256})."
        )
        return _fail(uow, store, row, message, delete=True)
    declared = _declared_file(uow.session, version, row.path)
    if declared is not None and declared.storage_key is None and declared.sha256 != sha256:
        message = (
            f"{row.path}: the file's SHA-256 differs from the manifest "
            f"(the file's is {sha256}, the manifest declares {declared.sha256})."
        )
        return _fail(uow, store, row, message, delete=True)

    now = uow.now()
    row.status = UploadStatus.VERIFIED
    row.sha256 = sha256
    row.error = ""
    row.updated_at = now
    uow.session.add(row)
    listed = declared or DatasetFile(version_id=version.id, path=row.path, size_bytes=0, sha256="", media_type="")  # type: ignore[arg-type]
    listed.size_bytes = size
    listed.sha256 = sha256
    listed.media_type = row.media_type
    listed.storage_key = row.storage_key
    uow.session.add(listed)
    uow.session.flush()
    _refresh_manifest(uow.session, version)
    return row


def _still_verifying(uow: UnitOfWork, upload_id: int, completed_at: str, *, lock: bool) -> FileUpload | None:
    """The upload if it is still waiting for this very verification (not removed, restarted or done)."""
    query = select(FileUpload).where(FileUpload.id == upload_id).execution_options(populate_existing=True)
    row = uow.session.exec(query.with_for_update() if lock else query).first()
    if row is None or row.status is not UploadStatus.VERIFYING or row.completed_at is None:
        return None
    return row if row.completed_at == datetime.fromisoformat(completed_at) else None


def verify_upload(uow: UnitOfWork, upload_id: int, completed_at: str) -> FileUpload | None:
    """The verification job of an upload left ``verifying`` by :func:`complete_upload`: hash the stored object
    (reading it once; storage records the hash) and finish exactly as :func:`complete_upload` would have.

    Idempotent: an upload that is no longer waiting for this verification (already verified or failed, removed,
    started again) is left alone and ``None`` returned. A storage error (storage unreachable) is raised, so the
    job is retried; an object that vanished fails the upload. No transaction is open while the object is read;
    the row is locked only once the hash is known, so a long hash never blocks the provider's pages.
    """
    row = _still_verifying(uow, upload_id, completed_at, lock=False)
    if row is None:
        return None
    dataset, _version = _context(uow, row)
    store, key = dataset_storage(uow, dataset), row.storage_key
    # Nothing is written yet: end the read's transaction, so none is held (nor, on SQLite, the database's write
    # lock) while a large object is read back, which may take minutes.
    uow.session.rollback()
    try:
        info: storage.ObjectInfo | None = store.ensure_sha256(key)
    except storage.ObjectNotFound:
        info = None
    row = _still_verifying(uow, upload_id, completed_at, lock=True)
    if row is None:
        return None
    _dataset, version = _context(uow, row)
    if info is None:
        return _fail(uow, store, row, f"{row.path}: the stored file disappeared before it was verified.", delete=False)
    if info.size != row.size_bytes:
        return _fail(uow, store, row, f"{row.path}: stored {info.size} bytes, expected {row.size_bytes}.", delete=True)
    return _accept(uow, store, row, version, info.size, info.sha256 or "")


def verification_given_up(uow: UnitOfWork, upload_id: int, completed_at: str, reason: str) -> None:
    """Every attempt of the verification job failed (storage unreachable): the upload ends ``failed`` saying so,
    rather than ``verifying`` for ever; the provider uploads the file again."""
    row = _still_verifying(uow, upload_id, completed_at, lock=True)
    if row is None:
        return
    dataset, _version = _context(uow, row)
    message = f"{row.path}: the file could not be verified ({reason}); upload it again."
    _fail(uow, dataset_storage(uow, dataset), row, message, delete=False)


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


def _upload_state(upload: FileUpload) -> str:
    if upload.status is UploadStatus.VERIFYING:
        return "still being verified (its SHA-256 is being computed)"
    return f"upload {upload.status.value}"


def deliverability_problems(session: Session, version: DatasetVersion, *, allow_declared: bool) -> list[FieldProblem]:
    """Why the version's files cannot be delivered: each file not uploaded, still uploading, still being verified,
    failed or unverified.

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
            state = _upload_state(upload) if upload is not None else "not uploaded"
            problems.append(FieldProblem("files", state, file.path))
        elif (
            upload.status is not UploadStatus.VERIFIED
            or upload.sha256 != file.sha256
            or upload.size_bytes != file.size_bytes
            or upload.storage_key != file.storage_key
        ):
            problems.append(FieldProblem("files", f"{_upload_state(upload)}, not verified", file.path))
    listed = {f.path for f in files}
    for path, upload in sorted(uploads.items()):
        if path not in listed:
            problems.append(FieldProblem("files", _upload_state(upload), path))
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
