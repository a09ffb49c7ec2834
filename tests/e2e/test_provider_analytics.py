"""In Chromium: a visitor looks at a listing and opens an offer's terms; the provider's analytics page then counts
both, draws its charts, changes period and hands out the CSV files."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest

from marketplace.accounts.models import OrgKind, Role
from marketplace.analytics.models import ListingView
from marketplace.catalog.vocab import VersionStatus
from marketplace.db import unit_of_work
from marketplace.licenses import services as licenses
from marketplace.orders.models import OrderStatus
from tests import factories
from tests.factories import PASSWORD, DatasetFactory, DatasetVersionFactory, OrganisationFactory, member
from tests.functional.analytics.conftest import _order, _views

pytestmark = pytest.mark.e2e

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def _arrange(live_server) -> None:  # type: ignore[no-untyped-def]
    app = live_server.app
    database, context = app.extensions["marketplace.db"], app.extensions["marketplace.context"]
    now = datetime.now(UTC)
    with unit_of_work(database, context) as uow:
        factories.bind(uow.session)
        provider = OrganisationFactory(slug="nw", name="Northwind", kind=OrgKind.PROVIDER)
        buyer = OrganisationFactory(slug="globex", name="Globex", kind=OrgKind.BUYER)
        seller = member(provider, Role.OWNER, email="seller@example.org")
        dataset = DatasetFactory(organisation=provider, slug="retail", title="Retail Receipts")
        DatasetVersionFactory(dataset=dataset, version="1.0.0", status=VersionStatus.PUBLISHED,
                              manifest_digest="ab" * 32)  # fmt: skip
        eur = licenses.create_offer(uow, seller, dataset, title="Commercial", currency="EUR", price_amount=125000,
                                    license_id="LicenseRef-standard-commercial-1.0")  # fmt: skip
        usd = licenses.create_offer(uow, seller, dataset, title="Commercial (US)", currency="USD", price_amount=90000,
                                    license_id="LicenseRef-standard-commercial-1.0")  # fmt: skip
        uow.session.flush()
        for ago, offer, status in ((20, eur, OrderStatus.PAID), (9, usd, OrderStatus.PAID),
                                   (4, eur, OrderStatus.PENDING_PAYMENT)):  # fmt: skip
            created = now - timedelta(days=ago)
            paid = created if status is OrderStatus.PAID else None
            _order(uow.session, offer, buyer.id, created=created, paid=paid, status=status,
                   amount=offer.price_amount, fee=offer.price_amount // 10)  # fmt: skip
        past = {(now - timedelta(days=ago)).date().isoformat(): count for ago, count in ((21, 6), (10, 9), (3, 4))}
        _views(uow.session, ListingView, past, dataset_id=dataset.id)


def test_the_provider_sees_its_funnel_revenue_and_csv(browser, page, live_server, tmp_path) -> None:
    _arrange(live_server)
    visitor = browser.new_context(user_agent=FIREFOX)
    try:
        looking = visitor.new_page()
        looking.goto(f"{live_server.url}/datasets/retail")
        with looking.expect_request(lambda r: r.url.endswith("/views") and r.method == "POST") as beacon:
            looking.get_by_text("What this license permits").first.click()
        assert beacon.value.response().status == 204  # type: ignore[union-attr]
    finally:
        visitor.close()

    page.goto(live_server.url + "/login")
    page.get_by_label("E-mail address").fill("seller@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_test_id("nav-account").wait_for()
    page.goto(f"{live_server.url}/orgs/nw")
    page.get_by_test_id("analytics-link").click()
    page.get_by_role("heading", name="Analytics of Northwind").wait_for()
    assert page.get_by_test_id("total-listing-views").inner_text() == "20"  # 19 seeded + the visit above
    assert page.get_by_test_id("total-offer-views").inner_text() == "1"
    assert page.get_by_test_id("total-checkouts").inner_text() == "3"
    assert page.get_by_test_id("total-sales").inner_text() == "2"
    assert page.get_by_role("img", name="Listing and offer views per day").count() == 1
    assert page.get_by_role("img", name="Checkouts and sales per day").count() == 1
    revenue = page.get_by_test_id("revenue-table").inner_text()
    assert "€1,125.00" in revenue and "$810.00" in revenue
    assert page.get_by_role("img", name="Net revenue per listing in EUR").count() == 1
    assert page.get_by_role("img", name="Net revenue per listing in USD").count() == 1
    if os.environ.get("SCREENSHOT_DIR"):
        page.screenshot(path=os.path.join(os.environ["SCREENSHOT_DIR"], "analytics-30.png"), full_page=True)

    page.get_by_label("Period", exact=True).select_option("90")
    page.get_by_label("Figures per", exact=True).select_option("week")
    page.get_by_role("button", name="Update").click()
    page.wait_for_url("**/orgs/nw/analytics?days=90&bucket=week")
    assert page.get_by_role("img", name="Checkouts and sales per week").count() == 1

    with page.expect_download() as info:
        page.get_by_test_id("csv-revenue").click()
    saved = tmp_path / "revenue.csv"
    info.value.save_as(saved)
    assert info.value.suggested_filename.startswith("nw-revenue-")
    lines = saved.read_text().splitlines()
    assert lines[0] == "listing,listing_slug,currency,sales,gross,platform_fee,refunded,net"
    assert sorted(lines[1:]) == [
        "Retail Receipts,retail,EUR,1,1250.00,125.00,0.00,1125.00",
        "Retail Receipts,retail,USD,1,900.00,90.00,0.00,810.00",
    ]

    page.goto(f"{live_server.url}/datasets/retail/manage")
    page.get_by_test_id("listing-analytics-link").click()
    page.get_by_role("heading", name="Analytics of Retail Receipts").wait_for()
    if os.environ.get("SCREENSHOT_DIR"):
        page.screenshot(path=os.path.join(os.environ["SCREENSHOT_DIR"], "analytics-listing.png"), full_page=True)
