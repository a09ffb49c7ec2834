"""In Chromium: a buyer posts a request for data, two providers quote, the buyer compares the quotes side by side and
accepts one, pays in the sandbox; the provider uploads milestone 1 and the buyer accepts it (the transfer is
recorded); milestone 2 is rejected with a reason, redelivered and accepted; the contract completes, and its license
certificate verifies and names both accepted versions' manifest digests. Screenshots of the key pages go to
/tmp/c3-shots/ (CUSTOM_SHOTS to change)."""

from __future__ import annotations

import base64
import json
import os
import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from marketplace.accounts.models import Membership, Organisation, OrgKind, Role, User
from marketplace.accounts.passwords import hasher_for
from marketplace.db import unit_of_work, utcnow
from tests.support.browser import open_login_signed_out, sign_out

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
    open_login_signed_out(page, base)
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
    page.wait_for_load_state()
    # A license chosen after the form showed another one's terms: its own terms are shown first, then sent again.
    if page.get_by_text("check this license's terms below and send again").count():
        page.get_by_test_id("send-quote").click()
    (page.get_by_test_id("quote").first if sent else page.locator(".field-error").first).wait_for()


def _pay(page) -> None:
    page.get_by_test_id("pay").click()
    page.get_by_text("Sandbox payments").wait_for()
    page.get_by_role("button", name="Pay", exact=True).click()
    page.get_by_test_id("contract-state").wait_for()


def _deliver(page, contract_url: str, position: int, label: str, tmp_path: Path, content: bytes) -> None:
    """As the provider: a new version for the milestone, its file through the upload page, then deliver it."""
    page.goto(contract_url)
    milestone = page.locator(f'[data-testid="milestone"][data-position="{position}"]')
    milestone.get_by_label("New version for this milestone").fill(label)
    milestone.get_by_test_id("start-delivery").click()
    source = tmp_path / f"transcripts-{label}.jsonl"
    source.write_bytes(content)
    page.get_by_test_id("upload-input").set_input_files(str(source))
    page.get_by_test_id("upload-start").click()
    page.locator('[data-testid="upload-status-0"][data-state="verified"]').wait_for(timeout=30_000)
    page.goto(contract_url)
    milestone = page.locator(f'[data-testid="milestone"][data-position="{position}"]')
    milestone.get_by_label("Version to deliver").select_option(label)
    milestone.get_by_test_id("deliver").click()
    page.get_by_test_id("contract-state").wait_for()


def _milestone_state(page, position: int) -> str:
    return (
        page.locator(f'[data-testid="milestone"][data-position="{position}"]')
        .get_by_test_id("milestone-state")
        .inner_text()
    )


