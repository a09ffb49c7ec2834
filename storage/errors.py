"""Storage's own exceptions.

Every backend raises these and only these: callers never see a boto, botocore, OS or HTTP error. The
web layer maps them to HTTP responses in one table (for example ``ObjectNotFound`` to 404 and
``InvalidKey`` to 400).
"""

from __future__ import annotations


class StorageError(Exception):
    """Base class of every error raised by the storage package."""


class StorageConfigError(StorageError):
    """The storage settings are missing or inconsistent (raised at start-up, not per request)."""


class StorageUnavailable(StorageError):
    """The backend could not be reached or did not answer (network error, timeout); retrying may help."""


class ObjectNotFound(StorageError):
    """No object exists under the given key."""

    def __init__(self, key: str) -> None:
        super().__init__(f"No object stored under key {key!r}.")
        self.key = key


class InvalidKey(StorageError):
    """The key is not a safe object key (path traversal, control characters, too long, ...)."""


class InvalidFilename(StorageError):
    """A download file name is unsafe (path separators, ``..``, control characters, too long, ...)."""


class InvalidContentType(StorageError):
    """A content type is not a plain ``type/subtype`` media type without control characters."""


class InvalidReference(StorageError):
    """A download link's reference is not 1 to 128 visible ASCII characters."""


class InvalidExpiry(StorageError):
    """A link lifetime is zero, negative or longer than the seven days S3 allows."""


class InvalidRange(StorageError):
    """A byte range is malformed or starts beyond the end of the object."""


class UploadError(StorageError):
    """An upload session cannot go on: unknown or finished upload, missing or wrong parts, size mismatch."""


class UnsupportedOperation(StorageError):
    """The backend (typically an S3-compatible server) does not implement this operation."""


class UnknownRegion(StorageError):
    """No storage backend is configured for the requested data-residency region."""


class LinkRefused(StorageError):
    """A signed local link was refused (bad signature or expired); raised by ``LocalStorage.verify_link``."""


class BadSignature(LinkRefused):
    """The link's signature does not match its parameters: it was forged or tampered with."""


class LinkExpired(LinkRefused):
    """The link's signature is valid but its expiry time has passed."""
