"""The offers of one dataset side by side (the dataset page's Licenses tab): price, term, seats, and the terms that
differ between them in the licensing engine's plain-language lines; the terms every offer shares, once.

The comparing is :func:`licensing.compare.compare_terms`; this module adds what the marketplace knows of each
offer (its title, price and license).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from licensing.compare import TermsComparison, compare_terms
from marketplace.licenses import services as svc
from marketplace.licenses.models import Offer


@dataclass(frozen=True)
class OfferColumn:
    """One offer's column: its id, title, price for people ("Free" or "€499.00") and license id."""

    offer_id: int | None
    title: str
    price: str
    license_id: str
    training: bool


@dataclass(frozen=True)
class OfferComparison:
    """The columns (one per offer, in the given order) and the terms compared across them."""

    columns: tuple[OfferColumn, ...]
    terms: TermsComparison


def compare_offers(offers: Sequence[Offer]) -> OfferComparison | None:
    """Compare ``offers`` side by side; None when there are fewer than two (nothing to compare)."""
    if len(offers) < 2:
        return None
    columns = tuple(
        OfferColumn(
            offer_id=offer.id,
            title=offer.title,
            price="Free" if offer.is_free else svc.offer_price(offer).format(),
            license_id=offer.license_id,
            training=offer.training_permitted,
        )
        for offer in offers
    )
    return OfferComparison(columns, compare_terms([svc.offer_terms(offer) for offer in offers]))
