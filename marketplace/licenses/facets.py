"""Catalog facets that come from offers: the license family, and whether AI training is permitted.

Only public, active offers count: a private offer for one buyer says nothing about what everyone else may get.
:func:`register_offer_facets` adds them to the catalog's facet registry; :func:`marketplace.create_app` calls it.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import col, select

from licensing import LicenseFamily
from marketplace.catalog.facets import Facet, Source, register_facet
from marketplace.catalog.search_index import add_base_source
from marketplace.licenses.models import Offer

LICENSE_FAMILY_LABELS: dict[str, str] = {
    LicenseFamily.CC_BY.value: "CC BY",
    LicenseFamily.CC_BY_SA.value: "CC BY-SA",
    LicenseFamily.CC_BY_NC.value: "CC BY-NC",
    LicenseFamily.PUBLIC_DOMAIN.value: "Public domain (CC0)",
    LicenseFamily.ODC.value: "Open Data Commons",
    LicenseFamily.CDLA.value: "CDLA",
    LicenseFamily.COMMERCIAL.value: "Commercial",
    LicenseFamily.RESEARCH_ONLY.value: "Research only",
    LicenseFamily.EVALUATION_ONLY.value: "Evaluation only",
    LicenseFamily.CUSTOM.value: "Custom",
}
TRAINING_LABELS = {"yes": "AI training permitted", "no": "No AI training"}


def _public_offers() -> sa.ColumnElement[bool]:
    return sa.and_(col(Offer.is_active).is_(True), col(Offer.audience_org_id).is_(None))


OFFER_SOURCE: Source = (Offer, lambda _session, offer: [offer.dataset_id])


def register_offer_facets() -> None:
    """Register the license-family and "AI training" facets (after the catalog's own; idempotent), and the offers
    as a source of the search index (the lowest public price)."""
    add_base_source(OFFER_SOURCE)
    register_facet(
        Facet(
            name="license_family",
            label="License family",
            values=lambda: select(
                col(Offer.dataset_id).label("dataset_id"), col(Offer.license_family).label("value")
            ).where(_public_offers()),
            labels=lambda _session, values: {v: LICENSE_FAMILY_LABELS.get(v, v) for v in values},
            accepts=lambda value: value in LICENSE_FAMILY_LABELS,
            fixed_order=list(LICENSE_FAMILY_LABELS),
            sources=(OFFER_SOURCE,),
        )
    )
    register_facet(
        Facet(
            name="training",
            label="AI training",
            values=lambda: select(
                col(Offer.dataset_id).label("dataset_id"),
                sa.case((col(Offer.training_permitted).is_(True), "yes"), else_="no").label("value"),
            ).where(_public_offers()),
            labels=lambda _session, values: {v: TRAINING_LABELS.get(v, v) for v in values},
            accepts=lambda value: value in TRAINING_LABELS,
            fixed_order=["yes", "no"],
            sources=(OFFER_SOURCE,),
        )
    )
