"""The statistics' state machine: requested (pending), then computed (ready) or impossible (failed), once."""

from __future__ import annotations

from marketplace.errors import Conflict
from marketplace.viewer.errors import ViewerErrorCode
from marketplace.viewer.models import StatisticsState

#: The moves a file's statistics may make; anything else is a programming error refused as a conflict.
TRANSITIONS: dict[StatisticsState, frozenset[StatisticsState]] = {
    StatisticsState.PENDING: frozenset({StatisticsState.READY, StatisticsState.FAILED}),
    StatisticsState.READY: frozenset(),
    StatisticsState.FAILED: frozenset(),
}


def check_transition(current: StatisticsState, new: StatisticsState) -> None:
    """Raise :class:`Conflict` (``illegal_transition``) unless ``current`` may move to ``new``."""
    if new not in TRANSITIONS[current]:
        raise Conflict(
            message=f"Statistics cannot move from {current.value} to {new.value}.",
            code=ViewerErrorCode.ILLEGAL_TRANSITION,
        )
