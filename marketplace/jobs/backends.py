"""The two ways a job id reaches a worker: Dramatiq over Redis (production), or this very process (development
and tests). Both run a job through the same :meth:`~marketplace.jobs.queue.JobQueue.run`."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker

if TYPE_CHECKING:
    from marketplace.jobs.runner import Outcome

log = logging.getLogger(__name__)

ACTOR_NAME = "marketplace_run_job"
QUEUE_NAME = "jobs"


class InProcessBackend:
    """Runs a published job in this process: at once in the publishing thread (``synchronous``, for tests, so a
    test sees the outcome when its request returns), or on a small thread pool (the development server).

    Nothing is kept outside the database: a delayed job or a retry is run by the scheduler's relay when due.
    """

    name = "in-process"
    redelivers_retries = False

    def __init__(self, run: Callable[[int], Outcome], *, synchronous: bool, threads: int = 2) -> None:
        self._run = run
        self.synchronous = synchronous
        self._pool: ThreadPoolExecutor | None = None
        self._threads = threads
        self._lock = threading.Lock()

    def publish(self, job_id: int, delay_ms: int = 0) -> None:
        if delay_ms > 0:
            return  # the relay runs it when it is due
        if self.synchronous:
            self._run(job_id)
            return
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=self._threads, thread_name_prefix="job")
            pool = self._pool
        pool.submit(self._safely, job_id)

    def _safely(self, job_id: int) -> None:
        try:
            self._run(job_id)
        except Exception:
            log.exception("job %s crashed the in-process runner", job_id)

    def check(self) -> None:
        return None

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)


class DramatiqBackend:
    """Publishes job ids to Redis through Dramatiq; ``marketplace worker`` consumes them.

    Dramatiq acknowledges a message only when the actor returns, and its Redis broker gives the unacknowledged
    messages of a worker that stopped sending heartbeats (killed, say) back to the queue: a job is never lost with
    its worker. Failed attempts come back through Dramatiq's ``Retries`` middleware after the backoff the runner
    computed (``dramatiq.Retry(delay=…)``); whether the job is finally given up is decided by the job's row.
    """

    name = "dramatiq"
    redelivers_retries = True

    def __init__(self, url: str, run: Callable[[int], Outcome], settings: dict[str, Any]) -> None:
        self.broker = RedisBroker(  # type: ignore[no-untyped-call]
            url=url,
            namespace=str(settings["JOB_NAMESPACE"]),
            heartbeat_timeout=int(settings["JOB_HEARTBEAT_SECONDS"]) * 1000,
        )
        self._run = run
        self._url = url
        self.actor: dramatiq.Actor[[int], None] = dramatiq.Actor(
            self._perform,
            broker=self.broker,
            actor_name=ACTOR_NAME,
            queue_name=QUEUE_NAME,
            priority=0,
            options={
                # The job row decides when to give up; Dramatiq only carries the retries.
                "max_retries": 10_000,
                # A job may not outlive its lease: past it, another worker may take the job over.
                "time_limit": int(settings["JOB_LEASE_SECONDS"]) * 1000,
            },
        )

    def _perform(self, job_id: int) -> None:
        outcome = self._run(job_id)
        if outcome.retry_in_ms is not None:
            raise dramatiq.Retry(f"job {job_id} failed; retrying", delay=outcome.retry_in_ms)

    def publish(self, job_id: int, delay_ms: int = 0) -> None:
        self.actor.send_with_options(args=(job_id,), delay=delay_ms or None)

    def check(self) -> None:
        import redis

        client = redis.Redis.from_url(self._url, socket_timeout=2, socket_connect_timeout=2)
        try:
            client.ping()
        finally:
            client.close()

    def close(self) -> None:
        self.broker.close()

    def worker(self, threads: int) -> dramatiq.Worker:
        """A Dramatiq worker consuming this backend's queue with ``threads`` threads (not started)."""
        return dramatiq.Worker(self.broker, queues={QUEUE_NAME}, worker_threads=threads)
