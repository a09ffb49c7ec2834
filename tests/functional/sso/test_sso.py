"""Single sign-on against a real local OpenID provider: settings and domain ownership, the whole code flow with
PKCE, state and nonce, and every way a sign-in must be refused."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from joserfc.jwk import RSAKey
from sqlmodel import select

from marketplace.accounts.models import Membership, OrgKind, Role, User
from marketplace.accounts.services import user_by_email
from marketplace.db import UnitOfWork, utcnow
from marketplace.sso import services as svc
from marketplace.sso.models import SsoConnection, SsoDomain
from tests.factories import PASSWORD, OrganisationFactory, UserFactory, member
from tests.helpers import log_in, post_form

CALLBACK = "http://localhost/login/sso/callback"


@pytest.fixture()
def acme(app, db_session, oidc):
    org = OrganisationFactory(slug="acme", name="Acme", kind=OrgKind.BUYER)
    admin = member(org, Role.ADMIN, email="admin@acme.test")
    client = oidc.add_client(CALLBACK)
    context = app.extensions["marketplace.context"]
    connection = svc.configure(
        UnitOfWork(db_session, context), admin, org, issuer=oidc.issuer, client_id=client.client_id,
        client_secret=client.client_secret, domains="acme.test",
    )  # fmt: skip
    db_session.flush()
    return {"org": org, "admin": admin, "client": client, "connection": connection}


def _to_provider(client, email: str, oidc, next_url: str = "") -> str:
    """Start the sign-in; return the provider's authorization URL the app sends the browser on to (a page that
    refreshes to it, since the CSP's form-action forbids redirecting a posted form to another origin)."""
    data = {"email": email} | ({"next": next_url} if next_url else {})
    response = post_form(client, "/login/sso", data, token_from="/login/sso")
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    page = response.get_data(as_text=True)
    link = re.search(r'href="([^"]+)" data-testid="sso-continue"', page)
    assert link, "no link to the provider on the page"
    location = html.unescape(link.group(1))
    assert location.startswith(oidc.issuer + "/authorize?")
    assert f'<meta http-equiv="refresh" content="0; url={html.escape(location)}">' in page
    return location


def _back_from_provider(authorize_url: str) -> str:
    """Let the provider approve; return the callback path (with code and state) it sends the browser to."""
    answer = requests.get(authorize_url, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    location = answer.headers["Location"]
    assert location.startswith(CALLBACK + "?"), location
    return location.removeprefix("http://localhost")


def _sign_in(client, email: str, oidc, next_url: str = ""):
    return client.get(_back_from_provider(_to_provider(client, email, oidc, next_url)))


def _logged_in_as(client) -> str | None:
    page = client.get("/settings")
    if page.status_code != 200:
        return None
    with client.session_transaction() as session:
        user_id = session.get("user_id")
    return str(user_id) if user_id else None


def test_first_sign_in_creates_a_verified_member_through_pkce_state_and_nonce(client, acme, oidc, db_session) -> None:
    oidc.user = {"sub": "u-42", "email": "New.Person@ACME.test", "email_verified": True, "name": "New Person"}
    authorize = _to_provider(client, "new.person@acme.test", oidc, next_url="/orgs")
    query = {k: v[0] for k, v in parse_qs(urlsplit(authorize).query).items()}
    assert query["response_type"] == "code" and query["client_id"] == acme["client"].client_id
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) >= 43
    assert query["state"] and query["nonce"] and query["redirect_uri"] == CALLBACK
    assert set(query["scope"].split()) == {"openid", "email", "profile"}
    assert query["login_hint"] == "new.person@acme.test"

    response = client.get(_back_from_provider(authorize))
    assert response.status_code == 302 and response.headers["Location"] == "/orgs"
    user = db_session.exec(select(User).where(User.email == "new.person@acme.test")).one()
    assert user.is_verified and user.display_name == "New Person"
    assert user.password_hash == svc.UNUSABLE_PASSWORD  # no password until they set one
    membership = db_session.exec(select(Membership).where(Membership.user_id == user.id)).one()
    assert membership.organisation_id == acme["org"].id and membership.role is Role.MEMBER
    assert _logged_in_as(client) == str(user.id)
    assert "Acme" in client.get("/orgs").get_data(as_text=True)
    # The password form cannot be used with the marker hash.
    other = client.application.test_client()
    assert log_in(other, "new.person@acme.test", "!sso-only").status_code == 401


