"""What administrators may do with jobs: look at the queue and send dead jobs round again."""

from __future__ import annotations

from sqlmodel import Session, col, func, select

from marketplace.accounts.models import User
from marketplace.db import UnitOfWork
from marketplace.errors import NotFound
from marketplace.jobs import states
from marketplace.jobs.models import BackgroundJob, JobState
from marketplace.jobs.states import JobMove
from marketplace.permissions import Action, require

PAGE_SIZE = 50


def list_jobs(session: Session, user: User, state: JobState, *, page: int = 1) -> tuple[list[BackgroundJob], int]:
    """Jobs in ``state``, newest first, one page of :data:`PAGE_SIZE`, and how many there are (admins only)."""
    require(session, user, Action.PLATFORM_ADMIN)
    total = session.exec(select(func.count()).select_from(BackgroundJob).where(BackgroundJob.state == state)).one()
    rows = session.exec(
        select(BackgroundJob)
        .where(BackgroundJob.state == state)
        .order_by(col(BackgroundJob.id).desc())
        .offset((max(page, 1) - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    return list(rows), int(total)


def retry_dead(work: UnitOfWork, user: User | None, job_id: int) -> BackgroundJob:
    """Send dead job ``job_id`` round again with a fresh set of attempts; published once ``work`` commits.

    ``user`` must be a platform admin (``None`` is the command line, run by the operator). Only a dead job can be
    retried: anything else is an :class:`~marketplace.jobs.states.IllegalJobMove`.
    """
    if user is not None:
        require(work.session, user, Action.PLATFORM_ADMIN)
    job = work.session.get(BackgroundJob, job_id)
    if job is None:
        raise NotFound(message="No such job.")
    states.apply(job, JobMove.RETRY)
    now = work.now()
    job.attempts = 0
    job.run_after = now
    job.published_at = now
    job.finished_at = None
    work.session.add(job)
    queue = work.context.queue
    if queue is not None:
        work.after_commit(lambda: queue.publish(job_id))
    return job
