"""Running one job: claim it, run its handler in a unit of work that also records success, or record the failure.

A job's own changes and the row saying it succeeded are committed together, so a job whose worker is killed
(even with SIGKILL) in the middle has changed nothing and runs again once its lease has passed; a job that
committed is never run again. Handlers with effects outside the database (mail, webhook deliveries) are written
to be repeated safely, since a worker may die after the effect and before the commit.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from dramatiq.common import compute_backoff
from sqlmodel import col

from marketplace.db import UnitOfWork, unit_of_work
from marketplace.jobs import states
from marketplace.jobs.models import BackgroundJob, JobKind, JobState
from marketplace.jobs.queue import JobQueue
from marketplace.jobs.states import JobMove

log = logging.getLogger(__name__)

CLOCK_SKEW = timedelta(seconds=2)  # a message delivered this much before the job's time still runs it


@dataclass(frozen=True)
class Outcome:
    """What became of one delivery of a job: its state afterwards and, for a retry, the wait in milliseconds."""

    state: JobState | None  # None: not run here (already done, not due, or running elsewhere)
    retry_in_ms: int | None = None


class LostClaim(Exception):
    """The job was taken over by another worker while this one ran it (its lease ran out): this run is void."""


def _claim(queue: JobQueue, job_id: int) -> tuple[int, JobKind, dict[str, Any]] | None:
    """Take the job if it may run now; returns the attempt number taken, its kind and payload, or ``None``."""
    settings = queue.settings
    with unit_of_work(queue.database, queue.context) as work:
        now = work.now()
        claimable = sa.or_(
            sa.and_(
                col(BackgroundJob.state).in_([JobState.PENDING, JobState.RETRYING]),
                col(BackgroundJob.run_after) <= now + CLOCK_SKEW,
            ),
            sa.and_(col(BackgroundJob.state) == JobState.RUNNING, col(BackgroundJob.claimed_until) < now),
        )
        result = work.session.execute(
            sa.update(BackgroundJob)
            .where(col(BackgroundJob.id) == job_id, col(BackgroundJob.state).in_(states.sources(JobMove.CLAIM)))
            .where(claimable)
            .values(
                state=states.target(JobMove.CLAIM),
                attempts=col(BackgroundJob.attempts) + 1,
                claimed_until=now + settings.lease,
                started_at=now,
            )
            .returning(col(BackgroundJob.attempts), col(BackgroundJob.kind), col(BackgroundJob.payload))
        )
        row = result.first()
    return (int(row[0]), JobKind(row[1]), dict(row[2] or {})) if row is not None else None


def _record(queue: JobQueue, job_id: int, attempt: int, move: JobMove, **values: object) -> bool:
    """Apply ``move`` to the job if this worker's claim still holds (same attempt number)."""
    with unit_of_work(queue.database, queue.context) as work:
        return _record_in(work.session, job_id, attempt, move, **values)


def _record_in(session: sa.orm.Session, job_id: int, attempt: int, move: JobMove, **values: object) -> bool:
    result = session.execute(
        sa.update(BackgroundJob)
        .where(
            col(BackgroundJob.id) == job_id,
            col(BackgroundJob.state).in_(states.sources(move)),
            col(BackgroundJob.attempts) == attempt,
        )
        .values(state=states.target(move), claimed_until=None, **values)
    )
    return bool(getattr(result, "rowcount", 0))


def execute(queue: JobQueue, job_id: int) -> Outcome:
    """Claim ``job_id`` and run it once; see the module's docstring for what is promised."""
    from marketplace.jobs.handlers import HANDLERS
    from marketplace.metrics import observe_job

    claimed = _claim(queue, job_id)
    if claimed is None:
        return Outcome(None)
    attempt, job_kind, payload = claimed
    kind = job_kind.value
    started = time.perf_counter()
    try:
        # The handler's unit of work starts with the handler's first statement (on SQLite that takes the write
        # lock), so a handler may do work in sessions of its own first (webhook deliveries do).
        with unit_of_work(queue.database, queue.context) as work:
            HANDLERS[job_kind].run(work, payload)
            if not _record_in(work.session, job_id, attempt, JobMove.SUCCEED, finished_at=work.now(), last_error=""):
                raise LostClaim(f"job {job_id} attempt {attempt} was taken over")
    except LostClaim:
        log.warning("job %s (%s): another worker took it over; this attempt's changes were rolled back", job_id, kind)
        return Outcome(None)
    except Exception as error:
        observe_job(kind, "failed", time.perf_counter() - started)
        return _failed(queue, job_id, attempt, kind, error)
    observe_job(kind, "succeeded", time.perf_counter() - started)
    return Outcome(JobState.SUCCEEDED)


def _given_up(work: UnitOfWork, job: BackgroundJob | None, message: str) -> None:
    """Let the job's kind record that it was given up (e.g. the API job of an import says "failed")."""
    from marketplace.jobs.handlers import HANDLERS

    spec = HANDLERS.get(job.kind) if job is not None else None
    if job is not None and spec is not None and spec.on_give_up is not None:
        spec.on_give_up(work, dict(job.payload), message)


def _failed(queue: JobQueue, job_id: int, attempt: int, kind: str, error: Exception) -> Outcome:
    """Record a failed attempt: retry later with exponential backoff, or give up after the last attempt."""
    settings = queue.settings
    message = f"{type(error).__name__}: {error}"[:4000]
    with unit_of_work(queue.database, queue.context) as work:
        job = work.session.get(BackgroundJob, job_id)
        max_attempts = job.max_attempts if job is not None else settings.max_attempts
        now = work.now()
        if attempt >= max_attempts:
            log.error("job %s (%s) failed for good after %s attempts: %s", job_id, kind, attempt, message)
            if _record_in(work.session, job_id, attempt, JobMove.GIVE_UP, last_error=message, finished_at=now):
                _given_up(work, job, message)
            return Outcome(JobState.DEAD)
        _, delay_ms = compute_backoff(attempt - 1, factor=settings.retry_min_ms, max_backoff=settings.retry_max_ms)
        run_after = now + timedelta(milliseconds=delay_ms)
        log.warning("job %s (%s) attempt %s failed, retrying in %s ms: %s", job_id, kind, attempt, delay_ms, message)
        # When the backend brings the job back itself, the relay only steps in if it did not (published at its time).
        published = run_after if queue.backend.redelivers_retries else None
        _record_in(
            work.session, job_id, attempt, JobMove.FAIL, last_error=message, run_after=run_after, published_at=published
        )
    return Outcome(JobState.RETRYING, retry_in_ms=delay_ms)
