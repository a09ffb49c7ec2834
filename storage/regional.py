"""Data residency: one storage backend (bucket) per storage region, chosen by region name.

A dataset whose provider requires its files to stay in, say, the EU records the region ``"eu"``; every
operation on its files goes through ``storage.for_region("eu")``. :class:`RegionalStorage` is itself a
:class:`~storage.base.Storage` that acts on the default region, so code that does not care about residency
can use it directly.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import timedelta
from typing import BinaryIO

from storage.base import DEFAULT_EXPIRY, ObjectInfo, PartSpec, Storage, UploadedPart, UploadSession
from storage.errors import StorageConfigError, UnknownRegion

__all__ = ["RegionalStorage"]

_REGION_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")


class RegionalStorage(Storage):
    """Routes to one backend per region name; the default region's backend serves the plain interface.

    Region names are lowercase letters, digits, ``-`` and ``_`` (e.g. ``"eu"``, ``"us-east"``). Several
    names may share one backend.
    """

    def __init__(self, backends: Mapping[str, Storage], *, default: str) -> None:
        if not backends:
            raise StorageConfigError("RegionalStorage needs at least one region.")
        for name in backends:
            if not _REGION_NAME.fullmatch(name):
                raise StorageConfigError(
                    f"Invalid storage region name {name!r}: use lowercase letters, digits, '-' and '_'."
                )
        if default not in backends:
            raise StorageConfigError(f"Default storage region {default!r} is not among {sorted(backends)}.")
        self._backends = dict(backends)
        self.default_region = default

    def __repr__(self) -> str:
        return f"RegionalStorage({self._backends!r}, default={self.default_region!r})"

    @property
    def regions(self) -> tuple[str, ...]:
        """The configured region names, sorted."""
        return tuple(sorted(self._backends))

    def for_region(self, region: str | None) -> Storage:
        """Return the backend of ``region`` (``None`` means the default region).

        Raises :class:`~storage.errors.UnknownRegion` naming the configured regions; never falls back to
        another region, since that would break the residency promise.
        """
        if region is None:
            return self._backends[self.default_region]
        try:
            return self._backends[region]
        except (KeyError, TypeError):
            known = ", ".join(self.regions)
            raise UnknownRegion(f"Unknown storage region {region!r}; configured regions: {known}.") from None

    @property
    def default(self) -> Storage:
        """The default region's backend."""
        return self._backends[self.default_region]

    # -- the Storage interface, on the default region ----------------------------------------------------

    def put(self, key: str, stream: BinaryIO, *, content_type: str | None = None) -> ObjectInfo:
        """:meth:`Storage.put` on the default region."""
        return self.default.put(key, stream, content_type=content_type)

    def open(self, key: str, *, start: int = 0, end: int | None = None) -> BinaryIO:
        """:meth:`Storage.open` on the default region."""
        return self.default.open(key, start=start, end=end)

    def stat(self, key: str) -> ObjectInfo:
        """:meth:`Storage.stat` on the default region."""
        return self.default.stat(key)

    def exists(self, key: str) -> bool:
        """:meth:`Storage.exists` on the default region."""
        return self.default.exists(key)

    def delete(self, key: str) -> None:
        """:meth:`Storage.delete` on the default region."""
        self.default.delete(key)

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """:meth:`Storage.list` on the default region."""
        return self.default.list(prefix)

    def ensure_sha256(self, key: str) -> ObjectInfo:
        """:meth:`Storage.ensure_sha256` on the default region."""
        return self.default.ensure_sha256(key)

    def presign_download(
        self,
        key: str,
        *,
        expires_in: timedelta = DEFAULT_EXPIRY,
        filename: str | None = None,
        content_type: str | None = None,
        reference: str | None = None,
    ) -> str:
        """:meth:`Storage.presign_download` on the default region."""
        return self.default.presign_download(
            key, expires_in=expires_in, filename=filename, content_type=content_type, reference=reference
        )

    def create_upload(
        self, key: str, *, size: int, content_type: str | None = None, part_size: int | None = None
    ) -> UploadSession:
        """:meth:`Storage.create_upload` on the default region."""
        return self.default.create_upload(key, size=size, content_type=content_type, part_size=part_size)

    def presign_upload(self, session: UploadSession, *, expires_in: timedelta = DEFAULT_EXPIRY) -> str:
        """:meth:`Storage.presign_upload` on the default region."""
        return self.default.presign_upload(session, expires_in=expires_in)

    def presign_upload_part(
        self, session: UploadSession, part_number: int, *, expires_in: timedelta = DEFAULT_EXPIRY
    ) -> str:
        """:meth:`Storage.presign_upload_part` on the default region."""
        return self.default.presign_upload_part(session, part_number, expires_in=expires_in)

    def list_uploaded_parts(self, session: UploadSession) -> builtins.list[UploadedPart]:
        """:meth:`Storage.list_uploaded_parts` on the default region."""
        return self.default.list_uploaded_parts(session)

    def complete_upload(
        self,
        session: UploadSession,
        parts: Sequence[PartSpec | UploadedPart] = (),
        *,
        compute_sha256: bool = True,
    ) -> ObjectInfo:
        """:meth:`Storage.complete_upload` on the default region."""
        return self.default.complete_upload(session, parts, compute_sha256=compute_sha256)

    def abort_upload(self, session: UploadSession) -> None:
        """:meth:`Storage.abort_upload` on the default region."""
        self.default.abort_upload(session)
