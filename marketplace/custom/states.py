"""The four state machines of the custom-data exchange, written as tables of allowed transitions.

Each machine is an enum of states and a table ``{from_state: {allowed to_states}}``. Services never assign a
``state`` column themselves: they call :func:`marketplace.custom.transitions.move`, which checks the move here
(:func:`check`), assigns it and writes a :class:`~marketplace.custom.models.Transition` row (actor, time, reason)
for the timeline both parties see. A move that is not in the table raises :class:`IllegalTransition`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

from marketplace.custom.errors import IllegalTransition


class Machine(enum.StrEnum):
    """Which state machine a transition-log row belongs to."""

    REQUEST = "request"
    QUOTE = "quote"
    CONTRACT = "contract"
    MILESTONE = "milestone"


class RequestState(enum.StrEnum):
    """A buyer's request for data: ``draft → open → quoting → awarded | closed | expired``."""

    DRAFT = "draft"
    OPEN = "open"  # published (on the board when visibility is open); no quote yet
    QUOTING = "quoting"  # at least one quote has been submitted
    AWARDED = "awarded"  # a quote was accepted; a contract exists
    CLOSED = "closed"  # the buyer closed it without awarding
    EXPIRED = "expired"  # its deadline passed without an award


class QuoteState(enum.StrEnum):
    """A provider's quote: ``submitted → revised* → accepted | declined | withdrawn | expired``."""

    SUBMITTED = "submitted"
    REVISED = "revised"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


class ContractState(enum.StrEnum):
    """A contract made by accepting a quote: ``awaiting_payment → active → completed | cancelled | in_dispute``."""

    AWAITING_PAYMENT = "awaiting_payment"
    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    IN_DISPUTE = "in_dispute"


class MilestoneState(enum.StrEnum):
    """One milestone of a contract: ``pending → delivered → accepted | rejected → redelivered → …``.

    ``auto_accepted`` after the review window; ``cancelled`` before delivery; ``refunded`` or
    ``settled_by_admin`` when a rejection is escalated and the platform admin decides.
    """

    PENDING = "pending"
    DELIVERED = "delivered"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    REDELIVERED = "redelivered"
    AUTO_ACCEPTED = "auto_accepted"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    SETTLED_BY_ADMIN = "settled_by_admin"


R, Q, C, M = RequestState, QuoteState, ContractState, MilestoneState

REQUEST_TRANSITIONS: Mapping[RequestState, frozenset[RequestState]] = {
    R.DRAFT: frozenset({R.OPEN, R.CLOSED}),
    R.OPEN: frozenset({R.QUOTING, R.CLOSED, R.EXPIRED}),
    R.QUOTING: frozenset({R.AWARDED, R.CLOSED, R.EXPIRED}),
    R.AWARDED: frozenset(),
    R.CLOSED: frozenset(),
    R.EXPIRED: frozenset(),
}

QUOTE_TRANSITIONS: Mapping[QuoteState, frozenset[QuoteState]] = {
    Q.SUBMITTED: frozenset({Q.REVISED, Q.ACCEPTED, Q.DECLINED, Q.WITHDRAWN, Q.EXPIRED}),
    Q.REVISED: frozenset({Q.REVISED, Q.ACCEPTED, Q.DECLINED, Q.WITHDRAWN, Q.EXPIRED}),
    Q.ACCEPTED: frozenset(),
    Q.DECLINED: frozenset(),
    Q.WITHDRAWN: frozenset(),
    Q.EXPIRED: frozenset(),
}

CONTRACT_TRANSITIONS: Mapping[ContractState, frozenset[ContractState]] = {
    C.AWAITING_PAYMENT: frozenset({C.ACTIVE, C.CANCELLED}),
    C.ACTIVE: frozenset({C.COMPLETED, C.CANCELLED, C.IN_DISPUTE}),
    # The admin's decision ends a dispute: work resumes, or the contract ends either way.
    C.IN_DISPUTE: frozenset({C.ACTIVE, C.COMPLETED, C.CANCELLED}),
    C.COMPLETED: frozenset(),
    C.CANCELLED: frozenset(),
}

MILESTONE_TRANSITIONS: Mapping[MilestoneState, frozenset[MilestoneState]] = {
    M.PENDING: frozenset({M.DELIVERED, M.CANCELLED}),
    M.DELIVERED: frozenset({M.ACCEPTED, M.REJECTED, M.AUTO_ACCEPTED}),
    # After a rejection: the provider redelivers (up to the contract's limit), or the admin settles it.
    M.REJECTED: frozenset({M.REDELIVERED, M.REFUNDED, M.SETTLED_BY_ADMIN}),
    M.REDELIVERED: frozenset({M.ACCEPTED, M.REJECTED, M.AUTO_ACCEPTED}),
    M.ACCEPTED: frozenset(),
    M.AUTO_ACCEPTED: frozenset(),
    M.CANCELLED: frozenset(),
    M.REFUNDED: frozenset(),
    M.SETTLED_BY_ADMIN: frozenset(),
}

#: Every machine's table, by machine.
TRANSITIONS: Mapping[Machine, Mapping[enum.StrEnum, frozenset[enum.StrEnum]]] = {
    Machine.REQUEST: REQUEST_TRANSITIONS,  # type: ignore[dict-item]
    Machine.QUOTE: QUOTE_TRANSITIONS,  # type: ignore[dict-item]
    Machine.CONTRACT: CONTRACT_TRANSITIONS,  # type: ignore[dict-item]
    Machine.MILESTONE: MILESTONE_TRANSITIONS,  # type: ignore[dict-item]
}

#: The state enum of each machine (a state of another machine is never a valid argument).
STATE_ENUMS: Mapping[Machine, type[enum.StrEnum]] = {
    Machine.REQUEST: RequestState,
    Machine.QUOTE: QuoteState,
    Machine.CONTRACT: ContractState,
    Machine.MILESTONE: MilestoneState,
}

#: Quote states in which the quote still stands (may be revised, withdrawn, declined or accepted).
LIVE_QUOTE_STATES = frozenset({Q.SUBMITTED, Q.REVISED})
#: Request states in which providers may quote.
QUOTABLE_REQUEST_STATES = frozenset({R.OPEN, R.QUOTING})
#: Milestone states that end a milestone for good.
FINAL_MILESTONE_STATES = frozenset(state for state, nexts in MILESTONE_TRANSITIONS.items() if not nexts)


def allowed(machine: Machine, from_state: enum.StrEnum, to_state: enum.StrEnum) -> bool:
    """True when ``machine``'s table allows ``from_state → to_state``."""
    states = STATE_ENUMS[machine]
    if not isinstance(from_state, states) or not isinstance(to_state, states):
        return False
    return to_state in TRANSITIONS[machine].get(from_state, frozenset())


def check(machine: Machine, from_state: enum.StrEnum, to_state: enum.StrEnum) -> None:
    """Raise :class:`IllegalTransition` unless ``machine`` may move ``from_state → to_state``."""
    if not allowed(machine, from_state, to_state):
        raise IllegalTransition(
            message=f"A {machine.value} cannot go from {from_state.value.replace('_', ' ')} "
            f"to {to_state.value.replace('_', ' ')}.",
            machine=machine.value,
            from_state=from_state.value,
            to_state=to_state.value,
        )
