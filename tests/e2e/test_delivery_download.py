"""In Chromium: a licensee downloads a file from the license page; the browser saves it under its own name."""

from __future__ import annotations

import hashlib
import io

import pytest

from marketplace.accounts.models import OrgKind, Role
from marketplace.catalog.manifest import compute_manifest_digest
from marketplace.catalog.vocab import VersionStatus
from marketplace.db import unit_of_work
from marketplace.licenses import services as licenses
from tests import factories
from tests.factories import (
    PASSWORD,
    DatasetFactory,
    DatasetFileFactory,
    DatasetVersionFactory,
    OrganisationFactory,
    member,
)

pytestmark = pytest.mark.e2e

CONTENT = "id,text\n1,grüß dich\n".encode()
NAME = "Grüße – v1 (final).csv"  # non-ASCII, spaces, a dash; quotes are checked over HTTP


def _arrange(live_server) -> str:  # type: ignore[no-untyped-def]
    app = live_server.app
    database, context = app.extensions["marketplace.db"], app.extensions["marketplace.context"]
    with unit_of_work(database, context) as uow:
        factories.bind(uow.session)
        provider = OrganisationFactory(slug="nw", name="Northwind", kind=OrgKind.PROVIDER)
        buyer = OrganisationFactory(slug="globex", name="Globex", kind=OrgKind.BUYER)
        seller = member(provider, Role.OWNER, email="seller@example.org")
        member(buyer, Role.MEMBER, email="buyer@example.org")
        dataset = DatasetFactory(organisation=provider, slug="retail", title="Retail Receipts")
        version = DatasetVersionFactory(dataset=dataset, version="1.0.0", status=VersionStatus.PUBLISHED)
        key = f"datasets/{dataset.id}/versions/{version.id}/data/{NAME}"
        context.storage.put(key, io.BytesIO(CONTENT), content_type="text/csv")
        file = DatasetFileFactory(
            version=version, path=f"data/{NAME}", size_bytes=len(CONTENT),
            sha256=hashlib.sha256(CONTENT).hexdigest(), media_type="text/csv", storage_key=key,
        )  # fmt: skip
        version.manifest_digest = compute_manifest_digest([file])
        version.file_count = 1
        offer = licenses.create_offer(
            uow, seller, dataset, title="Open", license_id="CC-BY-4.0", price_amount=0, currency="EUR"
        )
        grant = licenses.issue_grant(uow, offer, licensee=buyer, acquired_by=None)
        return grant.id


def test_licensee_downloads_a_file_named_as_in_the_manifest(page, live_server, tmp_path) -> None:
    grant_id = _arrange(live_server)
    page.goto(live_server.url + "/login")
    page.get_by_label("E-mail address").fill("buyer@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_test_id("nav-account").wait_for()
    page.goto(f"{live_server.url}/licenses/{grant_id}")
    files = page.get_by_test_id("grant-files")
    assert NAME in files.inner_text()
    with page.expect_download() as info:
        files.get_by_role("button", name="Download").click()
    download = info.value
    assert download.suggested_filename == NAME
    saved = tmp_path / "saved.csv"
    download.save_as(saved)
    assert saved.read_bytes() == CONTENT
