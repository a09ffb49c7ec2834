"""In Chromium: a buyer pays an order through the sandbox, opens the order page and downloads its invoice, whose
text names the seller, the buyer with their tax ids, the line, the total and the number; the receipt mail carries
the same PDF, and the seller finds it on the sales page."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from marketplace.accounts.models import Membership, Organisation, OrgKind, Role, User
from marketplace.accounts.passwords import hasher_for
from marketplace.catalog.models import Dataset, DatasetVersion
from marketplace.catalog.vocab import DatasetStatus, VersionStatus
from marketplace.db import unit_of_work, utcnow
from marketplace.licenses import services as licenses

pytestmark = pytest.mark.e2e

PASSWORD = "a long buyer passphrase"


def _arrange(live_server) -> None:
    database = live_server.app.extensions["marketplace.db"]
    context = live_server.app.extensions["marketplace.context"]
    digest = hasher_for("CHEAPEST").hash(PASSWORD)
    with unit_of_work(database, context) as uow:
        s = uow.session
        seller = User(email="seller@example.org", password_hash=digest, email_verified_at=utcnow())
        buyer = User(email="bea@example.org", password_hash=digest, email_verified_at=utcnow())
        provider = Organisation(slug="fjord-data", name="Fjord Data", kind=OrgKind.PROVIDER,
                                billing_name="Fjord Data AS", billing_address="Bryggen 1\n5003 Bergen\nNorway",
                                tax_id="NO 999 888 777 MVA")  # fmt: skip
        buyer_org = Organisation(slug="bea-labs", name="Bea Labs", kind=OrgKind.BUYER, billing_name="Bea Labs GmbH",
                                 billing_address="Torstraße 5\n10119 Berlin", tax_id="DE 123456789")  # fmt: skip
        s.add_all([seller, buyer, provider, buyer_org])
        s.flush()
        s.add_all([Membership(organisation_id=provider.id, user_id=seller.id, role=Role.OWNER),
                   Membership(organisation_id=buyer_org.id, user_id=buyer.id, role=Role.OWNER)])  # fmt: skip
        dataset = Dataset(slug="ferry-announcements", organisation_id=provider.id, title="Ferry announcements",
                          summary="Norwegian ferry announcements, transcribed", status=DatasetStatus.PUBLISHED,
                          published_at=utcnow())  # fmt: skip
        s.add(dataset)
        s.flush()
        s.add(DatasetVersion(dataset_id=dataset.id, version="1.0.0", status=VersionStatus.PUBLISHED,
                             manifest_digest="ab" * 32, published_at=utcnow()))  # fmt: skip
        licenses.create_offer(uow, seller, dataset, title="Commercial training license", price_amount=49900,
                              currency="EUR", license_id="LicenseRef-standard-commercial-1.0",
                              overrides={"seats": 3})  # fmt: skip


def _text(data: bytes) -> str:
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages))


def _log_in(page, base: str, email: str) -> None:
    page.goto(base + "/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_test_id("nav-account").wait_for()


def test_buyer_pays_and_downloads_the_invoice(page, browser, live_server, tmp_path) -> None:
    _arrange(live_server)
    base = live_server.url
    _log_in(page, base, "bea@example.org")
    page.goto(base + "/datasets/ferry-announcements?tab=licenses")
    page.get_by_test_id("offer").first.get_by_role("button", name="Add to cart").click()
    page.get_by_role("heading", name="Cart").wait_for()
    page.get_by_label("I accept these terms").check()
    page.get_by_role("button", name="Check out").click()
    page.get_by_text("Sandbox payments").wait_for()
    page.get_by_role("button", name="Pay", exact=True).click()
    page.get_by_test_id("order-status").wait_for()
    assert page.get_by_test_id("order-status").inner_text() == "Paid"

    # The order page links the invoice; the browser downloads it.
    link = page.get_by_test_id("invoice-link")
    link.wait_for()
    number = re.search(r"INV-\d{6}", link.inner_text())
    assert number is not None
    page.screenshot(path=str(tmp_path / "order-with-invoice.png"), full_page=True)
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename == f"{number.group(0)}.pdf"
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    text = _text(target.read_bytes())
    for expected in (
        f"Invoice number {number.group(0)}", "Seller", "Fjord Data", "Fjord Data AS", "5003 Bergen",
        "Tax ID: NO 999 888 777 MVA", "Buyer", "Bea Labs", "Bea Labs GmbH", "Torstraße 5", "Tax ID: DE 123456789",
        "Ferry announcements", "Commercial training license", "€499.00", "Total paid", "€49.90", "Currency EUR",
    ):  # fmt: skip
        assert expected in text, (expected, text)

    # The receipt mail carries the same invoice.
    receipt = next(m for m in live_server.outbox.messages_to("bea@example.org") if m.subject.startswith("Receipt"))
    assert [a.filename for a in receipt.attachments] == [download.suggested_filename]
    assert _text(receipt.attachments[0].data) == text

    # The seller finds it on the sales page.
    seller = browser.new_context().new_page()
    _log_in(seller, base, "seller@example.org")
    seller.goto(base + "/orgs/fjord-data/sales")
    seller.screenshot(path=str(tmp_path / "sales-with-invoice.png"), full_page=True)
    with seller.expect_download() as sold:
        seller.get_by_test_id("invoice-link").click()
    assert sold.value.suggested_filename == download.suggested_filename

    # The seller moves: new invoices will show the new address, the issued one keeps the old.
    seller.goto(base + "/orgs/fjord-data")
    seller.get_by_role("link", name="Billing details").click()
    assert seller.get_by_label("Tax ID (e.g. VAT number)").input_value() == "NO 999 888 777 MVA"
    seller.get_by_label("Postal address").fill("Strandkaien 2\n5013 Bergen")
    seller.screenshot(path=str(tmp_path / "billing-details.png"), full_page=True)
    seller.get_by_role("button", name="Save billing details").click()
    seller.get_by_text("Billing details saved").wait_for()
    again = page.request.get(base + page.get_by_test_id("invoice-link").get_attribute("href"))
    assert _text(again.body()) == text
