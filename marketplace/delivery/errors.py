"""Delivery's domain errors, and the one place where storage errors become domain errors."""

from __future__ import annotations

import enum
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import storage
from marketplace.errors import (
    Conflict,
    DomainError,
    NotFound,
    PermissionDenied,
    ServiceUnavailable,
    ValidationFailed,
)


class RefusalReason(enum.StrEnum):
    """Why a download link was refused; the value is the error code, the label the message shown."""

    NOT_LICENSEE = "not_licensee"
    REVOKED = "grant_revoked"
    SUSPENDED = "grant_suspended"
    EXPIRED = "grant_expired"
    NOT_YET_VALID = "grant_not_yet_valid"
    NOT_ACTIVE = "grant_not_active"
    VERSION_NOT_COVERED = "version_not_covered"
    LIMIT_REACHED = "download_limit_reached"
    ACCESS_ENDED = "access_refused"

    @property
    def message(self) -> str:
        return _MESSAGES[self]


_MESSAGES = {
    RefusalReason.NOT_LICENSEE: "Only members of the licensee organisation may download these files.",
    RefusalReason.REVOKED: "This license has been revoked; its files can no longer be downloaded.",
    RefusalReason.SUSPENDED: "This license is suspended; downloads resume if it is reinstated.",
    RefusalReason.EXPIRED: "This license has expired; its files can no longer be downloaded.",
    RefusalReason.NOT_YET_VALID: "This license is not valid yet; downloads open when its term starts.",
    RefusalReason.NOT_ACTIVE: "This license is not active yet (awaiting payment or approval).",
    RefusalReason.VERSION_NOT_COVERED: "This license does not cover the version this file belongs to.",
    RefusalReason.LIMIT_REACHED: "The license's download limit has been reached.",
    RefusalReason.ACCESS_ENDED: "access expired",
}


@dataclass
class DownloadRefused(PermissionDenied):
    """No link: the grant does not allow this requester to download this file now (403, with the reason)."""

    reason: RefusalReason = RefusalReason.NOT_LICENSEE

    @classmethod
    def because(cls, reason: RefusalReason, message: str | None = None) -> DownloadRefused:
        return cls(message=message or reason.message, code=reason.value, reason=reason)


@dataclass
class FilesNotVerified(Conflict):
    """A version cannot be published while any of its files is not uploaded and verified (409)."""

    code: str = "files_not_verified"


def domain_error(error: storage.StorageError, field: str = "path") -> DomainError:
    """The domain error a storage error stands for (``field`` names the input a bad key or file name came from)."""
    if isinstance(error, storage.ObjectNotFound):
        return NotFound(message="The file is not in storage.", code="object_not_found")
    if isinstance(error, (storage.InvalidKey, storage.InvalidFilename)):
        return ValidationFailed.for_field(field, str(error))
    if isinstance(error, storage.InvalidContentType):
        return ValidationFailed.for_field("media_type", str(error))
    if isinstance(error, storage.UnknownRegion):
        return Conflict(message=str(error), code="storage_region_unavailable")
    if isinstance(error, storage.UploadError):
        return Conflict(message=str(error), code="upload_failed")
    if isinstance(error, storage.StorageUnavailable):
        return ServiceUnavailable(message=f"File storage is unavailable: {error}")
    return ServiceUnavailable(message=f"File storage failed: {error}", code="storage_failed")


@contextmanager
def storage_errors(field: str = "path") -> Iterator[None]:
    """Run a block of storage calls, raising the matching domain error for any storage error."""
    try:
        yield
    except storage.StorageError as error:
        raise domain_error(error, field) from error
