"""The file the viewer reads: who it is for (:class:`Target`), a bounded local copy of it, the engine's limits
from the settings, and the domain error each engine problem stands for."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from marketplace.catalog.models import Dataset, DatasetFile, DatasetVersion, SampleFile
from marketplace.db import UnitOfWork
from marketplace.delivery.errors import storage_errors
from marketplace.delivery.stores import dataset_storage
from marketplace.errors import Conflict, DomainError, ServiceUnavailable, ValidationFailed
from marketplace.licenses.models import Grant
from marketplace.viewer.engine import DataFormat, Limits, ViewerProblem
from marketplace.viewer.errors import ViewerErrorCode

__all__ = ["Target", "domain_problem", "limits_from", "local_copy"]


@dataclass(frozen=True)
class Target:
    """A file the requester may look at, with what the viewer needs to read and label it."""

    dataset: Dataset
    name: str
    media_type: str
    size_bytes: int
    fmt: DataFormat | None
    sample: SampleFile | None = None
    version: DatasetVersion | None = None
    file: DatasetFile | None = None
    grant: Grant | None = None


def limits_from(settings: dict[str, Any]) -> Limits:
    """The engine's limits from the ``VIEWER_*`` settings."""
    return Limits(
        seconds=float(settings.get("VIEWER_TIMEOUT_SECONDS") or 5),
        max_offset=int(settings.get("VIEWER_MAX_OFFSET") or 1_000_000),
        memory=f"{int(settings.get('VIEWER_MEMORY_MB') or 256)}MB",
    )


@contextmanager
def local_copy(uow: UnitOfWork, target: Target) -> Iterator[str]:
    """The path of a temporary local copy of the file (deleted afterwards); refused beyond ``VIEWER_MAX_BYTES``."""
    limit = int(uow.settings.get("VIEWER_MAX_BYTES") or 256 * 1024 * 1024)
    if target.size_bytes > limit:
        raise Conflict(
            message=f"{target.name} has {target.size_bytes:,} bytes; the viewer reads files of at most {limit:,} "
            "bytes. Download it to look at it.",
            code=ViewerErrorCode.FILE_TOO_LARGE,
        )
    suffix = os.path.splitext(target.name)[1][:16]
    handle, path = tempfile.mkstemp(prefix="viewer-", suffix=suffix)
    try:
        with os.fdopen(handle, "wb") as out:
            if target.sample is not None:
                out.write(target.sample.content)
            else:
                assert target.file is not None and target.file.storage_key is not None
                with storage_errors(), dataset_storage(uow, target.dataset).open(target.file.storage_key) as source:
                    shutil.copyfileobj(source, out, 1024 * 1024)
        yield path
    finally:
        os.unlink(path)


def domain_problem(problem: ViewerProblem, *, field: str = "file") -> DomainError:
    """The domain error an engine problem stands for: a bad window or query names its field (422); an unreadable
    or unsupported file is a conflict (409); a read that ran out of time is 503 (trying again may help)."""
    if problem.code is ViewerErrorCode.OFFSET_OUT_OF_RANGE:
        return ValidationFailed.for_field("offset", problem.message)
    if problem.code is ViewerErrorCode.LENGTH_OUT_OF_RANGE:
        return ValidationFailed.for_field("length", problem.message)
    if problem.code is ViewerErrorCode.QUERY_INVALID:
        return ValidationFailed.for_field("q", problem.message)
    if problem.code is ViewerErrorCode.TIME_LIMIT:
        return ServiceUnavailable(message=problem.message, code=problem.code)
    return Conflict(message=problem.message, code=problem.code)
