"""In Chromium: a provider makes a dataset credentialed with a data-use agreement and two extra questions → a
researcher uploads a training certificate → a platform admin verifies it → the researcher requests access and signs
the agreement → a reviewer approves with an expiry → the researcher licenses and downloads a file whose SHA-256
matches → the certificate verifies and names the agreement's version and hash → the live server's clock moves past
the expiry (an injected clock, no sleeping) → the download is refused with "access expired".

Screenshots of the key steps are written to /tmp/g2-shots/.
"""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from marketplace.access.models import AgreementVersion
from marketplace.accounts.models import Membership, Organisation, OrgKind, Role, User
from marketplace.accounts.passwords import hasher_for
from marketplace.catalog.manifest import compute_manifest_digest
from marketplace.catalog.models import Dataset, DatasetFile, DatasetVersion
from marketplace.catalog.vocab import DatasetStatus, VersionStatus
from marketplace.db import unit_of_work, utcnow
from marketplace.licenses import services as licenses
from tests.support.browser import open_login_signed_out

pytestmark = pytest.mark.e2e

SHOTS = Path("/tmp/g2-shots")
PASSWORD = "a long enough passphrase"
CONTENT = b"".join(b'{"id": %d, "note": "Patient [NAME] seen for [CONDITION] %d"}\n' % (i, i) for i in range(500))
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _arrange(live_server) -> None:  # type: ignore[no-untyped-def]
    app = live_server.app
    database, context = app.extensions["marketplace.db"], app.extensions["marketplace.context"]
    hashed = hasher_for("CHEAPEST").hash(PASSWORD)
    with unit_of_work(database, context) as uow:
        s = uow.session
        people = {
            email: User(
                email=email,
                display_name=name,
                password_hash=hashed,
                email_verified_at=utcnow(),
                is_platform_admin=email.startswith("admin"),
            )
            for email, name in (
                ("owner@clinic.example", "Olga Owner"),
                ("admin@example.org", "Ada Admin"),
                ("rae@uni.example", "Rae Researcher"),
            )
        }
        provider = Organisation(slug="st-olav", name="St Olav Clinical Data", kind=OrgKind.PROVIDER)
        lab = Organisation(slug="uni-lab", name="University NLP Lab", kind=OrgKind.BUYER)
        s.add_all([*people.values(), provider, lab])
        s.flush()
        s.add(Membership(organisation_id=provider.id, user_id=people["owner@clinic.example"].id, role=Role.OWNER))
        s.add(Membership(organisation_id=lab.id, user_id=people["rae@uni.example"].id, role=Role.OWNER))
        dataset = Dataset(
            slug="discharge-notes", organisation_id=provider.id, title="Discharge notes",
            status=DatasetStatus.PUBLISHED, summary="De-identified discharge notes", published_at=utcnow(),
        )  # fmt: skip
        s.add(dataset)
        s.flush()
        version = DatasetVersion(dataset_id=dataset.id, version="1.0.0", status=VersionStatus.PUBLISHED,
                                 published_at=utcnow())  # fmt: skip
        s.add(version)
        s.flush()
        key = f"datasets/{dataset.id}/versions/{version.id}/data/notes.jsonl"
        context.storage.put(key, io.BytesIO(CONTENT), content_type="application/jsonl")
        file = DatasetFile(version_id=version.id, path="data/notes.jsonl", size_bytes=len(CONTENT),
                           sha256=hashlib.sha256(CONTENT).hexdigest(), media_type="application/jsonl",
                           storage_key=key)  # fmt: skip
        s.add(file)
        s.flush()
        version.manifest_digest = compute_manifest_digest([file])
        version.file_count, version.total_bytes = 1, len(CONTENT)
        s.add(version)
        licenses.create_offer(uow, people["owner@clinic.example"], dataset, title="Research license", price_amount=0,
                              currency="EUR", license_id="CC-BY-4.0")  # fmt: skip


def _shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _log_in(page, base: str, email: str) -> None:  # type: ignore[no-untyped-def]
    open_login_signed_out(page, base)
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_test_id("nav-account").wait_for()


