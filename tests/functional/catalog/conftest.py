"""Catalog test helpers: a unit of work on the test's transaction, complete listing records, published listings."""

from __future__ import annotations

import copy
import hashlib
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session

from marketplace.accounts.models import Organisation, Role, User
from marketplace.catalog import services
from marketplace.catalog.models import Dataset
from marketplace.catalog.schemas import SECTION_FIELDS, load_record
from marketplace.db import UnitOfWork
from tests.factories import OrganisationFactory, UserFactory, member

ALL_FIELDS = tuple(name for names in SECTION_FIELDS.values() for name in names)


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def manifest(prefix: str, count: int = 2) -> list[dict[str, Any]]:
    return [
        {
            "path": f"{prefix}/file-{i}.bin",
            "size_bytes": 1000 + i,
            "sha256": sha(f"{prefix}{i}"),
            "media_type": "application/octet-stream",
        }
        for i in range(count)
    ]


BASE_RECORD: dict[str, Any] = {
    "title": "Base listing",
    "summary": "A complete listing for tests.",
    "description": "A description in **Markdown**.",
    "offering_type": "off_the_shelf",
    "tags": ["testing"],
    "modality": "text",
    "modality_details": {"text": {"documents": 10, "tokens": 1000}},
    "tasks": ["classification"],
    "industries": ["general"],
    "languages": ["en"],
    "countries": ["DE"],
    "collection_start": "2024-01-01",
    "collection_end": "2024-06-30",
    "record_count": 10,
    "total_bytes": 2001,
    "file_count": 2,
    "formats": ["application/octet-stream"],
    "collection_methods": ["manual_curation"],
    "annotation_methods": ["expert"],
    "annotator_qualifications": "Linguists.",
    "annotations_per_item": 2,
    "agreement_metric": "cohen_kappa",
    "agreement_value": 0.8,
    "synthetic_share_pct": 0,
    "personal_data": "no",
    "deidentification": [],
    "lawful_basis": "not_applicable",
    "sources": [{"name": "Our own writers", "license": "CC-BY-4.0"}],
    "ai_act": {
        "design_choices": "Balanced classes.",
        "collection_processes": "Written by staff.",
        "data_origin": "Original writing.",
        "bias_examination": "Class balance checked.",
        "known_gaps": "English only.",
    },
    "storage_region": "eu",
    "update_frequency": "one_off",
}


def record(**overrides: Any) -> dict[str, Any]:
    """A complete, validated listing record with ``overrides`` applied."""
    data = copy.deepcopy(BASE_RECORD)
    data.update(overrides)
    return load_record(data)


@pytest.fixture()
def uow(app: Flask, db_session: Session) -> UnitOfWork:
    """A unit of work on the test's transaction (services flush into it; the test rolls it back).

    Wrap calls that need an application context in ``with app.app_context():``, never the whole test, or the
    test client's requests would share ``g``.
    """
    return UnitOfWork(db_session, app.extensions["marketplace.context"])


class Catalog:
    """Builds providers and listings through the real services."""

    def __init__(self, app: Flask, uow: UnitOfWork) -> None:
        self.app = app
        self.uow = uow
        self.admin = UserFactory(is_platform_admin=True)
        self._providers: dict[str, tuple[Organisation, User]] = {}

    def provider(self, slug: str = "acme-data", name: str | None = None) -> tuple[Organisation, User]:
        if slug not in self._providers:
            org = OrganisationFactory(slug=slug, name=name or slug.replace("-", " ").title())
            self._providers[slug] = (org, member(org, Role.OWNER))
        return self._providers[slug]

    def draft(self, provider: str = "acme-data", *, versions: int = 1, **overrides: Any) -> Dataset:
        org, user = self.provider(provider)
        data = record(**overrides)
        dataset = services.create_dataset(
            self.uow, user, organisation=org.slug, title=data["title"], slug=overrides.get("slug")
        )
        services.apply_record(self.uow, dataset, data, ALL_FIELDS)
        for n in range(versions):
            services.add_version(self.uow, user, dataset, version=f"1.{n}.0", files=manifest(f"{dataset.slug}/v{n}"))
        self.uow.session.flush()
        return dataset

    def published(self, provider: str = "acme-data", **overrides: Any) -> Dataset:
        dataset = self.draft(provider, **overrides)
        _, user = self.provider(provider)
        with self.app.app_context():
            services.submit_for_review(self.uow, user, dataset)
            services.approve(self.uow, self.admin, dataset)
            self.uow.session.flush()
        return dataset


@pytest.fixture()
def catalog(app: Flask, uow: UnitOfWork) -> Catalog:
    return Catalog(app, uow)
