"""The storage interface: one contract that the local file system and S3 backends both keep.

Callers hold a :class:`Storage` and never know which backend is behind it. Objects are addressed by keys
(see :func:`storage.keys.validate_key`); browsers never stream bytes through the web process: they get
short-lived presigned links for downloads (:meth:`Storage.presign_download`) and for uploads
(:meth:`Storage.create_upload` and friends, single PUT or multipart).
"""

from __future__ import annotations

import abc
import builtins
import hashlib
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, BinaryIO

from storage.errors import InvalidRange, ObjectNotFound, UploadError
from storage.keys import (
    DEFAULT_EXPIRY,
    MAX_EXPIRY,
    content_disposition,
    expiry_seconds,
    validate_content_type,
    validate_filename,
    validate_key,
    validate_prefix,
)

__all__ = [
    "DEFAULT_EXPIRY",
    "DEFAULT_PART_SIZE",
    "MAX_EXPIRY",
    "MAX_OBJECT_SIZE",
    "MAX_PARTS",
    "MAX_PART_SIZE",
    "MIN_PART_SIZE",
    "ObjectInfo",
    "PartSpec",
    "Storage",
    "UploadSession",
    "UploadedPart",
    "choose_part_size",
    "content_disposition",
    "expiry_seconds",
    "validate_content_type",
    "validate_filename",
    "validate_key",
    "validate_prefix",
]

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB
TiB = 1024 * GiB

#: S3's smallest part (every part but the last must be at least this big).
MIN_PART_SIZE = 5 * MiB
#: S3's biggest part.
MAX_PART_SIZE = 5 * GiB
#: S3's most parts in one multipart upload.
MAX_PARTS = 10_000
#: S3's biggest object.
MAX_OBJECT_SIZE = 5 * TiB
#: Part size used unless a file needs bigger parts to fit in 10,000; files up to this size use one PUT.
DEFAULT_PART_SIZE = 16 * MiB

#: A part as given to :meth:`Storage.complete_upload`: ``(part_number, etag)`` or an :class:`UploadedPart`.
PartSpec = tuple[int, str]


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """What a backend knows about a stored object.

    ``etag`` is opaque and unquoted; ``last_modified`` is timezone-aware UTC; ``sha256`` is the lowercase hex
    SHA-256 of the whole content when the backend has recorded it (``None`` otherwise, e.g. in listings of
    S3 objects). ``content_type`` may be ``None`` when unknown.
    """

    key: str
    size: int
    etag: str | None = None
    content_type: str | None = None
    last_modified: datetime | None = None
    sha256: str | None = None


@dataclass(frozen=True, slots=True)
class UploadedPart:
    """A part of a multipart upload that the backend holds: its number (1-based), unquoted ETag and size."""

    part_number: int
    etag: str
    size: int


