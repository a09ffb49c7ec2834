"""In Chromium: a buyer searches the demo catalog with typos, sees the corrected results with a notice saying what
was searched for instead, and follows the notice's link to search the words exactly as typed."""

from __future__ import annotations

import re

import pytest

from marketplace.db import unit_of_work
from marketplace.seed import seed_demo

pytestmark = pytest.mark.e2e


def test_a_typo_shows_the_corrected_results_and_the_notice(browser, page, live_server) -> None:  # type: ignore[no-untyped-def]
    app = live_server.app
    with (
        app.app_context(),
        unit_of_work(app.extensions["marketplace.db"], app.extensions["marketplace.context"]) as uow,
    ):
        seed_demo(uow)

    page.goto(live_server.url + "/datasets")
    page.get_by_label("Search datasets").fill("turbin vibraton")
    page.get_by_role("button", name="Search", exact=True).click()

    notice = page.get_by_test_id("spelling-notice")
    notice.wait_for()
    assert re.search(
        r"Showing results for\s+turbine vibration\s+— no listing matched “turbin vibraton”", notice.inner_text()
    )
    assert page.get_by_role("link", name="Wind-turbine vibration sensor streams").is_visible()
    assert page.get_by_label("Search datasets").input_value() == "turbine vibration"
    assert page.get_by_test_id("total").inner_text().startswith("1 dataset")

    page.get_by_test_id("search-exactly").click()
    page.wait_for_url(re.compile(r"exact=1"))
    assert page.get_by_text("No dataset matches").is_visible()
    assert page.get_by_test_id("spelling-notice").count() == 0
    assert page.get_by_label("Search datasets").input_value() == "turbin vibraton"
