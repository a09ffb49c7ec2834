"""The withdrawal's states, the licensee notice's states, and the one table of allowed moves for each.

Withdrawal: ``filed → patched_version_published → licensees_notified``. Licensee notice: ``notified → confirmed |
overdue``, and ``overdue → confirmed`` (a late confirmation is still recorded: the provider needs it more than
ever). A move not in the table raises :class:`IllegalTransition`; the services stamp each move with its time.
"""

from __future__ import annotations

import enum

from marketplace.errors import Conflict
from marketplace.withdrawals.errors import WithdrawalErrorCode


class WithdrawalReason(enum.StrEnum):
    """Why files or records are withdrawn."""

    CONSENT_WITHDRAWN = "consent_withdrawn"
    LEGAL_TAKEDOWN = "legal_takedown"
    ERROR = "error"

    @property
    def label(self) -> str:
        return _REASON_LABELS[self]


_REASON_LABELS = {
    WithdrawalReason.CONSENT_WITHDRAWN: "Consent withdrawn",
    WithdrawalReason.LEGAL_TAKEDOWN: "Legal takedown",
    WithdrawalReason.ERROR: "Error in the data",
}


class WithdrawalState(enum.StrEnum):
    FILED = "filed"
    PATCHED_VERSION_PUBLISHED = "patched_version_published"
    LICENSEES_NOTIFIED = "licensees_notified"


class NoticeState(enum.StrEnum):
    """Where one licensee stands: told (``notified``), deletion confirmed, or past the deadline unconfirmed."""

    NOTIFIED = "notified"
    CONFIRMED = "confirmed"
    OVERDUE = "overdue"


class IllegalTransition(Conflict):
    """A state change the machine does not allow (409 ``illegal_transition``)."""

    def __init__(self, kind: str, current: enum.StrEnum, target: enum.StrEnum) -> None:
        super().__init__(
            message=f"A {kind} that is {current.value.replace('_', ' ')} cannot become "
            f"{target.value.replace('_', ' ')}.",
            code=WithdrawalErrorCode.ILLEGAL_TRANSITION,
        )


WITHDRAWAL_MOVES: dict[WithdrawalState, frozenset[WithdrawalState]] = {
    WithdrawalState.FILED: frozenset({WithdrawalState.PATCHED_VERSION_PUBLISHED}),
    WithdrawalState.PATCHED_VERSION_PUBLISHED: frozenset({WithdrawalState.LICENSEES_NOTIFIED}),
    WithdrawalState.LICENSEES_NOTIFIED: frozenset(),
}

NOTICE_MOVES: dict[NoticeState, frozenset[NoticeState]] = {
    NoticeState.NOTIFIED: frozenset({NoticeState.CONFIRMED, NoticeState.OVERDUE}),
    NoticeState.OVERDUE: frozenset({NoticeState.CONFIRMED}),
    NoticeState.CONFIRMED: frozenset(),
}


def check_withdrawal_move(current: WithdrawalState, target: WithdrawalState) -> None:
    """Raise :class:`IllegalTransition` unless a withdrawal may move from ``current`` to ``target``."""
    if target not in WITHDRAWAL_MOVES[current]:
        raise IllegalTransition("withdrawal", current, target)


def check_notice_move(current: NoticeState, target: NoticeState) -> None:
    """Raise :class:`IllegalTransition` unless a licensee's notice may move from ``current`` to ``target``."""
    if target not in NOTICE_MOVES[current]:
        raise IllegalTransition("licensee notice", current, target)
