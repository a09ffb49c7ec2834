"""Demo offers for the demo catalog: each published listing gets a commercial offer, and most an open one too.

Idempotent: a listing that already has an offer is left alone.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from marketplace.accounts.models import Membership, Organisation, Role, User
from marketplace.catalog.models import Dataset
from marketplace.catalog.vocab import DatasetStatus, OfferingType
from marketplace.db import UnitOfWork
from marketplace.licenses import services
from marketplace.licenses.models import Grant, Offer

# (open license or None, commercial price in EUR cents, commercial template) by position in the catalog.
PLANS = (
    ("CC-BY-4.0", 250_000, "LicenseRef-standard-commercial-1.0"),
    ("CC-BY-NC-4.0", 480_000, "LicenseRef-enterprise-1.0"),
    (None, 120_000, "LicenseRef-standard-commercial-1.0"),
    ("CDLA-Permissive-2.0", 90_000, "LicenseRef-standard-commercial-1.0"),
    (None, 35_000, "LicenseRef-evaluation-only-1.0"),
    ("CC-BY-SA-4.0", 150_000, "LicenseRef-standard-commercial-1.0"),
)


#: Listings whose plan matters to the demo: the starter pack is the one whose files really download.
SPECIAL = {"instruction-pairs-starter": ("CC-BY-4.0", 49_900, "LicenseRef-standard-commercial-1.0")}


def _owner(uow: UnitOfWork, org_id: int) -> User | None:
    row = uow.session.exec(
        select(User)
        .join(Membership, col(Membership.user_id) == User.id)
        .where(Membership.organisation_id == org_id, Membership.role == Role.OWNER)
    ).first()
    return row


def seed_offers(uow: UnitOfWork) -> list[str]:
    """Put demo offers on every published listing that has none; return what was done."""
    session = uow.session
    report: list[str] = []
    datasets = session.exec(
        select(Dataset).where(Dataset.status == DatasetStatus.PUBLISHED).order_by(col(Dataset.id))
    ).all()
    for position, dataset in enumerate(datasets):
        if dataset.is_custom or session.exec(select(Offer.id).where(Offer.dataset_id == dataset.id)).first():
            continue  # a custom-collection service is sold by quote, not by offers
        owner = _owner(uow, dataset.organisation_id)
        org = session.get(Organisation, dataset.organisation_id)
        if owner is None or org is None:
            continue
        open_license, price, commercial = SPECIAL.get(dataset.slug, PLANS[position % len(PLANS)])
        if open_license:
            services.create_offer(uow, owner, dataset, title=f"Open license ({open_license})",
                                  license_id=open_license, price_amount=0, currency="EUR")  # fmt: skip
        title = {
            "LicenseRef-enterprise-1.0": "Enterprise license, 3 years",
            "LicenseRef-evaluation-only-1.0": "Evaluation license, 30 days",
        }.get(commercial, "Commercial training license, 1 year")
        services.create_offer(uow, owner, dataset, title=title, license_id=commercial, price_amount=price,
                              currency="EUR")  # fmt: skip
        report.append(f"offers for {dataset.slug}: {open_license or 'no open license'} + {commercial}")
    report.extend(_seed_private_offer(uow))
    report.extend(_seed_demo_license(uow))
    return report


#: The demo buyer's organisation holds the starter pack's open license, so its license page shows the AI Act
#: training-content summary fragment (the pack's provider described its crawling and opt-out handling).
DEMO_LICENSE = ("buyer@example.com", "globex-ai", "instruction-pairs-starter")


def _seed_demo_license(uow: UnitOfWork) -> list[str]:
    session = uow.session
    email, licensee, slug = DEMO_LICENSE
    buyer = session.exec(select(User).where(User.email == email)).first()
    dataset = session.exec(select(Dataset).where(Dataset.slug == slug)).first()
    org = session.exec(select(Organisation).where(Organisation.slug == licensee)).first()
    if buyer is None or dataset is None or org is None:
        return []
    if session.exec(select(Grant.id).where(Grant.dataset_id == dataset.id, Grant.licensee_org_id == org.id)).first():
        return []
    offer = session.exec(
        select(Offer).where(
            Offer.dataset_id == dataset.id,
            col(Offer.is_active).is_(True),
            col(Offer.audience_org_id).is_(None),
            Offer.price_amount == 0,
        )
    ).first()
    if offer is None:
        return []
    grant = services.acquire_free(
        uow, buyer, offer, licensee_slug=licensee, accepted_terms_hash=offer.terms_hash, ip_address="127.0.0.1"
    )
    return [f"{licensee} holds license {grant.id} for {slug} ({offer.license_id})"]


#: A private offer Northwind Data Labs makes to Globex AI (the demo buyer) on its first published listing.
PRIVATE_OFFER = ("northwind-data", "globex-ai", "Globex AI: commercial training license, 2 years", 180_000)


def _seed_private_offer(uow: UnitOfWork) -> list[str]:
    session = uow.session
    provider_slug, buyer_slug, title, price = PRIVATE_OFFER
    provider = session.exec(select(Organisation).where(Organisation.slug == provider_slug)).first()
    buyer = session.exec(select(Organisation).where(Organisation.slug == buyer_slug)).first()
    if provider is None or buyer is None:
        return []
    if session.exec(select(Offer.id).where(Offer.audience_org_id == buyer.id, Offer.title == title)).first():
        return []
    dataset = session.exec(
        select(Dataset)
        .where(
            Dataset.organisation_id == provider.id,
            Dataset.status == DatasetStatus.PUBLISHED,
            Dataset.offering_type == OfferingType.OFF_THE_SHELF,
        )
        .order_by(col(Dataset.id))
    ).first()
    owner = _owner(uow, provider.id) if provider.id is not None else None
    if dataset is None or owner is None:
        return []
    services.create_offer(
        uow, owner, dataset, title=title, license_id="LicenseRef-standard-commercial-1.0", price_amount=price,
        currency="EUR", audience_org_slug=buyer_slug, expires_at=uow.now() + timedelta(days=30),
        overrides={"term": "P2Y"},
    )  # fmt: skip
    return [f"private offer for {buyer_slug} on {dataset.slug}, valid 30 days"]
