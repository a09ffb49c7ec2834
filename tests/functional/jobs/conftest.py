"""Fixtures of the job-queue tests: a movable clock and a handler that fails on demand."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from marketplace.db import UnitOfWork
from marketplace.jobs import handlers
from marketplace.jobs.handlers import JobSpec
from marketplace.jobs.models import JobKind
from tests.support.clock import Clock


@pytest.fixture()
def clock(app: Any) -> Clock:
    clock = Clock()
    app.extensions["marketplace.context"].clock = clock
    return clock


@dataclass
class Flaky:
    """Stands in for a kind's handler: fails its first ``failures`` runs, then succeeds; records every run."""

    failures: int = 0
    runs: list[dict[str, Any]] = field(default_factory=list)
    given_up: list[str] = field(default_factory=list)

    def run(self, work: UnitOfWork, payload: dict[str, Any]) -> None:
        self.runs.append(payload)
        if len(self.runs) <= self.failures:
            raise RuntimeError(f"boom #{len(self.runs)}")

    def give_up(self, work: UnitOfWork, payload: dict[str, Any], reason: str) -> None:
        self.given_up.append(reason)


@pytest.fixture()
def flaky(monkeypatch: pytest.MonkeyPatch) -> Flaky:
    """The purge job's handler replaced by a :class:`Flaky` (set ``failures`` in the test)."""
    stand_in = Flaky()
    monkeypatch.setitem(handlers.HANDLERS, JobKind.PURGE_EXPIRED, JobSpec(stand_in.run, on_give_up=stand_in.give_up))
    return stand_in
