"""The demo seed shows the custom-data exchange: an open request for data with two quotes, idempotently."""

from __future__ import annotations

from flask import Flask
from sqlmodel import Session, select

from marketplace.custom.models import DataRequest, Quote
from marketplace.custom.seed import OPEN_TITLE
from marketplace.custom.states import RequestState
from marketplace.db import UnitOfWork
from marketplace.seed import seed_demo


def test_the_demo_seed_has_an_open_request_with_two_quotes_and_runs_twice(
    app: Flask, db_session: Session
) -> None:
    uow = UnitOfWork(db_session, app.extensions["marketplace.context"])
    with app.app_context():
        seed_demo(uow)
        db_session.flush()
        again = seed_demo(uow)
    request = db_session.exec(select(DataRequest).where(DataRequest.title == OPEN_TITLE)).one()
    assert request.state is RequestState.QUOTING
    assert len(db_session.exec(select(Quote).where(Quote.request_id == request.id)).all()) == 2
    assert not any("request for data" in line for line in again)
    client = app.test_client()
    page = client.get("/requests").get_data(as_text=True)
    assert OPEN_TITLE in page and "Globex" not in page
