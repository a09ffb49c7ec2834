"""The demo seed shows the custom-data exchange: an open request for data with two quotes, idempotently."""

from __future__ import annotations

from flask import Flask
from sqlmodel import Session, select

from marketplace.custom.models import DataRequest, Quote
from marketplace.custom.seed import OPEN_TITLE
from marketplace.custom.states import RequestState
from marketplace.db import UnitOfWork
from marketplace.seed import seed_demo


def test_the_demo_seed_has_an_open_request_with_two_quotes_and_runs_twice(app: Flask, db_session: Session) -> None:
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


def test_the_demo_seed_has_a_contract_with_an_accepted_and_a_delivered_milestone_whose_files_exist(
    app: Flask, db_session: Session
) -> None:
    from marketplace.catalog.models import DatasetFile
    from marketplace.custom.funding_models import MilestoneDelivery
    from marketplace.custom.models import Contract, Milestone
    from marketplace.custom.seed import CONTRACT_TITLE
    from marketplace.custom.states import ContractState, MilestoneState
    from marketplace.licenses.models import Grant

    uow = UnitOfWork(db_session, app.extensions["marketplace.context"])
    with app.app_context():
        seed_demo(uow)
        db_session.flush()
    request = db_session.exec(select(DataRequest).where(DataRequest.title == CONTRACT_TITLE)).one()
    contract = db_session.exec(select(Contract).where(Contract.request_id == request.id)).one()
    assert contract.state is ContractState.ACTIVE
    states = [m.state for m in db_session.exec(select(Milestone).where(Milestone.contract_id == contract.id))]
    assert sorted(states) == sorted([MilestoneState.ACCEPTED, MilestoneState.DELIVERED])
    delivered = db_session.exec(
        select(Milestone).where(Milestone.contract_id == contract.id, Milestone.state == MilestoneState.DELIVERED)
    ).one()
    delivery = db_session.exec(select(MilestoneDelivery).where(MilestoneDelivery.milestone_id == delivered.id)).one()
    review = db_session.get(Grant, delivery.review_grant_id)
    assert review is not None
    storage = app.extensions["marketplace.context"].storage
    files = db_session.exec(select(DatasetFile).where(DatasetFile.version_id == delivery.version_id)).all()
    assert files and all(storage.read_bytes(f.storage_key) for f in files)
