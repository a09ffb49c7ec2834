"""Payments at the same moment take invoice numbers one after the other: unique and without gaps, even when some
transactions that took a number roll back.

Real commits on a scratch database, one transaction per payment (as under gunicorn): on PostgreSQL when
``TEST_DATABASE_URL`` is set (the counter row's lock is what is tested there), on SQLite otherwise.
"""

from __future__ import annotations

import threading

import pytest
from sqlmodel import select

from marketplace import create_app, migrate
from marketplace.accounts.models import Membership, Organisation, OrgKind, Role, User
from marketplace.catalog.models import Dataset, DatasetVersion
from marketplace.catalog.vocab import DatasetStatus, VersionStatus
from marketplace.db import unit_of_work, utcnow
from marketplace.invoices.models import DocumentCounter, DocumentKind, InvoiceDocument
from marketplace.invoices.numbering import next_number
from marketplace.licenses import services as licenses
from marketplace.orders import services as orders
from marketplace.orders.models import Order, OrderStatus
from tests.conftest import base_settings, drop_scratch_database, scratch_database_url

PAYMENTS = 12
ROLLED_BACK = 4


@pytest.fixture()
def live_app(tmp_path):
    url = scratch_database_url(tmp_path, "invoice_numbers")
    migrate.upgrade(url)
    app = create_app(base_settings(tmp_path, url))
    yield app
    app.extensions["marketplace.db"].dispose()
    drop_scratch_database(url)


def _pending_orders(app) -> list[str]:
    """``PAYMENTS`` orders of one buyer, each of its own offer, waiting for payment; their checkout sessions."""
    database, context = app.extensions["marketplace.db"], app.extensions["marketplace.context"]
    with unit_of_work(database, context) as uow:
        s = uow.session
        seller = User(email="seller@example.org", password_hash="x", email_verified_at=utcnow())
        buyer = User(email="buyer@example.org", password_hash="x", email_verified_at=utcnow())
        provider = Organisation(slug="prov", name="Prov", kind=OrgKind.PROVIDER, tax_id="DE1")
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
        sessions = []
        for index in range(PAYMENTS):
            offer = licenses.create_offer(uow, seller, dataset, title=f"Offer {index}", price_amount=1000 + index,
                                          currency="EUR", license_id="LicenseRef-standard-commercial-1.0")  # fmt: skip
            order = orders.order_offers(
                uow, buyer, licensee_slug="buy", offer_ids=[offer.id], accepted_terms={offer.id: offer.terms_hash},
                success_url="http://localhost/orders/{ORDER_ID}/complete?session_id={CHECKOUT_SESSION_ID}",
                cancel_url="http://localhost/orders/{ORDER_ID}",
            )  # fmt: skip
            assert order.checkout_session_id
            sessions.append(order.checkout_session_id)
        return sessions


def test_concurrent_payments_get_unique_gap_free_invoice_numbers(live_app) -> None:
    sessions = _pending_orders(live_app)
    context = live_app.extensions["marketplace.context"]
    database = live_app.extensions["marketplace.db"]
    signed = [context.payments.complete_checkout(session_id, "paid") for session_id in sessions]
    barrier = threading.Barrier(PAYMENTS + ROLLED_BACK)
    statuses: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def pay(index: int) -> None:
        event = signed[index]
        barrier.wait()
        response = live_app.test_client().post(
            "/webhooks/stripe", data=event.payload, headers={"Stripe-Signature": event.signature_header}
        )
        with lock:
            statuses.append(response.status_code)

    def take_a_number_then_fail() -> None:
        barrier.wait()
        try:
            with unit_of_work(database, context) as uow:
                next_number(uow.session, DocumentKind.INVOICE.value)
                raise RuntimeError("the payment's transaction failed after numbering")
        except RuntimeError:
            return
        except BaseException as error:  # kept to be asserted below
            errors.append(error)

    threads = [threading.Thread(target=pay, args=(i,)) for i in range(PAYMENTS)]
    threads += [threading.Thread(target=take_a_number_then_fail) for _ in range(ROLLED_BACK)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not any(thread.is_alive() for thread in threads), "a payment hung"
    assert errors == []
    assert statuses == [200] * PAYMENTS
    with database.session() as s:
        assert all(o.status is OrderStatus.PAID for o in s.exec(select(Order)).all())
        documents = s.exec(select(InvoiceDocument).where(InvoiceDocument.kind == DocumentKind.INVOICE)).all()
        assert sorted(d.number for d in documents) == list(range(1, PAYMENTS + 1))
        assert len({d.order_id for d in documents}) == PAYMENTS
        assert len({d.code for d in documents}) == PAYMENTS
        counter = s.get(DocumentCounter, DocumentKind.INVOICE.value)
        assert counter is not None and counter.last_number == PAYMENTS
