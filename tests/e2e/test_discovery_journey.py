"""In Chromium: a visitor discovers a dataset from the home page (search box → results with price, licenses and
size → the dataset page), moves through its tabs by keyboard, reads the citation and snippets, and compares its
offers side by side."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from marketplace.accounts.models import Membership, Organisation, OrgKind, Role, User
from marketplace.accounts.passwords import hasher_for
from marketplace.catalog.models import Dataset, DatasetVersion
from marketplace.catalog.vocab import DatasetStatus, Modality, VersionStatus
from marketplace.db import unit_of_work, utcnow
from marketplace.licenses import services as licenses

pytestmark = pytest.mark.e2e
SHOTS = Path(os.environ.get("DISCOVERY_SHOTS", "/tmp/discovery-shots"))


def _shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """A full-page screenshot for people to look at (not compared by the test)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _arrange(live_server) -> str:  # type: ignore[no-untyped-def]
    app = live_server.app
    with unit_of_work(app.extensions["marketplace.db"], app.extensions["marketplace.context"]) as uow:
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
            published_at=utcnow(), modality=Modality.AUDIO, total_bytes=2_500_000_000, record_count=48_000,
        )  # fmt: skip
        s.add(dataset)
        s.flush()
        s.add(DatasetVersion(dataset_id=dataset.id, version="1.0.0", status=VersionStatus.PUBLISHED,
                             published_at=utcnow(), manifest_digest="0" * 64))  # fmt: skip
        for title, price, overrides in (
            ("Team", 49_900, {"seats": 5, "term": "P1Y"}),
            ("Enterprise", 150_000, {"seats": 50, "term": "P1Y", "territory": ["NO", "SE"]}),
        ):
            licenses.create_offer(uow, seller, dataset, title=title, price_amount=price, currency="EUR",
                                  license_id="LicenseRef-standard-commercial-1.0", overrides=overrides)  # fmt: skip
        return dataset.slug


def test_visitor_discovers_from_home_page_and_uses_tabs_by_keyboard(page, live_server) -> None:
    slug = _arrange(live_server)
    base = live_server.url
    page.goto(base + "/")
    assert page.get_by_test_id("tile-count-modality-audio").inner_text() == "1 dataset"
    assert "Ferry announcements" in page.get_by_test_id("home-new").inner_text()
    _shot(page, "01-home")

    # The home page's search box leads to the results, sorted by relevance.
    page.get_by_label("Search datasets").fill("ferry")
    page.get_by_label("Search datasets").press("Enter")
    page.wait_for_url(re.compile(r"/datasets\?q=ferry"))
    card = page.get_by_test_id("result").first
    assert card.get_by_test_id("card-price").inner_text() == "from €499"
    assert card.get_by_test_id("card-size").inner_text() == "2.5 GB · 48,000 records"
    assert card.get_by_test_id("card-training").inner_text() == "AI training permitted"
    assert "Commercial license" in card.get_by_test_id("card-licenses").inner_text()
    _shot(page, "02-results")
    card.get_by_role("link", name="Ferry announcements").click()
    page.wait_for_url(re.compile(f"/datasets/{slug}$"))
    _shot(page, "03-dataset-overview")

    # The tabs: Overview is open; arrow keys move between tabs and show their panels.
    overview = page.get_by_role("tab", name="Overview")
    assert overview.get_attribute("aria-selected") == "true"
    assert page.get_by_test_id("cite-bibtex").is_visible()
    overview.focus()
    page.keyboard.press("ArrowRight")
    data_tab = page.get_by_role("tab", name="Data")
    assert data_tab.get_attribute("aria-selected") == "true"
    assert page.evaluate("document.activeElement.id") == "tab-data"
    assert page.get_by_test_id("panel-data").is_visible() and not page.get_by_test_id("panel-overview").is_visible()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert page.get_by_role("tab", name="Licenses").get_attribute("aria-selected") == "true"
    assert page.get_by_test_id("panel-licenses").is_visible()
    assert "tab=licenses" in page.url  # the address names the open tab, so it can be shared
    page.keyboard.press("End")
    assert page.get_by_test_id("panel-versions").is_visible()
    page.keyboard.press("ArrowRight")  # wraps round to the first
    assert page.get_by_test_id("panel-overview").is_visible()
    page.keyboard.press("Home")
    assert page.get_by_role("tab", name="Overview").get_attribute("aria-selected") == "true"

    # The price above the tabs leads to the licenses.
    assert "from €499" in page.get_by_test_id("dataset-facts").inner_text()
    page.get_by_role("link", name="See the licenses").click()
    assert page.get_by_test_id("panel-licenses").is_visible()
    assert page.evaluate("document.activeElement.id") == "tab-licenses"

    # A fragment naming something inside a tab opens that tab.
    page.goto(f"{base}/datasets/{slug}#compare")
    assert page.get_by_test_id("offer-comparison").is_visible()

    # The snippets name the dataset and the site.
    page.goto(f"{base}/datasets/{slug}")
    assert slug in page.get_by_test_id("snippet-python").inner_text()
    assert base in page.get_by_test_id("snippet-cli").inner_text()


def test_visitor_compares_offers_side_by_side(page, live_server) -> None:
    slug = _arrange(live_server)
    page.goto(f"{live_server.url}/datasets/{slug}")
    page.get_by_role("tab", name="Licenses").click()
    comparison = page.get_by_test_id("offer-comparison")
    comparison.wait_for()
    _shot(page, "04-licenses-compared")
    headers = comparison.locator("thead th").all_inner_texts()
    assert headers == ["Offer", "Team", "Enterprise"]
    assert comparison.get_by_test_id("compare-price").locator("td").all_inner_texts() == ["€499.00", "€1,500.00"]
    seats = comparison.get_by_test_id("compare-seats").locator("td").all_inner_texts()
    assert "5" in seats[0] and "50" in seats[1]
    # Only the territory differs besides the seats; what both say is listed once.
    differing = comparison.locator("tr.differs th").all_inner_texts()
    assert differing == ["Territory"]
    territory = comparison.get_by_test_id("differs-territory").locator("td").all_inner_texts()
    assert territory[0] != territory[1] and "Norway" in territory[1]
    common = comparison.get_by_test_id("common-terms").inner_text()
    assert "Permitted uses" in common and "Territory" not in common
