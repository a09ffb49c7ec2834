"""The provider workflow over HTTP: draft → sections → version → submit → review → publish → retire."""

from __future__ import annotations

import re

import pytest
from sqlmodel import Session, select

from marketplace.accounts.models import Role
from marketplace.catalog import services
from marketplace.catalog.models import Dataset, DatasetEvent, DatasetFile, DatasetVersion
from marketplace.catalog.vocab import DatasetStatus, VersionStatus
from marketplace.errors import Conflict, PermissionDenied, ValidationFailed
from tests.factories import PASSWORD, OrganisationFactory, UserFactory, member
from tests.functional.catalog.conftest import sha
from tests.helpers import csrf_token, log_in

MANIFEST_CSV = "path,size_bytes,sha256,media_type\n" + "\n".join(
    f"audio/{i}.wav,{1000 * (i + 1)},{sha(str(i))},audio/wav" for i in range(3)
)

SECTION_POSTS = {
    "identity": {
        "title": "Harbour Speech",
        "summary": "Dock-side radio chatter, transcribed.",
        "description": "Radio traffic between **harbour pilots** and ships.",
        "offering_type": "off_the_shelf",
        "tags": "maritime, radio",
        "external_id": "HS-1",
    },
    "modality": {
        "modality": "audio",
        "modality_details.audio.hours": "120.5",
        "modality_details.audio.speakers": "340",
        "modality_details.audio.sample_rate_hz": "16000",
        "modality_details.audio.accents": "Dutch English, German English",
    },
    "tasks": {"tasks": ["asr", "classification"], "industries": ["automotive_mobility", "general"]},
    "coverage": {
        "languages": "en, nl",
        "countries": "NL, de",
        "collection_start": "2023-01-01",
        "collection_end": "2023-12-31",
    },
    "size": {"record_count": "9000", "total_bytes": "6000", "file_count": "3", "formats": "audio/wav"},
    "collection": {
        "collection_methods": ["sensors"],
        "annotation_methods": ["expert"],
        "annotator_qualifications": "Former pilots.",
        "annotations_per_item": "1",
        "agreement_metric": "wer",
        "agreement_value": "6.5",
        "synthetic_share_pct": "0",
    },
    "personal_data": {
        "personal_data": "yes",
        "deidentification": ["pseudonymised"],
        "lawful_basis": "legitimate_interests",
        "consent_obtained": "false",
        "opt_out_honoured": "true",
        "personal_data_notes": "Call signs replaced.",
    },
    "provenance": {
        "sources.0.name": "Port authority radio archive",
        "sources.0.url": "https://example.org/port",
        "sources.0.license": "cc-by-4.0",
        "sources.1.name": "",
        "sources.1.url": "",
        "sources.1.license": "",
    },
    "ai_act": {
        "ai_act.design_choices": "Only pilot–ship channels.",
        "ai_act.collection_processes": "Recorded by the port authority.",
        "ai_act.data_origin": "Operational radio logs.",
        "ai_act.preparation.cleaning": "Silence trimmed.",
        "ai_act.assumptions": "One port.",
        "ai_act.suitability": "Radio ASR.",
        "ai_act.bias_examination": "Accent balance checked.",
        "ai_act.bias_mitigation": "Resampled by accent.",
        "ai_act.known_gaps": "No night shifts.",
        "ai_act.bias_reviewer": "Jan de Vries",
        "ai_act.bias_reviewed_on": "2024-01-15",
    },
    "delivery": {"storage_region": "eu", "update_frequency": "yearly"},
}


def _post(client, path: str, data: dict, token_from: str, **kw):  # type: ignore[no-untyped-def]
    return client.post(path, data={**data, "csrf_token": csrf_token(client, token_from)}, **kw)


@pytest.fixture()
def provider(db_session: Session):  # type: ignore[no-untyped-def]
    org = OrganisationFactory(slug="harbour-data", name="Harbour Data")
    user = member(org, Role.MEMBER, email="pilot@example.org")
    return org, user


