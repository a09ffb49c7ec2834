"""In Chromium, with the keyboard only: a buyer logs in, skips to the main content, searches, opens a dataset,
opens and closes (Escape) an offer's terms, adds it to the cart, accepts the terms, checks out and pays.

Every control is reached with Tab and used with Enter or Space; each focused element must show a focus ring.
``goto`` is used only to open the first page."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from marketplace.accounts.models import Membership, Organisation, OrgKind, Role, User
from marketplace.accounts.passwords import hasher_for
from marketplace.db import unit_of_work, utcnow
from tests.e2e.test_purchase_journey import _arrange

pytestmark = pytest.mark.e2e

PASSWORD = "a long buyer passphrase"

# What has the focus: its tag, role-ish name (label, aria-label or text) and whether a focus ring is drawn.
_FOCUSED_JS = """() => {
  const e = document.activeElement;
  const style = getComputedStyle(e);
  const ring = (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== "none";
  const label = (e.labels && e.labels.length ? e.labels[0].innerText : "") || e.getAttribute("aria-label") || "";
  return {tag: e.tagName.toLowerCase(), id: e.id, type: e.getAttribute("type") || "", label: label.trim(),
          text: (e.innerText || e.value || "").trim(), ring: ring,
          open: e.closest("details") ? e.closest("details").open : null};
}"""


def _buyer(live_server) -> None:  # type: ignore[no-untyped-def]
    app = live_server.app
    with unit_of_work(app.extensions["marketplace.db"], app.extensions["marketplace.context"]) as uow:
        user = User(email="kay@example.org", password_hash=hasher_for("CHEAPEST").hash(PASSWORD),
                    email_verified_at=utcnow())  # fmt: skip
        org = Organisation(slug="kay-labs", name="Kay Labs", kind=OrgKind.BUYER)
        uow.session.add_all([user, org])
        uow.session.flush()
        uow.session.add(Membership(organisation_id=org.id, user_id=user.id, role=Role.OWNER))


def _focused(page) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return page.evaluate(_FOCUSED_JS)  # type: ignore[no-any-return]


def _tab_to(page, wanted: Callable[[dict[str, Any]], bool], limit: int = 80) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Press Tab until the focused element is the wanted one; every element passed on the way shows a focus ring."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        focus = _focused(page)
        seen.append(focus["label"] or focus["text"] or focus["tag"])
        assert focus["ring"], f"no visible focus on {focus} at {page.url}"
        if wanted(focus):
            return focus
    raise AssertionError(f"not reachable with Tab on {page.url}; the focus went through {seen}")


def _named(name: str) -> Callable[[dict[str, Any]], bool]:
    return lambda focus: name in (focus["label"], focus["text"])


def test_search_open_and_buy_with_the_keyboard_only(page, live_server) -> None:  # type: ignore[no-untyped-def]
    _arrange(live_server)
    _buyer(live_server)
    page.goto(live_server.url + "/login")

    # The first Tab reaches the skip link, shown once focused; Enter moves the focus to the main content.
    page.keyboard.press("Tab")
    assert _focused(page)["text"] == "Skip to main content"
    assert page.get_by_role("link", name="Skip to main content").is_visible()
    page.keyboard.press("Enter")
    assert _focused(page)["id"] == "main"
    _tab_to(page, _named("E-mail address"))
    page.keyboard.type("kay@example.org")
    _tab_to(page, _named("Password"))
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.get_by_test_id("nav-account").wait_for()

    # Search from the catalog, reached through the site navigation.
    _tab_to(page, _named("Datasets"))
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Datasets").wait_for()
    _tab_to(page, _named("Search datasets"))
    page.keyboard.type("ferry")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"q=ferry"))
    _tab_to(page, _named("Ferry announcements"))
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Ferry announcements").first.wait_for()

    # The dataset page's tabs: the link to the licenses opens the Licenses tab.
    _tab_to(page, _named("See the licenses"))
    page.keyboard.press("Enter")
    page.get_by_role("tab", name="Licenses", selected=True).wait_for()

    # The offer's terms open with Enter and close with Escape, leaving the focus on their summary.
    _tab_to(page, _named("What this license permits"))
    page.keyboard.press("Enter")
    assert _focused(page)["open"] is True
    page.keyboard.press("Escape")
    assert _focused(page)["open"] is False and _focused(page)["text"] == "What this license permits"

    # Buy: add to the cart, accept the terms with Space, check out and pay with the sandbox.
    _tab_to(page, _named("Add to cart"))
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Cart").wait_for()
    _tab_to(page, lambda focus: focus["type"] == "checkbox" and "I accept" in focus["label"])
    page.keyboard.press("Space")
    _tab_to(page, _named("Check out"))
    page.keyboard.press("Enter")
    page.get_by_text("Sandbox payments").wait_for()
    _tab_to(page, _named("Pay"))
    page.keyboard.press("Enter")
    page.get_by_test_id("order-status").wait_for()
    assert page.get_by_test_id("order-status").inner_text() == "Paid"
