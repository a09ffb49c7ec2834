"""Moving a request, quote, contract or milestone from one state to another, and the timeline of those moves.

:func:`move` is the only code that assigns a ``state``: it checks the machine's table
(:func:`marketplace.custom.states.check`), assigns, and appends a :class:`Transition` row with the actor, the
time and the reason, in the same unit of work.
"""

from __future__ import annotations

import enum

from sqlmodel import col, select

from marketplace.custom.models import Contract, DataRequest, Milestone, Quote, Transition
from marketplace.custom.states import Machine, check
from marketplace.db import UnitOfWork

#: What has a state machine.
Stateful = DataRequest | Quote | Contract | Milestone


def record(
    uow: UnitOfWork,
    machine: Machine,
    subject_id: int,
    from_state: enum.StrEnum | None,
    to_state: enum.StrEnum,
    *,
    actor_id: int | None,
    reason: str = "",
) -> Transition:
    """Append one row to the transition log (``from_state`` None for a subject's first state)."""
    row = Transition(
        machine=machine,
        subject_id=subject_id,
        from_state=from_state.value if from_state is not None else None,
        to_state=to_state.value,
        actor_id=actor_id,
        at=uow.now(),
        reason=reason[:2000],
    )
    uow.session.add(row)
    return row


def move(
    uow: UnitOfWork,
    machine: Machine,
    subject: Stateful,
    to_state: enum.StrEnum,
    *,
    actor_id: int | None,
    reason: str = "",
) -> None:
    """Move ``subject`` to ``to_state`` if ``machine`` allows it (else :class:`IllegalTransition`), and log it."""
    from_state = subject.state
    check(machine, from_state, to_state)
    subject.state = to_state  # type: ignore[assignment]  # check() proved it is this machine's state
    uow.session.add(subject)
    assert subject.id is not None
    record(uow, machine, subject.id, from_state, to_state, actor_id=actor_id, reason=reason)


def check_only(machine: Machine, from_state: enum.StrEnum, to_state: enum.StrEnum) -> None:
    """Raise :class:`IllegalTransition` now for a move that would be refused later (validate state first)."""
    check(machine, from_state, to_state)


def timeline(uow: UnitOfWork, machine: Machine, subject_id: int) -> list[Transition]:
    """Every transition of one subject, oldest first."""
    return list(
        uow.session.exec(
            select(Transition)
            .where(Transition.machine == machine, Transition.subject_id == subject_id)
            .order_by(col(Transition.at), col(Transition.id))
        ).all()
    )
