"""A live server on a free loopback port, its own migrated database, and headless Chromium through Playwright.

Chromium is Debian's (``/usr/bin/chromium``, or ``CHROMIUM_PATH``); nothing downloads a browser.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.serving import make_server

from marketplace import create_app, migrate
from marketplace.mail import ConsoleMailer
from tests.conftest import base_settings, drop_scratch_database, scratch_database_url
from tests.e2e.a11y import Watch, watching

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail("Debian's chromium is not installed: run `make test`, which installs it with apt-get")
    return path


@dataclass
class LiveServer:
    url: str
    app: Flask

    @property
    def outbox(self) -> ConsoleMailer:
        """The mail sent so far, once the jobs that are due (mail is a job, run on the server's own threads,
        as in development) have run."""
        self.wait_for_jobs()
        mailer = self.app.extensions["marketplace.mailer"]
        assert isinstance(mailer, ConsoleMailer)
        return mailer

    def wait_for_jobs(self, timeout: float = 15) -> None:
        """Wait until no job that is due is waiting or running."""
        from sqlmodel import col

        from marketplace.db import unit_of_work
        from marketplace.jobs.models import BackgroundJob, JobState

        database, context = self.app.extensions["marketplace.db"], self.app.extensions["marketplace.context"]
        deadline = time.monotonic() + timeout
        while True:
            with unit_of_work(database, context) as work:
                busy = work.session.execute(
                    sa.select(sa.func.count())
                    .select_from(BackgroundJob)
                    .where(
                        col(BackgroundJob.state).in_([JobState.PENDING, JobState.RUNNING]),
                        col(BackgroundJob.run_after) <= work.now(),
                    )
                ).scalar_one()
            if not busy or time.monotonic() > deadline:
                return
            time.sleep(0.05)


@pytest.fixture()
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    url = scratch_database_url(tmp_path, "e2e")
    migrate.upgrade(url)
    settings = base_settings(tmp_path, url)
    settings.pop("TESTING")
    server = make_server("127.0.0.1", 0, None, threaded=True)  # type: ignore[arg-type]
    port = server.socket.getsockname()[1]
    settings["BASE_URL"] = f"http://127.0.0.1:{port}"
    app = create_app(settings)
    server.app = app  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(url=settings["BASE_URL"], app=app)
    finally:
        server.shutdown()
        app.extensions["marketplace.db"].dispose()
        drop_scratch_database(url)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_FLAGS)
        yield instance
        instance.close()


@pytest.fixture(autouse=True)
def a11y() -> Iterator[Watch]:
    """axe-core on every page each test acts on or ends on, in any tab or context (see tests/e2e/a11y.py): the
    test fails at teardown listing each serious or critical violation with its page, rule and elements."""
    with watching() as watch:
        yield watch
        watch.finish()


@pytest.fixture()
def page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context()
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    yield page
    context.close()
    csp = [e for e in errors if "Content Security Policy" in e]
    assert not csp, f"the page broke its own CSP: {csp}"
