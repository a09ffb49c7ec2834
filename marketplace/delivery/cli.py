"""``marketplace upload DIR --dataset SLUG --version X``: upload a folder as a draft version's files.

It drives the same services as the browser: start (or resume) an upload session per file, PUT the missing parts
to their presigned links, then complete, which checks size and SHA-256 server-side and adds the file to the
version's manifest. On S3 storage the SHA-256 is computed by a background job after the completion: the command
waits until every file is verified or failed. Each step commits on its own, so an interrupted run resumes when
started again.
"""

from __future__ import annotations

import hashlib
import io
import mimetypes
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlmodel import select
from werkzeug.test import Client

from marketplace.accounts.models import User
from marketplace.catalog import services as catalog
from marketplace.catalog import vocab
from marketplace.db import Database, ServiceContext, UnitOfWork, unit_of_work
from marketplace.delivery import services as svc
from marketplace.delivery.models import UploadStatus
from marketplace.errors import DomainError

_LINK_BATCH = 50
_CHUNK = 1024 * 1024
#: How often the command asks whether the server has verified the files it checks in the background.
VERIFY_POLL_SECONDS = 2.0
#: After this long without a verdict, the command says what it is waiting for.
VERIFY_HINT_SECONDS = 60.0


class _Slice(io.RawIOBase):
    """``length`` bytes of ``file`` from ``start``, read in chunks (a part's request body)."""

    def __init__(self, file: BinaryIO, start: int, length: int, on_read: Any = None) -> None:
        super().__init__()
        file.seek(start)
        self._file = file
        self._left = length
        self._on_read = on_read

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._left <= 0:
            return 0
        view = memoryview(buffer).cast("B")
        data = self._file.read(min(len(view), self._left, _CHUNK))
        view[: len(data)] = data
        self._left -= len(data)
        if self._on_read is not None:
            self._on_read(len(data))
        return len(data)


def _uow() -> Any:
    database: Database = current_app.extensions["marketplace.db"]
    context: ServiceContext = current_app.extensions["marketplace.context"]
    return unit_of_work(database, context)


def put_bytes(url: str, body: BinaryIO, length: int, headers: dict[str, str]) -> None:
    """PUT ``length`` bytes to a presigned link: in process for this site's own local links, else over HTTP."""
    if not urlsplit(url).scheme:
        # One part at a time in memory (parts are at most STORAGE_PART_SIZE, 16 MiB by default).
        data = b"".join(iter(lambda: body.read(_CHUNK), b""))
        response = Client(current_app).put(url, data=data, headers=headers)
        if response.status_code >= 300:
            raise click.ClickException(f"storage refused the upload ({response.status}): {response.get_data()[:200]!r}")
        return
    request = urllib.request.Request(  # noqa: S310 - the URL comes from our own storage backend
        url, data=body, method="PUT", headers={**headers, "Content-Length": str(length)}
    )
    try:
        with urllib.request.urlopen(request, timeout=300) as response:  # noqa: S310
            response.read()
    except urllib.error.HTTPError as error:
        raise click.ClickException(f"storage refused the upload ({error.code}): {error.read()[:200]!r}") from error
    except OSError as error:
        raise click.ClickException(f"could not reach storage: {error}") from error


def _files_of(directory: Path) -> list[tuple[Path, str]]:
    found = []
    for path in sorted(directory.rglob("*")):
        if path.is_symlink():
            click.echo(f"skipping symbolic link {path}", err=True)
            continue
        if path.is_file():
            found.append((path, path.relative_to(directory).as_posix()))
    return found


def _media_type(path: Path) -> str:
    guessed, _encoding = mimetypes.guess_type(path.name)
    try:
        return vocab.media_type(guessed) if guessed else svc.DEFAULT_MEDIA_TYPE
    except ValueError:
        return svc.DEFAULT_MEDIA_TYPE


def _sha256(path: Path, bar: Any) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            bar.update(len(chunk))
    return digest.hexdigest()


def _context(uow: UnitOfWork, dataset_slug: str, label: str, email: str | None) -> tuple[Any, Any, User | None]:
    dataset = catalog.get_dataset(uow.session, dataset_slug)
    version = catalog.get_any_version(uow.session, dataset, label)
    user = None
    if email is not None:
        user = uow.session.exec(select(User).where(User.email == email.strip().lower())).first()
        if user is None:
            raise click.ClickException(f"no account with the e-mail address {email}")
    return dataset, version, user


