"""Twenty deliveries of one ``checkout.session.completed`` at the same moment issue exactly one license.

Runs with real commits on a scratch database (each delivery is its own transaction, as under gunicorn), on
PostgreSQL when ``TEST_DATABASE_URL`` is set and on SQLite otherwise.
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlmodel import select

from marketplace import create_app, migrate
from marketplace.accounts.models import Membership, Organisation, OrgKind, Role, User
from marketplace.catalog.models import Dataset, DatasetVersion
from marketplace.catalog.vocab import DatasetStatus, VersionStatus
from marketplace.db import unit_of_work, utcnow
from marketplace.licenses import services as licenses
from marketplace.licenses.models import Grant
from marketplace.orders import services as orders
from marketplace.orders.models import Order, OrderStatus, PaymentEventRecord
from tests.conftest import base_settings, drop_scratch_database, scratch_database_url

DELIVERIES = 20


@pytest.fixture()
def live_app(tmp_path):
    url = scratch_database_url(tmp_path, "webhooks")
    migrate.upgrade(url)
    settings = base_settings(tmp_path, url)
    app = create_app(settings)
    yield app
    app.extensions["marketplace.db"].dispose()
    drop_scratch_database(url)


def _arrange(app) -> str:
    """A published dataset, a paid offer, a buyer's pending order with a sandbox checkout session."""
    database = app.extensions["marketplace.db"]
    context = app.extensions["marketplace.context"]
    with unit_of_work(database, context) as uow:
        s = uow.session
        seller = User(email="seller@example.org", password_hash="x", email_verified_at=utcnow())
        buyer = User(email="buyer@example.org", password_hash="x", email_verified_at=utcnow())
        provider = Organisation(slug="prov", name="Prov", kind=OrgKind.PROVIDER)
        buyer_org = Organisation(slug="buy", name="Buy", kind=OrgKind.BUYER)
        s.add_all([seller, buyer, provider, buyer_org])
        s.flush()
        s.add_all([Membership(organisation_id=provider.id, user_id=seller.id, role=Role.OWNER),
                   Membership(organisation_id=buyer_org.id, user_id=buyer.id, role=Role.OWNER)])  # fmt: skip
        dataset = Dataset(slug="d", organisation_id=provider.id, title="D", status=DatasetStatus.PUBLISHED,
                          published_at=utcnow())  # fmt: skip
        s.add(dataset)
        s.flush()
        s.add(DatasetVersion(dataset_id=dataset.id, version="1.0.0", status=VersionStatus.PUBLISHED,
                             manifest_digest="ab" * 32, published_at=utcnow()))  # fmt: skip
        offer = licenses.create_offer(uow, seller, dataset, title="Commercial", price_amount=9900, currency="EUR",
                                      license_id="LicenseRef-standard-commercial-1.0")  # fmt: skip
        orders.add_to_cart(uow, buyer, offer, licensee_slug="buy")
        order = orders.checkout(
            uow, buyer, licensee_slug="buy", currency="EUR", accepted_terms={offer.id: offer.terms_hash},
            success_url="http://localhost/orders/{ORDER_ID}/complete?session_id={CHECKOUT_SESSION_ID}",
            cancel_url="http://localhost/orders/{ORDER_ID}",
        )  # fmt: skip
        assert order.checkout_session_id
        return order.checkout_session_id


def test_concurrent_duplicate_webhooks_issue_one_license(live_app) -> None:
    session_id = _arrange(live_app)
    signed = live_app.extensions["marketplace.context"].payments.complete_checkout(session_id, "paid")
    barrier = threading.Barrier(DELIVERIES)
    statuses: list[int] = []
    bodies: list[str] = []
    lock = threading.Lock()

    def deliver() -> None:
        client = live_app.test_client()
        barrier.wait()
        response = client.post(
            "/webhooks/stripe", data=signed.payload, headers={"Stripe-Signature": signed.signature_header}
        )
        with lock:
            statuses.append(response.status_code)
            bodies.append((response.get_json() or {}).get("status", ""))

    threads = [threading.Thread(target=deliver) for _ in range(DELIVERIES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not any(thread.is_alive() for thread in threads), "a delivery hung"
    assert Counter(statuses) == {200: DELIVERIES}, statuses
    assert Counter(bodies) == {"ok": 1, "duplicate": DELIVERIES - 1}
    database = live_app.extensions["marketplace.db"]
    with database.session() as s:
        assert len(s.exec(select(Grant)).all()) == 1
        assert len(s.exec(select(PaymentEventRecord)).all()) == 1
        assert s.exec(select(Order)).one().status is OrderStatus.PAID


def test_webhook_and_return_page_racing_issue_one_license(live_app) -> None:
    """The buyer's return from checkout and the webhook fulfil the same order at once: one license."""
    session_id = _arrange(live_app)
    context = live_app.extensions["marketplace.context"]
    signed = context.payments.complete_checkout(session_id, "paid")
    database = live_app.extensions["marketplace.db"]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []
    webhook_answers: list[tuple[int, str]] = []

    def webhook() -> None:
        barrier.wait()
        response = live_app.test_client().post("/webhooks/stripe", data=signed.payload,
                                               headers={"Stripe-Signature": signed.signature_header})  # fmt: skip
        webhook_answers.append((response.status_code, (response.get_json() or {}).get("status", "")))

    def return_page() -> None:
        barrier.wait()
        try:
            with unit_of_work(database, context) as uow:
                orders.fulfil_checkout(uow, session_id)
        except BaseException as error:  # kept to be asserted below: neither side may fail
            errors.append(error)

    threads = [threading.Thread(target=webhook), threading.Thread(target=return_page)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a delivery hung"
    # Whichever comes second waits for the order's lock and finds it paid: both succeed.
    assert errors == []
    assert webhook_answers == [(200, "ok")]
    with database.session() as s:
        assert len(s.exec(select(Grant)).all()) == 1
        assert s.exec(select(Order)).one().status is OrderStatus.PAID
