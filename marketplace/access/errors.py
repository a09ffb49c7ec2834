"""Errors of governed access (mapped to HTTP by their base classes in marketplace.errors)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum, unique

from marketplace.errors import PermissionDenied

#: What a holder is told when the approval or the agreement's term has ended (also the download refusal).
ACCESS_EXPIRED = "access expired"


@unique
class AccessErrorCode(StrEnum):
    AGREEMENT_UNCHANGED = "agreement_unchanged"  # a new agreement version with the same text as the current one
    ACCESS_REQUIRED = "access_required"  # the dataset's access is governed and no approval is in force
    NOT_SEATED = "not_seated"  # the access is held by one person, so it has no seats
    APPROVAL_ENDED = "approval_ended"  # the approval is no longer active
    SEAT_TAKEN = "seat_taken"  # the person already has a seat
    SEATS_EXHAUSTED = "seats_exhausted"  # every seat the license terms allow is taken
    ACCESS_NOT_GOVERNED = "access_not_governed"  # the dataset is open: there is nothing to request
    REQUEST_PENDING = "request_pending"  # the person already has a request waiting for review
    REQUEST_CLOSED = "request_closed"  # the request has been decided or withdrawn
    NO_AGREEMENT = "no_agreement"  # the dataset has no agreement to sign
    UNSIGNED = "unsigned"  # approving before the requester signed the agreement
    ILLEGAL_TRANSITION = "illegal_transition"  # a state change the access state machines do not allow


@dataclass
class AccessRequired(PermissionDenied):
    """The dataset's access is governed and this person (or organisation) holds no approval in force (403)."""

    message: str = "Access to this dataset must be requested and approved first."
    code: str = AccessErrorCode.ACCESS_REQUIRED
