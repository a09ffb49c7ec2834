"""Listings whose AI Act documentation is complete (or not), built through the real services."""

from __future__ import annotations

from typing import Any

from flask import Flask

from marketplace.accounts.models import User
from marketplace.catalog import services
from marketplace.catalog.models import Dataset, DatasetVersion
from marketplace.db import UnitOfWork
from marketplace.licenses import services as licenses
from tests.functional.catalog.conftest import ALL_FIELDS, manifest, record

#: Everything the pack needs, beyond the complete listing of tests.functional.catalog.conftest.BASE_RECORD.
DOCUMENTED_AI_ACT: dict[str, Any] = {
    "design_choices": "Balanced classes across seven customer intents.",
    "collection_processes": "Written by staff writers from call-centre scripts.",
    "data_origin": "Original writing commissioned for this dataset.",
    "preparation": {"annotation": "Two linguists labelled each record.", "cleaning": "Duplicates removed."},
    "assumptions": "Intents stand for what callers of a retail bank ask.",
    "suitability": "Fits intent classifiers for retail banking in English.",
    "group_distribution": [
        {"dimension": "language", "group": "en", "share_pct": 100},
        {"dimension": "region", "group": "Bavaria", "share_pct": 60},
        {"dimension": "region", "group": "Saxony", "share_pct": 40},
        {"dimension": "writer age", "group": "30-49", "count": 7},
    ],
    "bias_examination": "Class balance and dialect coverage checked.",
    "bias_mitigation": "Under-represented intents re-sampled.",
    "known_gaps": "English only; no spoken data.",
    "gaps_remedy": "A German edition is planned for 2025.",
    "bias_reviewer": "Dr. Ada Reviewer",
    "bias_reviewed_on": "2024-07-01",
}


def documented_record(**overrides: Any) -> dict[str, Any]:
    """A complete listing record whose AI Act record fills every part of the pack."""
    return record(ai_act=dict(DOCUMENTED_AI_ACT), **overrides)


def publish_listing(
    app: Flask,
    uow: UnitOfWork,
    provider: User,
    admin: User,
    *,
    organisation: str,
    slug: str,
    data: dict[str, Any],
    offer: bool = True,
) -> tuple[Dataset, DatasetVersion]:
    """Create, publish (approved by ``admin``) and, when ``offer``, offer under CC-BY-4.0 a listing with version
    1.0.0; returns the listing and its version."""
    dataset = services.create_dataset(uow, provider, organisation=organisation, title=data["title"], slug=slug)
    services.apply_record(uow, dataset, data, ALL_FIELDS)
    version = services.add_version(uow, provider, dataset, version="1.0.0", files=manifest(slug))
    uow.session.flush()
    with app.app_context():
        services.submit_for_review(uow, provider, dataset)
        services.approve(uow, admin, dataset)
        if offer:
            licenses.create_offer(
                uow, provider, dataset, title="Open", license_id="CC-BY-4.0", price_amount=0, currency="EUR"
            )
        uow.session.flush()
    uow.session.refresh(version)
    return dataset, version
