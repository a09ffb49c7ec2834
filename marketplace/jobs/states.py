"""The job state machine: every move a job may make, in one table.

Moves that must be atomic between workers (claiming a job, recording its outcome) are conditional UPDATEs whose
``WHERE`` clause is built from :data:`MOVES`, so the table is the rule the SQL enforces, not a copy of it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from marketplace.errors import Conflict
from marketplace.jobs.errors import JobsErrorCode
from marketplace.jobs.models import BackgroundJob, JobState


class JobMove(enum.StrEnum):
    """The named moves of a job."""

    CLAIM = "claim"  # a worker takes it (a RUNNING job whose lease ran out may be taken again)
    SUCCEED = "succeed"
    FAIL = "fail"  # an attempt failed and attempts remain
    GIVE_UP = "give_up"  # the last attempt failed: into the dead-letter view
    RETRY = "retry"  # an administrator sends a dead job round again


MOVES: dict[JobMove, tuple[frozenset[JobState], JobState]] = {
    JobMove.CLAIM: (frozenset({JobState.PENDING, JobState.RETRYING, JobState.RUNNING}), JobState.RUNNING),
    JobMove.SUCCEED: (frozenset({JobState.RUNNING}), JobState.SUCCEEDED),
    JobMove.FAIL: (frozenset({JobState.RUNNING}), JobState.RETRYING),
    JobMove.GIVE_UP: (frozenset({JobState.RUNNING}), JobState.DEAD),
    JobMove.RETRY: (frozenset({JobState.DEAD}), JobState.PENDING),
}


@dataclass
class IllegalJobMove(Conflict):
    """A job was asked for a move its state does not allow (e.g. retrying a job that succeeded)."""

    code: str = JobsErrorCode.ILLEGAL_TRANSITION
    from_state: str = ""
    move: str = ""


def sources(move: JobMove) -> list[str]:
    """The states ``move`` may start from, as stored values (for a conditional UPDATE)."""
    return sorted(state.value for state in MOVES[move][0])


def target(move: JobMove) -> JobState:
    return MOVES[move][1]


def apply(job: BackgroundJob, move: JobMove) -> None:
    """Move ``job`` in memory, or raise :class:`IllegalJobMove` naming the state and the move."""
    allowed, to_state = MOVES[move]
    if job.state not in allowed:
        raise IllegalJobMove(
            message=f"A {job.state.value} job cannot be {_PAST[move]}.", from_state=job.state.value, move=move.value
        )
    job.state = to_state


_PAST = {
    JobMove.CLAIM: "started",
    JobMove.SUCCEED: "marked as done",
    JobMove.FAIL: "marked as failed",
    JobMove.GIVE_UP: "given up",
    JobMove.RETRY: "retried (only a dead job can be)",
}
