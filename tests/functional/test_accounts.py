"""Sign-up, verification, log-in, throttling, password reset and account settings over HTTP."""

from __future__ import annotations

from sqlmodel import Session, select

from marketplace.accounts.models import LoginFailure, User
from tests.factories import PASSWORD, UserFactory
from tests.helpers import link_from, log_in, post_form


def test_signup_verify_login_logout(client, outbox, db_session: Session) -> None:
    response = post_form(
        client,
        "/signup",
        {"email": "New@Example.org", "password": "a long passphrase", "display_name": "Nia"},
    )
    assert response.status_code == 200
    assert "Check your e-mail" in response.get_data(as_text=True)
    user = db_session.exec(select(User).where(User.email == "new@example.org")).one()
    assert user.email_verified_at is None
    assert user.password_hash.startswith("$argon2id$")

    # Unverified accounts cannot log in yet, and are told why.
    refused = log_in(client, "new@example.org", "a long passphrase")
    assert refused.status_code == 403
    assert "verify your e-mail" in refused.get_data(as_text=True)

    link = link_from(outbox, "new@example.org", "/verify-email")
    assert client.get(link).status_code == 302
    # The link works once.
    again = client.get(link)
    assert again.status_code == 400
    assert "already been used" in again.get_data(as_text=True)

    response = log_in(client, "new@example.org", "a long passphrase")
    assert response.status_code == 302
    page = client.get("/settings").get_data(as_text=True)
    assert "new@example.org" in page

    assert post_form(client, "/logout", {}, token_from="/settings").status_code == 302
    assert client.get("/settings").status_code == 302


def test_signup_with_taken_email_reveals_nothing_and_creates_nothing(client, outbox, db_session: Session) -> None:
    UserFactory(email="taken@example.org")
    response = post_form(client, "/signup", {"email": "taken@example.org", "password": "another passphrase"})
    assert response.status_code == 200
    assert "Check your e-mail" in response.get_data(as_text=True)
    assert len(db_session.exec(select(User).where(User.email == "taken@example.org")).all()) == 1
    assert outbox.messages_to("taken@example.org")[-1].subject == "You already have an account"


def test_signup_rejects_bad_input_naming_the_field(client, db_session: Session) -> None:
    response = post_form(client, "/signup", {"email": "not-an-email", "password": "short"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "email" in body and "Not a valid email address" in body
    response = post_form(client, "/signup", {"email": "ok@example.org", "password": "short"})
    assert response.status_code == 422
    assert "at least 10 characters" in response.get_data(as_text=True)
    assert db_session.exec(select(User).where(User.email == "ok@example.org")).first() is None


def test_ten_wrong_passwords_throttle_the_account_with_a_clear_429(client, db_session: Session) -> None:
    UserFactory(email="victim@example.org")
    statuses = [log_in(client, "victim@example.org", f"wrong password {i}").status_code for i in range(10)]
    assert statuses == [401] * 10
    assert db_session.exec(select(LoginFailure)).all().__len__() == 10
    # Throttled now, even with the right password: the attacker learns nothing from the answer.
    response = log_in(client, "victim@example.org", PASSWORD)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "900"
    assert "Too many failed log-ins for this account" in response.get_data(as_text=True)


def test_throttle_per_address_covers_many_accounts(app, client, db_session: Session) -> None:
    app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 5
    app.extensions["marketplace.context"].settings["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 5
    for i in range(5):
        assert log_in(client, f"nobody{i}@example.org", "whatever-password").status_code == 401
    response = log_in(client, "someone-else@example.org", "whatever-password")
    assert response.status_code == 429
    assert "from your network" in response.get_data(as_text=True)


def test_wrong_password_and_unknown_email_look_the_same(client) -> None:
    UserFactory(email="known@example.org")
    a = log_in(client, "known@example.org", "wrong password!")
    b = log_in(client, "unknown@example.org", "wrong password!")
    assert a.status_code == b.status_code == 401
    assert "Wrong e-mail address or password." in a.get_data(as_text=True)
    assert "Wrong e-mail address or password." in b.get_data(as_text=True)


def test_password_reset_is_single_use_and_ends_other_sessions(app, client, outbox, db_session: Session) -> None:
    UserFactory(email="forgetful@example.org")
    other = app.test_client()
    assert log_in(other, "forgetful@example.org", PASSWORD).status_code == 302
    assert other.get("/settings").status_code == 200

    post_form(client, "/password/forgot", {"email": "forgetful@example.org"})
    link = link_from(outbox, "forgetful@example.org", "/password/reset")
    assert client.get(link).status_code == 200
    token = link.split("token=")[1]
    response = post_form(
        client, "/password/reset", {"token": token, "password": "brand new passphrase"}, token_from=link
    )
    assert response.status_code == 302
    # Used once: the same link is refused.
    assert client.get(link).status_code == 400
    # The session from before the reset is over.
    assert other.get("/settings").status_code == 302
    assert log_in(client, "forgetful@example.org", "brand new passphrase").status_code == 302


def test_password_reset_for_unknown_email_sends_nothing(client, outbox) -> None:
    response = post_form(client, "/password/forgot", {"email": "ghost@example.org"})
    assert response.status_code == 200
    assert outbox.messages_to("ghost@example.org") == []


def test_tampered_and_cross_purpose_tokens_are_refused(client, outbox) -> None:
    post_form(client, "/signup", {"email": "tamper@example.org", "password": "a long passphrase"})
    link = link_from(outbox, "tamper@example.org", "/verify-email")
    token = link.split("token=")[1]
    assert client.get(f"/verify-email?token={token[:-2]}xx").status_code == 400
    # A verification token is not a password reset token.
    assert client.get(f"/password/reset?token={token}").status_code == 400


def test_change_password_needs_the_current_one(client) -> None:
    UserFactory(email="changer@example.org")
    log_in(client, "changer@example.org", PASSWORD)
    bad = post_form(
        client,
        "/settings/password",
        {"current_password": "nope nope nope", "new_password": "new long passphrase"},
        token_from="/settings",
    )
    assert bad.status_code == 422
    assert "is not your current password" in bad.get_data(as_text=True)
    good = post_form(
        client,
        "/settings/password",
        {"current_password": PASSWORD, "new_password": "new long passphrase"},
        token_from="/settings",
    )
    assert good.status_code == 302
    # This session survives its own password change.
    assert client.get("/settings").status_code == 200


def test_change_email_takes_effect_only_after_confirmation(client, outbox, db_session: Session) -> None:
    user = UserFactory(email="old@example.org")
    log_in(client, "old@example.org", PASSWORD)
    response = post_form(
        client,
        "/settings/email",
        {"current_password": PASSWORD, "new_email": "fresh@example.org"},
        token_from="/settings",
    )
    assert response.status_code == 302
    db_session.refresh(user)
    assert user.email == "old@example.org"
    link = link_from(outbox, "fresh@example.org", "/settings/email/confirm")
    assert client.get(link).status_code == 302
    db_session.refresh(user)
    assert user.email == "fresh@example.org"


def test_login_redirect_refuses_offsite_next(client) -> None:
    UserFactory(email="nexter@example.org")
    response = post_form(
        client,
        "/login?next=//evil.example/x",
        {"email": "nexter@example.org", "password": PASSWORD, "next": "//evil.example/x"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_session_cookie_flags(client) -> None:
    UserFactory(email="cookie@example.org")
    response = log_in(client, "cookie@example.org", PASSWORD)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
