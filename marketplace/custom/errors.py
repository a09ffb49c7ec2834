"""Errors of the custom-data exchange (all map to HTTP through :data:`marketplace.errors.HTTP_STATUS`)."""

from __future__ import annotations

from dataclasses import dataclass

from marketplace.errors import Conflict


@dataclass
class IllegalTransition(Conflict):
    """A state machine was asked for a move its transition table does not allow (e.g. accepting a withdrawn
    quote). ``machine``, ``from_state`` and ``to_state`` say which move was refused."""

    code: str = "illegal_transition"
    machine: str = ""
    from_state: str = ""
    to_state: str = ""


@dataclass
class AlreadyAwarded(Conflict):
    """The request already has a contract: a second acceptance lost the race (or came too late)."""

    message: str = "This request has already been awarded to a quote."
    code: str = "already_awarded"
