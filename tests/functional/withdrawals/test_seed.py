"""The demo seed shows a withdrawal with one licensee confirmed and one still to confirm."""

from __future__ import annotations

from sqlmodel import select

from marketplace.db import UnitOfWork
from marketplace.seed import DEMO_PASSWORD, seed_demo
from marketplace.withdrawals.models import Withdrawal, WithdrawalNotice
from marketplace.withdrawals.states import NoticeState, WithdrawalState
from tests.helpers import log_in


def test_the_demo_withdrawal(app, client, db_session) -> None:  # type: ignore[no-untyped-def]
    work = UnitOfWork(db_session, app.extensions["marketplace.context"])
    with app.app_context():
        first = seed_demo(work)
        db_session.flush()
        again = seed_demo(work)
        db_session.flush()
    assert any("withdrawal" in line for line in first) and not any("withdrawal" in line for line in again)
    withdrawal = db_session.exec(select(Withdrawal)).one()
    assert withdrawal.state is WithdrawalState.LICENSEES_NOTIFIED
    states = sorted(n.state for n in db_session.exec(select(WithdrawalNotice)).all())
    assert states == sorted([NoticeState.CONFIRMED, NoticeState.NOTIFIED])
    log_in(client, "provider@example.com", DEMO_PASSWORD)
    page = client.get(f"/withdrawals/{withdrawal.id}").get_data(as_text=True)
    assert "2 told: 1 confirmed deletion, 1 still to confirm, 0 overdue" in page
