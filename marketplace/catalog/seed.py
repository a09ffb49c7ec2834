"""A demo catalog: ten varied, complete listings from three providers, published with manifests and samples.

Called by :func:`marketplace.seed.seed_demo` after the demo accounts exist. The listings go through the real
workflow (catalog import → submit → admin approval), so the seed also proves that they are complete and valid.
Idempotent: listings are keyed by their external id, and a published listing is left as it is.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlmodel import select

from marketplace.accounts.models import Membership, Organisation, OrgKind, Role, User
from marketplace.catalog import importer, services
from marketplace.catalog.models import Dataset
from marketplace.catalog.seed_northwind import NORTHWIND_DATASETS, NORTHWIND_SERVICE
from marketplace.catalog.seed_partners import EXTRA_PROVIDERS, PARTNER_DATASETS
from marketplace.catalog.seed_records import DemoListing
from marketplace.catalog.vocab import DatasetStatus
from marketplace.db import UnitOfWork

SAMPLES = Path(__file__).resolve().parent / "seed_samples"
PROVIDER_EMAIL = "provider@example.com"
ADMIN_EMAIL = "admin@example.com"

#: Every demo listing, in the order they are imported and published (the records themselves are in
#: :mod:`marketplace.catalog.seed_northwind` and :mod:`marketplace.catalog.seed_partners`).
DEMO_DATASETS: list[DemoListing] = [*NORTHWIND_DATASETS, *PARTNER_DATASETS, NORTHWIND_SERVICE]


def _user(uow: UnitOfWork, email: str) -> User:
    user = uow.session.exec(select(User).where(User.email == email)).first()
    assert user is not None, f"seed the demo accounts first ({email})"
    return user


def _providers(uow: UnitOfWork, owner: User) -> list[str]:
    report = []
    for slug, name, description in EXTRA_PROVIDERS:
        if uow.session.exec(select(Organisation).where(Organisation.slug == slug)).first() is None:
            org = Organisation(
                slug=slug,
                name=name,
                kind=OrgKind.PROVIDER,
                description=description,
                created_by_id=owner.id,
                created_at=uow.now(),
            )
            uow.session.add(org)
            uow.session.flush()
            uow.session.add(Membership(organisation_id=org.id, user_id=owner.id, role=Role.OWNER, created_at=uow.now()))  # type: ignore[arg-type]
            report.append(f"created provider {slug} owned by {owner.email}")
    return report


def seed_catalog(uow: UnitOfWork) -> list[str]:
    """Load the demo catalog (see the module documentation); return what was done."""
    provider, admin = _user(uow, PROVIDER_EMAIL), _user(uow, ADMIN_EMAIL)
    report = _providers(uow, provider)
    by_provider: dict[str, list[dict[str, Any]]] = {}
    for org_slug, _, record, _ in DEMO_DATASETS:
        by_provider.setdefault(org_slug, []).append(record)
    for org_slug, records in by_provider.items():
        lines = "\n".join(json.dumps(r, ensure_ascii=False) for r in records).encode()
        result = importer.import_catalog(uow, provider, organisation=org_slug, data=lines, fmt="jsonl")
        if result.created or result.updated:
            report.append(f"{org_slug}: {result.summary()}")
    for _, days_ago, record, samples in DEMO_DATASETS:
        dataset = uow.session.exec(select(Dataset).where(Dataset.slug == record["slug"])).one()
        existing = {s.filename for s in services.samples_of(uow.session, dataset)}
        for filename, media_type, description in samples:
            if filename not in existing and dataset.status is DatasetStatus.DRAFT:
                content = (SAMPLES / filename).read_bytes()
                services.add_sample(
                    uow,
                    provider,
                    dataset,
                    filename=filename,
                    content=content,
                    media_type=media_type,
                    description=description,
                )
        if dataset.status is DatasetStatus.DRAFT:
            services.submit_for_review(uow, provider, dataset)
            services.approve(uow, admin, dataset)
            # Spread publication dates so that "newest" means something in the demo.
            dataset.published_at = uow.now() - timedelta(days=days_ago)
            uow.session.add(dataset)
            report.append(f"published {dataset.slug}")
    report.extend(_croissant_draft(uow, provider))
    uow.session.flush()
    return report


#: A Croissant document as a dataset host publishes it (a zip archive, files inside it, two joined record sets):
#: imported as a draft of the first provider, whose page shows its schema and the files still to upload.
CROISSANT_DEMO = SAMPLES / "croissant-used-cars.json"


def _croissant_draft(uow: UnitOfWork, provider: User) -> list[str]:
    org_slug = DEMO_DATASETS[0][0]
    result = importer.import_catalog(
        uow, provider, organisation=org_slug, data=CROISSANT_DEMO.read_bytes(), fmt="croissant"
    )
    return [f"{org_slug} (Croissant): {result.summary()}"] if result.created or result.updated else []
