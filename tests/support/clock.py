"""A clock for an application's ServiceContext that tests can move forward."""

from __future__ import annotations

from datetime import datetime, timedelta

from marketplace.db import utcnow


class Clock:
    """Real time plus whatever the test has advanced it by."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return utcnow() + self.offset

    def advance(self, **kwargs: float) -> None:
        self.offset += timedelta(**kwargs)
