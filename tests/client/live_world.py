"""A small marketplace inside a live server for the client's tests: a provider with a downloadable listing (two
files, a paid offer) and a governed listing with a data-use agreement, a buyer organisation, and a buyer's API key
with the scopes the client's methods need. Made through the real services, as the README example's test does."""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import requests
from sqlmodel import select

from marketplace.access import agreements, policy
from marketplace.access.states import AccessMode
from marketplace.accounts.models import Membership, Organisation, OrgKind, Role, User
from marketplace.apikeys import services as keys
from marketplace.catalog.manifest import compute_manifest_digest
from marketplace.catalog.models import Dataset, DatasetFile, DatasetVersion
from marketplace.catalog.vocab import DatasetStatus, VersionStatus
from marketplace.custom import quotes
from marketplace.custom.models import DataRequest
from marketplace.db import UnitOfWork, unit_of_work, utcnow
from marketplace.licenses import services as licenses
from tests.e2e.conftest import LiveServer
from tests.functional.custom.conftest import quote_data

FILES = {
    "data/transcripts.csv": b"id,transcript\n1,hello world\n2,good morning\n",
    "data/speakers.jsonl": b'{"id": 1, "accent": "de-CH"}\n{"id": 2, "accent": "de-AT"}\n' * 500,
}
SCOPES = ["catalog:read", "orders:write", "licenses:read", "downloads", "access:request", "custom:read", "custom:write"]


@dataclass
class World:
    server: LiveServer
    key: str

    def work(self) -> Any:
        app = self.server.app
        return unit_of_work(app.extensions["marketplace.db"], app.extensions["marketplace.context"])


def _listing(uow: UnitOfWork, seller: User, provider: Organisation, slug: str, title: str) -> Dataset:
    session = uow.session
    published = utcnow() - timedelta(days=3)
    dataset = Dataset(
        slug=slug,
        organisation_id=provider.id,  # type: ignore[arg-type]
        title=title,
        summary="Transcribed call-centre speech",
        status=DatasetStatus.PUBLISHED,
        published_at=published,
    )
    session.add(dataset)
    session.flush()
    version = DatasetVersion(
        dataset_id=dataset.id,  # type: ignore[arg-type]
        version="1.0.0",
        status=VersionStatus.PUBLISHED,
        published_at=published,
    )
    session.add(version)
    session.flush()
    rows = []
    for path, content in FILES.items():
        key = f"datasets/{dataset.id}/versions/{version.id}/{path}"
        uow.context.storage.default.put(key, io.BytesIO(content), content_type="application/octet-stream")
        rows.append(
            DatasetFile(
                version_id=version.id,  # type: ignore[arg-type]
                path=path,
                size_bytes=len(content),
                sha256=hashlib.sha256(content).hexdigest(),
                media_type="text/csv" if path.endswith(".csv") else "application/jsonl",
                storage_key=key,
            )
        )
    session.add_all(rows)
    session.flush()
    version.manifest_digest = compute_manifest_digest(rows)
    version.file_count, version.total_bytes = len(rows), sum(r.size_bytes for r in rows)
    session.add(version)
    licenses.create_offer(
        uow,
        seller,
        dataset,
        title="Commercial training",
        license_id="LicenseRef-standard-commercial-1.0",
        price_amount=90000,
        currency="EUR",
    )
    return dataset


def build(server: LiveServer) -> World:
    """The marketplace described in the module documentation; returns the buyer's key."""
    app = server.app
    with unit_of_work(app.extensions["marketplace.db"], app.extensions["marketplace.context"]) as uow:
        session = uow.session
        seller = User(email="seller@example.org", password_hash="x", email_verified_at=utcnow())
        buyer_user = User(email="buyer@example.org", password_hash="x", email_verified_at=utcnow())
        provider = Organisation(slug="northwind", name="Northwind", kind=OrgKind.PROVIDER)
        buyer = Organisation(slug="globex", name="Globex", kind=OrgKind.BUYER)
        session.add_all([seller, buyer_user, provider, buyer])
        session.flush()
        session.add_all(
            [
                Membership(organisation_id=provider.id, user_id=seller.id, role=Role.OWNER),  # type: ignore[arg-type]
                Membership(organisation_id=buyer.id, user_id=buyer_user.id, role=Role.OWNER),  # type: ignore[arg-type]
            ]
        )
        session.flush()
        _listing(uow, seller, provider, "call-centre-speech", "Call-centre speech")
        gated = _listing(uow, seller, provider, "clinical-dictation", "Clinical dictation (governed)")
        dua = agreements.create_agreement(uow, seller, provider, template="research-only")
        policy.configure_access(uow, seller, gated, mode=AccessMode.GATED_MANUAL, agreement_id=dua.id)
        _row, secret = keys.create_key(uow, buyer_user, name="client tests", scopes=SCOPES)
    return World(server=server, key=secret)


def quote_on(world: World, request_id: int) -> int:
    """The provider quotes on a request for data (through the service); returns the quote's id."""
    with world.work() as uow:
        user = uow.session.exec(select(User).where(User.email == "seller@example.org")).one()
        request = uow.session.get(DataRequest, request_id)
        quote = quotes.submit_quote(uow, user, request, quote_data(), organisation_slug="northwind")
        uow.session.flush()
        return int(quote.id)


def pay_in_sandbox(checkout_url: str) -> None:
    """Press "Pay" on the sandbox checkout page, as a buyer in a browser would."""
    browser = requests.Session()
    page = browser.get(checkout_url, timeout=30)
    page.raise_for_status()
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match is not None, page.text[:500]
    paid = browser.post(checkout_url, data={"csrf_token": match.group(1), "outcome": "paid"}, timeout=30)
    paid.raise_for_status()