def _create(client) -> str:  # type: ignore[no-untyped-def]
    response = _post(
        client, "/datasets/new", {"organisation": "harbour-data", "title": "Harbour Speech"}, "/datasets/new"
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return re.search(r"/datasets/([^/]+)/edit/identity", response.headers["Location"]).group(1)


def test_full_workflow_every_group_to_published(app, client, db_session: Session, provider) -> None:
    log_in(client, "pilot@example.org", PASSWORD)
    slug = _create(client)
    for section, data in SECTION_POSTS.items():
        page = f"/datasets/{slug}/edit/{section}"
        response = _post(client, page, {**data, "_next": "1"}, page)
        assert response.status_code == 302, (section, response.get_data(as_text=True))
    dataset = db_session.exec(select(Dataset).where(Dataset.slug == slug)).one()
    record = services.dataset_record(db_session, dataset)
    assert record["countries"] == ["NL", "DE"] and record["languages"] == ["en", "nl"]
    assert record["sources"] == [
        {"name": "Port authority radio archive", "url": "https://example.org/port", "license": "CC-BY-4.0"}
    ]
    assert record["modality_details"]["audio"]["accents"] == ["Dutch English", "German English"]
    assert record["ai_act"]["preparation"]["cleaning"] == "Silence trimmed."
    assert record["consent_obtained"] is False and record["opt_out_honoured"] is True

    # Not complete without a version: the submission names what is missing.
    manage = f"/datasets/{slug}/manage"
    response = _post(client, f"/datasets/{slug}/submit", {}, manage)
    assert response.status_code == 422
    assert "add a version with its file manifest" in response.get_data(as_text=True)

    response = _post(
        client,
        f"/datasets/{slug}/versions",
        {"version": "1.0.0", "changelog": "First.", "manifest": MANIFEST_CSV},
        manage,
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    response = _post(client, f"/datasets/{slug}/submit", {}, manage)
    assert response.status_code == 302
    db_session.refresh(dataset)
    assert dataset.status is DatasetStatus.IN_REVIEW
    # In review, the listing is locked.
    response = _post(
        client, f"/datasets/{slug}/edit/identity", SECTION_POSTS["identity"], f"/datasets/{slug}/edit/identity"
    )
    assert response.status_code == 422 and "in review" in response.get_data(as_text=True)

    # Not public yet.
    assert client.application.test_client().get(f"/datasets/{slug}").status_code == 404

    UserFactory(email="root@example.org", is_platform_admin=True)
    admin = client.application.test_client()
    log_in(admin, "root@example.org", PASSWORD)
    assert slug in admin.get("/reviews").get_data(as_text=True)
    response = _post(admin, f"/datasets/{slug}/approve", {}, manage)
    assert response.status_code == 302
    db_session.refresh(dataset)
    assert dataset.status is DatasetStatus.PUBLISHED and dataset.published_at is not None
    version = db_session.exec(select(DatasetVersion).where(DatasetVersion.dataset_id == dataset.id)).one()
    assert version.status is VersionStatus.PUBLISHED and version.file_count == 3
    assert version.manifest_digest == services.compute_manifest_digest(services.version_files(db_session, version))

    anonymous = client.application.test_client()
    page = anonymous.get(f"/datasets/{slug}").get_data(as_text=True)
    assert "Harbour Speech" in page and "Port authority radio archive" in page and version.manifest_digest in page
    actions = [e.action for e in db_session.exec(select(DatasetEvent).where(DatasetEvent.dataset_id == dataset.id))]
    assert {"created", "updated", "version_added", "submitted", "approved", "version_published"} <= set(actions)


def test_section_validation_names_each_bad_field(client, provider) -> None:
    log_in(client, "pilot@example.org", PASSWORD)
    slug = _create(client)
    page = f"/datasets/{slug}/edit/coverage"
    response = _post(
        client,
        page,
        {"languages": "en, xx-yy", "countries": "ZZ", "collection_start": "2024-05-01", "collection_end": "2024-01-01"},
        page,
    )
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "not a registered BCP 47 language tag" in body
    assert "not an ISO 3166-1 alpha-2 country code" in body
    page = f"/datasets/{slug}/edit/provenance"
    response = _post(client, page, {"sources.0.name": "Web", "sources.0.license": "Not-A-License"}, page)
    assert response.status_code == 422 and "unknown SPDX license identifier" in response.get_data(as_text=True)
    page = f"/datasets/{slug}/edit/size"
    response = _post(client, page, {"formats": "audio/wav, nonsense"}, page)
    assert response.status_code == 422 and "is not a media type" in response.get_data(as_text=True)


def test_only_members_of_the_owning_organisation_may_edit(app, client, catalog, db_session: Session) -> None:
    dataset = catalog.draft(title="Private draft")
    outsider = UserFactory(email="outsider@example.org")
    log_in(client, outsider.email, PASSWORD)
    assert client.get(f"/datasets/{dataset.slug}/edit/identity").status_code == 404
    assert client.get(f"/datasets/{dataset.slug}/manage").status_code == 404
    assert client.get(f"/datasets/{dataset.slug}").status_code == 404
    token = csrf_token(client, "/datasets/mine")
    response = client.post(f"/datasets/{dataset.slug}/submit", data={"csrf_token": token})
    assert response.status_code == 403
    response = client.post(f"/datasets/{dataset.slug}/versions", data={"csrf_token": token, "version": "9.0.0"})
    assert response.status_code == 403
    assert db_session.exec(select(DatasetVersion).where(DatasetVersion.version == "9.0.0")).first() is None


def test_published_version_is_immutable(app, catalog, uow) -> None:
    dataset = catalog.published(title="Frozen")
    _, user = catalog.provider()
    version = services.get_version(uow.session, dataset, None)
    with pytest.raises(Conflict):
        services.update_version(
            uow,
            user,
            dataset,
            version,
            files=[{"path": "x", "size_bytes": 1, "sha256": sha("x"), "media_type": "text/plain"}],
        )
    with pytest.raises(Conflict):
        services.update_version(uow, user, dataset, version, changelog="rewritten")
    with pytest.raises(Conflict):
        services.delete_version(uow, user, dataset, version)
    # A new version must be newer, and publishing it leaves the old one as it was.
    with pytest.raises(ValidationFailed):
        services.add_version(uow, user, dataset, version="0.9.0")
    digest = version.manifest_digest
    newer = services.add_version(
        uow,
        user,
        dataset,
        version="2.0.0",
        files=[{"path": "new.txt", "size_bytes": 5, "sha256": sha("n"), "media_type": "text/plain"}],
    )
    with app.app_context():
        services.publish_version(uow, user, dataset, newer)
    assert services.get_version(uow.session, dataset, None).version == "2.0.0"
    assert services.get_version(uow.session, dataset, "1.0.0").manifest_digest == digest
    files = uow.session.exec(select(DatasetFile).where(DatasetFile.version_id == version.id)).all()
    assert len(files) == 2


def test_reject_with_reason_then_deprecate_and_withdraw(app, client, catalog, uow, db_session: Session) -> None:
    dataset = catalog.draft(title="Needs work")
    _, user = catalog.provider()
    services.submit_for_review(uow, user, dataset)
    with pytest.raises(ValidationFailed):
        services.reject(uow, catalog.admin, dataset, "")
    with pytest.raises(PermissionDenied):
        services.approve(uow, user, dataset)  # providers cannot approve their own listing
    services.reject(uow, catalog.admin, dataset, "Describe the bias examination in more detail.")
    assert dataset.status is DatasetStatus.DRAFT and "bias examination" in dataset.status_note
    services.submit_for_review(uow, user, dataset)
    with app.app_context():
        services.approve(uow, catalog.admin, dataset)
    services.deprecate(uow, user, dataset, "Superseded by v2 listing.")
    uow.session.flush()
    page = client.get(f"/datasets/{dataset.slug}")
    assert page.status_code == 200 and "Superseded by v2 listing" in page.get_data(as_text=True)
    services.withdraw(uow, catalog.admin, dataset, "Takedown: rights dispute.")
    uow.session.flush()
    gone = client.get(f"/datasets/{dataset.slug}")
    assert gone.status_code == 410 and "rights dispute" in gone.get_data(as_text=True)
    with pytest.raises(Conflict):
        services.update_section(uow, user, dataset, "identity", {"title": "Back again"})


def test_samples_are_checked_and_served_safely(app, client, catalog, uow) -> None:
    dataset = catalog.draft(title="With samples")
    _, user = catalog.provider()
    with pytest.raises(ValidationFailed, match="content is not image/png"):
        services.add_sample(
            uow, user, dataset, filename="fake.png", content=b"<svg onload=alert(1)>", media_type="image/png"
        )
    with pytest.raises(ValidationFailed, match="cannot be previewed"):
        services.add_sample(uow, user, dataset, filename="x.html", content=b"<b>x</b>", media_type="text/html")
    sample = services.add_sample(uow, user, dataset, filename="rows.csv", content=b"a,b\n1,2\n", media_type="text/csv")
    services.submit_for_review(uow, user, dataset)
    with app.app_context():
        services.approve(uow, catalog.admin, dataset)
        uow.session.flush()
    response = client.get(f"/datasets/{dataset.slug}/samples/{sample.id}/rows.csv")
    assert response.status_code == 200 and response.data == b"a,b\n1,2\n"
    assert response.mimetype == "text/plain" and "sandbox" in response.headers["Content-Security-Policy"]
    assert "a,b" in client.get(f"/datasets/{dataset.slug}").get_data(as_text=True)
    assert client.get(f"/datasets/{dataset.slug}/samples/{sample.id}/other.csv").status_code == 404


def test_new_dataset_form_with_a_modality_and_without(client, provider) -> None:
    log_in(client, "pilot@example.org", PASSWORD)
    response = _post(
        client,
        "/datasets/new",
        {"organisation": "harbour-data", "title": "Blank modality", "modality": "", "slug": ""},
        "/datasets/new",
    )
    assert response.status_code == 302
    response = _post(
        client,
        "/datasets/new",
        {"organisation": "harbour-data", "title": "Tabular one", "modality": "tabular"},
        "/datasets/new",
    )
    assert response.status_code == 302
    response = _post(
        client,
        "/datasets/new",
        {"organisation": "harbour-data", "title": "Taken", "slug": "blank-modality"},
        "/datasets/new",
    )
    assert response.status_code == 422 and "already taken" in response.get_data(as_text=True)
