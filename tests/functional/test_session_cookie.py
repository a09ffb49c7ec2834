"""The session cookie: written when the session changes, renewed once it is old enough, never re-sent unchanged."""

from __future__ import annotations

import time

import pytest
from flask import Flask
from flask.testing import FlaskClient

from marketplace import session_cookie
from tests.factories import PASSWORD, UserFactory
from tests.helpers import csrf_token, log_in

COOKIE = "marketplace_session"


def _set_cookie(response) -> str | None:  # type: ignore[no-untyped-def]
    sent = [value for value in response.headers.getlist("Set-Cookie") if value.startswith(f"{COOKIE}=")]
    return sent[0] if sent else None


@pytest.fixture()
def member(client: FlaskClient) -> FlaskClient:
    UserFactory(email="regular@example.org")
    response = log_in(client, "regular@example.org", PASSWORD)
    assert response.status_code == 302 and _set_cookie(response) is not None  # logging in writes the cookie
    csrf_token(client, "/settings")  # the form token is in the session from here on
    return client


def test_an_unchanged_session_is_not_sent_again(member: FlaskClient) -> None:
    response = member.get("/settings")
    assert response.status_code == 200
    assert _set_cookie(response) is None


def test_an_unchanged_session_is_renewed_once_old_enough(member: FlaskClient, monkeypatch) -> None:
    later = time.time() + session_cookie.RENEW_AFTER.total_seconds() + 1
    monkeypatch.setattr(session_cookie.time, "time", lambda: later)
    renewed = _set_cookie(member.get("/settings"))
    assert renewed is not None and "Expires=" in renewed
    assert member.get("/settings").status_code == 200  # the renewed cookie is still the logged-in session


def test_a_changed_session_is_sent_at_once(app: Flask, member: FlaskClient) -> None:
    before = member.get_cookie(COOKIE)
    response = member.post("/logout", data={"csrf_token": csrf_token(member, "/settings")})
    assert _set_cookie(response) is not None  # logged out (and a message to show): written now, not in 5 minutes
    after = member.get_cookie(COOKIE)
    assert before is not None and after is not None and after.value != before.value
    assert member.get("/settings").status_code == 302  # logged out: to the log-in page


def test_a_forged_cookie_is_an_empty_session(app: Flask, member: FlaskClient) -> None:
    member.set_cookie(COOKIE, "eyJ1c2VyX2lkIjoxfQ.forged.signature")
    assert member.get("/settings").status_code == 302
