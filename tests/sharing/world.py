"""A licensed tabular dataset, made through the real services: a provider's listing whose version 1.0.0 holds a
CSV, a JSON Lines and a Parquet file (and a README that is no table), two buyer organisations each holding a
license of it, and each buyer's owner with an API key that may create recipient profiles."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from marketplace.accounts.models import Membership, Organisation, OrgKind, Role, User
from marketplace.apikeys import services as keys
from marketplace.catalog.manifest import compute_manifest_digest
from marketplace.catalog.models import Dataset, DatasetFile, DatasetVersion
from marketplace.catalog.vocab import DatasetStatus, VersionStatus
from marketplace.db import UnitOfWork, utcnow
from marketplace.licenses import services as licenses
from marketplace.licenses.models import Grant

CSV = b"id,name,score,active\n1,Ada,9.5,true\n2,Grace,7.25,false\n3,Linus,8.0,true\n"
JSONL = b'{"id": 1, "accent": "de-CH", "minutes": 12}\n{"id": 2, "accent": "de-AT", "minutes": 30}\n'


def parquet_bytes() -> bytes:
    """A provider's own Parquet file: 32-bit integers, strings, doubles and UTC timestamps."""
    table = pa.table(
        {
            "call": pa.array([10, 11, 12, 13], pa.int32()),
            "agent": pa.array(["kim", "lee", "kim", "ray"]),
            "seconds": pa.array([61.5, 12.0, 300.25, 7.0]),
            "started": pa.array([1_700_000_000_000_000 + i for i in range(4)], pa.timestamp("us", tz="UTC")),
        }
    )
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def files() -> dict[str, bytes]:
    return {
        "data/transcripts.csv": CSV,
        "data/speakers.jsonl": JSONL,
        "data/calls.parquet": parquet_bytes(),
        "README.md": b"# Calls\n",
    }


@dataclass
class World:
    grants: dict[str, Grant] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    version_id: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def _listing(uow: UnitOfWork, provider: Organisation) -> tuple[Dataset, DatasetVersion]:
    session = uow.session
    published = utcnow() - timedelta(days=3)
    dataset = Dataset(
        slug="call-centre",
        organisation_id=provider.id,  # type: ignore[arg-type]
        title="Call-centre tables",
        summary="Calls, speakers and transcripts",
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
    for path, content in files().items():
        key = f"datasets/{dataset.id}/versions/{version.id}/{path}"
        uow.context.storage.default.put(key, io.BytesIO(content), content_type="application/octet-stream")
        rows.append(
            DatasetFile(
                version_id=version.id,  # type: ignore[arg-type]
                path=path,
                size_bytes=len(content),
                sha256=hashlib.sha256(content).hexdigest(),
                media_type="application/octet-stream",
                storage_key=key,
            )
        )
    session.add_all(rows)
    session.flush()
    version.manifest_digest = compute_manifest_digest(rows)
    version.file_count, version.total_bytes = len(rows), sum(r.size_bytes for r in rows)
    session.add(version)
    return dataset, version


def build(uow: UnitOfWork, password_hash: str = "x") -> World:
    """The world of the module documentation, in ``uow`` (the caller commits)."""
    session = uow.session
    world = World()
    seller = User(email="seller@example.org", password_hash=password_hash, email_verified_at=utcnow())
    provider = Organisation(slug="northwind", name="Northwind", kind=OrgKind.PROVIDER)
    session.add_all([seller, provider])
    session.flush()
    session.add(Membership(organisation_id=provider.id, user_id=seller.id, role=Role.OWNER))  # type: ignore[arg-type]
    dataset, version = _listing(uow, provider)
    world.version_id = version.id  # type: ignore[assignment]
    offer = licenses.create_offer(
        uow,
        seller,
        dataset,
        title="Commercial",
        license_id="LicenseRef-standard-commercial-1.0",
        price_amount=10000,
        currency="EUR",
        version_label="1.0.0",
    )
    for slug in ("globex", "initech"):
        owner = User(email=f"owner@{slug}.example", password_hash=password_hash, email_verified_at=utcnow())
        buyer = Organisation(slug=slug, name=slug.title(), kind=OrgKind.BUYER)
        session.add_all([owner, buyer])
        session.flush()
        session.add(Membership(organisation_id=buyer.id, user_id=owner.id, role=Role.OWNER))  # type: ignore[arg-type]
        session.flush()
        world.grants[slug] = licenses.issue_grant(uow, offer, licensee=buyer, acquired_by=owner)
        _row, secret = keys.create_key(uow, owner, name="sharing", scopes=["downloads", "licenses:read"])
        world.keys[slug] = secret
        world.users[slug] = owner
    session.flush()
    return world