def test_an_existing_account_signs_in_and_joins_an_unverified_one_loses_its_password(
    client, acme, oidc, db_session
) -> None:
    existing = UserFactory(email="bob@acme.test")
    other_org = OrganisationFactory(slug="elsewhere")
    member_elsewhere = member(other_org, Role.OWNER, email="carol@acme.test")
    squatter = UserFactory(email="dave@acme.test", email_verified_at=None)
    db_session.flush()

    oidc.user = {"sub": "bob", "email": "bob@acme.test", "email_verified": True}
    assert _sign_in(client, "bob@acme.test", oidc).status_code == 302
    assert _logged_in_as(client) == str(existing.id)

    oidc.user = {"sub": "carol", "email": "carol@acme.test", "email_verified": True}
    second = client.application.test_client()
    assert _sign_in(second, "carol@acme.test", oidc).status_code == 302
    roles = {m.organisation_id: m.role for m in db_session.exec(select(Membership).where(
        Membership.user_id == member_elsewhere.id)).all()}  # fmt: skip
    assert roles == {other_org.id: Role.OWNER, acme["org"].id: Role.MEMBER}

    old_version = squatter.session_version
    oidc.user = {"sub": "dave", "email": "dave@acme.test", "email_verified": True}
    third = client.application.test_client()
    assert _sign_in(third, "dave@acme.test", oidc).status_code == 302
    db_session.expire_all()
    squatter = db_session.get(User, squatter.id)
    assert squatter.is_verified and squatter.password_hash == svc.UNUSABLE_PASSWORD
    assert squatter.session_version == old_version + 1


def test_an_address_outside_the_organisations_domains_is_refused(client, acme, oidc, db_session) -> None:
    oidc.user = {"sub": "eve", "email": "eve@evil.test", "email_verified": True}
    response = _sign_in(client, "someone@acme.test", oidc)
    assert response.status_code == 403
    assert "not in a domain" in response.get_data(as_text=True)
    assert _logged_in_as(client) is None
    assert user_by_email(db_session, "eve@evil.test") is None


@pytest.mark.parametrize("verified", [False, None, "false"])
def test_an_unverified_address_is_refused(client, acme, oidc, db_session, verified) -> None:
    oidc.user = {"sub": "u", "email": "unverified@acme.test", "email_verified": verified}
    response = _sign_in(client, "unverified@acme.test", oidc)
    assert response.status_code == 403
    assert "has not verified" in response.get_data(as_text=True)
    assert _logged_in_as(client) is None
    assert user_by_email(db_session, "unverified@acme.test") is None


def test_a_tampered_state_is_refused_before_the_code_is_used(client, acme, oidc) -> None:
    callback = _back_from_provider(_to_provider(client, "ada@acme.test", oidc))
    query = parse_qs(urlsplit(callback).query)
    state = query["state"][0]
    tampered = callback.replace(f"state={state}", f"state={state[:-2]}xx")
    before = oidc.token_requests
    response = client.get(tampered)
    assert response.status_code == 400
    assert "state" in response.get_data(as_text=True)
    assert oidc.token_requests == before  # the code was never sent to the token endpoint
    assert _logged_in_as(client) is None