@dataclass(frozen=True, slots=True)
class UploadSession:
    """An upload the browser performs with presigned links; plain data the app can persist and restore.

    ``upload_id`` is ``None`` for a single-PUT upload (:meth:`Storage.presign_upload`) and the backend's
    multipart upload id otherwise (:meth:`Storage.presign_upload_part`). Part ``n`` (1-based) covers bytes
    ``part_range(n)`` of the file. ``headers`` lists headers the client must send with the single PUT
    (e.g. ``Content-Type``; server-side-encryption headers on S3). Use :meth:`to_dict` / :meth:`from_dict`
    to keep a session across requests so a browser can resume after a reload.
    """

    key: str
    size: int
    part_size: int
    content_type: str | None = None
    upload_id: str | None = None
    headers: tuple[tuple[str, str], ...] = ()

    @property
    def multipart(self) -> bool:
        """True when the file is uploaded in parts (``upload_id`` is set)."""
        return self.upload_id is not None

    @property
    def part_count(self) -> int:
        """Number of parts the file is cut into (1 for a single PUT or an empty file)."""
        return max(1, math.ceil(self.size / self.part_size))

    def part_range(self, part_number: int) -> tuple[int, int]:
        """Return ``(start, end)`` byte offsets (end exclusive) of a part; raise UploadError if out of range."""
        self.check_part_number(part_number)
        start = (part_number - 1) * self.part_size
        return start, min(self.size, start + self.part_size)

    def part_length(self, part_number: int) -> int:
        """Return the exact size in bytes part ``part_number`` must have."""
        start, end = self.part_range(part_number)
        return end - start

    def check_part_number(self, part_number: object) -> int:
        """Return ``part_number`` if it is an int in ``1..part_count``, else raise :class:`UploadError`."""
        if isinstance(part_number, bool) or not isinstance(part_number, int):
            raise UploadError(f"Part number must be an integer, got {part_number!r}.")
        if not 1 <= part_number <= self.part_count:
            raise UploadError(f"Part number {part_number} is out of range 1..{self.part_count}.")
        return part_number

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict that :meth:`from_dict` turns back into an equal session."""
        return {
            "key": self.key,
            "size": self.size,
            "part_size": self.part_size,
            "content_type": self.content_type,
            "upload_id": self.upload_id,
            "headers": [list(pair) for pair in self.headers],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> UploadSession:
        """Rebuild a session from :meth:`to_dict` output, validating every field (raises UploadError)."""
        try:
            session = cls(
                key=validate_key(data["key"]),
                size=int(data["size"]),
                part_size=int(data["part_size"]),
                content_type=validate_content_type(data.get("content_type")),
                upload_id=None if data.get("upload_id") is None else str(data["upload_id"]),
                headers=tuple((str(name), str(value)) for name, value in data.get("headers", ())),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise UploadError(f"Malformed upload session: {exc}") from None
        if session.size < 0 or session.part_size <= 0:
            raise UploadError("Malformed upload session: negative size or part size.")
        return session


def choose_part_size(size: int, part_size: int | None = None, *, default: int = DEFAULT_PART_SIZE) -> int:
    """Return the part size for a file of ``size`` bytes, honouring S3's multipart limits.

    With ``part_size=None``: ``default``, grown (in whole MiB) just enough to fit in 10,000 parts. A requested
    ``part_size`` must lie in 5 MiB..5 GiB and cut the file into at most 10,000 parts. Raises
    :class:`UploadError` for a negative size, a file over 5 TiB, or an impossible requested part size.
    """
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise UploadError(f"Upload size must be a non-negative integer, got {size!r}.")
    if size > MAX_OBJECT_SIZE:
        raise UploadError(f"Upload size {size} exceeds the 5 TiB limit of one object.")
    if part_size is None:
        needed = math.ceil(size / MAX_PARTS)
        chosen = max(default, math.ceil(needed / MiB) * MiB)
        return min(max(chosen, MIN_PART_SIZE), MAX_PART_SIZE)
    if isinstance(part_size, bool) or not isinstance(part_size, int):
        raise UploadError(f"Part size must be an integer, got {part_size!r}.")
    if not MIN_PART_SIZE <= part_size <= MAX_PART_SIZE:
        raise UploadError(f"Part size {part_size} is outside 5 MiB..5 GiB.")
    if math.ceil(size / part_size) > MAX_PARTS:
        raise UploadError(f"Part size {part_size} would need more than {MAX_PARTS} parts for {size} bytes.")
    return part_size


def check_byte_range(start: int, end: int | None) -> None:
    """Raise :class:`InvalidRange` unless ``0 <= start`` and ``end`` is ``None`` or ``>= start``."""
    if isinstance(start, bool) or not isinstance(start, int) or start < 0:
        raise InvalidRange(f"Range start must be a non-negative integer, got {start!r}.")
    if end is not None and (isinstance(end, bool) or not isinstance(end, int) or end < start):
        raise InvalidRange(f"Range end must be an integer >= start ({start}), got {end!r}.")


def normalise_etag(etag: str) -> str:
    """Return an ETag without surrounding quotes (and without a weak ``W/`` marker)."""
    etag = etag.strip()
    if etag.startswith("W/"):
        etag = etag[2:]
    return etag.strip('"')


def normalise_parts(session: UploadSession, parts: Sequence[PartSpec | UploadedPart]) -> list[PartSpec]:
    """Return ``parts`` as sorted ``(number, unquoted etag)`` pairs covering every part of ``session``.

    Raises :class:`UploadError` naming the problem: a duplicate, out-of-range or missing part number, or an
    empty ETag. Requiring every part is what makes the completed object exactly the planned size.
    """
    seen: dict[int, str] = {}
    for part in parts:
        if isinstance(part, UploadedPart):
            number, etag = part.part_number, part.etag
        else:
            try:
                number, etag = part
            except (TypeError, ValueError):
                raise UploadError(f"A part must be (part_number, etag), got {part!r}.") from None
        session.check_part_number(number)
        if not isinstance(etag, str) or normalise_etag(etag) == "":
            raise UploadError(f"Part {number} has no ETag.")
        if number in seen:
            raise UploadError(f"Part {number} is listed twice.")
        seen[number] = normalise_etag(etag)
    missing = [n for n in range(1, session.part_count + 1) if n not in seen]
    if missing:
        shown = ", ".join(map(str, missing[:10])) + (" ..." if len(missing) > 10 else "")
        raise UploadError(f"Cannot complete the upload of {session.key!r}: parts missing: {shown}.")
    return sorted(seen.items())


class Storage(abc.ABC):
    """Object storage: the one interface the application codes against.

    Every method validates its key (raising :class:`~storage.errors.InvalidKey`) before touching the store
    and raises only :class:`~storage.errors.StorageError` subclasses. Implementations are safe to share
    between threads.
    """

    # -- objects -------------------------------------------------------------------------------------

    @abc.abstractmethod
    def put(self, key: str, stream: BinaryIO, *, content_type: str | None = None) -> ObjectInfo:
        """Store everything read from ``stream`` under ``key``, replacing any object there.

        The stream is read in chunks (never whole into memory); the returned info carries the size and the
        SHA-256 computed while reading, which the backend also records. Either the whole object is stored or
        nothing is: a failure leaves any previous object in place and no partial one.
        """

    @abc.abstractmethod
    def open(self, key: str, *, start: int = 0, end: int | None = None) -> BinaryIO:
        """Return a readable binary stream of the object, or of bytes ``start`` to ``end`` (exclusive).

        ``end=None`` reads to the end; an ``end`` past the object is clamped; ``start`` equal to the size
        gives an empty stream, beyond it raises :class:`~storage.errors.InvalidRange`. Raises
        :class:`~storage.errors.ObjectNotFound` if there is no object. The caller closes the stream.
        """

    def read_bytes(self, key: str, *, start: int = 0, end: int | None = None) -> bytes:
        """Return the object's bytes (or the range ``start:end``) in memory; for small objects only."""
        with self.open(key, start=start, end=end) as stream:
            return stream.read()

    @abc.abstractmethod
    def stat(self, key: str) -> ObjectInfo:
        """Return size, ETag, content type, last-modified time and (when recorded) SHA-256 of the object.

        Raises :class:`~storage.errors.ObjectNotFound` if there is no object under ``key``.
        """

    def exists(self, key: str) -> bool:
        """Return whether an object is stored under ``key`` (an invalid key raises InvalidKey)."""
        try:
            self.stat(key)
        except ObjectNotFound:
            return False
        return True

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Remove the object under ``key``; deleting a missing object is not an error (idempotent)."""

    @abc.abstractmethod
    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Yield every object whose key starts with ``prefix`` (a plain string prefix), in key order.

        Listing is lazy (paged on S3). Listed infos always carry key, size and last-modified; ``etag``,
        ``content_type`` and ``sha256`` may be ``None`` when the backend does not return them in listings.
        """

    def ensure_sha256(self, key: str) -> ObjectInfo:
        """Return the object's info with ``sha256`` set, computing and recording it if it was not known.

        Computing reads the whole object once; backends that cannot record it return it anyway.
        """
        info = self.stat(key)
        if info.sha256 is not None:
            return info
        digest = hashlib.sha256()
        with self.open(key) as stream:
            for chunk in iter(lambda: stream.read(MiB), b""):
                digest.update(chunk)
        return replace(info, sha256=digest.hexdigest())

    # -- browser downloads -----------------------------------------------------------------------------

    @abc.abstractmethod
    def presign_download(
        self,
        key: str,
        *,
        expires_in: timedelta = DEFAULT_EXPIRY,
        filename: str | None = None,
        content_type: str | None = None,
        reference: str | None = None,
    ) -> str:
        """Return a URL anyone can GET (with HTTP Range) for ``expires_in`` (15 min by default, <= 7 days).

        The response is served as an attachment: with ``Content-Disposition`` built from ``filename`` by
        :func:`~storage.keys.content_disposition`, and ``Content-Type: content_type`` when given. Issuing a
        link needs no network call and does not check that the object exists. Raises
        :class:`~storage.errors.InvalidExpiry`, :class:`~storage.errors.InvalidFilename`,
        :class:`~storage.errors.InvalidContentType` or :class:`~storage.errors.InvalidKey` for bad input.

        ``reference`` names what the link was issued under (for the marketplace, the link's audit row). A
        backend that serves its own links (the local one) signs it into the link and asks, on every request,
        whether it still stands, so a revoked license stops its links at once. A backend whose links are
        verified by someone else (S3) cannot recall a link: it ignores ``reference``, and such a link works
        until it expires; keep ``expires_in`` short.
        """

    # -- browser uploads ---------------------------------------------------------------------------------

    @abc.abstractmethod
    def create_upload(
        self, key: str, *, size: int, content_type: str | None = None, part_size: int | None = None
    ) -> UploadSession:
        """Start an upload of a file of exactly ``size`` bytes to ``key`` and return its session.

        Files no bigger than the part size (see :func:`choose_part_size`) get a single-PUT session; bigger
        ones a multipart session whose parts are ``part_size`` bytes (the last smaller). A multipart upload
        is invisible under ``key`` until :meth:`complete_upload` succeeds; a single PUT replaces the object
        when its body has been fully received, and :meth:`complete_upload` then checks it. Raises
        :class:`~storage.errors.UploadError` for a negative size, a file over 5 TiB or an impossible
        ``part_size``.
        """

    @abc.abstractmethod
    def presign_upload(self, session: UploadSession, *, expires_in: timedelta = DEFAULT_EXPIRY) -> str:
        """Return a URL to PUT the whole file of a single-PUT session (with ``session.headers``).

        The link is bound to the session's exact size (the local server and AWS refuse another length).
        Raises :class:`~storage.errors.UploadError` for a multipart session.
        """

    @abc.abstractmethod
    def presign_upload_part(
        self, session: UploadSession, part_number: int, *, expires_in: timedelta = DEFAULT_EXPIRY
    ) -> str:
        """Return a URL to PUT part ``part_number`` (bytes ``session.part_range(n)``) of a multipart upload.

        The response to that PUT carries the part's ``ETag`` header, which the client passes back to
        :meth:`complete_upload`. Raises :class:`~storage.errors.UploadError` for a single-PUT session or a
        part number outside ``1..session.part_count``.
        """

    @abc.abstractmethod
    def list_uploaded_parts(self, session: UploadSession) -> builtins.list[UploadedPart]:
        """Return the parts the backend already holds, by part number, so an interrupted upload can resume.

        A single-PUT session has no parts (empty list). Raises :class:`~storage.errors.UploadError` if the
        multipart upload is unknown (completed or aborted).
        """

    @abc.abstractmethod
    def complete_upload(
        self,
        session: UploadSession,
        parts: Sequence[PartSpec | UploadedPart] = (),
        *,
        compute_sha256: bool = True,
    ) -> ObjectInfo:
        """Make the uploaded file visible under ``session.key`` and return its info.

        For a multipart session ``parts`` lists every part as ``(part_number, etag)`` (ETags quoted or not);
        for a single-PUT session it is empty. The stored object must be exactly ``session.size`` bytes, or
        it is removed and :class:`~storage.errors.UploadError` raised. With ``compute_sha256`` the returned
        info carries the SHA-256 (on S3 this reads the object back once; pass ``False`` for huge files and
        call :meth:`ensure_sha256` later, e.g. from a background job).
        """

    @abc.abstractmethod
    def abort_upload(self, session: UploadSession) -> None:
        """Cancel a multipart upload and free its parts; a no-op for single-PUT sessions and for uploads
        that are already gone (idempotent)."""
