"""In Chromium: a new buyer finds a dataset, buys a commercial license through the sandbox checkout, sees the
certificate, downloads a file, and its SHA-256 matches the manifest."""

from __future__ import annotations

import hashlib
import io
import re

import pytest

from marketplace.accounts.models import Membership, Organisation, OrgKind, Role, User
from marketplace.accounts.passwords import hasher_for
from marketplace.catalog.manifest import compute_manifest_digest
from marketplace.catalog.models import Dataset, DatasetFile, DatasetVersion
from marketplace.catalog.vocab import DatasetStatus, VersionStatus
from marketplace.db import unit_of_work, utcnow
from marketplace.licenses import services as licenses

pytestmark = pytest.mark.e2e

CONTENT = b"".join(b'{"id": %d, "text": "ferry announcement %d"}\n' % (i, i) for i in range(2000))


def _arrange(live_server) -> str:
    app = live_server.app
    database = app.extensions["marketplace.db"]
    context = app.extensions["marketplace.context"]
    with unit_of_work(database, context) as uow:
        s = uow.session
        seller = User(email="seller@example.org", password_hash=hasher_for("CHEAPEST").hash("x" * 12),
                      email_verified_at=utcnow())  # fmt: skip
        provider = Organisation(slug="fjord-data", name="Fjord Data", kind=OrgKind.PROVIDER)
        s.add_all([seller, provider])
        s.flush()
        s.add(Membership(organisation_id=provider.id, user_id=seller.id, role=Role.OWNER))
        dataset = Dataset(
            slug="ferry-announcements", organisation_id=provider.id, title="Ferry announcements",
            summary="Norwegian ferry announcements, transcribed", status=DatasetStatus.PUBLISHED,
            published_at=utcnow(),
        )  # fmt: skip
        s.add(dataset)
        s.flush()
        version = DatasetVersion(dataset_id=dataset.id, version="1.0.0", status=VersionStatus.PUBLISHED,
                                 published_at=utcnow())  # fmt: skip
        s.add(version)
        s.flush()
        key = f"datasets/{dataset.id}/versions/{version.id}/data/train.jsonl"
        context.storage.put(key, io.BytesIO(CONTENT), content_type="application/jsonl")
        file = DatasetFile(version_id=version.id, path="data/train.jsonl", size_bytes=len(CONTENT),
                           sha256=hashlib.sha256(CONTENT).hexdigest(), media_type="application/jsonl",
                           storage_key=key)  # fmt: skip
        s.add(file)
        s.flush()
        version.manifest_digest = compute_manifest_digest([file])
        version.file_count, version.total_bytes = 1, len(CONTENT)
        s.add(version)
        licenses.create_offer(uow, seller, dataset, title="Commercial training license", price_amount=49900,
                              currency="EUR", license_id="LicenseRef-standard-commercial-1.0")  # fmt: skip
        return dataset.slug


def _link(live_server, to: str, prefix: str) -> str:
    for message in reversed(live_server.outbox.messages_to(to)):
        match = re.search(r"(https?://\S*" + re.escape(prefix) + r"\S*)", message.body)
        if match:
            return match.group(1)
    raise AssertionError(f"no mail to {to} with {prefix}")


def test_new_buyer_finds_buys_verifies_and_downloads(page, live_server, tmp_path) -> None:
    slug = _arrange(live_server)
    base = live_server.url
    # A new buyer signs up, verifies, logs in, and creates a buyer organisation.
    page.goto(base + "/signup")
    page.get_by_label("E-mail address").fill("bea@example.org")
    page.get_by_label("Password").fill("a long buyer passphrase")
    page.get_by_role("button", name="Sign up").click()
    page.get_by_role("heading", name="Check your e-mail").wait_for()
    page.goto(_link(live_server, "bea@example.org", "/verify-email"))
    page.get_by_label("E-mail address").fill("bea@example.org")
    page.get_by_label("Password").fill("a long buyer passphrase")
    page.get_by_role("button", name="Log in").click()
    page.get_by_test_id("nav-account").wait_for()
    page.goto(base + "/orgs/new")
    page.get_by_label("Name", exact=True).fill("Bea Labs")
    page.get_by_label("Kind").select_option("buyer")
    page.get_by_role("button", name="Create organisation").click()
    page.get_by_role("heading", name=re.compile("Bea Labs")).wait_for()

    # Finds the dataset through search, and reads the offer.
    page.goto(base + "/datasets?q=ferry")
    page.get_by_role("link", name="Ferry announcements").first.click()
    page.get_by_role("tab", name="Licenses").click()
    offer = page.get_by_test_id("offer").first
    offer.wait_for()
    assert "€499.00" in offer.inner_text()
    assert offer.get_by_test_id("training-badge").is_visible()

    # Buys through the sandbox checkout.
    offer.get_by_role("button", name="Add to cart").click()
    page.get_by_role("heading", name="Cart").wait_for()
    assert page.get_by_test_id("cart-total").inner_text() == "€499.00"
    page.get_by_label("I accept these terms").check()
    page.get_by_role("button", name="Check out").click()
    page.get_by_text("Sandbox payments").wait_for()
    page.get_by_role("button", name="Pay", exact=True).click()
    page.get_by_test_id("order-status").wait_for()
    assert page.get_by_test_id("order-status").inner_text() == "Paid"

    # Sees the certificate, which the public verification page confirms.
    page.get_by_test_id("order-license").first.click()
    certificate = page.get_by_test_id("certificate").input_value()
    assert certificate.count(".") == 2
    grant_id = page.get_by_test_id("grant-id").inner_text()
    verify = page.request.get(f"{base}/licenses/{grant_id}/verify", headers={"Accept": "application/json"}).json()
    assert verify["valid"] is True and verify["licensee_organisation"] == "Bea Labs"

    # Downloads the file; its SHA-256 matches the manifest shown on the page.
    row = page.get_by_test_id("grant-file").first
    listed_sha = row.locator("code.digest").inner_text()
    with page.expect_download() as info:
        row.get_by_role("button", name="Download").click()
    download = info.value
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    assert download.suggested_filename == "train.jsonl"
    assert hashlib.sha256(target.read_bytes()).hexdigest() == listed_sha == hashlib.sha256(CONTENT).hexdigest()
    manifest = page.request.get(f"{base}/licenses/{grant_id}/manifest.json").json()
    assert manifest["dataset"] == slug
    files = [f for version in manifest["versions"] for f in version["files"]]
    assert [(f["path"], f["sha256"]) for f in files] == [("data/train.jsonl", hashlib.sha256(CONTENT).hexdigest())]
