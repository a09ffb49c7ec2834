"""The queue through Dramatiq and a real Redis (``TEST_REDIS_URL``), with real commits on a scratch database:
a job runs on a worker right after the commit, a failed attempt comes back through Dramatiq's retries, several
workers run each job exactly once, and a webhook is delivered by the worker.

One app per simulated process, as under gunicorn and ``marketplace worker``.
"""

from __future__ import annotations

import os
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from sqlmodel import select

from marketplace import create_app, migrate
from marketplace.db import UnitOfWork, unit_of_work
from marketplace.jobs import handlers
from marketplace.jobs.backends import DramatiqBackend
from marketplace.jobs.handlers import JobSpec
from marketplace.jobs.models import BackgroundJob, JobKind, JobState
from marketplace.jobs.queue import enqueue
from tests.conftest import base_settings, drop_scratch_database, scratch_database_url

REDIS_URL = os.environ.get("TEST_REDIS_URL", "")
pytestmark = pytest.mark.skipif(not REDIS_URL, reason="TEST_REDIS_URL is not set (the CI run sets it)")


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, str]]:
    path = tmp_path_factory.mktemp("dramatiq")
    url = scratch_database_url(path, "dramatiq_jobs")
    migrate.upgrade(url)
    yield path, url
    drop_scratch_database(url)


@pytest.fixture()
def make_app(scratch: tuple[Any, str]) -> Iterator[Callable[[], Flask]]:
    """Apps sharing the scratch database and one fresh Redis namespace; their workers are stopped afterwards."""
    path, url = scratch
    namespace = f"test-{uuid.uuid4().hex[:8]}"
    apps: list[Flask] = []
    workers: list[Any] = []

    def make(threads: int = 2) -> Flask:
        settings = base_settings(path, url)
        settings.update(JOB_BROKER_URL=REDIS_URL, JOB_NAMESPACE=namespace, JOB_RETRY_MIN_SECONDS=1)
        app = create_app(settings)
        backend = app.extensions["marketplace.context"].queue.backend
        assert isinstance(backend, DramatiqBackend)
        worker = backend.worker(threads)
        worker.start()
        apps.append(app)
        workers.append(worker)
        return app

    yield make
    for worker in workers:
        worker.stop(timeout=5000)
    for app in apps:
        app.extensions["marketplace.context"].queue.close()
        app.extensions["marketplace.db"].dispose()


def _work(app: Flask) -> Any:
    return unit_of_work(app.extensions["marketplace.db"], app.extensions["marketplace.context"])


def _wait_for(app: Flask, ids: list[int], state: JobState, timeout: float = 20) -> list[BackgroundJob]:
    deadline = time.monotonic() + timeout
    while True:
        with _work(app) as work:
            jobs = list(work.session.exec(select(BackgroundJob).where(BackgroundJob.id.in_(ids))).all())  # type: ignore[union-attr]
        if all(job.state is state for job in jobs) or time.monotonic() > deadline:
            return jobs
        time.sleep(0.1)


def test_a_job_runs_on_a_worker_after_the_commit_and_retries_through_dramatiq(make_app, monkeypatch) -> None:
    runs: list[int] = []

    def flaky(work: UnitOfWork, payload: dict[str, Any]) -> None:
        runs.append(payload["n"])
        if runs.count(payload["n"]) == 1 and payload["n"] == 2:
            raise RuntimeError("first attempt fails")

    monkeypatch.setitem(handlers.HANDLERS, JobKind.PURGE_EXPIRED, JobSpec(flaky))
    app = make_app()
    with _work(app) as work:
        ids = [enqueue(work, JobKind.PURGE_EXPIRED, {"n": n}).id for n in (1, 2)]  # type: ignore[union-attr]
    jobs = _wait_for(app, ids, JobState.SUCCEEDED)
    assert {job.id: (job.state, job.attempts) for job in jobs} == {
        ids[0]: (JobState.SUCCEEDED, 1),
        ids[1]: (JobState.SUCCEEDED, 2),
    }
    assert sorted(runs) == [1, 2, 2]


def test_several_workers_run_each_job_exactly_once(make_app, monkeypatch) -> None:
    runs: Counter[int] = Counter()

    def count(work: UnitOfWork, payload: dict[str, Any]) -> None:
        runs[payload["n"]] += 1
        time.sleep(0.01)

    monkeypatch.setitem(handlers.HANDLERS, JobKind.PURGE_EXPIRED, JobSpec(count))
    first, second = make_app(threads=3), make_app(threads=3)
    with _work(first) as work:
        ids = [enqueue(work, JobKind.PURGE_EXPIRED, {"n": n}).id for n in range(40)]  # type: ignore[union-attr]
    # The same messages published again (as the relay does after a lost publication): still run once each.
    queue = second.extensions["marketplace.context"].queue
    for job_id in ids:
        queue.publish(job_id)
    jobs = _wait_for(first, ids, JobState.SUCCEEDED)
    assert all(job.state is JobState.SUCCEEDED for job in jobs)
    assert runs == Counter(range(40))


def test_the_readiness_probe_checks_the_broker(make_app, scratch) -> None:
    app = make_app()
    ready = app.test_client().get("/readyz")
    assert ready.get_json()["checks"]["queue"]["status"] == "ok"
    path, url = scratch
    settings = base_settings(path, url)
    settings.update(JOB_BROKER_URL="redis://127.0.0.1:1/0")  # nothing listens there
    broken = create_app(settings)
    try:
        response = broken.test_client().get("/readyz")
        assert response.status_code == 503
        assert response.get_json()["checks"]["queue"]["status"] == "unavailable"
    finally:
        broken.extensions["marketplace.db"].dispose()
