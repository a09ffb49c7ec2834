"""Periodic jobs and the scheduler's tick.

Each tick (every ``JOB_TICK_SECONDS``, from ``marketplace worker`` or the development server) does two things:

* enqueues every periodic job that is due. A schedule's next time is moved forward with a compare-and-set
  ``UPDATE``, and the job carries a dedupe key naming its slot, so any number of schedulers running at once enqueue
  each run once;
* relays: publishes again the jobs whose message may have been lost (see :meth:`JobQueue.relay`).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from marketplace.db import unit_of_work
from marketplace.jobs.models import JobKind, JobSchedule
from marketplace.jobs.queue import JobQueue, enqueue

log = logging.getLogger(__name__)

# Every periodic job and how often it runs. Each is safe to run at any time: it moves only what is due.
PERIODIC: dict[JobKind, timedelta] = {
    JobKind.WEBHOOK_DELIVERY: timedelta(minutes=1),  # deliveries due for a retry (each delivery also wakes a job)
    JobKind.GRANT_EXPIRY: timedelta(minutes=10),  # licenses whose term ended are expired; 14-day notices
    JobKind.ACCESS_SWEEP: timedelta(minutes=30),  # approvals, agreements and credentials that ended; 14-day notices
    JobKind.ACCESS_DIGEST: timedelta(hours=24),  # the reviewers' daily digest
    JobKind.CUSTOM_SWEEP: timedelta(minutes=10),  # quotes and requests that expired; milestones accepted by silence
    JobKind.PAYMENTS_RECONCILE: timedelta(minutes=10),  # payments whose webhook never came; failed transfers
    JobKind.PURGE_EXPIRED: timedelta(hours=1),  # idempotency records and OAuth tokens past their time
    JobKind.WITHDRAWAL_SWEEP: timedelta(hours=1),  # withdrawal reminders before the deadline, overdue after it
}


def enqueue_due(queue: JobQueue) -> list[JobKind]:
    """Enqueue each periodic job whose time has come; returns the kinds enqueued by this call."""
    enqueued: list[JobKind] = []
    with unit_of_work(queue.database, queue.context) as work:
        now = work.now()
        known = {row.kind: row for row in work.session.exec(select(JobSchedule)).all()}
        for kind in PERIODIC:
            if kind not in known:
                try:
                    with work.session.begin_nested():
                        work.session.add(JobSchedule(kind=kind, next_run_at=now))
                except IntegrityError:
                    pass  # another scheduler added it
        work.session.flush()
    with unit_of_work(queue.database, queue.context) as work:
        now = work.now()
        for row in work.session.exec(select(JobSchedule).where(col(JobSchedule.next_run_at) <= now)).all():
            interval = PERIODIC.get(row.kind)
            if interval is None:
                continue
            slot = row.next_run_at
            moved = work.session.execute(
                sa.update(JobSchedule)
                .where(col(JobSchedule.kind) == row.kind, col(JobSchedule.next_run_at) == slot)
                .values(next_run_at=_next_slot(slot, interval, now))
            )
            if getattr(moved, "rowcount", 0) and enqueue(
                work, row.kind, {}, dedupe_key=f"{row.kind}@{slot:%Y%m%dT%H%M%S}"
            ):
                enqueued.append(row.kind)
    return enqueued


def _next_slot(slot: datetime, interval: timedelta, now: datetime) -> datetime:
    """The first slot after ``now`` on ``slot``'s grid (runs missed while nothing ran are not made up one by one)."""
    missed = max(0, int((now - slot) / interval))
    return slot + interval * (missed + 1)


def tick(queue: JobQueue) -> None:
    """One scheduler tick: periodic jobs, then the relay. Errors are logged; the next tick tries again."""
    try:
        enqueue_due(queue)
        queue.relay()
    except Exception:
        log.exception("scheduler tick failed")


class Scheduler:
    """Ticks in a daemon thread every ``interval`` seconds until :meth:`stop`."""

    def __init__(self, queue: JobQueue, interval: float) -> None:
        self.queue = queue
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="job-scheduler", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            tick(self.queue)
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
