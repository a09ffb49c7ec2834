"""Governed-access demo data (development only, called by :func:`marketplace.seed.seed_demo`).

The clinical-notes listing becomes ``credentialed`` with a data-use agreement from the credentialed-research template
and two extra questions; the instruction-pairs listing becomes ``gated_manual`` with a research-only agreement and a
signed request from the demo buyer waiting for review; ``reviewer@example.com`` reviews Northwind's requests and may
verify training certificates. Idempotent: a listing that is already governed is left as it is.
"""

from __future__ import annotations

from sqlmodel import select

from marketplace.access import agreements, policy
from marketplace.access import requests as reqs
from marketplace.access.states import AccessMode
from marketplace.accounts.models import Membership, Organisation, Role, User
from marketplace.accounts.passwords import hasher_for
from marketplace.catalog.models import Dataset
from marketplace.db import UnitOfWork

CREDENTIALED_SLUG = "clinical-notes-deidentified-en"
GATED_SLUG = "multilingual-instruction-pairs"
PROVIDER_SLUG = "northwind-data"
REVIEWER_EMAIL = "reviewer@example.com"

CLINICAL_FIELDS = [
    {"key": "institution_type", "label": "Your institution", "kind": "select", "required": True,
     "options": ["University", "Hospital or health system", "Company", "Government"]},
    {"key": "irb_approval", "label": "Ethics approval", "kind": "checkbox", "required": True,
     "checkbox_text": "My project has been approved by an ethics board (IRB or equivalent)."},
]  # fmt: skip


def _reviewer(uow: UnitOfWork, owner: User, provider: Organisation, password: str) -> list[str]:
    session = uow.session
    reviewer = session.exec(select(User).where(User.email == REVIEWER_EMAIL)).first()
    report = []
    if reviewer is None:
        hasher = hasher_for(uow.settings["PASSWORD_HASHER_PROFILE"])
        reviewer = User(
            email=REVIEWER_EMAIL, display_name="Rita Reviewer", password_hash=hasher.hash(password),
            email_verified_at=uow.now(), created_at=uow.now(),
        )  # fmt: skip
        session.add(reviewer)
        session.flush()
        report.append(f"created user {REVIEWER_EMAIL} (password: {password})")
    membership = session.exec(
        select(Membership).where(Membership.organisation_id == provider.id, Membership.user_id == reviewer.id)
    ).first()
    if membership is None:
        assert provider.id is not None and reviewer.id is not None
        session.add(
            Membership(organisation_id=provider.id, user_id=reviewer.id, role=Role.MEMBER, created_at=uow.now())
        )
        session.flush()
        policy.set_reviewer(uow, owner, provider, reviewer, verifies_credentials=True)
        report.append(f"{REVIEWER_EMAIL} reviews access requests to {provider.slug}")
    return report


def seed_access(uow: UnitOfWork, password: str) -> list[str]:
    """Make the two demo listings governed and add the reviewer; return what was done."""
    session = uow.session
    provider = session.exec(select(Organisation).where(Organisation.slug == PROVIDER_SLUG)).first()
    owner = session.exec(select(User).where(User.email == "provider@example.com")).first()
    buyer = session.exec(select(User).where(User.email == "buyer@example.com")).first()
    if provider is None or owner is None or buyer is None:
        return []
    report = _reviewer(uow, owner, provider, password)
    clinical = session.exec(select(Dataset).where(Dataset.slug == CREDENTIALED_SLUG)).first()
    if clinical is not None and clinical.access_mode is AccessMode.OPEN:
        dua = agreements.create_agreement(uow, owner, provider, template="credentialed-research")
        policy.configure_access(
            uow, owner, clinical, mode=AccessMode.CREDENTIALED, agreement_id=dua.id, default_expiry_days=365,
            samples_public=True, form_fields=CLINICAL_FIELDS,
        )  # fmt: skip
        report.append(f"{CREDENTIALED_SLUG} is credentialed under “{dua.title}” version 1")
    gated = session.exec(select(Dataset).where(Dataset.slug == GATED_SLUG)).first()
    if gated is not None and gated.access_mode is AccessMode.OPEN:
        dua = agreements.create_agreement(uow, owner, provider, template="research-only")
        policy.configure_access(
            uow, owner, gated, mode=AccessMode.GATED_MANUAL, agreement_id=dua.id, default_expiry_days=180
        )
        request = reqs.submit_request(
            uow, buyer, gated, organisation_slug="globex-ai", full_name=buyer.display_name or "Bruno Buyer",
            intended_uses=["research", "evaluation"], country="DE",
            intended_use_text="Evaluating multilingual instruction following of our research models.",
        )  # fmt: skip
        version = agreements.request_version(session, request)
        assert version is not None
        reqs.sign_request(
            uow, buyer, request, full_name=buyer.display_name or "Bruno Buyer", shown_sha256=version.sha256,
            ip_address="127.0.0.1", user_agent="marketplace seed",
        )  # fmt: skip
        report.append(f"{GATED_SLUG} is gated (manual review); {buyer.email} has a request waiting")
    session.flush()
    return report
