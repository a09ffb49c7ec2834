"""Demo analytics for Northwind Data Labs: 90 days of listing and offer views and a few orders (paid, one refunded,
some never paid), so the provider's analytics page of a fresh development site draws non-empty charts.

The orders are real: each is placed, paid through the sandbox checkout and (one of them) refunded by the provider
through the same services as on the site, on the day it is dated, so it carries its licenses, its invoice (and
credit note), and the notices and mail of each step. Idempotent: nothing is added once the provider's listings have
any recorded view. Deterministic: the same figures for the same day of seeding.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, time, timedelta

from sqlmodel import col, select

from marketplace.accounts.models import Membership, Organisation, Role, User
from marketplace.analytics.models import ListingView, OfferView
from marketplace.catalog.models import Dataset
from marketplace.catalog.vocab import DatasetStatus
from marketplace.db import UnitOfWork
from marketplace.errors import ValidationFailed
from marketplace.licenses.models import Offer
from marketplace.orders import services as orders
from marketplace.orders.events import handle_event
from marketplace.orders.models import Order, OrderStatus
from marketplace.orders.payments.sandbox import SandboxBackend
from marketplace.orders.refunds import refund_order

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


@contextmanager
def _dated(uow: UnitOfWork, when: datetime) -> Iterator[None]:
    """Within the block, ``uow``'s clock reads ``when`` (the services stamp what they write with it)."""
    present = uow.context
    uow.context = present.at(lambda: when)
    try:
        yield
    finally:
        uow.context = present


def _admin_of(uow: UnitOfWork, org: Organisation) -> User | None:
    statement = (
        select(User)
        .join(Membership, col(Membership.user_id) == col(User.id))
        .where(Membership.organisation_id == org.id, col(Membership.role).in_([Role.OWNER, Role.ADMIN]))
        .order_by(col(User.id))
    )
    return uow.session.exec(statement).first()


def _place(uow: UnitOfWork, buyer: User, org: Organisation, offer: Offer) -> Order | None:
    """An order of ``offer`` for ``org`` placed by ``buyer``, or None when the checkout refuses it (the organisation
    already holds the offer's license, or the offer may not be sold to it)."""
    base = uow.settings["BASE_URL"]
    try:
        with uow.session.begin_nested():
            return orders.order_offers(
                uow, buyer, licensee_slug=org.slug, offer_ids=[offer.id],  # type: ignore[list-item]
                accepted_terms={offer.id: offer.terms_hash},  # type: ignore[dict-item]
                success_url=f"{base}/orders/{{ORDER_ID}}/complete?session_id={{CHECKOUT_SESSION_ID}}",
                cancel_url=f"{base}/cart",
            )  # fmt: skip
    except ValidationFailed:
        return None


def _orders(uow: UnitOfWork, provider: Organisation, listings: list[tuple[Dataset, Offer]]) -> int:
    buyers = [
        (org, user)
        for org in uow.session.exec(select(Organisation).where(col(Organisation.slug).in_(BUYERS))).all()
        for user in [_admin_of(uow, org)]
        if user is not None
    ]
    seller = _admin_of(uow, provider)
    payments = uow.context.payments
    if not buyers or seller is None or not isinstance(payments, SandboxBackend):
        return 0  # the demo pays through the sandbox checkout only
    pairs = [(org, user, offer) for _dataset, offer in listings for org, user in buyers]
    placed = 0
    for ago, status in ORDERS:
        created = datetime.combine(uow.now().date() - timedelta(days=ago), time(10, 30), tzinfo=uow.now().tzinfo)
        with _dated(uow, created):
            order = None
            while order is None and pairs:
                org, user, offer = pairs.pop(0)
                order = _place(uow, user, org, offer)
        if order is None:
            break
        placed += 1
        if status is OrderStatus.PENDING_PAYMENT or order.checkout_session_id is None:
            continue
        with _dated(uow, created + timedelta(minutes=4)):
            signed = payments.complete_checkout(order.checkout_session_id, "paid")
            handle_event(uow, signed.payload, signed.signature_header)
        if status is OrderStatus.REFUNDED:
            with _dated(uow, created + timedelta(days=2)):
                refund_order(uow, seller, order, reason="Bought the wrong language pair by mistake.")
    return placed


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
    placed = _orders(uow, provider, listings)
    session.flush()
    return [f"analytics for {PROVIDER}: {views} listing views over {DAYS} days, {placed} orders"]
