"""A buyer, two providers and an outsider, with helpers that build valid requests and quotes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session

from marketplace.accounts.models import Organisation, OrgKind, Role, User
from marketplace.db import UnitOfWork
from tests.factories import OrganisationFactory, member

COMMERCIAL = "LicenseRef-standard-commercial-1.0"


def request_spec(**changes: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "title": "Swiss German clinical dictation",
        "description": "Doctors dictating discharge letters.",
        "modality": "audio",
        "tasks": ["asr"],
        "volume_amount": 200,
        "volume_unit": "hours",
        "languages": ["de-CH"],
        "regions": ["CH"],
        "quality": {"annotation_method": "expert", "agreement_metric": "wer", "agreement_min": 0.9},
        "personal_data": {"personal_data": "yes", "deidentification": ["pseudonymised"]},
        "ai_act_documentation": True,
        "license_id": COMMERCIAL,
        "license_overrides": {},
        "budget_min": 1_000_000,
        "budget_max": 5_000_000,
        "currency": "EUR",
        "deadline": (date.today() + timedelta(days=120)).isoformat(),
        "visibility": "open",
    }
    spec.update(changes)
    return spec


def quote_data(price: int = 3_000_000, **changes: Any) -> dict[str, Any]:
    today = date.today()
    data: dict[str, Any] = {
        "price_amount": price,
        "currency": "EUR",
        "payment_plan": "per_milestone",
        "milestones": [
            {
                "title": "Pilot",
                "deliverable": "20 hours",
                "quantity": 20,
                "due_date": str(today + timedelta(30)),
                "amount": price // 4,
            },
            {
                "title": "Rest",
                "deliverable": "180 hours",
                "quantity": 180,
                "due_date": str(today + timedelta(90)),
                "amount": price - price // 4,
            },
        ],
        "license_id": COMMERCIAL,
        "license_overrides": {},
        "valid_until": f"{today + timedelta(days=30)}T00:00:00Z",
        "message": "We can start next week.",
    }
    data.update(changes)
    return data


@dataclass
class Cast:
    app: Flask
    session: Session
    orgs: dict[str, Organisation]
    people: dict[str, User]
    events: list[tuple[str, dict[str, Any], list[int]]] = field(default_factory=list)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.session, self.app.extensions["marketplace.context"])


@pytest.fixture()
def cast(app: Flask, db_session: Session) -> Iterator[Cast]:
    orgs = {
        "buyer": OrganisationFactory(slug="hospital", name="Hospital AG", kind=OrgKind.BUYER),
        "other_buyer": OrganisationFactory(slug="bank", name="Bank AG", kind=OrgKind.BUYER),
        "alpha": OrganisationFactory(slug="alpha", name="Alpha Data", kind=OrgKind.PROVIDER),
        "beta": OrganisationFactory(slug="beta", name="Beta Labs", kind=OrgKind.PROVIDER),
        "gamma": OrganisationFactory(slug="gamma", name="Gamma Corp", kind=OrgKind.PROVIDER),
    }
    people = {
        "buyer": member(orgs["buyer"], Role.MEMBER, email="buyer@example.org"),
        "other_buyer": member(orgs["other_buyer"], Role.OWNER, email="bank@example.org"),
        "alpha": member(orgs["alpha"], Role.MEMBER, email="alpha@example.org"),
        "beta": member(orgs["beta"], Role.OWNER, email="beta@example.org"),
        "gamma": member(orgs["gamma"], Role.OWNER, email="gamma@example.org"),
    }
    db_session.flush()
    result = Cast(app, db_session, orgs, people)
    context = app.extensions["marketplace.context"]
    context.event_handlers.append(lambda _uow, kind, data, audience: result.events.append((kind, data, audience)))
    yield result
    context.event_handlers.pop()
