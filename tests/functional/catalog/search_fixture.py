"""A small catalog for search tests, built through the services on any database, and the query set run on it.

Each listing is published a day after the next one, so "newest" order is known; the drafts and the withdrawn
listing must never appear.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import select

from marketplace.accounts.models import Membership, Organisation, OrgKind, Role, User
from marketplace.catalog import search, services
from marketplace.catalog.models import Dataset
from marketplace.db import UnitOfWork
from tests.functional.catalog.conftest import ALL_FIELDS, manifest, record

PROVIDERS = {"p-one": "Provider One", "p-two": "Provider Two", "p-three": "Provider Three"}

# slug: (provider, overrides); listed newest first.
LISTINGS: dict[str, tuple[str, dict[str, Any]]] = {
    "dutch-radio": (
        "p-one",
        dict(
            title="Speech corpus of Dutch radio",
            modality="audio",
            modality_details={},
            tasks=["asr"],
            industries=["media_entertainment"],
            languages=["nl"],
            personal_data="yes",
            deidentification=["pseudonymised"],
            synthetic_share_pct=0,
            storage_region="eu",
            description="Broadcast recordings with transcripts.",
        ),
    ),
    "call-centre": (
        "p-one",
        dict(
            title="Call centre speech in English",
            modality="audio",
            modality_details={},
            tasks=["asr", "classification"],
            industries=["bfsi"],
            languages=["en"],
            personal_data="yes",
            deidentification=["pseudonymised"],
            synthetic_share_pct=0,
            storage_region="us",
            tags=["telephony"],
            description="Support calls.",
        ),
    ),
    "legal-contracts": (
        "p-two",
        dict(
            title="Legal contracts for NER",
            modality="text",
            tasks=["ner"],
            industries=["bfsi", "government_defense"],
            languages=["en"],
            personal_data="no",
            synthetic_share_pct=0,
            storage_region="eu",
            description="Contracts, including free speech clauses.",
        ),
    ),
    "synthetic-voices": (
        "p-two",
        dict(
            title="Synthetic speeches for TTS",
            modality="audio",
            modality_details={},
            tasks=["tts"],
            industries=["media_entertainment"],
            languages=["en", "de"],
            personal_data="no",
            synthetic_share_pct=100,
            storage_region="eu",
            description="Generated voices.",
        ),
    ),
    "street-images": (
        "p-three",
        dict(
            title="Street images of Berlin",
            modality="image",
            modality_details={},
            tasks=["detection"],
            industries=["automotive_mobility"],
            languages=[],
            countries=["DE"],
            personal_data="yes",
            deidentification=["anonymised"],
            synthetic_share_pct=0,
            storage_region="eu",
            description="Dashcam frames.",
        ),
    ),
    "factory-sensors": (
        "p-three",
        dict(
            title="Factory vibration sensor streams",
            modality="sensor",
            modality_details={},
            tasks=["anomaly_detection"],
            industries=["manufacturing_industrial"],
            languages=[],
            personal_data="no",
            synthetic_share_pct=0,
            storage_region="eu",
            tags=["predictive maintenance"],
            description="Accelerometers on gearboxes.",
        ),
    ),
    "medical-notes": (
        "p-one",
        dict(
            title="Medical notes, de-identified",
            modality="text",
            tasks=["ner"],
            industries=["healthcare_life_sciences"],
            languages=["en"],
            personal_data="yes",
            special_categories=["health"],
            deidentification=["hipaa_safe_harbor"],
            lawful_basis="legitimate_interests",
            synthetic_share_pct=0,
            storage_region="us",
            description="Outpatient notes.",
        ),
    ),
    "customer-reviews": (
        "p-two",
        dict(
            title="Customer reviews with sentiment",
            modality="text",
            tasks=["classification"],
            industries=["retail_ecommerce"],
            languages=["en", "fr"],
            personal_data="no",
            synthetic_share_pct=30,
            storage_region="eu",
            tags=["sentiment"],
            description="Product reviews.",
        ),
    ),
    "shelf-images": (
        "p-three",
        dict(
            title="Retail shelf images",
            modality="image",
            modality_details={},
            tasks=["detection", "classification"],
            industries=["retail_ecommerce"],
            languages=[],
            personal_data="no",
            synthetic_share_pct=60,
            storage_region="uk",
            description="Supermarket shelves.",
        ),
    ),
    "parliament-archive": (
        "p-one",
        dict(
            title="Parliament archive",
            modality="audio",
            modality_details={},
            tasks=["asr", "tts"],
            industries=["government_defense"],
            languages=["de", "fr"],
            personal_data="yes",
            deidentification=["none"],
            lawful_basis="public_task",
            synthetic_share_pct=0,
            storage_region="ch",
            tags=["public speech"],
            description="Plenary sessions.",
        ),
    ),
}
HIDDEN = {"speech-draft": "Speech draft, never published", "withdrawn-speech": "Withdrawn speech corpus"}
NEWEST = list(LISTINGS)


def build(uow: UnitOfWork) -> None:
    """Create the providers and listings (and two that must stay hidden) in ``uow``."""
    session = uow.session
    now = datetime(2025, 6, 1, tzinfo=UTC)
    admin = User(email="search-admin@example.org", password_hash="x", is_platform_admin=True, email_verified_at=now)
    session.add(admin)
    users = {}
    for slug, name in PROVIDERS.items():
        org = Organisation(slug=slug, name=name, kind=OrgKind.PROVIDER)
        user = User(email=f"{slug}@example.org", password_hash="x", email_verified_at=now)
        session.add_all([org, user])
        session.flush()
        session.add(Membership(organisation_id=org.id, user_id=user.id, role=Role.OWNER))  # type: ignore[arg-type]
        users[slug] = user
    session.flush()
    for index, (slug, (provider, overrides)) in enumerate(LISTINGS.items()):
        dataset = _listing(uow, users[provider], provider, slug, overrides)
        services.submit_for_review(uow, users[provider], dataset)
        services.approve(uow, admin, dataset)
        dataset.published_at = now - timedelta(days=index)
        session.add(dataset)
    draft = _listing(
        uow,
        users["p-one"],
        "p-one",
        "speech-draft",
        {"title": HIDDEN["speech-draft"], "modality": "audio", "modality_details": {}},
    )
    assert draft.status.value == "draft"
    gone = _listing(
        uow,
        users["p-one"],
        "p-one",
        "withdrawn-speech",
        {"title": HIDDEN["withdrawn-speech"], "modality": "audio", "modality_details": {}},
    )
    services.submit_for_review(uow, users["p-one"], gone)
    services.approve(uow, admin, gone)
    services.withdraw(uow, admin, gone, "Rights expired.")
    session.flush()


def _listing(uow: UnitOfWork, user: User, provider: str, slug: str, overrides: dict[str, Any]) -> Dataset:
    data = record(**overrides)
    org = uow.session.exec(select(Organisation).where(Organisation.slug == provider)).one()
    dataset = services.new_dataset(uow, user, org, title=data["title"], slug=slug)
    services.apply_record(uow, dataset, data, ALL_FIELDS)
    services.add_version(uow, user, dataset, version="1.0.0", files=manifest(slug))
    return dataset


def run(uow: UnitOfWork, args: dict[str, Any]) -> dict[str, Any]:
    """Run one query: the slugs in order, the total, and every facet's counts."""
    query = search.parse_search({k: v if isinstance(v, list) else [v] for k, v in args.items()})
    results = search.search(uow.session, query)
    slugs = [hit["dataset"].slug for hit in services.search_hits(uow.session, results.dataset_ids)]
    facets = {f.name: {v.value: v.count for v in f.values} for f in results.facets}
    return {"slugs": slugs, "total": results.total, "facets": facets}


