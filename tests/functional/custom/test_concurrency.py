"""Two buyers' members accept two different quotes of one request at the same moment: exactly one contract.

Runs against a real, committed database (no per-test transaction), on PostgreSQL when ``TEST_DATABASE_URL`` is set
(the row lock ``SELECT … FOR UPDATE`` is what is tested) and on SQLite otherwise (``BEGIN IMMEDIATE`` serialises).
"""

from __future__ import annotations

import threading

import pytest
from sqlmodel import select

from marketplace import create_app, migrate
from marketplace.accounts.models import Membership, Organisation, OrgKind, Role, User
from marketplace.custom import contracts, quotes, requests
from marketplace.custom.errors import AlreadyAwarded
from marketplace.custom.models import Contract, Milestone, Quote
from marketplace.custom.states import QuoteState
from marketplace.db import unit_of_work, utcnow
from tests.conftest import base_settings, drop_scratch_database, scratch_database_url
from tests.functional.custom.conftest import quote_data, request_spec


@pytest.fixture()
def live_app(tmp_path):
    url = scratch_database_url(tmp_path, "custom_race")
    migrate.upgrade(url)
    app = create_app(base_settings(tmp_path, url))
    yield app
    app.extensions["marketplace.db"].dispose()
    drop_scratch_database(url)


def _arrange(app) -> tuple[int, int, int, int]:
    """A request with two quotes; returns (buyer 1, buyer 2, quote a, quote b) ids."""
    database, context = app.extensions["marketplace.db"], app.extensions["marketplace.context"]
    with unit_of_work(database, context) as uow:
        s = uow.session
        people = [User(email=f"u{i}@example.org", password_hash="x", email_verified_at=utcnow()) for i in range(4)]
        buyer = Organisation(slug="buyer", name="Buyer", kind=OrgKind.BUYER)
        alpha = Organisation(slug="alpha", name="Alpha", kind=OrgKind.PROVIDER)
        beta = Organisation(slug="beta", name="Beta", kind=OrgKind.PROVIDER)
        s.add_all([*people, buyer, alpha, beta])
        s.flush()
        for user, org in zip(people, (buyer, buyer, alpha, beta), strict=True):
            s.add(Membership(organisation_id=org.id, user_id=user.id, role=Role.MEMBER))
        s.flush()
        request = requests.create_request(uow, people[0], request_spec())
        a = quotes.submit_quote(uow, people[2], request, quote_data(3_000_000))
        b = quotes.submit_quote(uow, people[3], request, quote_data(2_000_000))
        ids = (people[0].id, people[1].id, a.id, b.id)
    return ids  # type: ignore[return-value]


def test_two_acceptances_at_once_make_exactly_one_contract(live_app) -> None:
    first_buyer, second_buyer, quote_a, quote_b = _arrange(live_app)
    database, context = live_app.extensions["marketplace.db"], live_app.extensions["marketplace.context"]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    lock = threading.Lock()

    def accept(user_id: int, quote_id: int) -> None:
        barrier.wait()
        try:
            with unit_of_work(database, context) as uow:
                user = uow.session.get(User, user_id)
                quote = uow.session.get(Quote, quote_id)
                contracts.accept_quote(uow, user, quote)
            result = "contract"
        except AlreadyAwarded:
            result = "already_awarded"
        except Exception as error:  # anything else is a failure of the test, reported below
            result = f"error: {error!r}"
        with lock:
            outcomes.append(result)

    threads = [
        threading.Thread(target=accept, args=(first_buyer, quote_a)),
        threading.Thread(target=accept, args=(second_buyer, quote_b)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == ["already_awarded", "contract"], outcomes
    with database.session() as s:
        (contract,) = s.exec(select(Contract)).all()
        states = {q.id: q.state for q in s.exec(select(Quote)).all()}
        assert states[contract.quote_id] is QuoteState.ACCEPTED
        assert sorted(states.values()) == sorted([QuoteState.ACCEPTED, QuoteState.DECLINED])
        assert len(s.exec(select(Milestone)).all()) == 2  # the loser wrote no milestone either
