"""Each event reaches the right people only, in the site and by mail, as each person chose."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from marketplace.accounts.models import User
from marketplace.catalog import services as catalog_services
from marketplace.db import UnitOfWork
from marketplace.notifications import services
from marketplace.notifications.expiring import notify_expiring_licenses
from marketplace.notifications.kinds import NotificationKind
from marketplace.notifications.models import Notification
from tests.factories import PASSWORD, UserFactory, member
from tests.functional.catalog.conftest import Catalog
from tests.functional.test_licenses import _offer, market  # noqa: F401  (the shared marketplace fixture)
from tests.functional.test_orders import _buy, _pay
from tests.helpers import log_in, post_form


def rows(session: Session, user: User, kind: NotificationKind | None = None) -> list[Notification]:
    query = select(Notification).where(Notification.recipient_id == user.id)
    if kind is not None:
        query = query.where(Notification.kind == kind)
    return list(session.exec(query.order_by(Notification.id)).all())


def everyone(session: Session) -> set[int]:
    return {n.recipient_id for n in session.exec(select(Notification)).all()}


@pytest.fixture()
def uow(app, db_session) -> UnitOfWork:  # type: ignore[no-untyped-def]
    return UnitOfWork(db_session, app.extensions["marketplace.context"])


def test_listing_submitted_reaches_platform_reviewers_and_the_decision_the_providers_admins(
    app, db_session, uow, outbox
) -> None:
    catalog = Catalog(app, uow)
    org, owner = catalog.provider()
    plain = member(org, email="plain@example.org")
    bystander = UserFactory(email="bystander@example.org")
    db_session.flush()
    dataset = catalog.draft(title="Clinical speech")
    with app.app_context():
        catalog_services.submit_for_review(uow, owner, dataset)
    uow.commit()
    review = rows(db_session, catalog.admin, NotificationKind.LISTING_REVIEW)
    assert [n.title for n in review] == ["Listing submitted for review: Clinical speech"]
    assert review[0].link == "/reviews"
    assert everyone(db_session) == {catalog.admin.id}
    assert [m.subject for m in outbox.messages_to(catalog.admin.email)] == [review[0].title]
    uow = UnitOfWork(db_session, app.extensions["marketplace.context"])
    catalog_services.reject(uow, catalog.admin, dataset, "Describe the bias examination.")
    uow.commit()
    decision = rows(db_session, owner, NotificationKind.LISTING_DECISION)
    assert len(decision) == 1 and "Describe the bias examination." in decision[0].body
    assert not rows(db_session, plain) and not rows(db_session, bystander)  # members and strangers: nothing
    uow = UnitOfWork(db_session, app.extensions["marketplace.context"])
    with app.app_context():
        catalog_services.submit_for_review(uow, owner, dataset)
        catalog_services.approve(uow, catalog.admin, dataset)
    uow.commit()
    titles = [n.title for n in rows(db_session, owner, NotificationKind.LISTING_DECISION)]
    assert titles[-1] == "Your listing is published: Clinical speech"
    assert any(m.subject == titles[-1] for m in outbox.messages_to(owner.email))
    assert everyone(db_session) == {catalog.admin.id, owner.id}


def test_a_sale_reaches_the_providers_admins_and_the_paid_order_its_buyer(
    app,
    client,
    outbox,
    db_session,
    market,  # noqa: F811
) -> None:
    offer = _offer(db_session, market, title="Commercial", license_id="LicenseRef-standard-commercial-1.0",
                   price_amount=125000)  # fmt: skip
    log_in(client, "purchaser@example.org", PASSWORD)
    order = _buy(client, db_session, offer)
    _pay(client, order)
    db_session.refresh(order)
    assert order.status == "paid"
    sale = rows(db_session, market["seller"], NotificationKind.SALE)
    assert len(sale) == 1 and order.reference in sale[0].body and "€1,250.00" in sale[0].body
    assert sale[0].link == "/orgs/prov/sales"
    assert any(m.subject == sale[0].title for m in outbox.messages_to("seller@example.org"))
    paid = rows(db_session, market["purchaser"], NotificationKind.ORDER)
    assert [n.title for n in paid] == [f"Order {order.reference} is paid"]
    # The receipt is the buyer's mail; the notice itself is not mailed by default (no second mail).
    assert [m.subject for m in outbox.messages_to("purchaser@example.org")] == [f"Receipt for order {order.reference}"]
    # A plain member of the provider and the other organisation hear of nothing.
    assert not rows(db_session, market["clerk"]) and not rows(db_session, market["outsider"])

    seller = app.test_client()
    log_in(seller, "seller@example.org", PASSWORD)
    assert post_form(seller, f"/orders/{order.id}/refund", {"reason": "wrong dataset"},
                     token_from="/settings").status_code == 302  # fmt: skip
    refunded = rows(db_session, market["purchaser"], NotificationKind.ORDER)
    assert refunded[-1].title == f"Order {order.reference} was refunded" and "wrong dataset" in refunded[-1].body
    assert rows(db_session, market["seller"], NotificationKind.SALE)[-1].title == f"Refund of order {order.reference}"
    assert "revoked" in outbox.messages_to("purchaser@example.org")[-1].subject  # the refund mail, still last
    assert everyone(db_session) == {market["seller"].id, market["purchaser"].id}


def test_preferences_mail_off_means_no_mail_and_site_off_no_row(app, client, outbox, db_session, market) -> None:  # noqa: F811
    uow = UnitOfWork(db_session, app.extensions["marketplace.context"])
    services.save_preferences(uow, market["seller"], {NotificationKind.SALE: services.Choice(True, False)})
    services.save_preferences(uow, market["purchaser"], {NotificationKind.ORDER: services.Choice(False, True)})
    db_session.flush()
    offer = _offer(db_session, market, title="Commercial", license_id="LicenseRef-standard-commercial-1.0",
                   price_amount=5000)  # fmt: skip
    log_in(client, "purchaser@example.org", PASSWORD)
    order = _buy(client, db_session, offer)
    _pay(client, order)
    assert len(rows(db_session, market["seller"], NotificationKind.SALE)) == 1
    assert not outbox.messages_to("seller@example.org")  # mail off: the row only
    assert not rows(db_session, market["purchaser"])  # site off: no row
    subjects = sorted(m.subject for m in outbox.messages_to("purchaser@example.org"))
    assert subjects == [f"Order {order.reference} is paid", f"Receipt for order {order.reference}"]  # mail turned on


def test_a_required_mail_cannot_be_turned_off(app, db_session, market) -> None:  # noqa: F811
    uow = UnitOfWork(db_session, app.extensions["marketplace.context"])
    services.save_preferences(uow, market["seller"], {NotificationKind.WITHDRAWAL: services.Choice(False, False)})
    choice = services.choices_of(db_session, [market["seller"].id], NotificationKind.WITHDRAWAL)[market["seller"].id]
    assert choice == services.Choice(in_site=False, by_mail=True)


def test_the_14_day_license_notice_goes_once_per_license(app, db_session, outbox, market) -> None:  # noqa: F811
    from marketplace.licenses import services as licenses

    context = app.extensions["marketplace.context"]
    uow = UnitOfWork(db_session, context)
    offer = _offer(db_session, market)
    soon = licenses.acquire_free(uow, market["purchaser"], offer, licensee_slug="buy",
                                 accepted_terms_hash=offer.terms_hash, ip_address="::1")  # fmt: skip
    later = licenses.acquire_free(uow, market["outsider"], offer, licensee_slug="rival",
                                  accepted_terms_hash=offer.terms_hash, ip_address="::1")  # fmt: skip
    soon.valid_until = uow.now() + timedelta(days=10)
    later.valid_until = uow.now() + timedelta(days=20)
    db_session.add_all([soon, later])
    db_session.flush()
    assert notify_expiring_licenses(uow) == 1
    uow.commit()
    again = UnitOfWork(db_session, context)
    assert notify_expiring_licenses(again) == 0  # idempotent: one notice per license
    again.commit()
    told = rows(db_session, market["purchaser"], NotificationKind.LICENSE_EXPIRING)
    assert len(told) == 1 and told[0].link == f"/licenses/{soon.id}"
    assert len([m for m in outbox.messages_to("purchaser@example.org") if m.subject == told[0].title]) == 1
    assert not rows(db_session, market["outsider"])  # ends in 20 days: not yet
    assert not rows(db_session, market["seller"])  # the licensor is not the one to renew