def by_newest(*slugs: str) -> list[str]:
    return [s for s in NEWEST if s in slugs]


# (arguments, the slugs expected in order). Relevance ties fall back to newest, so every order is determined.
QUERY_SET: list[tuple[dict[str, Any], list[str]]] = [
    ({}, NEWEST),
    (
        {"sort": "newest", "q": "speech"},
        by_newest("dutch-radio", "call-centre", "legal-contracts", "synthetic-voices", "parliament-archive"),
    ),
    (
        {"q": "speech", "modality": "audio", "sort": "newest"},
        by_newest("dutch-radio", "call-centre", "synthetic-voices", "parliament-archive"),
    ),
    (
        {"modality": ["audio", "image"]},
        by_newest(
            "dutch-radio", "call-centre", "synthetic-voices", "street-images", "shelf-images", "parliament-archive"
        ),
    ),
    ({"task": "ner"}, ["legal-contracts", "medical-notes"]),
    ({"language": "en", "personal_data": "no"}, ["legal-contracts", "synthetic-voices", "customer-reviews"]),
    ({"synthetic_share": "all"}, ["synthetic-voices"]),
    ({"synthetic_share": ["under_half", "over_half"]}, ["customer-reviews", "shelf-images"]),
    ({"provider": "p-three"}, ["street-images", "factory-sensors", "shelf-images"]),
    ({"industry": "retail_ecommerce", "storage_region": "uk"}, ["shelf-images"]),
    ({"q": "images"}, ["street-images", "shelf-images"]),
    ({"q": '"public speech"'}, ["parliament-archive"]),
    ({"q": "vibration sensors"}, ["factory-sensors"]),
    ({"q": "maintenance"}, ["factory-sensors"]),
    ({"q": "the of and"}, NEWEST),
    ({"q": "nonexistentword"}, []),
    ({"q": "notes", "task": "ner"}, ["medical-notes"]),
    ({"q": "DE-IDENTIFIED"}, ["medical-notes"]),
]
