"""The stack test's fixtures: one running stack per module, and every process's log added to a failing test's
report (so a failure shows what gunicorn, the job worker and the S3 server said)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support.stack import Stack, StackFailed, StackUnavailable, require_services

# Cheap password hashes (the demo accounts are hashed at seed time); quick webhook retries; a job queue whose
# scheduler ticks every second and takes a silent worker for dead after a few seconds.
STACK_ENV = {
    "PASSWORD_HASHER_PROFILE": "CHEAPEST",
    "WEBHOOK_TIMEOUT_SECONDS": "2",
    "WEBHOOK_RETRY_SCHEDULE": "1,2",
    "JOB_TICK_SECONDS": "1",
    "JOB_HEARTBEAT_SECONDS": "3",
    "JOB_RETRY_MIN_SECONDS": "1",
    "JOB_REPUBLISH_SECONDS": "5",
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not os.environ.get("TEST_DATABASE_URL"):
        # The stack always runs on PostgreSQL, whatever the suite's database: it runs in the PostgreSQL pass only,
        # so a run of both passes starts it once.
        pytest.skip("the multi-process stack runs in the PostgreSQL pass (TEST_DATABASE_URL is not set)")
    try:
        require_services()
    except StackUnavailable as missing:
        pytest.skip(f"the multi-process stack needs its backing services: {missing}")
    running = Stack(tmp_path_factory.mktemp("stack"), extra_env=dict(STACK_ENV))
    try:
        running.start()
    except StackFailed as failure:
        pytest.fail(str(failure), pytrace=False)
    try:
        yield running
    finally:
        running.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report = yield
    running = getattr(item, "funcargs", {}).get("stack")
    if report.failed and isinstance(running, Stack):
        report.sections.append(("logs of the stack's processes", running.logs()))
    return report
