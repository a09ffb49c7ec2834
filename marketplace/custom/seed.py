"""Demo data of the custom-data exchange, so a newcomer sees the feature on ``make run``.

An open request for data from Globex AI with two quotes (Northwind Data Labs and Alpine Annotation). Everything
goes through the services, as a person would do it on the site. Idempotent: a request is looked up by its buyer
and title first. Called by :func:`marketplace.seed.seed_demo` (development only).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import select

from marketplace.accounts.models import Organisation, User
from marketplace.custom import quotes, requests
from marketplace.custom.models import DataRequest
from marketplace.db import UnitOfWork

BUYER_EMAIL = "buyer@example.com"
PROVIDERS = (
    ("provider@example.com", "northwind-data", 3_200_000),
    ("annotator@example.com", "alpine-annotation", 4_150_000),
)
BUYER_ORG = "globex-ai"
COMMERCIAL = "LicenseRef-standard-commercial-1.0"
OPEN_TITLE = "Swiss German clinical dictation, 200 hours"


def _user(uow: UnitOfWork, email: str) -> User:
    return uow.session.exec(select(User).where(User.email == email)).one()


def _existing(uow: UnitOfWork, title: str) -> DataRequest | None:
    buyer = uow.session.exec(select(Organisation).where(Organisation.slug == BUYER_ORG)).one()
    return uow.session.exec(
        select(DataRequest).where(DataRequest.buyer_org_id == buyer.id, DataRequest.title == title)
    ).first()


def _spec(uow: UnitOfWork, title: str, **changes: Any) -> dict[str, Any]:
    today = uow.now().date()
    spec: dict[str, Any] = {
        "title": title,
        "description": "Doctors dictating discharge letters in Swiss German dialects, transcribed to Standard German "
        "by medical transcriptionists. Consent from every speaker; no patient names in the audio.",
        "modality": "audio",
        "tasks": ["asr"],
        "volume_amount": 200,
        "volume_unit": "hours",
        "languages": ["de-CH"],
        "regions": ["CH"],
        "quality": {"annotation_method": "expert", "annotations_per_item": 2, "agreement_metric": "wer"},
        "personal_data": {"personal_data": "yes", "deidentification": ["pseudonymised"]},
        "ai_act_documentation": True,
        "license_id": COMMERCIAL,
        "license_overrides": {},
        "budget_min": 2_500_000,
        "budget_max": 5_000_000,
        "currency": "EUR",
        "deadline": (today + timedelta(days=150)).isoformat(),
        "visibility": "open",
    }
    spec.update(changes)
    return spec


def _quote(uow: UnitOfWork, price: int, **changes: Any) -> dict[str, Any]:
    today = uow.now().date()
    first = price // 4
    data: dict[str, Any] = {
        "price_amount": price,
        "currency": "EUR",
        "payment_plan": "per_milestone",
        "milestones": [
            {"title": "Pilot: 20 hours", "deliverable": "20 transcribed hours with the annotation guide",
             "quantity": 20, "due_date": (today + timedelta(days=30)).isoformat(), "amount": first},
            {"title": "The remaining 180 hours", "deliverable": "180 transcribed hours, double-annotated",
             "quantity": 180, "due_date": (today + timedelta(days=120)).isoformat(), "amount": price - first},
        ],  # fmt: skip
        "license_id": COMMERCIAL,
        "license_overrides": {},
        "valid_until": f"{today + timedelta(days=60)}T23:59:59+00:00",
        "message": "We have recorded clinical dictation in Bern and Zurich before; samples on request.",
    }
    data.update(changes)
    return data


def seed_open_request(uow: UnitOfWork) -> list[str]:
    """Globex AI's open request for data with a quote from each demo provider."""
    if _existing(uow, OPEN_TITLE) is not None:
        return []
    posted = requests.create_request(
        uow, _user(uow, BUYER_EMAIL), _spec(uow, OPEN_TITLE), organisation_slug=BUYER_ORG
    )
    for email, org_slug, price in PROVIDERS:
        overrides = {"territory": ["CH", "DE", "AT"]} if org_slug == "alpine-annotation" else {}
        quotes.submit_quote(
            uow, _user(uow, email), posted, _quote(uow, price, license_overrides=overrides), organisation_slug=org_slug
        )
    uow.session.flush()
    return [f"posted the request for data {OPEN_TITLE!r} with {len(PROVIDERS)} quotes"]


def seed_custom(uow: UnitOfWork) -> list[str]:
    """Every demo record of the custom-data exchange that is not there yet; return what was done."""
    return seed_open_request(uow)
