"""Errors of the custom-data exchange (all map to HTTP through :data:`marketplace.errors.HTTP_STATUS`)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum, unique

from marketplace.errors import Conflict


@unique
class CustomErrorCode(StrEnum):
    """The error codes of the custom-data exchange (requests, quotes, contracts and milestones)."""

    ILLEGAL_TRANSITION = "illegal_transition"  # a move a state machine does not allow (shared with LicenseErrorCode)
    ALREADY_AWARDED = "already_awarded"  # the request already has a contract
    QUOTE_EXPIRED = "quote_expired"  # the quote's validity ended
    NOTHING_DUE = "nothing_due"  # the contract has nothing to pay now
    CONTRACT_NOT_ACTIVE = "contract_not_active"  # the contract is not active (unpaid, in dispute or ended)
    NOT_FUNDED = "not_funded"  # the milestone's money is not held yet, so it cannot be delivered
    REDELIVERY_LIMIT = "redelivery_limit"  # the contract's redeliveries are used up: escalate instead
    NOT_REJECTED = "not_rejected"  # only a rejected milestone can be escalated
    NOT_ESCALATED = "not_escalated"  # only an escalated rejection can be decided by the admin


@dataclass
class IllegalTransition(Conflict):
    """A state machine was asked for a move its transition table does not allow (e.g. accepting a withdrawn
    quote). ``machine``, ``from_state`` and ``to_state`` say which move was refused."""

    code: str = CustomErrorCode.ILLEGAL_TRANSITION
    machine: str = ""
    from_state: str = ""
    to_state: str = ""


@dataclass
class AlreadyAwarded(Conflict):
    """The request already has a contract: a second acceptance lost the race (or came too late)."""

    message: str = "This request has already been awarded to a quote."
    code: str = CustomErrorCode.ALREADY_AWARDED