def _claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_request_quotes_comparison_and_acceptance(page, live_server, tmp_path) -> None:
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
    # A license chosen after the page showed another one's terms: its own terms are shown first, nothing is saved.
    page.get_by_text("check this license's terms below and send again").first.wait_for()
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
    sign_out(page)
    page.goto(base + "/requests")
    card = page.get_by_test_id("request-card").first
    assert "Swiss German clinical dictation" in card.inner_text() and "Globex" not in card.inner_text()
    _shot(page, "03-board")

    # Two providers quote; the second first gets the sum of its milestones wrong.
    _log_in(page, base, "priya@northwind.test")
    _quote(page, base, request_path, "30000", ("7500", "22500"))
    _log_in(page, base, "lena@alpine.test")
    _quote(page, base, request_path, "44000", ("10000", "30000"), sent=False)
    sum_error = page.locator("#e-milestones").inner_text()
    assert sum_error == "the milestone amounts add up to €40,000.00 but the price is €44,000.00"
    _shot(page, "04-quote-error")
    page.get_by_test_id("milestone-row").nth(1).get_by_label("Amount").fill("34000")
    page.locator('[name="terms.territory"]').fill("CH, DE")
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

    # The buyer pays the first milestone in the sandbox; the contract becomes active.
    contract_url = page.url.split("?")[0]
    assert "€7,500.00" in page.get_by_test_id("amount-due").inner_text()
    _pay(page)
    assert page.get_by_test_id("contract-state").inner_text() == "active"
    assert "€7,500.00" in page.get_by_test_id("amount-held").inner_text()

    # The provider sets up payouts (the sandbox's connected account) and delivers milestone 1 as version 1.0.0
    # of the private dataset, uploaded through the ordinary upload page.
    _log_in(page, base, "priya@northwind.test")
    page.goto(base + "/orgs/northwind/sales")
    page.get_by_role("button", name="Set up payouts").click()
    page.get_by_text("Account ").first.wait_for()
    _deliver(page, contract_url, 1, "1.0.0", tmp_path, b'{"audio": "a1.wav", "text": "Grueezi"}\n' * 50)
    assert _milestone_state(page, 1) == "delivered"
    _shot(page, "07-delivered")

    # The buyer reviews the files under the review license and accepts: the transfer is recorded.
    _log_in(page, base, "buyer@globex.test")
    page.goto(contract_url)
    page.locator('[data-testid="milestone"][data-position="1"]').get_by_test_id("review-files").click()
    page.get_by_test_id("grant-file").first.wait_for()
    _shot(page, "08-review")
    page.goto(contract_url)
    page.locator('[data-testid="milestone"][data-position="1"]').get_by_test_id("accept-milestone").click()
    page.get_by_test_id("contract-state").wait_for()
    assert _milestone_state(page, 1) == "accepted"
    assert page.get_by_test_id("paid-out").inner_text() != "€0.00"
    app = live_server.app
    with unit_of_work(app.extensions["marketplace.db"], app.extensions["marketplace.context"]) as uow:
        from sqlmodel import select

        from marketplace.custom.models import Milestone

        first = uow.session.exec(select(Milestone).where(Milestone.position == 1)).one()
        assert first.transfer_reference, "accepting a milestone records the transfer to the provider"

    # Milestone 2: paid, delivered, rejected with a reason, redelivered, accepted.
    _pay(page)
    _log_in(page, base, "priya@northwind.test")
    _deliver(page, contract_url, 2, "2.0.0", tmp_path, b'{"audio": "b.wav", "text": "draft"}\n' * 80)
    _log_in(page, base, "buyer@globex.test")
    page.goto(contract_url)
    second = page.locator('[data-testid="milestone"][data-position="2"]')
    second.get_by_test_id("reject-milestone").click()
    assert "say what is wrong" in page.get_by_test_id("milestone-error").inner_text()
    second = page.locator('[data-testid="milestone"][data-position="2"]')
    second.get_by_label("What is wrong").fill("12 of the 180 hours have no speaker consent forms.")
    second.get_by_test_id("reject-milestone").click()
    page.get_by_test_id("contract-state").wait_for()
    assert _milestone_state(page, 2) == "rejected"
    _shot(page, "09-rejected")
    _log_in(page, base, "priya@northwind.test")
    page.goto(contract_url)
    assert "no speaker consent forms" in page.get_by_test_id("rejection-reason").inner_text()
    _deliver(page, contract_url, 2, "2.0.1", tmp_path, b'{"audio": "b.wav", "text": "final"}\n' * 80)
    assert _milestone_state(page, 2) == "redelivered"
    _log_in(page, base, "buyer@globex.test")
    page.goto(contract_url)
    page.locator('[data-testid="milestone"][data-position="2"]').get_by_test_id("accept-milestone").click()
    page.get_by_test_id("contract-state").wait_for()
    assert page.get_by_test_id("contract-state").inner_text() == "completed"
    _shot(page, "10-completed")

    # The license certificate verifies and names both accepted versions' manifest digests.
    digests = page.get_by_test_id("delivery-digest").all_inner_texts()
    page.get_by_test_id("contract-license").click()
    token = page.get_by_test_id("certificate").input_value()
    grant_id = page.get_by_test_id("grant-id").inner_text()
    _shot(page, "11-license")
    verified = page.request.get(f"{base}/licenses/{grant_id}/verify", headers={"Accept": "application/json"}).json()
    assert verified["valid"] is True, verified
    named = {d["version"]: d["manifest_digest"] for d in _claims(token)["contract"]["deliveries"]}
    assert set(named) == {"1.0.0", "2.0.1"}
    assert sorted(named.values()) == sorted(digests)
