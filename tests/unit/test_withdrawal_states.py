"""The withdrawal and licensee-notice state machines: every allowed move, and every other one refused."""

from __future__ import annotations

import itertools

import pytest

from marketplace.withdrawals.states import (
    NOTICE_MOVES,
    WITHDRAWAL_MOVES,
    IllegalTransition,
    NoticeState,
    WithdrawalState,
    check_notice_move,
    check_withdrawal_move,
)

ALLOWED_WITHDRAWAL = {
    (WithdrawalState.FILED, WithdrawalState.PATCHED_VERSION_PUBLISHED),
    (WithdrawalState.PATCHED_VERSION_PUBLISHED, WithdrawalState.LICENSEES_NOTIFIED),
}
ALLOWED_NOTICE = {
    (NoticeState.NOTIFIED, NoticeState.CONFIRMED),
    (NoticeState.NOTIFIED, NoticeState.OVERDUE),
    (NoticeState.OVERDUE, NoticeState.CONFIRMED),
}


def test_the_tables_cover_every_state() -> None:
    assert set(WITHDRAWAL_MOVES) == set(WithdrawalState)
    assert set(NOTICE_MOVES) == set(NoticeState)


@pytest.mark.parametrize("current,target", list(itertools.product(WithdrawalState, WithdrawalState)))
def test_withdrawal_moves(current: WithdrawalState, target: WithdrawalState) -> None:
    if (current, target) in ALLOWED_WITHDRAWAL:
        check_withdrawal_move(current, target)
    else:
        with pytest.raises(IllegalTransition) as raised:
            check_withdrawal_move(current, target)
        assert raised.value.code == "illegal_transition"


@pytest.mark.parametrize("current,target", list(itertools.product(NoticeState, NoticeState)))
def test_notice_moves(current: NoticeState, target: NoticeState) -> None:
    if (current, target) in ALLOWED_NOTICE:
        check_notice_move(current, target)
    else:
        with pytest.raises(IllegalTransition):
            check_notice_move(current, target)
