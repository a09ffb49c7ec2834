"""Errors of the job queue."""

from __future__ import annotations

from enum import StrEnum, unique


@unique
class JobsErrorCode(StrEnum):
    """The error codes of background jobs."""

    ILLEGAL_TRANSITION = "illegal_transition"  # a move the job state machine does not allow (shared meaning)
    QUEUE_NOT_CONFIGURED = "queue_not_configured"  # this application has no job queue