def _upload_file(path: Path, rel: str, sha256: str | None, args: dict[str, Any], bar: Any) -> int:
    """Upload one file and complete it (verified, failed, or verifying on the server); returns its upload id."""
    operator = args["email"] is None
    size = path.stat().st_size
    with _uow() as uow:
        dataset, version, user = _context(uow, args["dataset"], args["version"], args["email"])
        row = svc.start_upload(
            uow, user, dataset, version, path=rel, size=size, media_type=_media_type(path), sha256=sha256,
            operator=operator,
        )  # fmt: skip
        assert row.id is not None
        upload_id: int = row.id
        session = dict(row.storage_session)
        done = {p.part_number for p in svc.upload_progress(uow, row)}
    multipart = session.get("upload_id") is not None
    part_size = int(session["part_size"])
    headers = dict(session.get("headers") or [])
    with path.open("rb") as handle:
        if not multipart:
            with _uow() as uow:
                url = svc.upload_links(uow, svc.get_upload(uow, None, upload_id, operator=True))[0]
            put_bytes(url, _Slice(handle, 0, size, bar.update), size, headers)  # type: ignore[arg-type]
        else:
            bar.update(sum(min(size, n * part_size) - (n - 1) * part_size for n in done))
            missing = [n for n in range(1, -(-size // part_size) + 1) if n not in done]
            for start in range(0, len(missing), _LINK_BATCH):
                batch = missing[start : start + _LINK_BATCH]
                with _uow() as uow:
                    urls = svc.upload_links(uow, svc.get_upload(uow, None, upload_id, operator=True), batch)
                for number in batch:
                    offset = (number - 1) * part_size
                    length = min(size, offset + part_size) - offset
                    put_bytes(urls[number], _Slice(handle, offset, length, bar.update), length, {})  # type: ignore[arg-type]
    with _uow() as uow:
        svc.complete_upload(uow, svc.get_upload(uow, None, upload_id, operator=True))
    return upload_id


def _outcome(upload_id: int) -> tuple[UploadStatus, str]:
    with _uow() as uow:
        row = svc.get_upload(uow, None, upload_id, operator=True)
        return row.status, row.error or (row.sha256 or "")


def _await_verification(uploads: dict[str, int]) -> dict[str, tuple[bool, str]]:
    """Each file's outcome (verified?, SHA-256 or reason), waiting for those the server verifies in the
    background (S3 storage: ``verifying`` until a job has computed the SHA-256)."""
    results: dict[str, tuple[bool, str]] = {}
    waiting = dict(uploads)
    waited = 0.0
    while True:
        for rel, upload_id in list(waiting.items()):
            status, detail = _outcome(upload_id)
            if status is not UploadStatus.VERIFYING:
                results[rel] = (status is UploadStatus.VERIFIED, detail)
                del waiting[rel]
        if not waiting:
            return {rel: results[rel] for rel in uploads}
        if waited == 0:
            click.echo(
                f"verifying {len(waiting)} file(s) on the server (it computes their SHA-256 in the background)…",
                err=True,
            )
        elif waited < VERIFY_HINT_SECONDS <= waited + VERIFY_POLL_SECONDS:
            click.echo(
                f"still verifying {', '.join(sorted(waiting)[:5])}: large files take a while "
                "(is `marketplace worker` running?); waiting…",
                err=True,
            )
        time.sleep(VERIFY_POLL_SECONDS)
        waited += VERIFY_POLL_SECONDS


@click.command("upload")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--dataset", "dataset_slug", required=True, help="Short name (slug) of the dataset.")
@click.option("--version", "version_label", required=True, help="The draft version the files belong to.")
@click.option("--user", "email", default=None, help="Upload as this member of the provider (default: as operator).")
@click.option("--no-local-hash", is_flag=True, help="Skip hashing files here first (the server hashes them anyway).")
@with_appcontext
def upload_command(
    directory: Path, dataset_slug: str, version_label: str, email: str | None, no_local_hash: bool
) -> None:
    """Upload every file under DIRECTORY as the files of a draft version (paths relative to DIRECTORY).

    Each file is hashed here, uploaded in parts, then verified by the server (size and SHA-256; on S3 the command
    waits while the server computes the hash in the background); an interrupted run resumes where it stopped when
    run again. Exits 1 if any file fails verification.
    """
    files = _files_of(directory)
    if not files:
        raise click.ClickException(f"{directory} holds no file")
    args = {"dataset": dataset_slug, "version": version_label, "email": email}
    try:
        with _uow() as uow:
            dataset, version, user = _context(uow, dataset_slug, version_label, email)
            if user is not None:
                from marketplace.permissions import Action, require

                require(uow.session, user, Action.DATASET_EDIT, dataset)
        total = sum(path.stat().st_size for path, _rel in files)
        hashes: dict[str, str | None] = {rel: None for _p, rel in files}
        if not no_local_hash:
            with click.progressbar(length=total, label="hashing  ", file=sys.stderr) as bar:
                for path, rel in files:
                    hashes[rel] = _sha256(path, bar)
        uploads: dict[str, int] = {}
        with click.progressbar(length=total, label="uploading", file=sys.stderr) as bar:
            for path, rel in files:
                uploads[rel] = _upload_file(path, rel, hashes[rel], args, bar)
        results = _await_verification(uploads)
    except DomainError as error:
        raise click.ClickException(error.message) from error
    failed = 0
    for rel, (ok, detail) in results.items():
        click.echo(f"{'verified' if ok else 'FAILED  '} {rel}  {detail}")
        failed += 0 if ok else 1
    with _uow() as uow:
        dataset, version, _user = _context(uow, dataset_slug, version_label, None)
        click.echo(
            f"version {version.version}: {version.file_count} files, {version.total_bytes} bytes, "
            f"manifest SHA-256 {version.manifest_digest}"
        )
    if failed:
        click.echo(f"{failed} file(s) failed verification", err=True)
        sys.exit(1)