def test_a_replayed_code_is_refused(client, acme, oidc) -> None:
    first = _back_from_provider(_to_provider(client, "ada@acme.test", oidc))
    assert client.get(first).status_code == 302
    # The same response again: its state was used up.
    other = client.application.test_client()
    assert client.get(first).status_code == 400
    # The used code inside a fresh, valid flow: the provider refuses the code.
    fresh = _back_from_provider(_to_provider(other, "ada@acme.test", oidc))
    old_code = parse_qs(urlsplit(first).query)["code"][0]
    new_code = parse_qs(urlsplit(fresh).query)["code"][0]
    response = other.get(fresh.replace(new_code, old_code))
    assert response.status_code == 400
    assert "invalid_grant" in response.get_data(as_text=True) or "Invalid" in response.get_data(as_text=True)
    assert _logged_in_as(other) is None


@pytest.mark.parametrize("claim", ["aud", "iss", "exp"])
def test_an_id_token_for_another_audience_issuer_or_time_is_refused(client, acme, oidc, claim) -> None:
    now = int(utcnow().timestamp())
    oidc.id_token_overrides = {
        "aud": {"aud": ["someone-else"]},
        "iss": {"iss": "https://impostor.example"},
        "exp": {"exp": now - 3600, "iat": now - 7200},
    }[claim]
    response = _sign_in(client, "ada@acme.test", oidc)
    assert response.status_code == 400
    reason = {"aud": "Invalid claim: &#39;aud&#39;", "iss": "Invalid claim: &#39;iss&#39;", "exp": "expired"}[claim]
    assert "does not verify" in response.get_data(as_text=True) and reason in response.get_data(as_text=True)
    assert _logged_in_as(client) is None


def test_an_id_token_signed_with_another_key_is_refused(client, acme, oidc) -> None:
    # Same key id as the published key, different key: only the signature check can tell.
    oidc.signing_key = RSAKey.generate_key(2048, parameters={"kid": "test-key-1"})
    response = _sign_in(client, "ada@acme.test", oidc)
    assert response.status_code == 400 and "does not verify (bad_signature)" in response.get_data(as_text=True)
    assert _logged_in_as(client) is None


def test_unknown_domains_and_disabled_connections_offer_no_sso(client, acme, db_session) -> None:
    response = post_form(client, "/login/sso", {"email": "x@unknown.test"}, token_from="/login/sso")
    assert response.status_code == 422 and "no organisation signs in @unknown.test" in response.get_data(as_text=True)
    acme["connection"].enabled = False
    db_session.add(acme["connection"])
    db_session.flush()
    response = post_form(client, "/login/sso", {"email": "ada@acme.test"}, token_from="/login/sso")
    assert response.status_code == 422
    assert "Sign in with your organisation" in client.get("/login").get_data(as_text=True)


# --- settings ---------------------------------------------------------------------------------------------------


def _save(client, **fields):
    data = {"issuer": "http://127.0.0.1:9/", "client_id": "cid", "client_secret": "s3cret-value",
            "domains": "acme.test", "enabled": "true", **fields}  # fmt: skip
    return post_form(client, "/orgs/acme/sso", data, token_from="/orgs/acme/sso")


@pytest.fixture()
def acme_admin(db_session):
    org = OrganisationFactory(slug="acme", name="Acme", kind=OrgKind.BUYER)
    member(org, Role.ADMIN, email="admin@acme.test")
    member(org, Role.MEMBER, email="member@acme.test")
    member(org, Role.ADMIN, email="admin@gmail.com")
    return org


