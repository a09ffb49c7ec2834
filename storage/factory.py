"""Build the configured storage from plain settings (a dict, e.g. Flask's ``app.config`` or ``os.environ``).

:data:`STORAGE_SETTINGS` declares every setting with its default and why it exists, so the application's
configuration can list them; :func:`storage_from_settings` turns a mapping into a :class:`RegionalStorage`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from storage.base import DEFAULT_PART_SIZE, Storage
from storage.errors import StorageConfigError
from storage.local import LocalStorage
from storage.regional import RegionalStorage
from storage.s3 import S3Storage

__all__ = ["STORAGE_SETTINGS", "parse_region_buckets", "storage_from_settings"]

#: Every setting read by :func:`storage_from_settings`: name -> (default, why it exists).
STORAGE_SETTINGS: Final[Mapping[str, tuple[object, str]]] = {
    "STORAGE_BACKEND": ("local", "'local' (embedded default, files on disk) or 's3'."),
    "STORAGE_LOCAL_ROOT": ("instance/storage", "Directory holding the local backend's objects."),
    "STORAGE_LOCAL_BASE_URL": ("/storage", "URL (or same-origin path) where the local WSGI app is mounted."),
    "STORAGE_LOCAL_SECRET": (None, "Key signing local links (>= 16 bytes); falls back to SECRET_KEY."),
    "STORAGE_REGIONS": (
        "",
        "Local backend only: extra region names (comma-separated) served from the same "
        "directory, so region-aware code runs in development.",
    ),
    "STORAGE_DEFAULT_REGION": ("default", "Region used when a dataset names none."),
    "STORAGE_PART_SIZE": (
        DEFAULT_PART_SIZE,
        "Default multipart part size in bytes (>= 5 MiB); files up to this size are uploaded with one PUT.",
    ),
    "S3_BUCKET": ("", "Bucket of the default region."),
    "S3_REGION": (None, "AWS region of the buckets (needed for correct presigned URLs outside us-east-1)."),
    "S3_ENDPOINT_URL": (None, "S3-compatible endpoint (MinIO, Ceph ...); unset for AWS."),
    "S3_ACCESS_KEY_ID": (None, "Static credentials; unset to use boto3's credential chain (IAM roles)."),
    "S3_SECRET_ACCESS_KEY": (None, "Secret of S3_ACCESS_KEY_ID."),
    "S3_SSE": (None, "Server-side encryption requested on writes: 'AES256' or 'aws:kms'."),
    "S3_KMS_KEY_ID": (None, "KMS key for S3_SSE='aws:kms' (else the bucket's default key)."),
    "S3_REGION_BUCKETS": ("", "Data residency: 'eu=bucket-eu,us=bucket-us:us-east-1' (region=bucket[:aws-region])."),
}

_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


def _get(settings: Mapping[str, Any], name: str) -> Any:
    value = settings.get(name)
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return STORAGE_SETTINGS[name][0]
    return value.strip() if isinstance(value, str) else value


def _optional_str(settings: Mapping[str, Any], name: str) -> str | None:
    value = _get(settings, name)
    return None if value is None else str(value)


def parse_region_buckets(value: str) -> dict[str, tuple[str, str | None]]:
    """Parse ``"eu=bucket-eu,us=bucket-us:us-east-1"`` into ``{region: (bucket, aws_region or None)}``.

    Raises :class:`~storage.errors.StorageConfigError` naming the malformed entry.
    """
    result: dict[str, tuple[str, str | None]] = {}
    for entry in filter(None, (part.strip() for part in value.split(","))):
        region, equals, target = (text.strip() for text in entry.partition("="))
        bucket, _, aws_region = (text.strip() for text in target.partition(":"))
        if not equals or not region or not _BUCKET.fullmatch(bucket):
            raise StorageConfigError(
                f"S3_REGION_BUCKETS entry {entry!r} is not 'region=bucket' or 'region=bucket:aws-region'."
            )
        if region in result:
            raise StorageConfigError(f"S3_REGION_BUCKETS names region {region!r} twice.")
        result[region] = (bucket, aws_region or None)
    return result


def _part_size(settings: Mapping[str, Any]) -> int:
    try:
        return int(_get(settings, "STORAGE_PART_SIZE"))
    except (TypeError, ValueError):
        raise StorageConfigError("STORAGE_PART_SIZE must be a number of bytes.") from None


def _local(settings: Mapping[str, Any], default_region: str) -> RegionalStorage:
    secret = _get(settings, "STORAGE_LOCAL_SECRET") or settings.get("SECRET_KEY")
    if not secret:
        raise StorageConfigError("Set STORAGE_LOCAL_SECRET (or SECRET_KEY) to sign local storage links.")
    backend = LocalStorage(
        Path(str(_get(settings, "STORAGE_LOCAL_ROOT"))),
        str(_get(settings, "STORAGE_LOCAL_BASE_URL")),
        secret if isinstance(secret, bytes) else str(secret).encode("utf-8"),
        part_size=_part_size(settings),
    )
    names = {default_region, *filter(None, (n.strip() for n in str(_get(settings, "STORAGE_REGIONS")).split(",")))}
    return RegionalStorage(dict.fromkeys(names, backend), default=default_region)


def _s3(settings: Mapping[str, Any], default_region: str) -> RegionalStorage:
    targets = parse_region_buckets(str(_get(settings, "S3_REGION_BUCKETS")))
    aws_region = _optional_str(settings, "S3_REGION")
    bucket = str(_get(settings, "S3_BUCKET"))
    if bucket:
        if default_region in targets and targets[default_region][0] != bucket:
            raise StorageConfigError(
                f"S3_BUCKET={bucket!r} and S3_REGION_BUCKETS disagree on the bucket of region {default_region!r}."
            )
        targets.setdefault(default_region, (bucket, None))
    if default_region not in targets:
        raise StorageConfigError(f"Set S3_BUCKET (or S3_REGION_BUCKETS) for the default region {default_region!r}.")
    common: dict[str, Any] = {
        "endpoint_url": _optional_str(settings, "S3_ENDPOINT_URL"),
        "access_key": _optional_str(settings, "S3_ACCESS_KEY_ID"),
        "secret_key": _optional_str(settings, "S3_SECRET_ACCESS_KEY"),
        "server_side_encryption": _optional_str(settings, "S3_SSE"),
        "kms_key_id": _optional_str(settings, "S3_KMS_KEY_ID"),
        "part_size": _part_size(settings),
    }
    clients: dict[str | None, Any] = {}  # one boto3 client per AWS region, shared by its buckets
    backends: dict[str, Storage] = {}
    for region, (region_bucket, bucket_aws_region) in targets.items():
        effective = bucket_aws_region or aws_region
        backend = S3Storage(region_bucket, region=effective, client=clients.get(effective), **common)
        clients.setdefault(effective, backend.client)
        backends[region] = backend
    return RegionalStorage(backends, default=default_region)


def storage_from_settings(settings: Mapping[str, Any]) -> RegionalStorage:
    """Build the storage described by ``settings`` (see :data:`STORAGE_SETTINGS`; missing = default).

    Always returns a :class:`RegionalStorage`: with one region (``STORAGE_DEFAULT_REGION``) unless regions
    are configured. Raises :class:`~storage.errors.StorageConfigError` with the offending setting's name.
    No network call is made.
    """
    backend = str(_get(settings, "STORAGE_BACKEND")).lower()
    default_region = str(_get(settings, "STORAGE_DEFAULT_REGION"))
    if backend == "local":
        return _local(settings, default_region)
    if backend == "s3":
        return _s3(settings, default_region)
    raise StorageConfigError(f"STORAGE_BACKEND must be 'local' or 's3', got {backend!r}.")
