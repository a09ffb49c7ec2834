"""Enqueueing jobs with the transaction that causes them, and the :class:`JobQueue` each application owns.

:func:`enqueue` stages a :class:`~marketplace.jobs.models.BackgroundJob` row on the caller's unit of work and asks
for it to be published to the broker after the commit. A rolled-back change therefore leaves no job, and a job
whose publication was lost (the process died right after the commit, the broker restarted) is still in the table,
where the scheduler's relay (:meth:`JobQueue.relay`) finds it and publishes it again. Publishing twice is harmless:
a worker claims a job with a conditional UPDATE, so only one runs it.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from marketplace.db import Database, ServiceContext, UnitOfWork, unit_of_work
from marketplace.errors import ServiceUnavailable
from marketplace.jobs.errors import JobsErrorCode
from marketplace.jobs.models import BackgroundJob, JobKind, JobState

if TYPE_CHECKING:
    from marketplace.jobs.runner import Outcome

log = logging.getLogger(__name__)

# A job still waiting this long after it was published is published again (its message may have been lost).
OPEN_STATES = (JobState.PENDING, JobState.RUNNING, JobState.RETRYING, JobState.DEAD)


class QueueBackend(Protocol):
    """How job ids reach a worker: a broker (Redis through Dramatiq) or this very process."""

    name: str
    redelivers_retries: bool  # True when the backend itself brings a failed job back at its retry time

    def publish(self, job_id: int, delay_ms: int = 0) -> None:
        """Hand ``job_id`` to a worker, no earlier than ``delay_ms`` from now."""

    def check(self) -> None:
        """Raise if the broker cannot be reached (for ``/readyz``)."""

    def close(self) -> None:
        """Release connections and threads."""


@dataclass
class QueueSettings:
    """The queue's tunables, read from the settings once."""

    lease: timedelta
    max_attempts: int
    retry_min_ms: int
    retry_max_ms: int
    republish_after: timedelta

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> QueueSettings:
        return cls(
            lease=timedelta(seconds=int(settings["JOB_LEASE_SECONDS"])),
            max_attempts=int(settings["JOB_MAX_ATTEMPTS"]),
            retry_min_ms=int(settings["JOB_RETRY_MIN_SECONDS"]) * 1000,
            retry_max_ms=int(settings["JOB_RETRY_MAX_SECONDS"]) * 1000,
            republish_after=timedelta(seconds=int(settings["JOB_REPUBLISH_SECONDS"])),
        )


class JobQueue:
    """The application's job queue: its database, its services, its backend and its settings."""

    def __init__(self, database: Database, context: ServiceContext, backend: QueueBackend) -> None:
        self.database = database
        self.context = context
        self.backend = backend
        self.settings = QueueSettings.from_settings(context.settings)

    def publish(self, job_id: int, delay_ms: int = 0) -> None:
        """Publish ``job_id``; a broker error is logged (the relay publishes the job again later)."""
        try:
            self.backend.publish(job_id, delay_ms)
        except Exception:
            log.warning("job %s could not be published now; the scheduler will publish it again", job_id, exc_info=True)

    def run(self, job_id: int) -> Outcome:
        """Claim and run ``job_id`` here and now (what a worker does with a message)."""
        from marketplace.jobs.runner import execute

        return execute(self, job_id)

    def relay(self) -> int:
        """Publish every job that is due but has no live message: new jobs whose publication was lost, retries
        the backend does not bring back itself, and running jobs whose worker died (their lease ran out).
        Returns how many were published."""
        now = self.context.clock()
        stale = now - self.settings.republish_after
        waiting = sa.or_(col(BackgroundJob.published_at).is_(None), col(BackgroundJob.published_at) <= stale)
        if not self.backend.redelivers_retries:
            waiting = sa.or_(waiting, col(BackgroundJob.state) == JobState.RETRYING)
        due = sa.or_(
            sa.and_(
                col(BackgroundJob.state).in_([JobState.PENDING, JobState.RETRYING]),
                col(BackgroundJob.run_after) <= now,
                waiting,
            ),
            sa.and_(col(BackgroundJob.state) == JobState.RUNNING, col(BackgroundJob.claimed_until) < now),
        )
        with unit_of_work(self.database, self.context) as work:
            ids = [i for i in work.session.exec(select(BackgroundJob.id).where(due).limit(500)).all() if i]
            if ids:
                work.session.execute(
                    sa.update(BackgroundJob).where(col(BackgroundJob.id).in_(ids)).values(published_at=now)
                )
        for job_id in ids:
            self.publish(job_id)
        return len(ids)

    def depth(self) -> dict[str, int]:
        """How many jobs are pending, running, retrying and dead (for metrics and the command line)."""
        with unit_of_work(self.database, self.context) as work:
            return count_by_state(work.session)

    def check(self) -> None:
        self.backend.check()

    def close(self) -> None:
        self.backend.close()


def count_by_state(session: Session) -> dict[str, int]:
    """How many jobs are pending, running, retrying and dead, read in ``session``."""
    rows = session.execute(
        sa.select(BackgroundJob.state, sa.func.count())  # type: ignore[call-overload]
        .where(col(BackgroundJob.state).in_(OPEN_STATES))
        .group_by(BackgroundJob.state)
    ).all()
    counts: Counter[str] = Counter({state.value: 0 for state in OPEN_STATES})
    for state, count in rows:
        counts[JobState(state).value] = int(count)
    return dict(counts)


def enqueue(
    uow: UnitOfWork,
    kind: JobKind,
    payload: dict[str, Any] | None = None,
    *,
    delay: timedelta | None = None,
    dedupe_key: str | None = None,
    max_attempts: int | None = None,
) -> BackgroundJob | None:
    """Stage a ``kind`` job on ``uow``; it is published once ``uow`` commits, never if it rolls back.

    With ``dedupe_key``, a second job with the same key is not created (``None`` is returned): periodic runs and
    "at most one pending X" jobs use it. ``payload`` must be JSON: ids and small values, never secrets.
    """
    queue = uow.context.queue
    if queue is None:
        raise ServiceUnavailable(
            message="Background jobs are not set up on this server.", code=JobsErrorCode.QUEUE_NOT_CONFIGURED
        )
    now = uow.now()
    run_after = now + (delay or timedelta(0))
    job = BackgroundJob(
        kind=kind,
        payload=dict(payload or {}),
        max_attempts=max_attempts or queue.settings.max_attempts,
        dedupe_key=dedupe_key,
        run_after=run_after,
        # The relay steps in only when the message is overdue; a backend that cannot delay leaves it to the relay.
        published_at=run_after if (not delay or queue.backend.redelivers_retries) else None,
        created_at=now,
    )
    if dedupe_key is not None:
        exists = uow.session.exec(select(BackgroundJob.id).where(BackgroundJob.dedupe_key == dedupe_key)).first()
        if exists is not None:
            return None
        try:
            with uow.session.begin_nested():
                uow.session.add(job)
        except IntegrityError:  # another transaction created it first
            return None
    else:
        uow.session.add(job)
    uow.session.flush()
    assert job.id is not None
    job_id, delay_ms = job.id, int((delay or timedelta(0)).total_seconds() * 1000)
    uow.after_commit(lambda: queue.publish(job_id, delay_ms))
    return job