def test_credentialed_access_from_agreement_to_expiry(page, live_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _arrange(live_server)
    base = live_server.url

    # The provider writes an agreement from the platform's credentialed-research template...
    _log_in(page, base, "owner@clinic.example")
    page.goto(base + "/orgs/st-olav/agreements")
    page.get_by_label("Credentialed Health Data Use Agreement").check()
    page.get_by_role("button", name="Create agreement").click()
    page.get_by_test_id("current-version").wait_for()
    assert "No re-identification" in page.get_by_test_id("agreement-text").inner_text()
    # ... and makes the dataset credentialed under it, with two extra questions.
    page.goto(base + "/datasets/discharge-notes/manage")
    page.get_by_test_id("access-settings-link").click()
    page.get_by_label("Credentialed: a reviewer's approval and a verified training certificate").check()
    page.get_by_label("Approvals last (days)").fill("90")
    page.get_by_label("Data-use agreement").select_option(label="Credentialed Health Data Use Agreement")
    page.locator("#f-0-label").fill("Your institution")
    page.locator("#f-0-kind").select_option("select")
    page.locator("input[name='fields-0-required']").check()
    page.locator("#f-0-options").fill("University\nHospital\nCompany")
    page.get_by_role("button", name="Add another question").click()
    page.locator("#f-1-label").fill("Ethics approval")
    page.locator("#f-1-kind").select_option("checkbox")
    page.locator("input[name='fields-1-required']").check()
    page.locator("#f-1-checkbox_text").fill("My project has ethics board approval")
    _shot(page, "01-provider-access-settings")
    page.get_by_test_id("save-access").click()
    page.get_by_text("Access settings saved.").wait_for()
    assert page.locator("#f-1-label").input_value() == "Ethics approval"

    # The researcher uploads a training certificate.
    _log_in(page, base, "rae@uni.example")
    page.goto(base + "/access/credentials")
    page.get_by_label("Certificate (PDF, PNG or JPEG, at most 10 MB)").set_input_files(
        files=[{"name": "citi.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    page.get_by_label("Issued by").fill("CITI Program")
    page.get_by_label("Course").fill("Data or Specimens Only Research")
    page.get_by_label("Completed on").fill((utcnow() - timedelta(days=100)).date().isoformat())
    page.get_by_role("button", name="Upload certificate").click()
    page.get_by_test_id("credentials").wait_for()
    assert "submitted" in page.get_by_test_id("credentials").inner_text()
    _shot(page, "02-researcher-certificate-uploaded")

    # A platform admin verifies it.
    _log_in(page, base, "admin@example.org")
    page.goto(base + "/access/credentials/review")
    page.get_by_role("button", name="Verify").click()
    page.get_by_test_id("no-credentials").wait_for()
    assert "Your training certificate was verified" in [
        m.subject for m in live_server.outbox.messages_to("rae@uni.example")
    ]

    # The researcher requests access (the offer cannot be taken yet) and signs the agreement.
    _log_in(page, base, "rae@uni.example")
    page.goto(base + "/datasets/discharge-notes?tab=licenses")
    assert page.get_by_test_id("offer-needs-access").is_visible()
    assert page.get_by_role("button", name="Get this license").count() == 0
    page.get_by_test_id("request-access").click()
    page.get_by_role("button", name="Continue to the agreement").click()  # empty: each field says what is wrong
    assert "choose at least one" in page.get_by_test_id("error-intended_uses").inner_text()
    assert "is required" in page.get_by_test_id("error-x_your_institution").inner_text()
    assert "must be ticked" in page.get_by_test_id("error-x_ethics_approval").inner_text()
    _shot(page, "03a-request-form-errors")
    page.get_by_label("Your full name").fill("Rae Researcher")
    page.get_by_label("Research").check()
    page.get_by_label("Describe your intended use").fill("Benchmarking clinical entity recognition models.")
    page.get_by_label("Country where you will use the data").select_option("NO")
    page.get_by_label("Your institution").select_option("University")
    page.get_by_label("My project has ethics board approval").check()
    page.get_by_role("button", name="Continue to the agreement").click()
    shown_sha = page.get_by_test_id("agreement-sha256").inner_text()
    with unit_of_work(
        live_server.app.extensions["marketplace.db"], live_server.app.extensions["marketplace.context"]
    ) as uow:
        version = uow.session.exec(select(AgreementVersion)).one()
        assert shown_sha == version.sha256 == hashlib.sha256(version.body.encode()).hexdigest()
    _shot(page, "03-researcher-agreement-to-sign")
    page.get_by_label("Type your full name to sign this agreement").fill("Rae Researcher")
    page.get_by_role("button", name="Sign the agreement").click()
    page.get_by_test_id("signed").wait_for()
    assert shown_sha in page.get_by_test_id("signed").inner_text()

    # The provider's reviewer approves it with an expiry ten days out.
    _log_in(page, base, "owner@clinic.example")
    page.goto(base + "/access/review")
    row = page.get_by_test_id("queue-row").first
    assert "Rae Researcher" in row.inner_text() and "verified" in row.inner_text() and "signed" in row.inner_text()
    expiry = (utcnow() + timedelta(days=10)).date()
    row.get_by_role("checkbox").check()
    row.locator("input[type=date]").fill(expiry.isoformat())
    page.get_by_label("Reason the requester sees (needed to reject)").fill("Welcome; mind the DUA.")
    _shot(page, "04-reviewer-queue")
    page.get_by_test_id("approve-chosen").click()
    page.get_by_text("1 request(s) approved.").wait_for()

    # The researcher takes the license and downloads the file; the SHA-256 matches.
    _log_in(page, base, "rae@uni.example")
    page.goto(base + "/access")
    assert expiry.isoformat() in page.get_by_test_id("my-requests").inner_text()
    page.goto(base + "/datasets/discharge-notes?tab=licenses")
    page.get_by_test_id("access-granted").wait_for()
    offer = page.get_by_test_id("offer").first
    offer.get_by_label("I accept these terms").check()
    offer.get_by_role("button", name="Get this license").click()
    page.get_by_test_id("grant-id").wait_for()
    grant_url = page.url
    row = page.get_by_test_id("grant-file").first
    listed_sha = row.locator("code.digest").inner_text()
    with page.expect_download() as info:
        row.get_by_role("button", name="Download").click()
    issued_link = info.value.url
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    assert hashlib.sha256(target.read_bytes()).hexdigest() == listed_sha == hashlib.sha256(CONTENT).hexdigest()

    # The certificate verifies and names the agreement's version and hash.
    certificate = page.get_by_test_id("certificate").input_value()
    page.goto(base + "/verify")
    page.locator("textarea[name=certificate]").fill(certificate)
    page.locator("form").filter(has=page.locator("textarea[name=certificate]")).get_by_role("button").click()
    named = page.get_by_test_id("certificate-agreement").inner_text()
    assert "version 1" in named and shown_sha in named
    _shot(page, "05-certificate-names-the-agreement")

    # The clock moves past the expiry: downloads stop with "access expired", links issued before included.
    context = live_server.app.extensions["marketplace.context"]
    later = utcnow() + timedelta(days=11)
    context.clock = lambda: later
    page.goto(grant_url)
    assert "access expired" in page.get_by_test_id("download-refusal").inner_text()
    _shot(page, "06-download-refused-access-expired")
    again = page.request.get(issued_link)
    assert again.status >= 400 and "access expired" in again.text()
