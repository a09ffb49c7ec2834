"""The embedded default backend: objects as files under one root directory, links signed with HMAC-SHA256.

Layout under ``root``::

    objects/<key>          the bytes of each object (a key's segments are directories)
    meta/<key>             JSON: size, mtime, SHA-256 and content type recorded when the object was written
    uploads/<upload id>/   multipart staging: manifest.json and one file per part, named <number>.<etag>
    tmp/                   files being written; renamed into place only once complete

Links point at the WSGI application of :mod:`storage.local_server` (mounted at ``base_url``) and look like
``{base_url}/o/<key>?op=get&exp=<unix time>&fn=...&sig=...``: the signature covers the HTTP method, the key
and every query parameter, so none can be changed without the server refusing the link.
"""

from __future__ import annotations

import builtins
import errno
import io
import json
import os
import re
import secrets
import shutil
import stat as stat_module
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO, Final

from storage.base import (
    DEFAULT_EXPIRY,
    DEFAULT_PART_SIZE,
    ObjectInfo,
    PartSpec,
    Storage,
    UploadedPart,
    UploadSession,
    check_byte_range,
    choose_part_size,
    normalise_parts,
)
from storage.errors import (
    InvalidKey,
    InvalidRange,
    InvalidReference,
    ObjectNotFound,
    StorageConfigError,
    StorageError,
    UploadError,
)
from storage.keys import (
    validate_content_type,
    validate_filename,
    validate_key,
    validate_prefix,
)
from storage.local_files import RangeReader, concatenate, part_files, spool
from storage.local_links import LinkSigner, SignedLink, validate_reference

__all__ = ["LocalStorage", "SignedLink"]

