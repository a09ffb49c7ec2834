"""The statistics' state machine: pending moves once, to ready or failed; nothing moves after that."""

from __future__ import annotations

import pytest

from marketplace.errors import Conflict
from marketplace.viewer.models import StatisticsState
from marketplace.viewer.states import TRANSITIONS, check_transition


@pytest.mark.parametrize("current", list(StatisticsState))
@pytest.mark.parametrize("new", list(StatisticsState))
def test_only_pending_moves_and_only_once(current: StatisticsState, new: StatisticsState) -> None:
    allowed = current is StatisticsState.PENDING and new is not StatisticsState.PENDING
    assert (new in TRANSITIONS[current]) is allowed
    if allowed:
        check_transition(current, new)
    else:
        with pytest.raises(Conflict) as info:
            check_transition(current, new)
        assert info.value.code == "illegal_transition"
