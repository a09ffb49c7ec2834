"""Delivery's domain errors and their codes, and the one place where storage errors become domain errors."""

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


@enum.unique
class DeliveryErrorCode(enum.StrEnum):
    """The codes delivery raises, beyond a refused download's :class:`RefusalReason`."""

    VERSION_IMMUTABLE = "version_immutable"  # a published version's files never change (shared with CatalogErrorCode)
    FILES_NOT_VERIFIED = "files_not_verified"  # publishing a version with a file not uploaded and verified
    FILE_UNAVAILABLE = "file_unavailable"  # a file declared in the manifest but never uploaded
    UPLOAD_CLOSED = "upload_closed"  # an upload that completed, failed or was aborted
    UPLOAD_INCOMPLETE = "upload_incomplete"  # completing an upload with parts missing
    UPLOAD_VERIFICATION_FAILED = "upload_verification_failed"  # the uploaded bytes are not the declared size/digest
    UPLOAD_FAILED = "upload_failed"  # storage refused the upload session (unknown, finished, wrong parts or size)
    OBJECT_NOT_FOUND = "object_not_found"  # the file is not in storage
    STORAGE_REGION_UNAVAILABLE = "storage_region_unavailable"  # no storage for the data-residency region
    STORAGE_NOT_CONFIGURED = "storage_not_configured"
    STORAGE_FAILED = "storage_failed"  # any other storage error


@enum.unique
class RefusalReason(enum.StrEnum):
    """Why a download link was refused; the value is the error code, the label the message shown."""

    NOT_LICENSEE = "not_licensee"
    REVOKED = "grant_revoked"
    SUSPENDED = "grant_suspended"
    EXPIRED = "grant_expired"
    NOT_YET_VALID = "grant_not_yet_valid"
    NOT_ACTIVE = "grant_not_active"
    VERSION_NOT_COVERED = "version_not_covered"
    VERSION_WITHDRAWN = "version_withdrawn"
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
    RefusalReason.VERSION_WITHDRAWN: "This version was withdrawn by its provider and is no longer served; "
    "download its patched version instead, and delete what you hold of it (see the withdrawal notice).",
    RefusalReason.LIMIT_REACHED: "The license's download limit has been reached.",
    RefusalReason.ACCESS_ENDED: "access expired",
}


@dataclass
class DownloadRefused(PermissionDenied):
    """No link: the grant does not allow this requester to download this file now (403, with the reason)."""

    reason: RefusalReason = RefusalReason.NOT_LICENSEE

    @classmethod
    def because(cls, reason: RefusalReason, message: str | None = None) -> DownloadRefused:
        return cls(message=message or reason.message, code=reason, reason=reason)


@dataclass
class FilesNotVerified(Conflict):
    """A version cannot be published while any of its files is not uploaded and verified (409)."""

    code: str = DeliveryErrorCode.FILES_NOT_VERIFIED


def domain_error(error: storage.StorageError, field: str = "path") -> DomainError:
    """The domain error a storage error stands for (``field`` names the input a bad key or file name came from)."""
    if isinstance(error, storage.ObjectNotFound):
        return NotFound(message="The file is not in storage.", code=DeliveryErrorCode.OBJECT_NOT_FOUND)
    if isinstance(error, (storage.InvalidKey, storage.InvalidFilename)):
        return ValidationFailed.for_field(field, str(error))
    if isinstance(error, storage.InvalidContentType):
        return ValidationFailed.for_field("media_type", str(error))
    if isinstance(error, storage.UnknownRegion):
        return Conflict(message=str(error), code=DeliveryErrorCode.STORAGE_REGION_UNAVAILABLE)
    if isinstance(error, storage.UploadError):
        return Conflict(message=str(error), code=DeliveryErrorCode.UPLOAD_FAILED)
    if isinstance(error, storage.StorageUnavailable):
        return ServiceUnavailable(message=f"File storage is unavailable: {error}")
    return ServiceUnavailable(message=f"File storage failed: {error}", code=DeliveryErrorCode.STORAGE_FAILED)


@contextmanager
def storage_errors(field: str = "path") -> Iterator[None]:
    """Run a block of storage calls, raising the matching domain error for any storage error."""
    try:
        yield
    except storage.StorageError as error:
        raise domain_error(error, field) from error
