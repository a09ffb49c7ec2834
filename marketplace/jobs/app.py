"""Wiring the job queue into the application: its backend chosen by the settings, the development scheduler, the
readiness probe and the commands (``marketplace worker``, ``marketplace jobs …``)."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from marketplace.db import Database, ServiceContext
from marketplace.jobs.backends import DramatiqBackend, InProcessBackend
from marketplace.jobs.queue import JobQueue, QueueBackend
from marketplace.jobs.scheduler import Scheduler, enqueue_due, tick

log = logging.getLogger(__name__)


class _LateRun:
    """Calls the queue's ``run`` once the queue exists (the backend is built before the queue it serves)."""

    queue: JobQueue | None = None

    def __call__(self, job_id: int) -> Any:
        assert self.queue is not None
        return self.queue.run(job_id)


def queue_from_settings(database: Database, context: ServiceContext) -> JobQueue:
    """The queue ``JOB_BROKER_URL`` asks for: Dramatiq over Redis, or in-process (synchronous under ``TESTING``)."""
    settings = context.settings
    run = _LateRun()
    url = str(settings.get("JOB_BROKER_URL") or "")
    backend: QueueBackend
    if url:
        backend = DramatiqBackend(url, run, settings)
    else:
        backend = InProcessBackend(run, synchronous=bool(settings.get("TESTING")))
    queue = JobQueue(database, context, backend)
    run.queue = queue
    return queue


def init_app(app: Flask, queue: JobQueue) -> None:
    """The admin pages, the readiness probe, the commands, and in development a scheduler in the web process."""
    from marketplace import metrics
    from marketplace.health import register_probe
    from marketplace.jobs.views import bp

    app.register_blueprint(bp)
    register_probe(app, "queue", queue.check)
    metrics.set_queue_depth_source(queue.depth)  # marketplace_job_queue_depth{state}, read at each scrape
    app.cli.add_command(worker_command)
    app.cli.add_command(jobs_group)
    backend = queue.backend
    schedulers: list[Scheduler] = []
    if isinstance(backend, InProcessBackend) and not backend.synchronous:
        started = threading.Event()

        @app.before_request
        def _start_scheduler() -> None:
            # Only a process that serves requests runs one (not `marketplace db upgrade`, say).
            if not started.is_set():
                started.set()
                scheduler = Scheduler(queue, float(app.config["JOB_TICK_SECONDS"]))
                schedulers.append(scheduler)
                scheduler.start()

    database = queue.database
    dispose = database.dispose

    def _dispose_after_stopping_the_jobs() -> None:
        # Neither the scheduler nor a job thread may outlive the engine they use (tests dispose apps one by one).
        for scheduler in schedulers:
            scheduler.stop()
        queue.close()
        dispose()

    database.dispose = _dispose_after_stopping_the_jobs  # type: ignore[method-assign]


def _queue() -> JobQueue:
    context: ServiceContext = current_app.extensions["marketplace.context"]
    assert context.queue is not None
    return context.queue


@click.command("worker")
@click.option("--threads", type=int, default=None, help="Jobs run at the same time (default JOB_WORKER_THREADS).")
@click.option("--no-scheduler", is_flag=True, help="Do not run the scheduler here (another process runs it).")
def worker_command(threads: int | None, no_scheduler: bool) -> None:
    """Run background jobs until stopped (SIGTERM or Ctrl-C finishes the jobs in hand, then exits).

    With ``JOB_BROKER_URL`` it consumes the Dramatiq queue in Redis; without it, it runs due jobs straight from the
    database. Either way it also runs the scheduler (periodic jobs and the relay of lost ones); several workers may
    run it at once.
    """
    queue = _queue()
    threads = threads or int(current_app.config["JOB_WORKER_THREADS"])
    _serve_metrics(str(current_app.config["JOB_METRICS_BIND"]))
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    backend = queue.backend
    worker = backend.worker(threads) if isinstance(backend, DramatiqBackend) else None
    if worker is not None:
        worker.start()
    interval = float(current_app.config["JOB_TICK_SECONDS"])
    click.echo(f"worker: {backend.name} backend, {threads} thread(s), scheduler {'off' if no_scheduler else 'on'}")
    try:
        while not stop.is_set():
            if not no_scheduler:
                tick(queue)
            elif worker is None:
                queue.relay()  # without a broker the relay is how due jobs reach this process
            stop.wait(interval)
    finally:
        if worker is not None:
            worker.stop(timeout=int(current_app.config["JOB_LEASE_SECONDS"]) * 1000)
        queue.close()
        click.echo("worker: stopped")


def _serve_metrics(bind: str) -> None:
    """Serve this worker's metrics (job outcomes and durations, queue depth) for Prometheus at ``host:port``."""
    if not bind:
        return
    from prometheus_client import start_http_server

    from marketplace.metrics import scrape_registry

    host, _, port = bind.rpartition(":")
    start_http_server(int(port), addr=host or "127.0.0.1", registry=scrape_registry())
    click.echo(f"worker: metrics at http://{host or '127.0.0.1'}:{port}/metrics")


jobs_group = AppGroup("jobs", help="Background jobs: the queue's state, the dead-letter list, retries.")


@jobs_group.command("status")
def status_command() -> None:
    """Print how many jobs are pending, running, retrying and dead."""
    for state, count in _queue().depth().items():
        click.echo(f"{state}: {count}")


@jobs_group.command("tick")
def tick_command() -> None:
    """Enqueue the periodic jobs that are due and publish lost ones, once (what the scheduler does each tick)."""
    queue = _queue()
    kinds = enqueue_due(queue)
    relayed = queue.relay()
    click.echo(f"periodic jobs enqueued: {', '.join(kinds) or 'none'}; jobs published again: {relayed}")


@jobs_group.command("retry")
@click.argument("job_id", type=int)
def retry_command(job_id: int) -> None:
    """Send a dead job round again (as the admin page's Retry button does)."""
    from marketplace.cli import _uow
    from marketplace.jobs.admin import retry_dead

    with _uow() as work:
        job = retry_dead(work, None, job_id)
    click.echo(f"job {job.id} ({job.kind}) queued again")
