"""The bell, ``/notifications`` (paged; mark read with CSRF) and the preferences page; a notification is only ever
its recipient's (the pages' permission matrix)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlmodel import Session, select

from marketplace.db import UnitOfWork
from marketplace.notifications import services
from marketplace.notifications.kinds import NotificationKind
from marketplace.notifications.models import Notification, NotificationPreference
from tests.factories import PASSWORD
from tests.functional.test_delivery import market  # noqa: F401  (fixture)
from tests.helpers import csrf_token, log_in, post_form


def _as(app: Any, email: str | None) -> Any:
    client = app.test_client()
    if email is not None:
        log_in(client, email, PASSWORD)
    return client


def _give(app: Any, session: Session, user: Any, count: int = 1, **fields: Any) -> list[Notification]:
    uow = UnitOfWork(session, app.extensions["marketplace.context"])
    for n in range(count):
        notice = services.Notice(NotificationKind.SALE, fields.get("title", f"Sale number {n}"), "A buyer paid.",
                                 fields.get("link", "/orgs/prov/sales"))  # fmt: skip
        services.deliver(uow, [user], notice)
    session.flush()
    return list(session.exec(select(Notification).where(Notification.recipient_id == user.id)).all())


def _bell(html: str) -> str:
    match = re.search(r'<a [^>]*data-testid="nav-notifications"[^>]*aria-label="([^"]+)"', html)
    assert match, "no bell in the header"
    return match.group(1)


def test_the_bell_counts_unread_and_the_page_marks_them_read(app, db_session, market) -> None:  # noqa: F811
    given = _give(app, db_session, market["seller"], 3)
    _give(app, db_session, market["clerk"], 2)  # someone else's: never counted, never shown
    seller = _as(app, "seller@example.org")
    page = seller.get("/notifications").get_data(as_text=True)
    assert _bell(page) == "Notifications, 3 unread"
    assert page.count('data-testid="notification"') == 3 and "Sale number 2" in page
    response = post_form(seller, f"/notifications/{given[0].id}/read", {"next": "/notifications"},
                         token_from="/notifications")  # fmt: skip
    assert response.status_code == 302 and response.headers["Location"].endswith("/notifications")
    db_session.refresh(given[0])
    assert given[0].read_at is not None
    assert _bell(seller.get("/notifications").get_data(as_text=True)) == "Notifications, 2 unread"
    opened = post_form(seller, f"/notifications/{given[1].id}/read", {"open": "1"}, token_from="/notifications")
    assert opened.headers["Location"].endswith("/orgs/prov/sales")
    assert post_form(seller, "/notifications/read-all", {}, token_from="/notifications").status_code == 302
    assert _bell(seller.get("/notifications").get_data(as_text=True)) == "Notifications, 0 unread"
    assert services.unread_count(db_session, market["clerk"]) == 2  # marking all read touched only the seller's


def test_marking_read_needs_the_csrf_token(app, db_session, market) -> None:  # noqa: F811
    given = _give(app, db_session, market["seller"])
    seller = _as(app, "seller@example.org")
    assert seller.post(f"/notifications/{given[0].id}/read").status_code == 400
    assert seller.post("/notifications/read-all").status_code == 400
    db_session.refresh(given[0])
    assert given[0].read_at is None


def test_the_list_is_paged_newest_first(app, db_session, market) -> None:  # noqa: F811
    _give(app, db_session, market["seller"], services.PER_PAGE + 3)
    seller = _as(app, "seller@example.org")
    first = seller.get("/notifications").get_data(as_text=True)
    assert first.count('data-testid="notification"') == services.PER_PAGE
    assert f"Sale number {services.PER_PAGE + 2}" in first and "Page 1 of 2" in first
    second = seller.get("/notifications?page=2").get_data(as_text=True)
    assert second.count('data-testid="notification"') == 3 and "Sale number 0<" in second.replace("</a>", "<")


def test_anonymous_pages_have_no_bell(app, db_session) -> None:
    page = app.test_client().get("/").get_data(as_text=True)
    assert 'data-testid="nav-notifications"' not in page


# (who, what, expected status): the seller's notification, asked about by each kind of person.
MATRIX = [
    (None, "list", 302), (None, "read", 302), (None, "preferences", 302),
    ("seller@example.org", "list", 200), ("seller@example.org", "read", 302),
    ("clerk@example.org", "read", 404),  # a colleague in the same organisation
    ("owner@example.org", "read", 404),  # another organisation's owner
    ("admin@example.org", "read", 404),  # a platform admin: not theirs either
]  # fmt: skip


@pytest.mark.parametrize(("who", "what", "expected"), MATRIX)
def test_permission_matrix(app, db_session, market, who, what, expected) -> None:  # noqa: F811
    given = _give(app, db_session, market["seller"])[0]
    client = _as(app, who)
    if what == "list":
        response = client.get("/notifications")
    elif what == "preferences":
        response = client.get("/settings/notifications")
    else:
        token_page = "/login" if who is None else "/notifications"
        response = post_form(client, f"/notifications/{given.id}/read", {}, token_from=token_page)
    assert response.status_code == expected, response.get_data(as_text=True)[:300]
    if what == "read" and who != "seller@example.org":
        db_session.refresh(given)
        assert given.read_at is None
    if what == "list" and who is not None:
        assert "Sale number 0" in response.get_data(as_text=True)


def test_someone_elses_list_never_shows_the_notification(app, db_session, market) -> None:  # noqa: F811
    _give(app, db_session, market["seller"], title="Secret sale")
    for email in ("clerk@example.org", "owner@example.org", "admin@example.org"):
        assert "Secret sale" not in _as(app, email).get("/notifications").get_data(as_text=True), email


def test_preferences_page_saves_each_kind(app, db_session, market) -> None:  # noqa: F811
    seller = _as(app, "seller@example.org")
    page = seller.get("/settings/notifications").get_data(as_text=True)
    assert 'name="sale:mail"' in page and 'aria-label="Sales: by e-mail"' in page
    assert "Notifications" in seller.get("/settings").get_data(as_text=True)
    token = csrf_token(seller, "/settings/notifications")
    chosen = {f"{k}:site": "1" for k in NotificationKind} | {f"{k}:mail": "1" for k in NotificationKind}
    del chosen["sale:mail"], chosen["quote:site"], chosen["withdrawal:mail"]
    assert 'value="listing_review"' not in page  # platform reviewers' kind: not shown to a provider
    shown = [k.value for k in NotificationKind if k is not NotificationKind.LISTING_REVIEW]
    response = seller.post("/settings/notifications", data={"csrf_token": token, "kind": shown, **chosen})
    assert response.status_code == 302
    saved = {p.kind: (p.in_site, p.by_mail) for p in db_session.exec(select(NotificationPreference)).all()}
    assert saved[NotificationKind.SALE] == (True, False)
    assert saved[NotificationKind.QUOTE] == (False, True)
    assert saved[NotificationKind.WITHDRAWAL] == (True, True)  # required: stays on
    assert saved[NotificationKind.ORDER] == (True, True)
    assert NotificationKind.LISTING_REVIEW not in saved  # not on the form: left as it was
    again = seller.get("/settings/notifications").get_data(as_text=True)
    assert re.search(r'name="sale:mail" value="1"\s+aria-label', again)  # shown unchecked now
