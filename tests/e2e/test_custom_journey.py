"""In Chromium: a buyer posts a request for data, two providers quote, the buyer compares the quotes side by side and
accepts one, which makes the contract. Screenshots of the key pages go to /tmp/c3-shots/ (CUSTOM_SHOTS to change)."""

from __future__ import annotations

import os
import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from marketplace.accounts.models import Membership, Organisation, OrgKind, Role, User
from marketplace.accounts.passwords import hasher_for
from marketplace.db import unit_of_work, utcnow

pytestmark = pytest.mark.e2e

PASSWORD = "a long journey passphrase"
PEOPLE = {
    "buyer@globex.test": ("globex", "Globex AI", OrgKind.BUYER),
    "priya@northwind.test": ("northwind", "Northwind Data Labs", OrgKind.PROVIDER),
    "lena@alpine.test": ("alpine", "Alpine Annotation", OrgKind.PROVIDER),
}
SHOTS = Path(os.environ.get("CUSTOM_SHOTS", "/tmp/c3-shots"))


def _arrange(live_server) -> None:
    app = live_server.app
    with unit_of_work(app.extensions["marketplace.db"], app.extensions["marketplace.context"]) as uow:
        hashed = hasher_for("CHEAPEST").hash(PASSWORD)
        for email, (slug, name, kind) in PEOPLE.items():
            user = User(email=email, password_hash=hashed, email_verified_at=utcnow())
            org = Organisation(slug=slug, name=name, kind=kind)
            uow.session.add_all([user, org])
            uow.session.flush()
            uow.session.add(Membership(organisation_id=org.id, user_id=user.id, role=Role.OWNER))


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _log_in(page, base: str, email: str) -> None:
    page.context.clear_cookies()
    page.goto(base + "/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_test_id("nav-account").wait_for()


def _quote(page, base: str, request_path: str, price: str, amounts: tuple[str, str], *, sent: bool = True) -> None:
    page.goto(base + request_path)
    page.get_by_test_id("write-quote").click()
    page.get_by_label("Price").fill(price)
    page.get_by_label("The buyer pays").select_option("per_milestone")
    page.get_by_label("Quote valid until").fill((date.today() + timedelta(days=30)).isoformat())
    for i, (title, amount) in enumerate(zip(("Pilot: 20 hours", "The remaining 180 hours"), amounts, strict=True)):
        row = page.get_by_test_id("milestone-row").nth(i)
        row.get_by_label("Title").fill(title)
        row.get_by_label("How much").fill("20" if i == 0 else "180")
        row.get_by_label("Due").fill((date.today() + timedelta(days=30 * (i + 1))).isoformat())
        row.get_by_label("Amount").fill(amount)
        row.get_by_label("What is delivered").fill("transcribed hours")
    page.get_by_label("License", exact=True).select_option("LicenseRef-standard-commercial-1.0")
    page.get_by_test_id("send-quote").click()
    (page.get_by_test_id("quote").first if sent else page.locator(".field-error").first).wait_for()


def test_request_quotes_comparison_and_acceptance(page, live_server) -> None:
    _arrange(live_server)
    base = live_server.url

    # The buyer posts a request through the sectioned form.
    _log_in(page, base, "buyer@globex.test")
    page.get_by_test_id("nav-requests").click()
    page.get_by_test_id("new-request").click()
    page.get_by_label("Title").fill("Swiss German clinical dictation")
    page.get_by_label("Kind of data").select_option("audio")
    page.get_by_label("How much").fill("200")
    page.get_by_label("Counted in").select_option("hours")
    page.get_by_label("Languages").fill("de-CH")
    page.get_by_label("License", exact=True).select_option("LicenseRef-standard-commercial-1.0")
    page.get_by_label("Least you would pay").fill("20000")
    page.get_by_label("Most you would pay").fill("10000")  # below the least: refused next to the field
    page.get_by_label("Deadline").fill((date.today() + timedelta(days=120)).isoformat())
    page.get_by_test_id("save-request").click()
    error = page.locator("#e-budget_min")
    error.wait_for()
    assert "must not be above the maximum" in error.inner_text()
    _shot(page, "01-request-form-error")
    page.get_by_label("Most you would pay").fill("50000")
    page.get_by_test_id("save-request").click()
    page.get_by_test_id("request-state").wait_for()
    assert page.get_by_test_id("request-state").inner_text() == "open"
    assert "€20,000.00 – €50,000.00" in page.get_by_test_id("budget").inner_text()
    request_path = re.sub(r"^https?://[^/]+", "", page.url)
    _shot(page, "02-request-posted")

    # The board shows it without the buyer's name.
    page.context.clear_cookies()
    page.goto(base + "/requests")
    card = page.get_by_test_id("request-card").first
    assert "Swiss German clinical dictation" in card.inner_text() and "Globex" not in card.inner_text()
    _shot(page, "03-board")

    # Two providers quote; the second first gets the sum of its milestones wrong.
    _log_in(page, base, "priya@northwind.test")
    _quote(page, base, request_path, "30000", ("7500", "22500"))
    _log_in(page, base, "lena@alpine.test")
    _quote(page, base, request_path, "44000", ("10000", "30000"), sent=False)
    assert page.locator("#e-milestones").inner_text().startswith("the milestone amounts add up to 4,000,000")
    _shot(page, "04-quote-error")
    page.get_by_test_id("milestone-row").nth(1).get_by_label("Amount").fill("34000")
    page.get_by_label("Changes to the license's terms (optional)").fill('{"territory": ["CH", "DE"]}')
    page.get_by_test_id("send-quote").click()
    page.get_by_test_id("quote").first.wait_for()
    assert "€44,000.00" in page.get_by_test_id("quote").first.inner_text()

    # The buyer compares them side by side and accepts Northwind's.
    _log_in(page, base, "buyer@globex.test")
    page.goto(base + request_path)
    comparison = page.get_by_test_id("comparison")
    comparison.wait_for()
    prices = page.get_by_test_id("compare-price").all_inner_texts()
    assert prices == ["€30,000.00", "€44,000.00"]
    assert page.get_by_test_id("differing-term").count() >= 1
    assert "Switzerland" in comparison.inner_text()
    _shot(page, "05-comparison")
    page.on("dialog", lambda dialog: dialog.accept())
    page.locator('[data-testid="quote"][data-provider="northwind"]').get_by_test_id("accept-quote").click()
    page.get_by_test_id("contract-state").wait_for()
    assert page.get_by_test_id("contract-state").inner_text() == "awaiting payment"
    assert page.get_by_test_id("milestone").count() == 2
    _shot(page, "06-contract")
    outbox = live_server.outbox
    assert any("accepted" in m.subject for m in outbox.messages_to("priya@northwind.test"))
    assert any("declined" in m.subject for m in outbox.messages_to("lena@alpine.test"))
