"""The states of an export to a bucket and the one table of allowed moves.

``queued → running → succeeded | failed``, and ``queued → failed`` (refused before it started, e.g. the license
was revoked in between). A worker that dies mid-way leaves the export ``running``; the job runs again and resumes
after the objects already verified. A move not in the table raises :class:`IllegalTransition`.
"""

from __future__ import annotations

import enum

from marketplace.errors import Conflict
from marketplace.exports.errors import ExportErrorCode


class ExportState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def finished(self) -> bool:
        return self in (ExportState.SUCCEEDED, ExportState.FAILED)


_LABELS = {
    ExportState.QUEUED: "Waiting to start",
    ExportState.RUNNING: "Copying",
    ExportState.SUCCEEDED: "Delivered and verified",
    ExportState.FAILED: "Failed",
}


class IllegalTransition(Conflict):
    """A state change the machine does not allow (409 ``illegal_transition``)."""

    def __init__(self, current: ExportState, target: ExportState) -> None:
        super().__init__(
            message=f"An export that is {current.label.lower()} cannot become {target.label.lower()}.",
            code=ExportErrorCode.ILLEGAL_TRANSITION,
        )


EXPORT_MOVES: dict[ExportState, frozenset[ExportState]] = {
    ExportState.QUEUED: frozenset({ExportState.RUNNING, ExportState.FAILED}),
    ExportState.RUNNING: frozenset({ExportState.SUCCEEDED, ExportState.FAILED}),
    ExportState.SUCCEEDED: frozenset(),
    ExportState.FAILED: frozenset(),
}


def check_move(current: ExportState, target: ExportState) -> None:
    """Raise :class:`IllegalTransition` unless an export may move from ``current`` to ``target``."""
    if target not in EXPORT_MOVES[current]:
        raise IllegalTransition(current, target)
