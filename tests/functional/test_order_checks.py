"""The checks between money received and licenses issued, each on its own: an event that fails one changes nothing.

Each test sends a correctly signed event that differs from a good one in one fact only, so removing the one
check in ``orders`` that guards that fact makes its test fail. Also: who may see and refund an order, or see a
grant, comes from the permission table, and an API credential never carries platform-admin powers.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from licensing import GrantStatus
from marketplace.licenses import services as licenses
from marketplace.licenses.models import Grant, GrantEvent
from marketplace.orders import services as orders
from marketplace.orders.models import Order, OrderLine, OrderStatus, PaymentEventRecord, PayoutStatus
from marketplace.orders.payments import ChargeKind, EventType
from marketplace.permissions import delegated
from tests.factories import PASSWORD, UserFactory
from tests.functional.test_licenses import market  # noqa: F401  (the shared marketplace fixture)
from tests.functional.test_orders import _buy, _paid_order, _sandbox, paid_offer  # noqa: F401
from tests.helpers import log_in


def _deliver(app, event_type: str, obj: dict[str, Any]):
    signed = _sandbox(app).sandbox_event(event_type, obj)
    return app.test_client().post(
        "/webhooks/stripe", data=signed.payload, headers={"Stripe-Signature": signed.signature_header}
    )


def _completed_session(app, order: Order) -> dict[str, Any]:
    """The ``checkout.session`` object of a genuinely paid checkout of ``order`` (its event is not delivered)."""
    signed = _sandbox(app).complete_checkout(order.checkout_session_id, "paid")
    obj: dict[str, Any] = json.loads(signed.payload)["data"]["object"]
    assert obj["payment_status"] == "paid" and obj["amount_total"] == order.total_amount
    return obj


def _nothing_issued(db_session, order: Order) -> None:
    db_session.refresh(order)
    assert order.status is OrderStatus.PENDING_PAYMENT and order.paid_at is None
    assert db_session.exec(select(Grant)).all() == []


def test_a_good_completed_checkout_pays_the_order(app, client, db_session, market, paid_offer) -> None:  # noqa: F811
    """The baseline the next tests vary: the unchanged session object pays the order and issues the license."""
    log_in(client, "purchaser@example.org", PASSWORD)
    order = _buy(client, db_session, paid_offer)
    response = _deliver(app, EventType.CHECKOUT_COMPLETED, _completed_session(app, order))
    assert response.status_code == 200, response.get_data(as_text=True)
    db_session.refresh(order)
    assert order.status is OrderStatus.PAID and order.settlement is ChargeKind.PLATFORM
    line = db_session.exec(select(OrderLine)).one()
    assert line.payout_status is PayoutStatus.HELD and line.grant_id is not None


def test_a_payment_of_another_amount_does_not_pay_the_order(app, client, db_session, market, paid_offer) -> None:  # noqa: F811
    log_in(client, "purchaser@example.org", PASSWORD)
    order = _buy(client, db_session, paid_offer)
    session = _completed_session(app, order)
    session["amount_total"] = order.total_amount - 1
    response = _deliver(app, EventType.CHECKOUT_COMPLETED, session)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "amount_mismatch"
    _nothing_issued(db_session, order)


def test_a_session_of_another_order_does_not_pay_it(app, client, db_session, market, paid_offer) -> None:  # noqa: F811
    log_in(client, "purchaser@example.org", PASSWORD)
    order = _buy(client, db_session, paid_offer)
    session = _completed_session(app, order)
    session["metadata"] = {**session["metadata"], "order_id": str(order.id + 1000)}
    session["client_reference_id"] = str(order.id + 1000)
    response = _deliver(app, EventType.CHECKOUT_COMPLETED, session)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "session_mismatch"
    _nothing_issued(db_session, order)


def test_a_partial_refund_is_not_a_full_refund(app, client, db_session, market, paid_offer) -> None:  # noqa: F811
    order, grant = _paid_order(app, client, db_session, paid_offer)
    charge = _sandbox(app).charge_object(order.payment_intent_id)
    charge.update({"refunded": False, "amount_refunded": order.total_amount - 100})
    response = _deliver(app, EventType.CHARGE_REFUNDED, charge)
    assert response.status_code == 200
    assert response.get_json()["outcome"].startswith("partial refund")
    db_session.refresh(order)
    db_session.refresh(grant)
    assert order.status is OrderStatus.PAID and order.refunded_amount == order.total_amount - 100
    assert grant.status == "active"
    assert db_session.exec(select(OrderLine)).one().payout_status is PayoutStatus.HELD


def test_the_whole_amount_refunded_is_a_full_refund(app, client, db_session, market, paid_offer) -> None:  # noqa: F811
    """Even when the charge does not say ``refunded``: the amount refunded reaching the total is enough."""
    order, grant = _paid_order(app, client, db_session, paid_offer)
    charge = _sandbox(app).charge_object(order.payment_intent_id)
    charge.update({"refunded": False, "amount_refunded": order.total_amount})
    assert _deliver(app, EventType.CHARGE_REFUNDED, charge).status_code == 200
    db_session.refresh(order)
    db_session.refresh(grant)
    assert order.status is OrderStatus.REFUNDED and grant.status == "revoked"
    assert db_session.exec(select(OrderLine)).one().payout_status is PayoutStatus.REVERSED


def test_a_duplicate_event_is_settled_in_the_service(app, client, db_session, market, paid_offer) -> None:  # noqa: F811
    """The service itself reports the duplicate (its savepoint took the unique violation); the request's
    transaction stays usable and commits."""
    from marketplace.db import UnitOfWork

    log_in(client, "purchaser@example.org", PASSWORD)
    order = _buy(client, db_session, paid_offer)
    signed = _sandbox(app).complete_checkout(order.checkout_session_id, "paid")
    uow = UnitOfWork(db_session, app.extensions["marketplace.context"])
    first = orders.handle_event(uow, signed.payload, signed.signature_header)
    again = orders.handle_event(uow, signed.payload, signed.signature_header)
    assert (first.duplicate, again.duplicate) == (False, True)
    assert len(db_session.exec(select(PaymentEventRecord)).all()) == 1
    assert len(db_session.exec(select(Grant)).all()) == 1


# --- who may see and refund (the permission table's order and grant actions) -------------------------------------


def test_order_and_grant_permissions(app, client, db_session, market, paid_offer) -> None:  # noqa: F811
    order, grant = _paid_order(app, client, db_session, paid_offer)
    admin = UserFactory(email="root@example.org", is_platform_admin=True)
    db_session.flush()
    s = db_session
    assert orders.may_view_order(s, market["purchaser"], order)
    assert not orders.may_view_order(s, market["outsider"], order)
    assert not orders.may_view_order(s, market["seller"], order)  # the provider sees its sales, not the order
    assert orders.may_view_order(s, admin, order)
    assert orders.may_refund(s, market["seller"], order)  # an admin of the order's one provider
    assert not orders.may_refund(s, market["clerk"], order)  # a mere member of it
    assert not orders.may_refund(s, market["purchaser"], order)
    assert orders.may_refund(s, admin, order)
    for user in (market["purchaser"], market["seller"], market["clerk"], admin):
        assert licenses.may_view_grant(s, user, grant)
    assert not licenses.may_view_grant(s, market["outsider"], grant)
    assert not orders.may_view_order(s, None, order) and not licenses.may_view_grant(s, None, grant)


def test_api_credentials_have_no_admin_powers_over_orders(app, client, db_session, market, paid_offer) -> None:  # noqa: F811
    order, grant = _paid_order(app, client, db_session, paid_offer)
    admin = UserFactory(email="root@example.org", is_platform_admin=True)
    db_session.flush()
    with delegated():
        assert not orders.may_view_order(db_session, admin, order)
        assert not orders.may_refund(db_session, admin, order)
        assert not licenses.may_view_grant(db_session, admin, grant)
        assert orders.may_view_order(db_session, market["purchaser"], order)
    # An organisation's credential acts within that organisation only.
    with delegated(market["rival"].id):
        assert not orders.may_view_order(db_session, market["purchaser"], order)
        assert not licenses.may_view_grant(db_session, market["seller"], grant)
    with delegated(market["provider"].id):
        assert orders.may_refund(db_session, market["seller"], order)


# --- states are enum columns the database checks ---------------------------------------------------------------


def test_the_database_refuses_a_state_outside_its_enum(app, client, db_session, market, paid_offer) -> None:  # noqa: F811
    order, grant = _paid_order(app, client, db_session, paid_offer)
    assert order.status is OrderStatus.PAID and grant.status is GrantStatus.ACTIVE
    for table, column, row_id in [
        ("customer_order", "status", order.id),
        ("customer_order", "settlement", order.id),
        ("order_line", "payout_status", db_session.exec(select(OrderLine)).one().id),
        ("license_grant", "status", grant.id),
        ("license_grant_event", "to_status", db_session.exec(select(GrantEvent)).first().id),
    ]:
        with pytest.raises(IntegrityError), db_session.begin_nested():
            db_session.execute(text(f"UPDATE {table} SET {column} = 'bogus' WHERE id = :id"), {"id": row_id})
