"""The job queue in process: enqueued with the transaction, run once, retried with backoff, given up into the
dead-letter view, taken over when its worker died, and run by the scheduler."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session, select

from marketplace.db import UnitOfWork
from marketplace.jobs import handlers
from marketplace.jobs.admin import retry_dead
from marketplace.jobs.models import BackgroundJob, JobKind, JobSchedule, JobState
from marketplace.jobs.queue import JobQueue, enqueue
from marketplace.jobs.scheduler import PERIODIC, enqueue_due
from marketplace.jobs.states import IllegalJobMove
from tests.factories import UserFactory

from .conftest import Clock, Flaky


def _queue(app: Any) -> JobQueue:
    queue = app.extensions["marketplace.context"].queue
    assert queue is not None
    return queue


def _uow(app: Any, db_session: Session) -> UnitOfWork:
    return UnitOfWork(db_session, app.extensions["marketplace.context"])


def _job(db_session: Session, job_id: int) -> BackgroundJob:
    db_session.expire_all()
    job = db_session.get(BackgroundJob, job_id)
    assert job is not None
    return job


def test_every_kind_has_one_handler_and_every_periodic_job_a_kind() -> None:
    assert set(handlers.HANDLERS) == set(JobKind)
    assert set(PERIODIC) <= set(JobKind)


def test_a_job_runs_once_its_transaction_commits(app, db_session, flaky: Flaky) -> None:
    work = _uow(app, db_session)
    job = enqueue(work, JobKind.PURGE_EXPIRED, {"n": 1})
    assert job is not None and job.id is not None
    assert flaky.runs == []  # not before the commit
    work.commit()
    assert flaky.runs == [{"n": 1}]
    done = _job(db_session, job.id)
    assert (done.state, done.attempts, done.finished_at is not None) == (JobState.SUCCEEDED, 1, True)
    # A second delivery of the same message (a broker redelivers) does not run it again.
    assert _queue(app).run(job.id).state is None
    assert len(flaky.runs) == 1


def test_a_rolled_back_change_leaves_no_job(app, db_session, flaky: Flaky) -> None:
    work = _uow(app, db_session)
    with db_session.begin_nested() as savepoint:
        enqueue(work, JobKind.PURGE_EXPIRED, {"n": 1})
        savepoint.rollback()
    work.rollback()
    assert db_session.exec(select(BackgroundJob)).all() == []
    assert flaky.runs == []


def test_a_failing_job_is_retried_with_backoff_then_given_up(app, db_session, flaky: Flaky, clock: Clock) -> None:
    flaky.failures = 99
    work = _uow(app, db_session)
    job = enqueue(work, JobKind.PURGE_EXPIRED, {}, max_attempts=3)
    assert job is not None and job.id is not None
    work.commit()
    first = _job(db_session, job.id)
    assert (first.state, first.attempts) == (JobState.RETRYING, 1)
    assert "boom #1" in first.last_error
    wait = first.run_after - clock()
    assert wait.total_seconds() >= app.config["JOB_RETRY_MIN_SECONDS"] * 0.9
    # Not due yet: the relay leaves it alone.
    _queue(app).relay()
    assert len(flaky.runs) == 1
    clock.advance(seconds=wait.total_seconds() + 1)
    _queue(app).relay()
    second = _job(db_session, job.id)
    assert (second.state, second.attempts) == (JobState.RETRYING, 2)
    # The backoff grows.
    assert second.run_after - clock() > wait
    clock.advance(hours=2)
    _queue(app).relay()
    dead = _job(db_session, job.id)
    assert (dead.state, dead.attempts, len(flaky.runs)) == (JobState.DEAD, 3, 3)
    assert flaky.given_up and "boom #3" in flaky.given_up[0]
    clock.advance(hours=2)
    assert _queue(app).relay() == 0  # a dead job waits for an administrator


def test_an_admin_sends_a_dead_job_round_again(app, db_session, flaky: Flaky) -> None:
    flaky.failures = 1
    work = _uow(app, db_session)
    job = enqueue(work, JobKind.PURGE_EXPIRED, {}, max_attempts=1)
    assert job is not None and job.id is not None
    work.commit()
    assert _job(db_session, job.id).state is JobState.DEAD
    nobody = UserFactory()
    admin = UserFactory(is_platform_admin=True)
    db_session.flush()
    from marketplace.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        retry_dead(_uow(app, db_session), nobody, job.id)
    work = _uow(app, db_session)
    retry_dead(work, admin, job.id)
    work.commit()
    again = _job(db_session, job.id)
    assert (again.state, again.attempts, len(flaky.runs)) == (JobState.SUCCEEDED, 1, 2)
    with pytest.raises(IllegalJobMove):  # only a dead job can be retried
        retry_dead(_uow(app, db_session), admin, job.id)


def test_a_job_whose_worker_died_runs_again_once_its_lease_ends(app, db_session, flaky: Flaky, clock: Clock) -> None:
    # A worker claimed the job and was killed: the row says "running" and nothing else happened.
    job = BackgroundJob(
        kind=JobKind.PURGE_EXPIRED,
        state=JobState.RUNNING,
        attempts=1,
        claimed_until=clock() + _queue(app).settings.lease,
        run_after=clock(),
        published_at=clock(),
    )
    db_session.add(job)
    db_session.flush()
    assert job.id is not None
    assert _queue(app).run(job.id).state is None  # still leased: nobody else may take it
    assert _queue(app).relay() == 0
    clock.advance(seconds=_queue(app).settings.lease.total_seconds() + 1)
    assert _queue(app).relay() == 1
    done = _job(db_session, job.id)
    assert (done.state, done.attempts, len(flaky.runs)) == (JobState.SUCCEEDED, 2, 1)


def test_a_job_whose_publication_was_lost_is_published_again(app, db_session, flaky: Flaky, clock: Clock) -> None:
    job = BackgroundJob(kind=JobKind.PURGE_EXPIRED, run_after=clock(), published_at=clock())
    db_session.add(job)
    db_session.flush()
    assert _queue(app).relay() == 0  # published a moment ago: its message may still arrive
    clock.advance(seconds=_queue(app).settings.republish_after.total_seconds() + 1)
    assert _queue(app).relay() == 1
    assert flaky.runs == [{}]


def test_a_delayed_job_waits_for_its_time(app, db_session, flaky: Flaky, clock: Clock) -> None:
    from datetime import timedelta

    work = _uow(app, db_session)
    job = enqueue(work, JobKind.PURGE_EXPIRED, {}, delay=timedelta(minutes=5))
    assert job is not None and job.id is not None
    work.commit()
    assert flaky.runs == []
    assert _queue(app).run(job.id).state is None  # an early message does not run it
    clock.advance(minutes=5, seconds=1)
    _queue(app).relay()
    assert _job(db_session, job.id).state is JobState.SUCCEEDED


def test_the_scheduler_enqueues_each_periodic_run_once(app, db_session, flaky: Flaky, clock: Clock) -> None:
    queue = _queue(app)
    first = enqueue_due(queue)
    assert set(first) == set(PERIODIC)
    # A second scheduler ticking at the same moment enqueues nothing more.
    assert enqueue_due(queue) == []
    purges = db_session.exec(select(BackgroundJob).where(BackgroundJob.kind == JobKind.PURGE_EXPIRED)).all()
    assert len(purges) == 1 and purges[0].state is JobState.SUCCEEDED
    schedule = db_session.get(JobSchedule, JobKind.PURGE_EXPIRED)
    assert schedule is not None
    assert schedule.next_run_at > clock()
    clock.advance(seconds=PERIODIC[JobKind.PURGE_EXPIRED].total_seconds() + 1)
    assert JobKind.PURGE_EXPIRED in enqueue_due(queue)
    assert len(flaky.runs) == 2


def test_every_periodic_job_runs_on_an_empty_database(app, db_session, clock: Clock) -> None:
    """The real handlers of every sweep run (and succeed) from the scheduler."""
    enqueue_due(_queue(app))
    db_session.expire_all()
    jobs = db_session.exec(select(BackgroundJob)).all()
    assert {job.kind for job in jobs} == set(PERIODIC)
    assert {job.kind: (job.state, job.last_error) for job in jobs} == {
        kind: (JobState.SUCCEEDED, "") for kind in PERIODIC
    }


def test_a_worker_whose_lease_ran_out_cannot_commit_over_the_one_that_took_over(
    app, db_session, clock: Clock, monkeypatch
) -> None:
    queue = _queue(app)
    job = BackgroundJob(kind=JobKind.PURGE_EXPIRED, run_after=clock(), published_at=clock())
    db_session.add(job)
    db_session.flush()
    assert job.id is not None
    job_id, runs = job.id, []

    def stalls_the_first_time(work: UnitOfWork, payload: dict[str, Any]) -> None:
        runs.append(len(runs) + 1)
        mark = JobKind.SEND_MAIL if len(runs) == 1 else JobKind.CATALOG_IMPORT
        if len(runs) == 1:
            # This worker stalls past its lease; another takes the job over and finishes it first.
            clock.advance(seconds=queue.settings.lease.total_seconds() + 1)
            assert queue.run(job_id).state is JobState.SUCCEEDED
        work.session.add(JobSchedule(kind=mark, next_run_at=clock()))  # the job's own change

    monkeypatch.setitem(handlers.HANDLERS, JobKind.PURGE_EXPIRED, handlers.JobSpec(stalls_the_first_time))
    assert queue.run(job_id).state is None  # the stalled run is void
    db_session.expire_all()
    assert [row.kind for row in db_session.exec(select(JobSchedule)).all()] == [JobKind.CATALOG_IMPORT]
    done = _job(db_session, job_id)
    assert (done.state, done.attempts, runs) == (JobState.SUCCEEDED, 2, [1, 2])


def test_a_late_worker_cannot_record_over_a_running_takeover(app, db_session, clock: Clock, monkeypatch) -> None:
    from marketplace.jobs import runner

    queue = _queue(app)
    job = BackgroundJob(kind=JobKind.PURGE_EXPIRED, run_after=clock(), published_at=clock())
    db_session.add(job)
    db_session.flush()
    assert job.id is not None
    job_id = job.id

    def stalls(work: UnitOfWork, payload: dict[str, Any]) -> None:
        clock.advance(seconds=queue.settings.lease.total_seconds() + 1)
        assert runner._claim(queue, job_id) is not None  # another worker takes it over and is still at it
        work.session.add(JobSchedule(kind=JobKind.SEND_MAIL, next_run_at=clock()))

    monkeypatch.setitem(handlers.HANDLERS, JobKind.PURGE_EXPIRED, handlers.JobSpec(stalls))
    assert queue.run(job_id).state is None
    db_session.expire_all()
    assert db_session.exec(select(JobSchedule)).all() == []  # the late worker's changes were rolled back
    taken = _job(db_session, job_id)
    assert (taken.state, taken.attempts) == (JobState.RUNNING, 2)


def test_a_dedupe_key_makes_one_job(app, db_session, flaky: Flaky) -> None:
    work = _uow(app, db_session)
    first = enqueue(work, JobKind.PURGE_EXPIRED, {}, dedupe_key="purge@slot")
    second = enqueue(work, JobKind.PURGE_EXPIRED, {}, dedupe_key="purge@slot")
    assert first is not None and second is None
    work.commit()
    assert len(db_session.exec(select(BackgroundJob)).all()) == 1
    assert flaky.runs == [{}]
