"""Demo data for the audit log: Globex AI holds the starter pack's open license (the licenses seed issues it) and
has fetched a download link, so both organisations' audit logs (``/orgs/<slug>/audit``) show a license issued and
a download."""

from __future__ import annotations

from sqlmodel import col, select

from marketplace.accounts.models import Organisation, User
from marketplace.catalog.models import Dataset
from marketplace.db import UnitOfWork
from marketplace.delivery.downloads import Requester, issue_download_links
from marketplace.delivery.models import DownloadEvent
from marketplace.delivery.seed import SLUG
from marketplace.licenses import services as licenses
from marketplace.licenses.models import Grant, Offer

BUYER_EMAIL = "buyer@example.com"
BUYER_ORG = "globex-ai"


def _held_or_acquired(uow: UnitOfWork, dataset: Dataset, buyer: User, org: Organisation) -> Grant | None:
    """The buyer organisation's license under the dataset's free offer, acquired when it holds none (licenses it
    bought under other offers play no part: the demo downloads under the free one)."""
    session = uow.session
    offer = session.exec(
        select(Offer)
        .where(Offer.dataset_id == dataset.id, Offer.price_amount == 0, col(Offer.is_active).is_(True))
        .where(col(Offer.audience_org_id).is_(None))
        .order_by(col(Offer.id))
    ).first()
    if offer is None:
        return None
    grant = session.exec(
        select(Grant).where(Grant.offer_id == offer.id, Grant.licensee_org_id == org.id).order_by(col(Grant.issued_at))
    ).first()
    if grant is not None:
        return grant
    return licenses.acquire_free(uow, buyer, offer, licensee_slug=BUYER_ORG, accepted_terms_hash=offer.terms_hash,
                                 ip_address="127.0.0.1")  # fmt: skip


def seed_audit(uow: UnitOfWork) -> list[str]:
    """Issue one download link under the demo buyer's license of the starter pack, once."""
    session = uow.session
    dataset = session.exec(select(Dataset).where(Dataset.slug == SLUG)).first()
    buyer = session.exec(select(User).where(User.email == BUYER_EMAIL)).first()
    org = session.exec(select(Organisation).where(Organisation.slug == BUYER_ORG)).first()
    if dataset is None or buyer is None or org is None:
        return []
    grant = _held_or_acquired(uow, dataset, buyer, org)
    if grant is None or session.exec(select(DownloadEvent.id).where(DownloadEvent.grant_id == grant.id)).first():
        return []
    links = issue_download_links(
        uow, grant=grant, requester=Requester(user=buyer, ip="127.0.0.1", user_agent="marketplace seed")
    )
    provider = session.get(Organisation, dataset.organisation_id)
    return [
        f"{BUYER_EMAIL} fetched {len(links)} download link(s) of {SLUG}: see the audit logs at /orgs/{BUYER_ORG}/audit"
        f" and /orgs/{provider.slug if provider else ''}/audit"
    ]
