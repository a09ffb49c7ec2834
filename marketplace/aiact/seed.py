"""Demo AI Act documentation: one listing whose version 1.0.0 is fully documented (its record is in
:data:`marketplace.catalog.seed_northwind.AI_ACT_COMPLETION`) and signed off by its provider, so the badge, the
facet and the PDF have something to show; the other listings stay incomplete (their packs name what is missing).
Called by :func:`marketplace.seed.seed_demo` after the catalog and its offers exist; idempotent.
"""

from __future__ import annotations

from sqlmodel import select

from marketplace.accounts.models import User
from marketplace.aiact import services
from marketplace.catalog import services as catalog
from marketplace.db import UnitOfWork
from marketplace.errors import NotFound

DOCUMENTED_SLUG = "call-centre-speech-en-es-us"
SIGNER_EMAIL = "provider@example.com"


def seed_ai_act(uow: UnitOfWork) -> list[str]:
    """Sign off the demo listing's documentation, unless already done; return what was done."""
    session = uow.session
    signer = session.exec(select(User).where(User.email == SIGNER_EMAIL)).first()
    try:
        dataset = catalog.get_published_dataset(session, DOCUMENTED_SLUG)
        version = catalog.get_version(session, dataset, "1.0.0")
    except NotFound:
        return []
    if signer is None or services.sign_off_of(session, version) is not None:
        return []
    services.sign_off(uow, signer, dataset, version, name=signer.display_name, role="Head of data governance")
    return [f"AI Act documentation of {DOCUMENTED_SLUG} 1.0.0 signed off by {signer.display_name}"]
