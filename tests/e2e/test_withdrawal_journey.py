"""In Chromium: a provider's member withdraws one file of a published version that a buyer holds a license for, and
publishes the patched version → the buyer is mailed, reads the notice on the license page and signs the deletion
confirmation → the provider sees the licensee confirmed → the public dataset page marks the version withdrawn →
the provider's audit log lists the signed confirmation."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import timedelta

import pytest

from marketplace.accounts.models import OrgKind, Role
from marketplace.catalog.manifest import compute_manifest_digest
from marketplace.catalog.vocab import VersionStatus
from marketplace.db import unit_of_work, utcnow
from marketplace.licenses import services as licenses
from tests import factories
from tests.factories import PASSWORD, DatasetFactory, DatasetFileFactory, DatasetVersionFactory, OrganisationFactory
from tests.factories import member as new_member
from tests.support.browser import open_login_signed_out

pytestmark = pytest.mark.e2e

FILES = {
    "data/consented.jsonl": b'{"id": 1, "text": "kept"}\n',
    "data/withdrawn.jsonl": b'{"id": 2, "text": "consent withdrawn"}\n',
}


def _arrange(live_server) -> str:  # type: ignore[no-untyped-def]
    """A provider with version 1.0.0 of two stored files, and a buyer organisation holding a license for it."""
    app = live_server.app
    database, context = app.extensions["marketplace.db"], app.extensions["marketplace.context"]
    with unit_of_work(database, context) as uow:
        factories.bind(uow.session)
        provider = OrganisationFactory(slug="fjord-data", name="Fjord Data", kind=OrgKind.PROVIDER)
        buyer = OrganisationFactory(slug="bea-labs", name="Bea Labs", kind=OrgKind.BUYER)
        # A member of the provider with the admin role: it files the withdrawal and may read the audit log.
        priya = new_member(provider, Role.ADMIN, email="priya@fjord.example", display_name="Priya")
        bea = new_member(buyer, Role.OWNER, email="bea@bea.example", display_name="Bea")
        dataset = DatasetFactory(organisation=provider, slug="ferry-voices", title="Ferry voices")
        version = DatasetVersionFactory(
            dataset=dataset, version="1.0.0", status=VersionStatus.PUBLISHED, published_at=utcnow() - timedelta(days=30)
        )
        files = []
        for path, content in FILES.items():
            key = f"datasets/{dataset.id}/versions/{version.id}/{path}"
            context.storage.put(key, io.BytesIO(content), content_type="application/jsonl")
            files.append(
                DatasetFileFactory(version=version, path=path, size_bytes=len(content), storage_key=key,
                                   sha256=hashlib.sha256(content).hexdigest(), media_type="application/jsonl")
            )  # fmt: skip
        version.manifest_digest = compute_manifest_digest(files)
        version.file_count, version.total_bytes = len(files), sum(f.size_bytes for f in files)
        offer = licenses.create_offer(uow, priya, dataset, title="Open", license_id="CC-BY-4.0", price_amount=0,
                                      currency="EUR")  # fmt: skip
        return licenses.issue_grant(uow, offer, licensee=buyer, acquired_by=bea).id


def _log_in(page, base: str, email: str) -> None:  # type: ignore[no-untyped-def]
    open_login_signed_out(page, base)
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_test_id("nav-account").wait_for()


def test_withdraw_a_file_notify_the_licensee_and_record_its_confirmation(page, live_server) -> None:  # type: ignore[no-untyped-def]
    grant_id = _arrange(live_server)
    base = live_server.url
    page.on("dialog", lambda dialog: dialog.accept())  # "Publish the patched version and notify every licensee?"

    # The provider's member files the withdrawal from the listing's manage page.
    _log_in(page, base, "priya@fjord.example")
    page.goto(base + "/datasets/ferry-voices/manage")
    page.get_by_test_id("withdraw-link").click()
    page.wait_for_url(re.compile(r"/datasets/ferry-voices/withdrawals/new$"))
    page.get_by_label("Published version").select_option("1.0.0")
    page.get_by_label("Reason").select_option(label="Consent withdrawn")
    page.get_by_label("Details (shown to licensees)").fill("The speaker in this file withdrew consent.")
    page.get_by_label("data/withdrawn.jsonl").check()
    page.get_by_role("button", name="File the withdrawal").click()
    page.get_by_text("Withdrawal filed").wait_for()
    assert page.get_by_test_id("withdrawal-state").inner_text() == "filed"

    # ... and publishes the patched version (1.0.1, without the file) from the withdrawal page.
    withdrawal_url = page.url
    page.get_by_test_id("publish-patched").click()
    page.get_by_text("Patched version published; 1 licensee(s) notified.").wait_for()
    counts = page.get_by_test_id("withdrawal-counts").inner_text()
    assert counts == "1 told: 0 confirmed deletion, 1 still to confirm, 0 overdue"
    assert "Bea Labs" in page.get_by_test_id("licensee-statuses").inner_text()

    # The buyer is mailed, with the notice's address.
    [mail] = [m for m in live_server.outbox.messages_to("bea@bea.example") if m.subject.startswith("Withdrawal:")]
    assert "Ferry voices 1.0.0" in mail.subject and "data/withdrawn.jsonl" in mail.body
    notice_url = re.search(r"(http://\S+/withdrawal-notices/\d+)", mail.body).group(1)

    # The buyer sees the notice on the license page, opens it and signs the confirmation.
    _log_in(page, base, "bea@bea.example")
    page.goto(f"{base}/licenses/{grant_id}")
    notice = page.get_by_test_id("withdrawal-notice")
    assert "Version 1.0.0 was withdrawn" in notice.inner_text() and "replaced by version 1.0.1" in notice.inner_text()
    notice.get_by_role("link", name="Read the notice and confirm deletion").click()
    page.wait_for_url(notice_url)
    assert page.get_by_test_id("notice-state").inner_text() == "Notified"
    page.get_by_label("Your full name").fill("Bea Buyer")
    page.get_by_label("Your role").fill("Data protection officer")
    page.get_by_label("What was deleted, and where").fill("Deleted data/withdrawn.jsonl from our training bucket.")
    assert page.get_by_label("Date of deletion").input_value()  # today, filled in
    page.get_by_role("button", name="Sign and confirm deletion").click()
    page.get_by_text("Deletion confirmed. The provider can see your signed confirmation.").wait_for()
    assert page.get_by_test_id("notice-state").inner_text() == "Confirmed"
    assert "Bea Buyer (Data protection officer)" in page.get_by_test_id("confirmation").inner_text()

    # The provider sees the licensee confirmed, with who signed.
    _log_in(page, base, "priya@fjord.example")
    page.goto(withdrawal_url)
    counts = page.get_by_test_id("withdrawal-counts").inner_text()
    assert counts == "1 told: 1 confirmed deletion, 0 still to confirm, 0 overdue"
    status = page.get_by_test_id("licensee-statuses").inner_text()
    assert "confirmed" in status and "Bea Buyer (Data protection officer)" in status

    # The audit log of the provider lists the signed confirmation (reached from the organisation's page).
    page.goto(base + "/orgs/fjord-data")
    page.get_by_role("link", name="Audit log").click()
    page.wait_for_url(re.compile(r"/orgs/fjord-data/audit$"))
    kinds = page.get_by_test_id("audit-entries").locator("tbody tr td:nth-child(3)").all_inner_texts()
    assert "withdrawal.deletion_confirmed" in kinds
    assert kinds.index("withdrawal.deletion_confirmed") < kinds.index("withdrawal.filed")  # newest first

    # A visitor sees the old version marked withdrawn on the public page, and the patched one offered.
    visitor = page.context.browser.new_context().new_page()
    visitor.goto(base + "/datasets/ferry-voices?tab=versions")
    assert visitor.get_by_test_id("withdrawn-1.0.0").inner_text() == "withdrawn"
    old = visitor.get_by_test_id("version-1.0.0")
    old.locator("summary").click()  # the newest version (1.0.1) is the one shown open
    assert "licensees receive version 1.0.1 instead" in old.get_by_role("paragraph").first.inner_text()
    assert visitor.get_by_test_id("withdrawn-1.0.1").count() == 0
    visitor.context.close()
