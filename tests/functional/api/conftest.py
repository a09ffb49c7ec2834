"""A small marketplace for API tests (two buyers, one provider, a published dataset with a stored file, a paid and
a free offer, a license and an order for each buyer), and credentials made through the real services."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session

from marketplace.accounts.models import Organisation, OrgKind, Role, User
from marketplace.apikeys import services as keys
from marketplace.catalog.manifest import compute_manifest_digest
from marketplace.catalog.models import DatasetFile
from marketplace.catalog.vocab import VersionStatus
from marketplace.db import UnitOfWork, utcnow
from marketplace.licenses import services as licenses
from marketplace.oauth import services as oauth
from marketplace.orders import services as orders
from tests.factories import (
    DatasetFactory,
    DatasetFileFactory,
    DatasetVersionFactory,
    OrganisationFactory,
    UserFactory,
    member,
)

COMMERCIAL = "LicenseRef-standard-commercial-1.0"
ALL_SCOPES = [
    "catalog:read",
    "orders:write",
    "licenses:read",
    "downloads",
    "provider:write",
    "webhooks:manage",
    "custom:read",
    "custom:write",
    "access:request",
    "access:review",
    "withdrawals:read",
    "withdrawals:write",
    "audit:read",
    "analytics:read",
    "notifications",
]


def work(app: Flask, session: Session, *, at: datetime | None = None) -> UnitOfWork:
    context = app.extensions["marketplace.context"]
    if at is None:
        return UnitOfWork(session, context)
    return UnitOfWork(session, replace(context.at(lambda: at), settings=dict(app.config)))


def stored_file(app: Flask, version: Any, path: str, content: bytes, media_type: str = "text/csv") -> DatasetFile:
    store = app.extensions["marketplace.context"].storage
    key = f"datasets/{version.dataset_id}/versions/{version.id}/{path}"
    store.put(key, io.BytesIO(content), content_type=media_type)
    return DatasetFileFactory(
        version=version,
        path=path,
        size_bytes=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        media_type=media_type,
        storage_key=key,
    )


@dataclass
class World:
    app: Flask
    session: Session
    orgs: dict[str, Organisation]
    people: dict[str, User]
    objects: dict[str, Any] = field(default_factory=dict)
    last_key: Any = None

    def key(
        self,
        who: str,
        scopes: list[str] | None = None,
        *,
        org: str | None = None,
        environment: str = "live",
        expires_at: datetime | None = None,
    ) -> str:
        """A new API key of ``who`` (for organisation ``org`` when given) with ``scopes`` (default: all)."""
        row, secret = keys.create_key(
            work(self.app, self.session),
            self.people[who],
            name=f"{who} key",
            scopes=scopes if scopes is not None else ALL_SCOPES,
            environment=environment,
            expires_at=expires_at,
            organisation=self.orgs[org] if org else None,
        )
        self.session.flush()
        self.last_key = row
        return secret

    def client_credentials(self, who: str, org: str, scopes: list[str] | None = None) -> tuple[str, str]:
        row, secret = oauth.create_client(
            work(self.app, self.session),
            self.people[who],
            self.orgs[org],
            name="robot",
            scopes=scopes if scopes is not None else ALL_SCOPES,
        )
        self.session.flush()
        return row.client_id, secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture()
def world(app: Flask, db_session: Session) -> World:
    provider = OrganisationFactory(slug="prov", name="Provider Co", kind=OrgKind.PROVIDER)
    buyer = OrganisationFactory(slug="buy", name="Buyer Co", kind=OrgKind.BUYER)
    rival = OrganisationFactory(slug="rival", name="Rival Co", kind=OrgKind.BUYER)
    people = {
        "seller": member(provider, Role.ADMIN, email="seller@example.org"),
        "clerk": member(provider, Role.MEMBER, email="clerk@example.org"),
        "purchaser": member(buyer, Role.MEMBER, email="purchaser@example.org"),
        "buyer_admin": member(buyer, Role.OWNER, email="owner@example.org"),
        "outsider": member(rival, Role.OWNER, email="outsider@example.org"),
        "admin": UserFactory(email="admin@example.org", is_platform_admin=True),
    }
    dataset = DatasetFactory(organisation=provider, slug="speech", title="Speech commands", summary="Spoken words")
    version = DatasetVersionFactory(
        dataset=dataset, version="1.0.0", status=VersionStatus.PUBLISHED, published_at=utcnow() - timedelta(days=5)
    )
    files = [stored_file(app, version, "data/train.csv", b"id,text\n1,hello\n")]
    version.manifest_digest = compute_manifest_digest(files)
    version.file_count = 1
    version.total_bytes = files[0].size_bytes
    db_session.add(version)
    db_session.flush()
    uow = work(app, db_session)
    paid = licenses.create_offer(
        uow, people["seller"], dataset, title="Commercial", license_id=COMMERCIAL, price_amount=10000, currency="EUR"
    )
    free = licenses.create_offer(
        uow, people["seller"], dataset, title="Open", license_id="CC-BY-4.0", price_amount=0, currency="EUR"
    )
    extra = licenses.create_offer(
        uow, people["seller"], dataset, title="Enterprise", license_id=COMMERCIAL, price_amount=50000, currency="EUR"
    )
    grants = {
        name: licenses.issue_grant(uow, paid, licensee=org, acquired_by=None)
        for name, org in (("buy", buyer), ("rival", rival))
    }
    db_session.flush()
    order_of = {}
    for name, who in (("buy", "purchaser"), ("rival", "outsider")):
        order_of[name] = orders.order_offers(
            uow,
            people[who],
            licensee_slug=name,
            offer_ids=[extra.id],
            accepted_terms={extra.id: extra.terms_hash},
            success_url="http://localhost/ok/{ORDER_ID}?s={CHECKOUT_SESSION_ID}",
            cancel_url="http://localhost/cancel",
        )
    db_session.flush()
    return World(
        app=app,
        session=db_session,
        orgs={"prov": provider, "buy": buyer, "rival": rival},
        people=people,
        objects={
            "dataset": dataset,
            "version": version,
            "file": files[0],
            "paid": paid,
            "free": free,
            "extra": extra,
            "grants": grants,
            "orders": order_of,
        },
    )


@pytest.fixture()
def api(client: FlaskClient) -> FlaskClient:
    return client
