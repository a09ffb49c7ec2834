"""A provider with two listings, two licensees, and known views, orders (in two currencies, one refunded, one not
paid) and downloads, on a fixed clock: Monday 2026-11-30 12:00 UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session

from marketplace.accounts.models import OrgKind, Role
from marketplace.analytics.models import ListingView, OfferView
from marketplace.db import UnitOfWork
from marketplace.delivery.models import DownloadEvent
from marketplace.licenses import services as licenses
from marketplace.orders.models import Order, OrderLine, OrderStatus
from tests.factories import DatasetFactory, OrganisationFactory, UserFactory, member

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


class Clock:
    """The application's clock, moved by tests."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def at(day: str, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=UTC)


def _order(session: Session, offer: Any, buyer_id: int, *, created: datetime, paid: datetime | None,
           status: OrderStatus, amount: int, fee: int) -> Order:  # fmt: skip
    order = Order(
        buyer_org_id=buyer_id,
        buyer_email="buyer@example.org",
        status=status,
        currency=offer.currency,
        total_amount=amount,
        platform_fee_amount=fee,
        payment_backend="sandbox",
        created_at=created,
        paid_at=paid,
        refunded_amount=amount if status is OrderStatus.REFUNDED else 0,
    )
    session.add(order)
    session.flush()
    session.add(
        OrderLine(
            order_id=order.id,
            offer_id=offer.id,
            dataset_id=offer.dataset_id,
            provider_org_id=offer.organisation_id,
            description=offer.title,
            amount=amount,
            currency=offer.currency,
            platform_fee_amount=fee,
            terms_hash=offer.terms_hash,
        )
    )
    return order


def _views(session: Session, model: Any, days: dict[str, int], **ids: int) -> None:
    for day, count in days.items():
        for n in range(count):
            session.add(model(day=date.fromisoformat(day), slot=n, visitor=f"v{n}-{day}", **ids))


@pytest.fixture()
def clock(app: Flask) -> Clock:
    clock = Clock()
    app.extensions["marketplace.context"].clock = clock
    return clock


@pytest.fixture()
def world(app: Flask, db_session: Session, clock: Clock) -> dict[str, Any]:
    provider = OrganisationFactory(slug="prov", name="Provider Co", kind=OrgKind.PROVIDER)
    other = OrganisationFactory(slug="other", name="Other Provider", kind=OrgKind.PROVIDER)
    buyer = OrganisationFactory(slug="buy", name="Buyer Co", kind=OrgKind.BUYER)
    rival = OrganisationFactory(slug="rival", name="Rival Co", kind=OrgKind.BUYER)
    people = {
        "seller": member(provider, Role.ADMIN, email="seller@example.org"),
        "clerk": member(provider, Role.MEMBER, email="clerk@example.org"),
        "other": member(other, Role.OWNER, email="other@example.org"),
        "purchaser": member(buyer, Role.MEMBER, email="purchaser@example.org"),
        "admin": UserFactory(email="admin@example.org", is_platform_admin=True),
    }
    speech = DatasetFactory(organisation=provider, slug="speech", title="Speech")
    images = DatasetFactory(organisation=provider, slug="images", title="Images")
    theirs = DatasetFactory(organisation=other, slug="theirs", title="Theirs")
    uow = UnitOfWork(db_session, app.extensions["marketplace.context"])

    def offer(dataset: Any, by: Any, currency: str, price: int) -> Any:
        return licenses.create_offer(
            uow,
            by,
            dataset,
            title=f"Commercial {currency}",
            license_id="LicenseRef-standard-commercial-1.0",
            price_amount=price,
            currency=currency,
        )

    eur, usd = offer(speech, people["seller"], "EUR", 125000), offer(speech, people["seller"], "USD", 50000)
    images_eur, their_offer = offer(images, people["seller"], "EUR", 20000), offer(theirs, people["other"], "EUR", 100)
    db_session.flush()
    b = buyer.id
    _order(db_session, eur, b, created=at("2026-11-20"), paid=at("2026-11-20", 10, 5), status=OrderStatus.PAID,
           amount=125000, fee=12500)  # fmt: skip
    _order(db_session, usd, b, created=at("2026-11-25", 23, 50), paid=at("2026-11-26", 0, 10),
           status=OrderStatus.PAID, amount=50000, fee=5000)  # fmt: skip
    _order(db_session, eur, b, created=at("2026-11-27"), paid=at("2026-11-27", 11), status=OrderStatus.REFUNDED,
           amount=125000, fee=12500)  # fmt: skip
    _order(db_session, eur, b, created=at("2026-11-29"), paid=None, status=OrderStatus.PENDING_PAYMENT,
           amount=125000, fee=12500)  # fmt: skip
    _order(db_session, images_eur, b, created=at("2026-08-01"), paid=at("2026-08-01", 12), status=OrderStatus.PAID,
           amount=20000, fee=2000)  # fmt: skip
    _order(db_session, their_offer, b, created=at("2026-11-20"), paid=at("2026-11-20", 11), status=OrderStatus.PAID,
           amount=100, fee=10)  # fmt: skip
    _views(db_session, ListingView, {"2026-11-20": 3, "2026-11-26": 2, "2026-10-15": 4}, dataset_id=speech.id)
    _views(db_session, OfferView, {"2026-11-20": 2, "2026-11-26": 1}, dataset_id=speech.id, offer_id=eur.id)
    _views(db_session, ListingView, {"2026-11-20": 7}, dataset_id=theirs.id)
    _downloads(uow, speech, eur, {"buyer": buyer, "rival": rival})
    db_session.flush()
    return {"provider": provider, "other_org": other, "speech": speech, "images": images, "eur": eur, **people}


def _downloads(uow: UnitOfWork, dataset: Any, offer: Any, licensees: dict[str, Any]) -> None:
    from tests.factories import DatasetFileFactory, DatasetVersionFactory

    session = uow.session
    from marketplace.catalog.vocab import VersionStatus

    version = DatasetVersionFactory(
        dataset=dataset,
        version="1.0.0",
        status=VersionStatus.PUBLISHED,
        published_at=NOW,
        manifest_digest="ab" * 32,
    )
    files = [DatasetFileFactory(version=version, path=f"data/{n}.csv") for n in range(2)]
    grants = {name: licenses.issue_grant(uow, offer, licensee=org, acquired_by=None) for name, org in licensees.items()}
    events = [
        ("buyer", 0, at("2026-11-02", 9)),
        ("buyer", 1, at("2026-11-21", 9)),
        ("buyer", 0, at("2026-11-28", 9)),
        ("buyer", 0, at("2026-09-01", 9)),  # before the last 30 days
        ("rival", 1, at("2026-11-10", 8)),
    ]
    for name, file_index, when in events:
        grant = grants[name]
        session.add(
            DownloadEvent(
                grant_id=grant.id,
                file_id=files[file_index].id,
                dataset_id=dataset.id,
                licensee_org_id=grant.licensee_org_id,
                issued_at=when,
                expires_at=when + timedelta(minutes=5),
            )
        )
