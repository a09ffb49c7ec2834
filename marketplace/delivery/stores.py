"""Where a dataset's files live: the storage backend of its residency region, and the key of each file.

Shared by uploads (which write there) and downloads (which hand out links to it).
"""

from __future__ import annotations

from datetime import timedelta

import storage
from marketplace.catalog import vocab
from marketplace.catalog.models import Dataset, DatasetVersion
from marketplace.db import UnitOfWork
from marketplace.delivery.errors import DeliveryErrorCode, storage_errors
from marketplace.errors import ServiceUnavailable, ValidationFailed

__all__ = ["dataset_storage", "regional_storage", "seconds_setting", "storage_key_for"]


def regional_storage(uow: UnitOfWork) -> storage.RegionalStorage:
    """The configured storage (one backend per region); 503 when the installation has none."""
    backend = uow.context.storage
    if backend is None:
        raise ServiceUnavailable(
            message="File storage is not configured.", code=DeliveryErrorCode.STORAGE_NOT_CONFIGURED
        )
    return backend


def dataset_storage(uow: UnitOfWork, dataset: Dataset) -> storage.Storage:
    """The backend (bucket) of the dataset's residency region; an unconfigured region is refused, never swapped."""
    region = dataset.storage_region.value if dataset.storage_region is not None else None
    with storage_errors():
        return regional_storage(uow).for_region(region)


def storage_key_for(dataset: Dataset, version: DatasetVersion, path: str) -> str:
    """``datasets/<dataset id>/versions/<version id>/<path>``, validated (a bad path names the ``path`` field)."""
    try:
        clean = vocab.manifest_path(path)
    except ValueError as error:
        raise ValidationFailed.for_field("path", str(error)) from error
    if clean != path:
        raise ValidationFailed.for_field("path", "must not start or end with spaces")
    with storage_errors("path"):
        return storage.validate_key(f"datasets/{dataset.id}/versions/{version.id}/{clean}")


def seconds_setting(uow: UnitOfWork, name: str, default: int) -> timedelta:
    """A link lifetime setting (``DOWNLOAD_LINK_SECONDS``, ``UPLOAD_LINK_SECONDS``) as a duration."""
    return timedelta(seconds=int(uow.settings.get(name) or default))
