"""The four state machines: the tables allow exactly the documented moves; anything else is a domain error."""

from __future__ import annotations

import pytest

from marketplace.custom.errors import IllegalTransition
from marketplace.custom.states import (
    TRANSITIONS,
    ContractState,
    Machine,
    MilestoneState,
    QuoteState,
    RequestState,
    allowed,
    check,
)
from marketplace.errors import HTTP_STATUS, Conflict

R, Q, C, M = RequestState, QuoteState, ContractState, MilestoneState

LEGAL = [
    (Machine.REQUEST, R.DRAFT, R.OPEN),
    (Machine.REQUEST, R.OPEN, R.QUOTING),
    (Machine.REQUEST, R.QUOTING, R.AWARDED),
    (Machine.REQUEST, R.QUOTING, R.EXPIRED),
    (Machine.REQUEST, R.OPEN, R.CLOSED),
    (Machine.QUOTE, Q.SUBMITTED, Q.REVISED),
    (Machine.QUOTE, Q.REVISED, Q.REVISED),
    (Machine.QUOTE, Q.REVISED, Q.ACCEPTED),
    (Machine.QUOTE, Q.SUBMITTED, Q.WITHDRAWN),
    (Machine.QUOTE, Q.SUBMITTED, Q.EXPIRED),
    (Machine.CONTRACT, C.AWAITING_PAYMENT, C.ACTIVE),
    (Machine.CONTRACT, C.ACTIVE, C.COMPLETED),
    (Machine.CONTRACT, C.ACTIVE, C.IN_DISPUTE),
    (Machine.MILESTONE, M.PENDING, M.DELIVERED),
    (Machine.MILESTONE, M.DELIVERED, M.REJECTED),
    (Machine.MILESTONE, M.REJECTED, M.REDELIVERED),
    (Machine.MILESTONE, M.REDELIVERED, M.ACCEPTED),
    (Machine.MILESTONE, M.DELIVERED, M.AUTO_ACCEPTED),
    (Machine.MILESTONE, M.REJECTED, M.SETTLED_BY_ADMIN),
    (Machine.MILESTONE, M.PENDING, M.CANCELLED),
]

ILLEGAL = [
    (Machine.REQUEST, R.DRAFT, R.AWARDED),
    (Machine.REQUEST, R.AWARDED, R.OPEN),
    (Machine.REQUEST, R.OPEN, R.AWARDED),  # an award needs a quote, so the request is quoting
    (Machine.QUOTE, Q.WITHDRAWN, Q.ACCEPTED),
    (Machine.QUOTE, Q.ACCEPTED, Q.DECLINED),
    (Machine.QUOTE, Q.EXPIRED, Q.REVISED),
    (Machine.CONTRACT, C.AWAITING_PAYMENT, C.COMPLETED),
    (Machine.CONTRACT, C.COMPLETED, C.ACTIVE),
    (Machine.MILESTONE, M.PENDING, M.ACCEPTED),
    (Machine.MILESTONE, M.ACCEPTED, M.REJECTED),
    (Machine.MILESTONE, M.DELIVERED, M.REDELIVERED),
    (Machine.MILESTONE, M.DELIVERED, M.CANCELLED),
]


@pytest.mark.parametrize(("machine", "source", "target"), LEGAL)
def test_documented_moves_are_allowed(machine, source, target) -> None:
    assert allowed(machine, source, target)
    check(machine, source, target)


@pytest.mark.parametrize(("machine", "source", "target"), ILLEGAL)
def test_other_moves_raise_a_domain_error(machine, source, target) -> None:
    assert not allowed(machine, source, target)
    with pytest.raises(IllegalTransition) as caught:
        check(machine, source, target)
    assert caught.value.machine == machine.value
    assert caught.value.from_state == source.value and caught.value.to_state == target.value
    assert isinstance(caught.value, Conflict) and HTTP_STATUS[Conflict] == 409


def test_a_state_of_another_machine_is_refused() -> None:
    assert not allowed(Machine.QUOTE, R.OPEN, Q.ACCEPTED)
    with pytest.raises(IllegalTransition):
        check(Machine.MILESTONE, C.ACTIVE, M.DELIVERED)


def test_every_state_has_a_row_and_final_states_go_nowhere() -> None:
    enums = {Machine.REQUEST: R, Machine.QUOTE: Q, Machine.CONTRACT: C, Machine.MILESTONE: M}
    for machine, states in enums.items():
        assert set(TRANSITIONS[machine]) == set(states)
    for final in (R.AWARDED, R.CLOSED, R.EXPIRED):
        assert not TRANSITIONS[Machine.REQUEST][final]
    for final in (M.ACCEPTED, M.AUTO_ACCEPTED, M.REFUNDED, M.SETTLED_BY_ADMIN, M.CANCELLED):
        assert not TRANSITIONS[Machine.MILESTONE][final]
