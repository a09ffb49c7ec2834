"""Demo data of the custom-data exchange, so a newcomer sees the feature on ``make run``.

An open request for data from Globex AI with two quotes (Northwind Data Labs and Alpine Annotation), and a second,
awarded request whose contract has milestone 1 accepted and milestone 2 delivered and waiting for Globex AI's review
(its files really are in storage, so the buyer can download them under the review license). Everything goes through
the services, as people would do it on the site; the payments go through the sandbox's own checkout-completion
path. Idempotent: a request is looked up by its buyer and title first. Called by
:func:`marketplace.seed.seed_demo` (development only).
"""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta
from typing import Any

from sqlmodel import select

from marketplace.accounts.models import Organisation, User
from marketplace.custom import quotes, requests
from marketplace.custom.models import Contract, DataRequest
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
            {
                "title": "Pilot: 20 hours",
                "deliverable": "20 transcribed hours with the annotation guide",
                "quantity": 20,
                "due_date": (today + timedelta(days=30)).isoformat(),
                "amount": first,
            },
            {
                "title": "The remaining 180 hours",
                "deliverable": "180 transcribed hours, double-annotated",
                "quantity": 180,
                "due_date": (today + timedelta(days=120)).isoformat(),
                "amount": price - first,
            },
        ],
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
    posted = requests.create_request(uow, _user(uow, BUYER_EMAIL), _spec(uow, OPEN_TITLE), organisation_slug=BUYER_ORG)
    for email, org_slug, price in PROVIDERS:
        overrides = {"territory": ["CH", "DE", "AT"]} if org_slug == "alpine-annotation" else {}
        quotes.submit_quote(
            uow, _user(uow, email), posted, _quote(uow, price, license_overrides=overrides), organisation_slug=org_slug
        )
    uow.session.flush()
    return [f"posted the request for data {OPEN_TITLE!r} with {len(PROVIDERS)} quotes"]


CONTRACT_TITLE = "German call-centre speech, 40 hours"


def _pay_in_sandbox(uow: UnitOfWork, buyer: User, contract: Contract) -> None:
    # The sandbox checkout page's own path: complete the session, then apply its signed event.
    from marketplace.custom import escrow
    from marketplace.orders.events import handle_event

    base = uow.settings["BASE_URL"]
    payment = escrow.start_payment(
        uow, buyer, contract, success_url=f"{base}/contracts/{{CONTRACT_ID}}?s={{CHECKOUT_SESSION_ID}}",
        cancel_url=f"{base}/contracts/{{CONTRACT_ID}}",
    )  # fmt: skip
    assert payment.checkout_session_id is not None
    signed = uow.context.payments.complete_checkout(payment.checkout_session_id, "paid")  # type: ignore[union-attr]
    handle_event(uow, signed.payload, signed.signature_header)


def _deliver(uow: UnitOfWork, provider: User, contract: Contract, position: int, label: str) -> None:
    """Upload a small transcript file as version ``label`` of the private dataset and deliver the milestone."""
    from marketplace.catalog import services as catalog
    from marketplace.catalog.models import Dataset
    from marketplace.custom import milestones
    from marketplace.delivery import uploads
    from marketplace.delivery.stores import dataset_storage

    dataset = uow.session.get(Dataset, contract.dataset_id)
    assert dataset is not None
    version = catalog.add_version(uow, provider, dataset, version=label, changelog=f"Milestone {position}", files=None)
    lines = [f'{{"clip": "call-{position}-{i:04d}.wav", "text": "Guten Tag, Sie sprechen mit dem Kundendienst."}}'
             for i in range(200)]  # fmt: skip
    content = ("\n".join(lines) + "\n").encode()
    upload = uploads.start_upload(
        uow, provider, dataset, version, path=f"transcripts/part-{position}.jsonl", size=len(content),
        media_type="application/jsonl", sha256=hashlib.sha256(content).hexdigest(),
    )  # fmt: skip
    dataset_storage(uow, dataset).put(upload.storage_key, io.BytesIO(content), content_type="application/jsonl")
    if uploads.complete_upload(uow, upload).error:
        raise RuntimeError(f"demo delivery {label} failed verification")
    milestone = milestones.get_milestone(uow, contract, position)
    milestones.deliver_milestone(uow, provider, contract, milestone, version=label)


def seed_contract(uow: UnitOfWork) -> list[str]:
    """A contract between Globex AI and Northwind Data Labs: milestone 1 accepted, milestone 2 delivered."""
    from marketplace.accounts.models import Organisation as Org
    from marketplace.custom import contracts, milestones
    from marketplace.orders.payments.sandbox import SandboxBackend
    from marketplace.orders.payouts import start_onboarding

    if _existing(uow, CONTRACT_TITLE) is not None:
        return []
    if not isinstance(uow.context.payments, SandboxBackend):
        return ["skipped the demo contract: it is paid through the sandbox payment backend only"]
    buyer, provider = _user(uow, BUYER_EMAIL), _user(uow, PROVIDERS[0][0])
    posted = requests.create_request(
        uow, buyer, _spec(uow, CONTRACT_TITLE, volume_amount=40, languages=["de-DE"], regions=["DE"]),
        organisation_slug=BUYER_ORG,
    )  # fmt: skip
    quote = quotes.submit_quote(uow, provider, posted, _quote(uow, 1_200_000), organisation_slug=PROVIDERS[0][1])
    contract = contracts.accept_quote(uow, buyer, quote)
    northwind = uow.session.exec(select(Org).where(Org.slug == PROVIDERS[0][1])).one()
    base = uow.settings["BASE_URL"]
    start_onboarding(uow, provider, northwind, country="DE", return_url=f"{base}/", refresh_url=f"{base}/")
    _pay_in_sandbox(uow, buyer, contract)
    _deliver(uow, provider, contract, 1, "1.0.0")
    milestones.accept_milestone(uow, buyer, contract, milestones.get_milestone(uow, contract, 1))
    _pay_in_sandbox(uow, buyer, contract)
    _deliver(uow, provider, contract, 2, "2.0.0")
    uow.session.flush()
    return [f"made contract {contract.id} ({CONTRACT_TITLE!r}): milestone 1 accepted, milestone 2 delivered"]


def seed_custom(uow: UnitOfWork) -> list[str]:
    """Every demo record of the custom-data exchange that is not there yet; return what was done."""
    return seed_open_request(uow) + seed_contract(uow)
