"""In Chromium: a provider submits a listing; the platform admin's bell shows one unread notification, the admin
opens /notifications, marks it read and the count drops; after approval the provider's bell shows the decision."""

from __future__ import annotations

import re

import pytest

from marketplace.accounts.models import Membership, Organisation, OrgKind, Role, User
from marketplace.accounts.passwords import hasher_for
from marketplace.catalog import services
from marketplace.db import unit_of_work, utcnow
from tests.functional.catalog.conftest import ALL_FIELDS, manifest, record

pytestmark = pytest.mark.e2e

PASSWORD = "a long browser passphrase"


def _accounts_and_draft(live_server) -> str:  # type: ignore[no-untyped-def]
    app = live_server.app
    hashed = hasher_for("CHEAPEST").hash(PASSWORD)
    with unit_of_work(app.extensions["marketplace.db"], app.extensions["marketplace.context"]) as uow:
        provider = User(email="priya@example.org", display_name="Priya", password_hash=hashed,
                        email_verified_at=utcnow())  # fmt: skip
        admin = User(email="ada@example.org", display_name="Ada", password_hash=hashed, email_verified_at=utcnow(),
                     is_platform_admin=True)  # fmt: skip
        org = Organisation(slug="fjord-audio", name="Fjord Audio", kind=OrgKind.PROVIDER)
        uow.session.add_all([provider, admin, org])
        uow.session.flush()
        uow.session.add(Membership(organisation_id=org.id, user_id=provider.id, role=Role.OWNER))  # type: ignore[arg-type]
        uow.session.flush()
        data = record(title="Fjord ferry announcements")
        dataset = services.create_dataset(uow, provider, organisation=org.slug, title=data["title"])
        services.apply_record(uow, dataset, data, ALL_FIELDS)
        services.add_version(uow, provider, dataset, version="1.0.0", files=manifest("fjord/v1"))
        return dataset.slug


def _log_in(page, live_server, email: str) -> None:  # type: ignore[no-untyped-def]
    page.context.clear_cookies()
    page.goto(live_server.url + "/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_test_id("nav-account").wait_for()


def test_a_notification_is_delivered_and_read(browser, page, live_server) -> None:  # type: ignore[no-untyped-def]
    slug = _accounts_and_draft(live_server)
    _log_in(page, live_server, "priya@example.org")
    page.goto(f"{live_server.url}/datasets/{slug}/manage")
    page.get_by_role("button", name="Submit for review").click()
    page.get_by_text("waiting for a platform admin").wait_for()
    assert page.get_by_role("link", name="Notifications, 0 unread").is_visible()  # the provider: nothing yet

    _log_in(page, live_server, "ada@example.org")
    bell = page.get_by_role("link", name="Notifications, 1 unread")
    assert bell.is_visible() and page.get_by_test_id("notification-count").inner_text() == "1"
    bell.click()
    page.wait_for_url(re.compile(r"/notifications$"))
    item = page.get_by_test_id("notification")
    assert "Listing submitted for review: Fjord ferry announcements" in item.inner_text()
    assert "Fjord Audio submitted" in item.inner_text()
    page.get_by_role("button", name="Mark read: Listing submitted for review: Fjord ferry announcements").click()
    page.get_by_role("link", name="Notifications, 0 unread").wait_for()
    assert page.get_by_test_id("notification-count").count() == 0
    assert page.get_by_test_id("unread-summary").inner_text() == "Nothing unread."
    # The admin approves from the review queue; the provider hears of it under the bell.
    page.goto(f"{live_server.url}/datasets/{slug}/manage")
    with page.expect_navigation():
        page.get_by_role("button", name="Approve and publish").click()
    _log_in(page, live_server, "priya@example.org")
    page.get_by_role("link", name="Notifications, 1 unread").click()
    page.get_by_role("button", name="Open and mark read").click()
    page.wait_for_url(re.compile(rf"/datasets/{slug}$"))
    page.get_by_role("link", name="Notifications, 0 unread").wait_for()
    mail = [m.subject for m in live_server.outbox.messages_to("ada@example.org")]
    assert mail == ["Listing submitted for review: Fjord ferry announcements"]
