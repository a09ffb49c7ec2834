"""Demo data for the audit log: Globex AI holds the starter pack's free license and has fetched a download link,
so both organisations' audit logs (``/orgs/<slug>/audit``) show a license issued and a download."""

from __future__ import annotations

from sqlmodel import col, select

from marketplace.accounts.models import Organisation, User
from marketplace.catalog.models import Dataset
from marketplace.db import UnitOfWork
from marketplace.delivery.downloads import Requester, issue_download_links
from marketplace.delivery.seed import SLUG
from marketplace.licenses import services as licenses
from marketplace.licenses.models import Grant, Offer

BUYER_EMAIL = "buyer@example.com"
BUYER_ORG = "globex-ai"


def seed_audit(uow: UnitOfWork) -> list[str]:
    """Acquire the starter pack's free offer for the demo buyer and issue one download link, once."""
    session = uow.session
    dataset = session.exec(select(Dataset).where(Dataset.slug == SLUG)).first()
    buyer = session.exec(select(User).where(User.email == BUYER_EMAIL)).first()
    org = session.exec(select(Organisation).where(Organisation.slug == BUYER_ORG)).first()
    if dataset is None or buyer is None or org is None:
        return []
    held = session.exec(select(Grant.id).where(Grant.dataset_id == dataset.id, Grant.licensee_org_id == org.id))
    if held.first() is not None:
        return []
    offer = session.exec(
        select(Offer)
        .where(Offer.dataset_id == dataset.id, Offer.price_amount == 0, col(Offer.is_active).is_(True))
        .order_by(col(Offer.id))
    ).first()
    if offer is None:
        return []
    grant = licenses.acquire_free(uow, buyer, offer, licensee_slug=BUYER_ORG, accepted_terms_hash=offer.terms_hash,
                                  ip_address="127.0.0.1")  # fmt: skip
    links = issue_download_links(
        uow, grant=grant, requester=Requester(user=buyer, ip="127.0.0.1", user_agent="marketplace seed")
    )
    provider = session.get(Organisation, dataset.organisation_id)
    return [
        f"{BUYER_EMAIL} holds the free license of {SLUG} and fetched {len(links)} download link(s): see the audit "
        f"logs at /orgs/{BUYER_ORG}/audit and /orgs/{provider.slug if provider else ''}/audit"
    ]
