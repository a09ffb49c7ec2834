"""The one state machine of a version's AI Act documentation: ``draft → signed_off``.

Every version's documentation starts as a ``draft`` (built live from the listing, with no row stored); the
``sign_off`` move freezes it (a row of :class:`~marketplace.aiact.models.AiActSignOff` with the signer and the
time). A signed-off pack never changes again and is never signed twice: any other move raises
:class:`IllegalTransition`.
"""

from __future__ import annotations

import enum

from marketplace.aiact.errors import AiActErrorCode
from marketplace.errors import Conflict


class DocumentationState(enum.StrEnum):
    DRAFT = "draft"
    SIGNED_OFF = "signed_off"


class Transition(enum.StrEnum):
    SIGN_OFF = "sign_off"


#: (state, transition) → the state it leads to. Nothing leaves ``signed_off``.
MOVES: dict[tuple[DocumentationState, Transition], DocumentationState] = {
    (DocumentationState.DRAFT, Transition.SIGN_OFF): DocumentationState.SIGNED_OFF,
}


class IllegalTransition(Conflict):
    """A move the machine does not allow (409)."""

    def __init__(self, current: DocumentationState, transition: Transition) -> None:
        message = (
            "This version's AI Act documentation is already signed off; a signed-off pack never changes."
            if current is DocumentationState.SIGNED_OFF
            else f"AI Act documentation that is {current.value} cannot be {transition.value.replace('_', ' ')}."
        )
        super().__init__(message=message, code=AiActErrorCode.ALREADY_SIGNED_OFF)


def move(current: DocumentationState, transition: Transition) -> DocumentationState:
    """The state ``transition`` leads to from ``current``; :class:`IllegalTransition` when it is not allowed."""
    target = MOVES.get((current, transition))
    if target is None:
        raise IllegalTransition(current, transition)
    return target
