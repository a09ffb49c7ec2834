"""In Chromium: an admin connects the organisation's OpenID provider; a colleague then signs in through it, for the
first time, and lands in the organisation. The provider is the test suite's own (Authlib), on another port."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from marketplace.accounts.models import Membership, Organisation, OrgKind, Role, User
from marketplace.accounts.passwords import hasher_for
from marketplace.db import unit_of_work, utcnow
from tests.support.oidc_provider import OidcProvider

pytestmark = pytest.mark.e2e

PASSWORD = "a long browser passphrase"


@pytest.fixture()
def provider() -> Iterator[OidcProvider]:
    running = OidcProvider().start()
    yield running
    running.stop()


def _arrange_admin(live_server) -> None:
    app = live_server.app
    with unit_of_work(app.extensions["marketplace.db"], app.extensions["marketplace.context"]) as uow:
        admin = User(email="admin@acme.test", display_name="Ada Admin", email_verified_at=utcnow(),
                     password_hash=hasher_for("CHEAPEST").hash(PASSWORD))  # fmt: skip
        org = Organisation(slug="acme", name="Acme Robotics", kind=OrgKind.BUYER)
        uow.session.add_all([admin, org])
        uow.session.flush()
        uow.session.add(Membership(organisation_id=org.id, user_id=admin.id, role=Role.OWNER))


def test_admin_connects_sso_and_a_colleague_signs_in_with_it(browser, page, live_server, provider) -> None:
    _arrange_admin(live_server)
    client = provider.add_client(live_server.url + "/login/sso/callback")

    page.goto(live_server.url + "/login")
    page.get_by_label("E-mail address").fill("admin@acme.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_test_id("nav-account").wait_for()
    page.goto(live_server.url + "/orgs/acme")
    page.get_by_role("link", name="Single sign-on").click()
    assert page.get_by_test_id("sso-callback-url").inner_text() == live_server.url + "/login/sso/callback"
    page.get_by_label("Issuer URL").fill(provider.issuer)
    page.get_by_label("Client ID").fill(client.client_id)
    page.get_by_label("Client secret").fill(client.client_secret)
    assert page.get_by_label("E-mail domains").input_value() == "acme.test"
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Single sign-on settings saved.").wait_for()

    # A colleague, in another browser, who has never been here.
    provider.user = {"sub": "grace", "email": "grace@acme.test", "email_verified": True, "name": "Grace Hopper"}
    context = browser.new_context()
    second = context.new_page()
    second.goto(live_server.url + "/login")
    second.get_by_test_id("sso-link").click()
    second.get_by_label("Work e-mail address").fill("grace@acme.test")
    second.get_by_role("button", name="Continue").click()
    second.get_by_text("Signed in as grace@acme.test").wait_for()
    assert second.get_by_test_id("nav-account").inner_text() == "Grace Hopper"
    assert provider.authorization_requests[-1]["code_challenge_method"] == "S256"
    second.goto(live_server.url + "/orgs")
    second.get_by_role("link", name=re.compile("Acme Robotics")).wait_for()
    context.close()
