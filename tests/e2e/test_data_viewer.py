"""In Chromium: the data viewer. A visitor opens a listing's sample from the dataset page and sees its rows; a
licensee opens a full file from the version page and sees its rows, search and statistics; a member of another
organisation is refused the full file."""

from __future__ import annotations

import hashlib
import io
import os

import pytest

from marketplace.accounts.models import OrgKind, Role
from marketplace.catalog.manifest import compute_manifest_digest
from marketplace.catalog.models import SampleFile
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

SAMPLE = b"station,reading\n" + b"".join(f"north-{i},{i * 0.5}\n".encode() for i in range(1, 31))
FULL = b"station,reading,flag\n" + b"".join(
    f"south-{i},{i * 2},{'ok' if i % 4 else 'check'}\n".encode() for i in range(1, 301)
)
SHOTS = os.environ.get("VIEWER_SCREENSHOTS", "")


def _arrange(live_server) -> dict[str, int]:  # type: ignore[no-untyped-def]
    app = live_server.app
    database, context = app.extensions["marketplace.db"], app.extensions["marketplace.context"]
    with unit_of_work(database, context) as uow:
        factories.bind(uow.session)
        provider = OrganisationFactory(slug="nw", name="Northwind", kind=OrgKind.PROVIDER)
        buyer = OrganisationFactory(slug="globex", name="Globex", kind=OrgKind.BUYER)
        rival = OrganisationFactory(slug="initech", name="Initech", kind=OrgKind.BUYER)
        seller = member(provider, Role.OWNER, email="seller@example.org")
        member(buyer, Role.MEMBER, email="buyer@example.org")
        member(rival, Role.OWNER, email="rival@example.org")
        dataset = DatasetFactory(organisation=provider, slug="sensors", title="Turbine sensors")
        version = DatasetVersionFactory(dataset=dataset, version="1.0.0", status=VersionStatus.PUBLISHED)
        key = f"datasets/{dataset.id}/versions/{version.id}/readings.csv"
        context.storage.put(key, io.BytesIO(FULL), content_type="text/csv")
        file = DatasetFileFactory(
            version=version, path="readings.csv", size_bytes=len(FULL), sha256=hashlib.sha256(FULL).hexdigest(),
            media_type="text/csv", storage_key=key,
        )  # fmt: skip
        version.manifest_digest = compute_manifest_digest([file])
        version.file_count = 1
        uow.session.add(
            SampleFile(
                dataset_id=dataset.id, filename="preview.csv", media_type="text/csv", size_bytes=len(SAMPLE),
                sha256=hashlib.sha256(SAMPLE).hexdigest(), content=SAMPLE, description="Thirty readings",
            )
        )  # fmt: skip
        offer = licenses.create_offer(
            uow, seller, dataset, title="Open", license_id="CC-BY-4.0", price_amount=0, currency="EUR"
        )
        licenses.issue_grant(uow, offer, licensee=buyer, acquired_by=None)
        uow.session.flush()
        return {"file": file.id}  # type: ignore[dict-item]


def _log_in(page, live_server, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(live_server.url + "/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_test_id("nav-account").wait_for()


def _shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def test_a_visitor_sees_the_rows_of_a_sample(page, live_server) -> None:
    _arrange(live_server)
    page.goto(f"{live_server.url}/datasets/sensors")
    page.get_by_test_id("open-viewer").first.click()
    table = page.get_by_test_id("viewer-rows")
    assert "north-1" in table.inner_text() and "north-30" in table.inner_text()
    assert "30 rows" in page.get_by_test_id("viewer-count").inner_text()
    page.get_by_label("Search the rows").fill("north-2")
    page.get_by_role("button", name="Search").click()
    assert "11 rows contain" in page.get_by_test_id("viewer-count").inner_text()
    live_server.wait_for_jobs()
    page.reload()
    page.get_by_test_id("viewer-statistics").wait_for()
    _shot(page, "sample")


def test_a_licensee_sees_the_rows_of_the_full_file(page, live_server) -> None:
    _arrange(live_server)
    _log_in(page, live_server, "buyer@example.org")
    page.goto(f"{live_server.url}/datasets/sensors/versions/1.0.0")
    page.get_by_role("link", name="View data of readings.csv").click()
    table = page.get_by_test_id("viewer-rows")
    assert "south-1" in table.inner_text() and "south-50" in table.inner_text()
    assert "300 rows; showing 1 to 50" in page.get_by_test_id("viewer-count").inner_text()
    page.get_by_role("link", name="Next 50 rows").click()
    assert "south-51" in page.get_by_test_id("viewer-rows").inner_text()
    live_server.wait_for_jobs()
    page.reload()
    stats = page.get_by_test_id("viewer-statistics")
    assert "check" in stats.inner_text()  # the flag column's most frequent values
    _shot(page, "licensee")


def test_a_non_licensee_is_refused_the_full_file(page, live_server) -> None:
    ids = _arrange(live_server)
    _log_in(page, live_server, "rival@example.org")
    response = page.goto(f"{live_server.url}/datasets/sensors/versions/1.0.0/files/{ids['file']}/data")
    assert response is not None and response.status == 403
    assert "south-1" not in page.content()
    assert "Only" in page.content()
    _shot(page, "refused")