def test_an_admin_connects_a_provider_and_the_secret_is_stored_encrypted(app, client, acme_admin, db_session) -> None:
    log_in(client, "admin@acme.test", PASSWORD)
    page = client.get("/orgs/acme/sso").get_data(as_text=True)
    assert "http://localhost/login/sso/callback" in page
    assert _save(client).status_code == 302
    connection = db_session.exec(select(SsoConnection)).one()
    assert connection.issuer == "http://127.0.0.1:9/" and connection.client_id == "cid" and connection.enabled
    assert "s3cret-value" not in connection.client_secret_ciphertext
    assert svc.client_secret(app.config, connection) == "s3cret-value"
    assert [d.domain for d in db_session.exec(select(SsoDomain)).all()] == ["acme.test"]
    assert "s3cret-value" not in client.get("/orgs/acme/sso").get_data(as_text=True)
    # An empty secret keeps the stored one; each change bumps the revision (Authlib's client cache key).
    assert _save(client, client_secret="", client_id="cid2").status_code == 302
    db_session.expire_all()
    connection = db_session.get(SsoConnection, connection.id)
    assert connection.client_id == "cid2" and connection.revision == 2
    assert svc.client_secret(app.config, connection) == "s3cret-value"
    assert post_form(client, "/orgs/acme/sso/delete", {}, token_from="/orgs/acme/sso").status_code == 302
    assert db_session.exec(select(SsoDomain)).all() == []


@pytest.mark.parametrize(
    "email,domains,message",
    [
        ("admin@acme.test", "other.test", "you need a verified e-mail address at other.test"),
        ("admin@acme.test", "sub.acme.test", "you need a verified e-mail address at sub.acme.test"),
        ("admin@gmail.com", "gmail.com", "public mail provider"),
        ("admin@acme.test", "not a domain!", "is not a domain name"),
        ("admin@acme.test", "", "name at least one e-mail domain"),
    ],
)
def test_domains_need_a_verified_address_of_the_admin_and_cannot_be_public(client, acme_admin, db_session, email,
                                                                          domains, message) -> None:  # fmt: skip
    log_in(client, email, PASSWORD)
    response = _save(client, domains=domains)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db_session.exec(select(SsoConnection)).all() == []


def test_an_unverified_admin_cannot_claim_and_a_domain_belongs_to_one_organisation(app, acme_admin, db_session) -> None:
    from marketplace.errors import ValidationFailed

    context = app.extensions["marketplace.context"]
    unverified = member(acme_admin, Role.OWNER, email="owner@acme.test", email_verified_at=None)
    with pytest.raises(ValidationFailed, match=r"verified e-mail address at acme\.test"):
        svc.configure(UnitOfWork(db_session, context), unverified, acme_admin, issuer="http://127.0.0.1:9",
                      client_id="c", client_secret="s", domains="acme.test")  # fmt: skip
    rival = OrganisationFactory(slug="rival")
    rival_admin = member(rival, Role.ADMIN, email="it@acme.test")
    admin = user_by_email(db_session, "admin@acme.test")
    svc.configure(UnitOfWork(db_session, context), admin, acme_admin, issuer="http://127.0.0.1:9", client_id="c",
                  client_secret="s", domains="acme.test")  # fmt: skip
    with pytest.raises(ValidationFailed, match="already used by another organisation"):
        svc.configure(UnitOfWork(db_session, context), rival_admin, rival, issuer="http://127.0.0.1:9",
                      client_id="c", client_secret="s", domains="acme.test")  # fmt: skip


def test_members_cannot_see_or_change_sso_settings(client, acme_admin) -> None:
    log_in(client, "member@acme.test", PASSWORD)
    assert client.get("/orgs/acme/sso").status_code == 403
    assert _save(client).status_code == 403


def test_production_requires_a_public_https_issuer(app, acme_admin, db_session, monkeypatch) -> None:
    from marketplace.errors import ValidationFailed

    context = app.extensions["marketplace.context"]
    monkeypatch.setitem(context.settings, "MARKETPLACE_ENV", "production")
    admin = user_by_email(db_session, "admin@acme.test")
    for issuer, message in (("http://login.acme.test", "https://"), ("https://127.0.0.1", "loopback")):
        with pytest.raises(ValidationFailed, match=message):
            svc.configure(UnitOfWork(db_session, context), admin, acme_admin, issuer=issuer, client_id="c",
                          client_secret="s", domains="acme.test")  # fmt: skip
