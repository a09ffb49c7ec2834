"""Object storage for the marketplace: one interface, a local file-system backend and an S3 backend.

Pure Python: imports nothing from Flask, SQLModel, SQLAlchemy or ``marketplace``. Start from
:func:`storage_from_settings`, or build :class:`LocalStorage` / :class:`S3Storage` directly; mount
:func:`make_wsgi_app` to serve local links.
"""

from storage.base import (
    DEFAULT_EXPIRY,
    DEFAULT_PART_SIZE,
    MAX_EXPIRY,
    MAX_OBJECT_SIZE,
    MAX_PART_SIZE,
    MAX_PARTS,
    MIN_PART_SIZE,
    ObjectInfo,
    PartSpec,
    Storage,
    UploadedPart,
    UploadSession,
    choose_part_size,
)
from storage.errors import (
    BadSignature,
    InvalidContentType,
    InvalidExpiry,
    InvalidFilename,
    InvalidKey,
    InvalidRange,
    InvalidReference,
    LinkExpired,
    LinkRefused,
    ObjectNotFound,
    StorageConfigError,
    StorageError,
    StorageUnavailable,
    UnknownRegion,
    UnsupportedOperation,
    UploadError,
)
from storage.factory import STORAGE_SETTINGS, storage_from_settings
from storage.keys import (
    content_disposition,
    expiry_seconds,
    validate_content_type,
    validate_filename,
    validate_key,
    validate_prefix,
)
from storage.local import LocalStorage, SignedLink
from storage.local_server import ReferenceCheck, make_wsgi_app
from storage.regional import RegionalStorage
from storage.s3 import S3Storage

__all__ = [
    "DEFAULT_EXPIRY",
    "DEFAULT_PART_SIZE",
    "MAX_EXPIRY",
    "MAX_OBJECT_SIZE",
    "MAX_PARTS",
    "MAX_PART_SIZE",
    "MIN_PART_SIZE",
    "STORAGE_SETTINGS",
    "BadSignature",
    "InvalidContentType",
    "InvalidExpiry",
    "InvalidFilename",
    "InvalidKey",
    "InvalidRange",
    "InvalidReference",
    "LinkExpired",
    "LinkRefused",
    "LocalStorage",
    "ObjectInfo",
    "ObjectNotFound",
    "PartSpec",
    "ReferenceCheck",
    "RegionalStorage",
    "S3Storage",
    "SignedLink",
    "Storage",
    "StorageConfigError",
    "StorageError",
    "StorageUnavailable",
    "UnknownRegion",
    "UnsupportedOperation",
    "UploadError",
    "UploadSession",
    "UploadedPart",
    "choose_part_size",
    "content_disposition",
    "expiry_seconds",
    "make_wsgi_app",
    "storage_from_settings",
    "validate_content_type",
    "validate_filename",
    "validate_key",
    "validate_prefix",
]
