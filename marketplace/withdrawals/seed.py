"""A demo withdrawal: a small downloadable listing whose speaker withdrew consent, its patched version published,
two licensees told, one of which (Initech Research) has confirmed deletion while the demo buyer (Globex AI) has
not (its license page shows the notice). Idempotent."""

from __future__ import annotations

import copy
import io
import json
from typing import Any

from sqlmodel import select

from marketplace.accounts.models import Membership, Organisation, Role, User
from marketplace.catalog import importer
from marketplace.catalog import services as catalog
from marketplace.catalog.models import Dataset, DatasetFile, DatasetVersion
from marketplace.catalog.seed import ADMIN_EMAIL, DEMO_DATASETS, PROVIDER_EMAIL
from marketplace.db import UnitOfWork
from marketplace.delivery import seed as delivery_seed
from marketplace.delivery import services as delivery
from marketplace.licenses import services as licenses
from marketplace.withdrawals import services

SLUG = "consented-voice-prompts"
TEMPLATE_SLUG = "multilingual-instruction-pairs"
SPEAKERS = ("spk01", "spk02", "spk17")
LICENSEES = ("globex-ai", "initech-research")
CONFIRMED_BY = "initech-research"


def _transcripts(speaker: str) -> bytes:
    lines = [
        json.dumps({"id": f"{speaker}-{i:04d}", "speaker": speaker, "text": f"Prompt {i} read aloud by {speaker}."})
        for i in range(1, 201)
    ]
    return ("\n".join(lines) + "\n").encode()


def _files() -> dict[str, tuple[bytes, str]]:
    files = {f"data/{s}.jsonl": (_transcripts(s), "application/jsonl") for s in SPEAKERS}
    files["README.md"] = (b"# Consented voice prompts\n\nTranscripts of prompts read by consenting speakers.\n",
                          "text/markdown")  # fmt: skip
    return files


def _record(files: dict[str, tuple[bytes, str]]) -> dict[str, Any]:
    record = next(copy.deepcopy(r) for _, _, r, _ in DEMO_DATASETS if r["slug"] == TEMPLATE_SLUG)
    record.update(
        external_id=SLUG.upper(),
        slug=SLUG,
        title="Consented voice prompts",
        summary="Transcripts of prompts read by three consenting speakers; one later withdrew consent.",
        record_count=200 * len(SPEAKERS),
        file_count=len(files),
        total_bytes=sum(len(content) for content, _ in files.values()),
    )
    record["versions"] = [delivery_seed.first_version(files, "First release.")]
    return record


def _owner(uow: UnitOfWork, org: Organisation) -> User:
    membership = uow.session.exec(
        select(Membership).where(Membership.organisation_id == org.id, Membership.role == Role.OWNER)
    ).first()
    user = uow.session.get(User, membership.user_id) if membership else None
    assert user is not None, f"demo organisation {org.slug} has no owner"
    return user


def _publish_listing(uow: UnitOfWork, provider: User, admin: User) -> Dataset:
    """Import, upload (verified) and publish the listing, as the downloadable starter pack does."""
    files = _files()
    data = json.dumps(_record(files), ensure_ascii=False).encode()
    importer.import_catalog(uow, provider, organisation="northwind-data", data=data, fmt="jsonl")
    session = uow.session
    dataset = session.exec(select(Dataset).where(Dataset.slug == SLUG)).one()
    version = session.exec(select(DatasetVersion).where(DatasetVersion.dataset_id == dataset.id)).one()
    store = delivery.dataset_storage(uow, dataset)
    for row in session.exec(select(DatasetFile).where(DatasetFile.version_id == version.id)).all():
        content, media_type = files[row.path]
        upload = delivery.start_upload(uow, None, dataset, version, path=row.path, size=len(content),
                                       media_type=media_type, sha256=row.sha256, operator=True)  # fmt: skip
        store.put(upload.storage_key, io.BytesIO(content), content_type=media_type)
        delivery.complete_upload(uow, upload)
    session.flush()
    catalog.submit_for_review(uow, provider, dataset)
    catalog.approve(uow, admin, dataset)
    return dataset


def seed_withdrawal(uow: UnitOfWork) -> list[str]:
    """Create the demo withdrawal if its listing is not there yet; return what was done."""
    session = uow.session
    if session.exec(select(Dataset.id).where(Dataset.slug == SLUG)).first() is not None:
        return []
    provider = session.exec(select(User).where(User.email == PROVIDER_EMAIL)).one()
    admin = session.exec(select(User).where(User.email == ADMIN_EMAIL)).one()
    dataset = _publish_listing(uow, provider, admin)
    offer = licenses.create_offer(uow, provider, dataset, title="Research and training", license_id="CC-BY-4.0",
                                  price_amount=0, currency="EUR")  # fmt: skip
    orgs = {o.slug: o for o in session.exec(select(Organisation).where(Organisation.slug.in_(LICENSEES))).all()}  # type: ignore[attr-defined]
    for slug in LICENSEES:
        licenses.issue_grant(uow, offer, licensee=orgs[slug], acquired_by=_owner(uow, orgs[slug]))
    session.flush()
    filing = services.Filing(
        version="1.0.0",
        reason="consent_withdrawn",
        details="Speaker spk17 withdrew consent on their recordings and transcripts.",
        files=("data/spk17.jsonl",),
        record_ids=tuple(f"spk17-{i:04d}" for i in range(1, 201)),
    )
    withdrawal = services.file_withdrawal(uow, provider, dataset, filing)
    notices = services.publish_patched_version(uow, provider, withdrawal)
    signer = _owner(uow, orgs[CONFIRMED_BY])
    for notice in notices:
        if notice.licensee_org_id == orgs[CONFIRMED_BY].id:
            statement = "Deleted data/spk17.jsonl and every record spk17-* from our training store and backups."
            confirmation = services.Confirmation(signer.display_name, "Data protection officer", statement,
                                                 uow.now().date())  # fmt: skip
            services.confirm_deletion(uow, signer, notice, confirmation)
    return [f"withdrawal from {SLUG} 1.0.0: patched 1.0.1 published, {len(notices)} licensees told, 1 confirmed"]
