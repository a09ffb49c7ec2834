"""Statistics computed once per file and cached: asked for when a version is published or a sample added, or on
demand when missing, computed by the ``viewer_stats`` background job, shown as "being computed" until then.

The job reads the file with the system's rights (no requester: whoever asked was checked by the service that
asked). A file the engine cannot read, is missing from storage or is too large is recorded as failed with the
reason, once (a read in the job may take :data:`JOB_TIME_FACTOR` times ``VIEWER_TIMEOUT_SECONDS``); a storage
outage raises, so the queue tries again later.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from marketplace.catalog.models import Dataset, DatasetFile, DatasetVersion, SampleFile
from marketplace.db import UnitOfWork
from marketplace.errors import Conflict, NotFound
from marketplace.jobs.models import JobKind
from marketplace.jobs.queue import enqueue
from marketplace.viewer import engine
from marketplace.viewer.files import Target, domain_problem, limits_from, local_copy
from marketplace.viewer.models import StatisticsState, ViewerStatistics
from marketplace.viewer.states import check_transition

__all__ = [
    "StatisticsView",
    "compute_job",
    "request_for_sample",
    "request_for_version",
    "statistics_view",
]

#: A background computation may read for this many times a page's time limit.
JOB_TIME_FACTOR = 12


@dataclass(frozen=True)
class StatisticsView:
    """What the page and the API show: the state, the statistics once ready, the reason once failed."""

    state: StatisticsState
    statistics: dict[str, Any] | None
    error: str

    def to_dict(self) -> dict[str, Any]:
        return {"state": self.state.value, "statistics": self.statistics, "error": self.error or None}


def _row(uow: UnitOfWork, *, file_id: int | None, sample_id: int | None) -> ViewerStatistics | None:
    if file_id is not None:
        return uow.session.exec(select(ViewerStatistics).where(ViewerStatistics.file_id == file_id)).first()
    return uow.session.exec(select(ViewerStatistics).where(ViewerStatistics.sample_id == sample_id)).first()


def _request(uow: UnitOfWork, *, file_id: int | None, sample_id: int | None) -> ViewerStatistics:
    """The file's statistics row, created pending with its job when there is none yet (one job per file)."""
    row = _row(uow, file_id=file_id, sample_id=sample_id)
    if row is not None:
        return row
    row = ViewerStatistics(file_id=file_id, sample_id=sample_id, requested_at=uow.now())
    try:
        with uow.session.begin_nested():
            uow.session.add(row)
    except IntegrityError:  # another request asked for them at the same moment: its row (and job) stand
        existing = _row(uow, file_id=file_id, sample_id=sample_id)
        assert existing is not None
        return existing
    if uow.context.queue is not None:
        target = f"file:{file_id}" if file_id is not None else f"sample:{sample_id}"
        payload = {"file_id": file_id} if file_id is not None else {"sample_id": sample_id}
        enqueue(uow, JobKind.VIEWER_STATS, payload, dedupe_key=f"viewer-stats:{target}")
    return row


def statistics_view(uow: UnitOfWork, *, file_id: int | None, sample_id: int | None) -> StatisticsView:
    """The statistics of a file the caller may see; asks for them when they were never asked for."""
    row = _request(uow, file_id=file_id, sample_id=sample_id)
    ready = row.state is StatisticsState.READY
    return StatisticsView(row.state, dict(row.statistics) if ready else None, row.error)


def request_for_version(uow: UnitOfWork, version: DatasetVersion) -> None:
    """Ask for the statistics of every uploaded table file of a version being published."""
    files = uow.session.exec(
        select(DatasetFile).where(DatasetFile.version_id == version.id, col(DatasetFile.storage_key).is_not(None))
    ).all()
    for file in files:
        fmt = engine.detect_format(file.path, file.media_type)
        if fmt is not None and fmt.tabular:
            _request(uow, file_id=file.id, sample_id=None)


def request_for_sample(uow: UnitOfWork, sample: SampleFile) -> None:
    """Ask for the statistics of a new sample, when it is a table (CSV, JSON Lines, Parquet or text)."""
    fmt = engine.detect_format(sample.filename, sample.media_type)
    if fmt is not None and fmt.tabular:
        _request(uow, file_id=None, sample_id=sample.id)


def _finish(row: ViewerStatistics, state: StatisticsState, uow: UnitOfWork, **values: Any) -> None:
    check_transition(row.state, state)
    row.state = state
    for name, value in values.items():
        setattr(row, name, value)
    row.computed_at = uow.now()
    uow.session.add(row)


def compute_job(uow: UnitOfWork, payload: dict[str, Any]) -> None:
    """The ``viewer_stats`` job: compute and store one file's statistics, unless already done (idempotent)."""
    file_id, sample_id = payload.get("file_id"), payload.get("sample_id")
    row = _row(uow, file_id=file_id, sample_id=sample_id)
    if row is None or row.state is not StatisticsState.PENDING:
        return
    target = _system_target(uow, file_id=file_id, sample_id=sample_id)
    if target is None or target.fmt is None or not target.fmt.tabular:
        _finish(row, StatisticsState.FAILED, uow, error="This file cannot be shown as a table.")
        return
    try:
        with local_copy(uow, target) as path:
            limits = limits_from(uow.settings)
            limits = replace(limits, seconds=limits.seconds * JOB_TIME_FACTOR)
            stats = engine.compute_statistics(path, target.fmt, limits=limits)
    except engine.ViewerProblem as problem:
        _finish(row, StatisticsState.FAILED, uow, error=domain_problem(problem).message[:1000])
        return
    except (NotFound, Conflict) as error:  # not in storage, or too large to read: trying again will not help
        _finish(row, StatisticsState.FAILED, uow, error=error.message[:1000])
        return
    _finish(row, StatisticsState.READY, uow, statistics=stats.to_dict(), error="")


def _system_target(uow: UnitOfWork, *, file_id: int | None, sample_id: int | None) -> Target | None:
    session = uow.session
    if sample_id is not None:
        sample = session.get(SampleFile, sample_id)
        dataset = session.get(Dataset, sample.dataset_id) if sample is not None else None
        if sample is None or dataset is None:
            return None
        return Target(
            dataset,
            sample.filename,
            sample.media_type,
            sample.size_bytes,
            engine.detect_format(sample.filename, sample.media_type),
            sample=sample,
        )
    file = session.get(DatasetFile, file_id) if file_id is not None else None
    version = session.get(DatasetVersion, file.version_id) if file is not None else None
    dataset = session.get(Dataset, version.dataset_id) if version is not None else None
    if file is None or version is None or dataset is None or file.storage_key is None:
        return None
    return Target(
        dataset,
        file.path,
        file.media_type,
        file.size_bytes,
        engine.detect_format(file.path, file.media_type),
        version=version,
        file=file,
    )