_UPLOAD_ID = re.compile(r"[0-9a-f]{32}")
_OPEN_FLAGS: Final = (
    os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)
)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class LocalStorage(Storage):
    """Objects stored as files under ``root``, served by :func:`storage.local_server.make_wsgi_app`.

    ``base_url`` is where that WSGI app is mounted, as browsers should reach it (absolute, or a path such as
    ``/storage`` for same-origin links); ``secret`` (at least 16 bytes) signs the links. Every path is built
    from a validated key and checked to stay inside ``root`` without passing through a symbolic link.
    """

    def __init__(
        self,
        root: Path | str,
        base_url: str,
        secret: bytes,
        *,
        part_size: int = DEFAULT_PART_SIZE,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        if not isinstance(secret, bytes) or len(secret) < 16:
            raise StorageConfigError("LocalStorage needs a signing secret of at least 16 bytes.")
        if not base_url or any(c in base_url for c in "?#\r\n"):
            raise StorageConfigError(f"LocalStorage base_url {base_url!r} must be a URL or path without query.")
        self.root = Path(root).resolve()
        self.base_url = base_url.rstrip("/")
        self._signer = LinkSigner(secret, clock)
        self._default_part_size = part_size
        self._clock = clock
        self._objects = self.root / "objects"
        self._meta = self.root / "meta"
        self._uploads = self.root / "uploads"
        self._tmp = self.root / "tmp"
        try:
            for directory in (self._objects, self._meta, self._uploads, self._tmp):
                directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageConfigError(f"Cannot create the storage directories under {self.root}: {exc}") from exc

    def __repr__(self) -> str:
        return f"LocalStorage(root={str(self.root)!r}, base_url={self.base_url!r})"

    # -- paths -----------------------------------------------------------------------------------------

    def _path_in(self, base: Path, key: str) -> Path:
        """Return ``base/key`` after checking it stays under ``base`` and crosses no symbolic link."""
        candidate = base.joinpath(*key.split("/"))
        real = Path(os.path.realpath(candidate))
        if real != candidate or not real.is_relative_to(base):
            raise InvalidKey(
                f"Storage key {key!r} resolves through a symbolic link; links inside the storage root "
                "are never followed."
            )
        return candidate

    def object_path(self, key: str) -> Path:
        """Return the absolute path of the file holding ``key`` (validated; the file may not exist).

        For ``X-Accel-Redirect`` hand-off and operational tooling; callers must not write there directly.
        """
        return self._path_in(self._objects, validate_key(key))

    def _make_parents(self, base: Path, key: str) -> None:
        parent = self._path_in(base, key).parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise InvalidKey(f"Cannot store {key!r}: one of its parent segments is already an object.") from None
        # A symlink planted between validation and mkdir would show up here.
        self._path_in(base, key)

    def _prune_parents(self, base: Path, path: Path) -> None:
        """Remove directories left empty above ``path``, up to (not including) ``base``."""
        parent = path.parent
        while parent != base and parent.is_relative_to(base):
            try:
                parent.rmdir()
            except OSError:
                return
            parent = parent.parent

    # -- reading ----------------------------------------------------------------------------------------

    def _open_fd(self, key: str) -> tuple[int, os.stat_result]:
        path = self.object_path(key)
        try:
            fd = os.open(path, _OPEN_FLAGS)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise ObjectNotFound(key) from None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise InvalidKey(f"Storage key {key!r} is a symbolic link; links are never followed.") from None
            raise StorageError(f"Cannot open object {key!r}: {exc.strerror}") from exc
        st = os.fstat(fd)
        if not stat_module.S_ISREG(st.st_mode):
            os.close(fd)
            raise ObjectNotFound(key)
        return fd, st

    def _read_meta(self, key: str) -> dict[str, Any]:
        try:
            raw = self._path_in(self._meta, key).read_bytes()
            meta = json.loads(raw)
        except (OSError, ValueError, InvalidKey):
            return {}
        return meta if isinstance(meta, dict) else {}

    def _info(self, key: str, st: os.stat_result) -> ObjectInfo:
        meta = self._read_meta(key)
        # Meta describes the file only if it was written for this very file (same size and mtime).
        fresh = meta.get("size") == st.st_size and meta.get("mtime_ns") == st.st_mtime_ns
        sha256 = meta.get("sha256") if fresh and isinstance(meta.get("sha256"), str) else None
        content_type = meta.get("content_type") if fresh and isinstance(meta.get("content_type"), str) else None
        etag = sha256[:32] if sha256 else f"{st.st_mtime_ns:x}-{st.st_size:x}"
        return ObjectInfo(
            key=key,
            size=st.st_size,
            etag=etag,
            content_type=content_type,
            last_modified=datetime.fromtimestamp(st.st_mtime, tz=UTC),
            sha256=sha256,
        )

    def stat(self, key: str) -> ObjectInfo:
        """Return the object's info; ``sha256`` and ``content_type`` are those recorded when it was written."""
        fd, st = self._open_fd(key)
        os.close(fd)
        return self._info(key, st)

    def open_with_info(self, key: str) -> tuple[BinaryIO, ObjectInfo]:
        """Open the object and return the stream with the info of exactly the file that was opened.

        Used by the WSGI server so headers and bytes never describe two different versions of an object.
        """
        fd, st = self._open_fd(key)
        return os.fdopen(fd, "rb"), self._info(key, st)

    def open(self, key: str, *, start: int = 0, end: int | None = None) -> BinaryIO:
        """Open the object (or bytes ``start:end``) for reading; see :meth:`Storage.open`."""
        check_byte_range(start, end)
        file, info = self.open_with_info(key)
        if start == 0 and end is None:
            return file
        if start > info.size:
            file.close()
            raise InvalidRange(f"Range start {start} is beyond the end of {key!r} ({info.size} bytes).")
        stop = info.size if end is None else min(end, info.size)
        file.seek(start)
        return io.BufferedReader(RangeReader(file, stop - start))

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Yield objects whose key starts with ``prefix``, in key order, walking only matching directories."""
        validate_prefix(prefix)
        directory_part = prefix.rpartition("/")[0]
        start = self._objects.joinpath(*directory_part.split("/")) if directory_part else self._objects
        if Path(os.path.realpath(start)) != start:
            return
        yield from self._walk(start, directory_part + "/" if directory_part else "", prefix)

    def _walk(self, directory: Path, key_prefix: str, prefix: str) -> Iterator[ObjectInfo]:
        try:
            with os.scandir(directory) as scan:
                entries = builtins.list(scan)
        except (FileNotFoundError, NotADirectoryError):
            return
        items: builtins.list[tuple[str, os.DirEntry[str], bool]] = []
        for entry in entries:
            if entry.is_symlink():
                continue
            if entry.is_dir(follow_symlinks=False):
                # Sorting "name/" keeps the walk in plain key order ("a.txt" < "a/b" < "a0").
                items.append((entry.name + "/", entry, True))
            elif entry.is_file(follow_symlinks=False):
                items.append((entry.name, entry, False))
        items.sort(key=lambda item: item[0])
        for name, entry, is_dir in items:
            key = key_prefix + name
            if is_dir:
                if key.startswith(prefix) or prefix.startswith(key):
                    yield from self._walk(Path(entry.path), key, prefix)
            elif key.startswith(prefix):
                try:
                    yield self.stat(key)
                except (ObjectNotFound, InvalidKey):
                    continue  # vanished meanwhile, or a stray file whose name is not a valid key

    # -- writing ----------------------------------------------------------------------------------------

    def _install(self, tmp: Path, key: str, sha256: str, content_type: str | None) -> ObjectInfo:
        """Atomically move a spooled file to ``key`` and record its metadata."""
        try:
            destination = self.object_path(key)
            for attempt in range(3):
                self._make_parents(self._objects, key)
                if destination.is_dir() and not destination.is_symlink():
                    raise InvalidKey(f"Cannot store {key!r}: other objects are stored under {key + '/'!r}.")
                try:
                    os.replace(tmp, destination)
                    break
                except FileNotFoundError:
                    if attempt == 2:  # a concurrent delete kept removing the parent directory
                        raise
            st = os.stat(destination, follow_symlinks=False)
            meta = {
                "size": st.st_size,
                "mtime_ns": st.st_mtime_ns,
                "sha256": sha256,
                "content_type": content_type,
            }
            self._make_parents(self._meta, key)
            meta_fd, meta_tmp = tempfile.mkstemp(dir=self._tmp, prefix=".meta-")
            with os.fdopen(meta_fd, "w", encoding="utf-8") as out:
                json.dump(meta, out)
            os.replace(meta_tmp, self._path_in(self._meta, key))
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise StorageError(f"Could not store {key!r} in local storage: {exc.strerror or exc}") from exc
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return self._info(key, st)

    def put(self, key: str, stream: BinaryIO, *, content_type: str | None = None) -> ObjectInfo:
        """Stream ``stream`` to a temporary file, then atomically rename it to ``key``; see :meth:`Storage.put`."""
        validate_key(key)
        content_type = validate_content_type(content_type)
        self.object_path(key)
        tmp, _size, sha256 = spool(stream, self._tmp)
        return self._install(tmp, key, sha256, content_type)

    def put_exact(self, key: str, stream: BinaryIO, length: int, *, content_type: str | None = None) -> ObjectInfo:
        """Like :meth:`put` but read exactly ``length`` bytes (an HTTP body), refusing a short body."""
        validate_key(key)
        content_type = validate_content_type(content_type)
        self.object_path(key)
        tmp, _size, sha256 = spool(stream, self._tmp, exact=length)
        return self._install(tmp, key, sha256, content_type)

    def delete(self, key: str) -> None:
        """Remove the object and its metadata (missing is fine), then any directories left empty."""
        for base in (self._objects, self._meta):
            path = self._path_in(base, validate_key(key))
            try:
                path.unlink()
            except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
                continue
            except OSError as exc:
                raise StorageError(f"Could not delete {key!r}: {exc.strerror or exc}") from exc
            self._prune_parents(base, path)

    def ensure_sha256(self, key: str) -> ObjectInfo:
        """Return the recorded SHA-256, computing and recording it for files written outside this class."""
        info = self.stat(key)
        if info.sha256 is not None:
            return info
        with self.open(key) as stream:
            tmp, _size, sha256 = spool(stream, self._tmp)
        return self._install(tmp, key, sha256, info.content_type)

    # -- links -------------------------------------------------------------------------------------------

    def _link(self, op: str, key: str, expires_in: timedelta, extra: Mapping[str, str | None]) -> str:
        return self._signer.sign(self.base_url, op, key, expires_in, extra)

    def verify_link(self, method: str, key: str, query: str) -> SignedLink:
        """Check a link's signature and expiry and return what it grants; see :meth:`LinkSigner.verify`."""
        return self._signer.verify(method, key, query)

    def presign_download(
        self,
        key: str,
        *,
        expires_in: timedelta = DEFAULT_EXPIRY,
        filename: str | None = None,
        content_type: str | None = None,
        reference: str | None = None,
    ) -> str:
        """Return a signed GET link served by the WSGI app; see :meth:`Storage.presign_download`.

        ``reference`` travels inside the signed part of the link: the WSGI app asks its reference check (see
        :func:`storage.local_server.make_wsgi_app`) whether it still stands before serving the file.
        """
        validate_key(key)
        try:
            ref = validate_reference(reference)
        except ValueError as exc:
            raise InvalidReference(str(exc)) from None
        extra = {
            "fn": None if filename is None else validate_filename(filename),
            "ct": validate_content_type(content_type),
            "ref": ref,
        }
        return self._link("get", key, expires_in, extra)

    # -- uploads -----------------------------------------------------------------------------------------

    def _upload_dir(self, session: UploadSession) -> Path:
        if session.upload_id is None or not _UPLOAD_ID.fullmatch(session.upload_id):
            raise UploadError(f"Not a multipart upload of this backend: {session.upload_id!r}.")
        return self._uploads / session.upload_id

    def _manifest(self, session: UploadSession) -> Path:
        """Return the upload's staging directory after checking the session matches what was created."""
        directory = self._upload_dir(session)
        try:
            manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise UploadError(
                f"Upload {session.upload_id} of {session.key!r} does not exist (completed or aborted)."
            ) from None
        planned = (manifest.get("key"), manifest.get("size"), manifest.get("part_size"))
        if planned != (session.key, session.size, session.part_size):
            raise UploadError(f"Upload {session.upload_id} does not match the session given for {session.key!r}.")
        return directory

    def create_upload(
        self, key: str, *, size: int, content_type: str | None = None, part_size: int | None = None
    ) -> UploadSession:
        """Plan a single-PUT or multipart upload; a multipart one gets a staging directory."""
        validate_key(key)
        self.object_path(key)
        content_type = validate_content_type(content_type)
        chosen = choose_part_size(size, part_size, default=self._default_part_size)
        headers = (("Content-Type", content_type),) if content_type else ()
        if size <= chosen:
            return UploadSession(key=key, size=size, part_size=chosen, content_type=content_type, headers=headers)
        upload_id = secrets.token_hex(16)
        directory = self._uploads / upload_id
        try:
            directory.mkdir()
            manifest = {
                "key": key,
                "size": size,
                "part_size": chosen,
                "content_type": content_type,
                "created_at": self._clock().isoformat(),
            }
            (directory / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        except OSError as exc:
            shutil.rmtree(directory, ignore_errors=True)
            raise StorageError(f"Could not create the upload of {key!r}: {exc.strerror or exc}") from exc
        return UploadSession(
            key=key, size=size, part_size=chosen, content_type=content_type, upload_id=upload_id, headers=headers
        )

    def presign_upload(self, session: UploadSession, *, expires_in: timedelta = DEFAULT_EXPIRY) -> str:
        """Return a signed PUT link for the whole file of a single-PUT session (exactly ``session.size`` bytes)."""
        if session.multipart:
            raise UploadError("This is a multipart upload: presign each part with presign_upload_part().")
        validate_key(session.key)
        extra = {"ct": session.content_type, "len": str(session.size)}
        return self._link("put", session.key, expires_in, extra)

    def presign_upload_part(
        self, session: UploadSession, part_number: int, *, expires_in: timedelta = DEFAULT_EXPIRY
    ) -> str:
        """Return a signed PUT link for one part, bound to the part's exact length."""
        if not session.multipart:
            raise UploadError("This is a single-PUT upload: use presign_upload().")
        self._upload_dir(session)
        validate_key(session.key)
        length = session.part_length(part_number)
        extra = {"uid": session.upload_id, "pn": str(part_number), "len": str(length)}
        return self._link("part", session.key, expires_in, extra)

    def write_part(self, session: UploadSession, part_number: int, stream: BinaryIO) -> UploadedPart:
        """Store part ``part_number`` (exactly ``session.part_length(n)`` bytes read from ``stream``).

        Re-sending a part replaces it. Raises :class:`~storage.errors.UploadError` if the upload is unknown
        or the body is short. Called by the WSGI server for a verified part link.
        """
        directory = self._manifest(session)
        length = session.part_length(part_number)
        tmp, size, sha256 = spool(stream, directory, exact=length)
        etag = sha256[:32]
        final = directory / f"{part_number:05d}.{etag}"
        try:
            os.replace(tmp, final)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise UploadError(f"Upload {session.upload_id} was completed or aborted meanwhile.") from exc
        for name in os.listdir(directory):
            if name.startswith(f"{part_number:05d}.") and name != final.name:
                (directory / name).unlink(missing_ok=True)
        return UploadedPart(part_number=part_number, etag=etag, size=size)

    def session_for_link(self, link: SignedLink) -> UploadSession:
        """Rebuild the upload session a verified part link belongs to, from the upload's manifest."""
        if link.upload_id is None or not _UPLOAD_ID.fullmatch(link.upload_id):
            raise UploadError("The link names no valid upload.")
        try:
            manifest = json.loads((self._uploads / link.upload_id / "manifest.json").read_text(encoding="utf-8"))
            session = UploadSession(
                key=str(manifest["key"]),
                size=int(manifest["size"]),
                part_size=int(manifest["part_size"]),
                content_type=manifest.get("content_type"),
                upload_id=link.upload_id,
            )
        except (OSError, ValueError, KeyError, TypeError):
            raise UploadError(f"Upload {link.upload_id} does not exist (completed or aborted).") from None
        if session.key != link.key:
            raise UploadError("The link's key does not match its upload.")
        return session

    def list_uploaded_parts(self, session: UploadSession) -> builtins.list[UploadedPart]:
        """Return the parts already received, in part-number order (empty for single-PUT sessions)."""
        if not session.multipart:
            return []
        directory = self._manifest(session)
        result = []
        for number, (etag, path) in sorted(part_files(directory).items()):
            try:
                size = path.stat().st_size
            except FileNotFoundError:
                continue
            result.append(UploadedPart(part_number=number, etag=etag, size=size))
        return result

    def complete_upload(
        self,
        session: UploadSession,
        parts: Sequence[PartSpec | UploadedPart] = (),
        *,
        compute_sha256: bool = True,
    ) -> ObjectInfo:
        """Concatenate the parts (streamed) into the object, or verify a single PUT; SHA-256 is always known."""
        if not session.multipart:
            if parts:
                raise UploadError("A single-PUT upload has no parts to complete.")
            try:
                info = self.stat(session.key)
            except ObjectNotFound:
                raise UploadError(f"Nothing was uploaded to {session.key!r}.") from None
            if info.size != session.size:
                self.delete(session.key)
                raise UploadError(f"Uploaded {info.size} bytes to {session.key!r}, expected {session.size}.")
            return info
        directory = self._manifest(session)
        wanted = normalise_parts(session, parts)
        files = part_files(directory)
        sources = []
        for number, etag in wanted:
            if number not in files:
                raise UploadError(f"Part {number} of {session.key!r} was never uploaded.")
            held_etag, path = files[number]
            if held_etag != etag:
                raise UploadError(f"Part {number} of {session.key!r}: ETag {etag!r} does not match the stored part.")
            if path.stat().st_size != session.part_length(number):
                raise UploadError(f"Part {number} of {session.key!r} has the wrong size.")
            sources.append(path)
        tmp, size, sha256 = concatenate(sources, self._tmp)
        if size != session.size:
            tmp.unlink(missing_ok=True)
            raise UploadError(f"Parts add up to {size} bytes, expected {session.size}.")
        info = self._install(tmp, session.key, sha256, session.content_type)
        shutil.rmtree(directory, ignore_errors=True)
        return info

    def abort_upload(self, session: UploadSession) -> None:
        """Delete the staging directory and its parts (no-op if already gone or single-PUT)."""
        if not session.multipart:
            return
        shutil.rmtree(self._upload_dir(session), ignore_errors=True)

    def purge_stale_uploads(self, older_than: timedelta = timedelta(days=7)) -> int:
        """Delete multipart uploads untouched for more than ``older_than`` (what an S3 lifecycle rule does).

        Also removes leftover temporary files. Returns how many uploads were removed; meant for a periodic job.
        """
        cutoff = (self._clock() - older_than).timestamp()
        removed = 0
        for entry in os.scandir(self._uploads):
            if _UPLOAD_ID.fullmatch(entry.name) and entry.stat(follow_symlinks=False).st_mtime < cutoff:
                shutil.rmtree(entry.path, ignore_errors=True)
                removed += 1
        for entry in os.scandir(self._tmp):
            if entry.stat(follow_symlinks=False).st_mtime < cutoff:
                Path(entry.path).unlink(missing_ok=True)
        return removed
