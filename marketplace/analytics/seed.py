"""Demo analytics for Northwind Data Labs: 90 days of listing and offer views and a few orders (paid, one refunded,
some never paid), so the provider's analytics page of a fresh development site draws non-empty charts.

The orders are history only: they carry no payment session and no license (the demo's real purchases go through
the sandbox checkout). Idempotent: nothing is added once the provider's listings have any recorded view.
Deterministic: the same figures for the same day of seeding.
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from sqlmodel import col, select

from marketplace.accounts.models import Organisation
from marketplace.analytics.models import ListingView, OfferView
from marketplace.catalog.models import Dataset
from marketplace.catalog.vocab import DatasetStatus
from marketplace.db import UnitOfWork
from marketplace.licenses.models import Offer
from marketplace.orders.models import Order, OrderLine, OrderStatus

PROVIDER = "northwind-data"
BUYERS = ("globex-ai", "initech-research")
DAYS = 90
#: Views per day of the most looked-at listing; the others get less, in catalog order.
POPULARITY = (12, 8, 5, 3, 2, 1)
#: (days ago, status) of the demo orders, each for the paid offer of one listing in turn.
ORDERS = (
    (83, OrderStatus.PAID),
    (61, OrderStatus.PAID),
    (44, OrderStatus.PAID),
    (37, OrderStatus.REFUNDED),
    (26, OrderStatus.PAID),
    (19, OrderStatus.PENDING_PAYMENT),
    (12, OrderStatus.PAID),
    (5, OrderStatus.PAID),
    (2, OrderStatus.PENDING_PAYMENT),
)
FEE_PERCENT = 10


def _paid_offers(uow: UnitOfWork, provider: Organisation) -> list[tuple[Dataset, Offer]]:
    rows = uow.session.exec(
        select(Dataset, Offer)
        .join(Offer, col(Offer.dataset_id) == col(Dataset.id))
        .where(
            Dataset.organisation_id == provider.id,
            Dataset.status == DatasetStatus.PUBLISHED,
            col(Offer.is_active).is_(True),
            col(Offer.audience_org_id).is_(None),
            Offer.price_amount > 0,
        )
        .order_by(col(Dataset.id), col(Offer.id))
    ).all()
    seen: dict[int | None, tuple[Dataset, Offer]] = {}
    for dataset, offer in rows:
        seen.setdefault(dataset.id, (dataset, offer))
    return list(seen.values())


def _views(uow: UnitOfWork, listings: list[tuple[Dataset, Offer]], rng: random.Random) -> int:
    today = uow.now().date()
    total = 0
    for rank, (dataset, offer) in enumerate(listings):
        base = POPULARITY[min(rank, len(POPULARITY) - 1)]
        for ago in range(DAYS):
            day = today - timedelta(days=ago)
            weekend = 0.6 if day.weekday() >= 5 else 1.0
            count = max(0, round(base * weekend * rng.uniform(0.5, 1.5) * (1 + (DAYS - ago) / DAYS)))
            for n in range(count):
                visitor = f"demo-{dataset.id}-{ago}-{n}"
                uow.session.add(ListingView(dataset_id=dataset.id, day=day, slot=n, visitor=visitor))  # type: ignore[arg-type]
                if rng.random() < 0.3:
                    uow.session.add(
                        OfferView(offer_id=offer.id, dataset_id=dataset.id, day=day, slot=n, visitor=visitor)  # type: ignore[arg-type]
                    )
            total += count
    return total


def _orders(uow: UnitOfWork, listings: list[tuple[Dataset, Offer]]) -> int:
    buyers = uow.session.exec(select(Organisation).where(col(Organisation.slug).in_(BUYERS))).all()
    if not buyers:
        return 0
    for index, (ago, status) in enumerate(ORDERS):
        dataset, offer = listings[index % len(listings)]
        buyer = buyers[index % len(buyers)]
        created = datetime.combine(uow.now().date() - timedelta(days=ago), time(10, 30), tzinfo=uow.now().tzinfo)
        paid = created + timedelta(minutes=4) if status is not OrderStatus.PENDING_PAYMENT else None
        fee = offer.price_amount * FEE_PERCENT // 100
        order = Order(
            buyer_org_id=buyer.id, buyer_email="orders@example.com", status=status, currency=offer.currency,  # type: ignore[arg-type]
            total_amount=offer.price_amount, platform_fee_amount=fee, payment_backend="sandbox",
            refunded_amount=offer.price_amount if status is OrderStatus.REFUNDED else 0, created_at=created,
            updated_at=created, paid_at=paid, status_reason="demo history",
        )  # fmt: skip
        uow.session.add(order)
        uow.session.flush()
        line = OrderLine.model_validate(
            {"order_id": order.id, "offer_id": offer.id, "dataset_id": dataset.id,
             "provider_org_id": offer.organisation_id, "description": f"{dataset.title}: {offer.title}",
             "amount": offer.price_amount, "currency": offer.currency, "platform_fee_amount": fee,
             "terms_hash": offer.terms_hash}
        )  # fmt: skip
        uow.session.add(line)
    return len(ORDERS)


def seed_analytics(uow: UnitOfWork) -> list[str]:
    """Add the demo's views and orders for Northwind Data Labs unless it has recorded views; return what was done."""
    session = uow.session
    provider = session.exec(select(Organisation).where(Organisation.slug == PROVIDER)).first()
    if provider is None:
        return []
    listings = _paid_offers(uow, provider)
    ids = [dataset.id for dataset, _offer in listings]
    if not listings or session.exec(select(ListingView.id).where(col(ListingView.dataset_id).in_(ids))).first():
        return []
    rng = random.Random(f"{PROVIDER}-{uow.now().date().isoformat()}")
    views = _views(uow, listings, rng)
    orders = _orders(uow, listings)
    session.flush()
    return [f"analytics for {PROVIDER}: {views} listing views over {DAYS} days, {orders} orders"]
