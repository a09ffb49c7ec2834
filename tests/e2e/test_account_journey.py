"""In Chromium: sign up → verify from the outbox → log in → create an organisation → invite → accepted."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.e2e


def _link(live_server, to: str, prefix: str) -> str:
    for message in reversed(live_server.outbox.messages_to(to)):
        match = re.search(r"(https?://\S*" + re.escape(prefix) + r"\S*)", message.body)
        if match:
            return match.group(1)
    raise AssertionError(f"no mail to {to} with {prefix}")


def _sign_up_and_verify(page, live_server, email: str, name: str) -> None:
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Sign up").first.click()
    page.get_by_label("Your name").fill(name)
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill("a long browser passphrase")
    page.get_by_role("button", name="Sign up").click()
    page.get_by_role("heading", name="Check your e-mail").wait_for()
    page.goto(_link(live_server, email, "/verify-email"))
    page.get_by_text(f"{email} is verified").wait_for()


def _log_in(page, email: str) -> None:
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill("a long browser passphrase")
    page.get_by_role("button", name="Log in").click()


def test_signup_verify_login_org_invite_accept(browser, page, live_server) -> None:
    _sign_up_and_verify(page, live_server, "olga@example.org", "Olga Owner")
    _log_in(page, "olga@example.org")
    page.get_by_test_id("nav-account").wait_for()

    page.get_by_role("link", name="Organisations", exact=True).click()
    page.get_by_role("link", name="New organisation").click()
    page.get_by_label("Name", exact=True).fill("Aurora Annotation")
    page.get_by_label("Kind").select_option("provider")
    page.get_by_role("button", name="Create organisation").click()
    page.get_by_role("heading", name=re.compile("Aurora Annotation")).wait_for()
    assert page.url.endswith("/orgs/aurora-annotation")

    page.get_by_label("E-mail address").fill("ivan@example.org")
    page.get_by_label("Role", exact=True).select_option("admin")
    page.get_by_role("button", name="Send invitation").click()
    page.get_by_text("Invitation sent to ivan@example.org").wait_for()
    assert "ivan@example.org" in page.get_by_test_id("pending-invitations").inner_text()
    invitation = _link(live_server, "ivan@example.org", "/invitations/accept")

    # The invitee is a different person in a different browser context.
    context = browser.new_context()
    second = context.new_page()
    _sign_up_and_verify(second, live_server, "ivan@example.org", "Ivan Invitee")
    second.goto(invitation)
    # Not logged in yet: the log-in page says why, then returns to the invitation.
    second.get_by_text("to accept the invitation to Aurora Annotation").wait_for()
    _log_in(second, "ivan@example.org")
    second.get_by_role("button", name="Accept invitation").click()
    second.get_by_text("Welcome to Aurora Annotation").wait_for()
    members = second.get_by_test_id("members").inner_text()
    assert "Ivan Invitee ivan@example.org\tAdmin" in members and "Olga Owner" in members
    context.close()

    page.reload()
    members = page.get_by_test_id("members").inner_text()
    assert "Ivan Invitee" in members


def test_throttled_login_shows_429_page(page, live_server) -> None:
    page.goto(live_server.url + "/login")
    status = None
    for _ in range(11):
        page.get_by_label("E-mail address").fill("nobody@example.org")
        page.get_by_label("Password").fill("wrong password here")
        with page.expect_response(lambda r: r.url.endswith("/login") and r.request.method == "POST") as info:
            page.get_by_role("button", name="Log in").click()
        status = info.value.status
        if status == 429:
            break
    assert status == 429
    page.get_by_role("heading", name="Too many attempts").wait_for()
