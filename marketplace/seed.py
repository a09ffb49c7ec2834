"""Demo data for a fresh development site: accounts and organisations (the catalog adds datasets).

Idempotent: each record is looked up by its natural key first, so running it again changes nothing.
Refused in production, where well-known demo passwords would be a hole.
"""

from __future__ import annotations

from sqlmodel import select

from marketplace.accounts.models import Membership, Organisation, OrgKind, Role, User
from marketplace.accounts.passwords import hasher_for
from marketplace.db import UnitOfWork
from marketplace.errors import PermissionDenied

DEMO_PASSWORD = "marketplace-demo"  # noqa: S105 - a published demo password, development only

DEMO_USERS = (
    ("admin@example.com", "Ada Admin", True),
    ("provider@example.com", "Priya Provider", False),
    ("buyer@example.com", "Bruno Buyer", False),
    ("annotator@example.com", "Lena Annotator", False),
    ("licensee@example.com", "Lou Licensee", False),
)
DEMO_ORGS = (
    (
        "northwind-data",
        "Northwind Data Labs",
        OrgKind.PROVIDER,
        "provider@example.com",
        "Speech, text and sensor datasets collected with consent and annotated by domain experts.",
    ),
    (
        "alpine-annotation",
        "Alpine Annotation",
        OrgKind.PROVIDER,
        "annotator@example.com",
        "Custom speech and text collection with expert annotators in the Alpine languages.",
    ),
    (
        "globex-ai",
        "Globex AI",
        OrgKind.BUYER,
        "buyer@example.com",
        "Applied ML team licensing training data.",
    ),
    (
        "initech-research",
        "Initech Research",
        OrgKind.BUYER,
        "licensee@example.com",
        "Speech research lab; a second licensee in the demo (it has confirmed a withdrawal's deletion).",
    ),
)


def seed_demo(uow: UnitOfWork) -> list[str]:
    """Create the demo accounts and organisations that do not exist yet; return what was done."""
    if uow.settings["MARKETPLACE_ENV"] == "production":
        raise PermissionDenied(message="Demo data is never loaded in production.")
    session = uow.session
    hasher = hasher_for(uow.settings["PASSWORD_HASHER_PROFILE"])
    report: list[str] = []
    users: dict[str, User] = {}
    for email, name, admin in DEMO_USERS:
        user = session.exec(select(User).where(User.email == email)).first()
        if user is None:
            user = User(
                email=email,
                display_name=name,
                password_hash=hasher.hash(DEMO_PASSWORD),
                email_verified_at=uow.now(),
                is_platform_admin=admin,
                created_at=uow.now(),
            )
            session.add(user)
            session.flush()
            report.append(f"created user {email} (password: {DEMO_PASSWORD})")
        users[email] = user
    for slug, name, kind, owner_email, description in DEMO_ORGS:
        org = session.exec(select(Organisation).where(Organisation.slug == slug)).first()
        if org is None:
            owner = users[owner_email]
            org = Organisation(
                slug=slug,
                name=name,
                kind=kind,
                description=description,
                created_by_id=owner.id,
                created_at=uow.now(),
            )
            session.add(org)
            session.flush()
            session.add(Membership(organisation_id=org.id, user_id=owner.id, role=Role.OWNER, created_at=uow.now()))  # type: ignore[arg-type]
            report.append(f"created organisation {slug} owned by {owner_email}")
    session.flush()
    from marketplace.catalog.seed import seed_catalog

    report.extend(seed_catalog(uow))
    from marketplace.delivery.seed import seed_downloadable

    report.extend(seed_downloadable(uow))
    from marketplace.licenses.seed import seed_offers

    report.extend(seed_offers(uow))
    from marketplace.aiact.seed import seed_ai_act

    report.extend(seed_ai_act(uow))
    from marketplace.access.seed import seed_access

    report.extend(seed_access(uow, DEMO_PASSWORD))
    from marketplace.audit.seed import seed_audit

    report.extend(seed_audit(uow))
    from marketplace.custom.seed import seed_custom

    report.extend(seed_custom(uow))
    from marketplace.withdrawals.seed import seed_withdrawal

    report.extend(seed_withdrawal(uow))
    from marketplace.analytics.seed import seed_analytics

    report.extend(seed_analytics(uow))
    if not report:
        report.append("demo data already present; nothing to do")
    return report
