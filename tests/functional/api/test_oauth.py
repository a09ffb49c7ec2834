"""OAuth 2.0 client credentials (Authlib): short-lived bearer tokens with the client's scopes, unknown or ungranted
scopes refused, secrets and tokens stored hashed, revocation at once."""

from __future__ import annotations

import base64
from datetime import timedelta

from sqlmodel import select

from marketplace.apikeys import tokens
from marketplace.db import utcnow
from marketplace.oauth.models import OAuthClient, OAuthToken
from tests.functional.api.conftest import bearer


def _token(client, client_id: str, secret: str, scope: str | None = None, *, basic: bool = True):
    data = {"grant_type": "client_credentials"}
    if scope is not None:
        data["scope"] = scope
    if basic:
        auth = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        return client.post("/oauth/token", data=data, headers={"Authorization": f"Basic {auth}"})
    return client.post("/oauth/token", data={**data, "client_id": client_id, "client_secret": secret})


def test_client_credentials_give_a_scoped_short_lived_token(world, client) -> None:
    client_id, secret = world.client_credentials("buyer_admin", "buy", ["catalog:read", "licenses:read"])
    response = _token(client, client_id, secret, "licenses:read")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600 and body["scope"] == "licenses:read"
    assert tokens.well_formed(body["access_token"], tokens.ACCESS_TOKEN_PREFIX)
    assert response.headers["Cache-Control"] == "no-store"
    headers = bearer(body["access_token"])
    me = client.get("/api/v1/me", headers=headers).get_json()
    assert me["credential"]["type"] == "oauth_client" and me["credential"]["scopes"] == ["licenses:read"]
    assert me["organisation"]["slug"] == "buy"
    assert client.get("/api/v1/licenses", headers=headers).status_code == 200
    refused = client.get("/api/v1/datasets", headers=headers)
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "insufficient_scope"
    # Without a scope: every scope of the client; form-field authentication works too.
    whole = _token(client, client_id, secret, basic=False).get_json()
    assert whole["scope"] == "catalog:read licenses:read"


def test_unknown_and_ungranted_scopes_are_refused(world, client) -> None:
    client_id, secret = world.client_credentials("buyer_admin", "buy", ["catalog:read"])
    for scope in ("catalog:read admin:everything", "orders:write"):
        response = _token(client, client_id, secret, scope)
        assert response.status_code == 400 and response.get_json()["error"] == "invalid_scope", scope


def test_bad_secrets_and_revoked_clients(world, client) -> None:
    client_id, secret = world.client_credentials("buyer_admin", "buy", ["catalog:read"])
    wrong = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    assert _token(client, client_id, wrong).status_code == 401
    assert _token(client, "mkpc_unknown", secret).status_code == 401
    access = _token(client, client_id, secret).get_json()["access_token"]
    assert client.get("/api/v1/me", headers=bearer(access)).status_code == 200
    from marketplace.oauth import services
    from tests.functional.api.conftest import work

    row = world.session.exec(select(OAuthClient).where(OAuthClient.client_id == client_id)).one()
    services.revoke_client(work(world.app, world.session), world.people["buyer_admin"], row.id)
    world.session.flush()
    assert client.get("/api/v1/me", headers=bearer(access)).get_json()["error"]["code"] == "credential_revoked"
    assert _token(client, client_id, secret).status_code == 401


def test_tokens_expire_and_only_hashes_are_stored(world, client) -> None:
    client_id, secret = world.client_credentials("buyer_admin", "buy", ["catalog:read"])
    access = _token(client, client_id, secret).get_json()["access_token"]
    row = world.session.exec(select(OAuthClient).where(OAuthClient.client_id == client_id)).one()
    token = world.session.exec(select(OAuthToken)).one()
    dumped = " ".join(str(v) for v in (*row.model_dump().values(), *token.model_dump().values()))
    assert secret not in dumped and access not in dumped
    assert token.expires_at - token.issued_at == timedelta(hours=1)
    token.expires_at = utcnow() - timedelta(seconds=1)
    world.session.add(token)
    world.session.flush()
    assert client.get("/api/v1/me", headers=bearer(access)).get_json()["error"]["code"] == "credential_expired"


def test_the_settings_page_creates_clients_for_admins(world, client) -> None:
    import re

    from tests.factories import PASSWORD
    from tests.helpers import csrf_token, log_in

    log_in(client, "owner@example.org", PASSWORD)
    token = csrf_token(client, "/settings/api")
    page = client.post(
        "/settings/api/clients",
        data={"csrf_token": token, "name": "ETL", "organisation": "buy", "scopes": ["licenses:read"]},
    )
    assert page.status_code == 201
    html = page.get_data(as_text=True)
    client_id = re.search(r'data-testid="new-client-id">([^<]+)<', html).group(1)
    secret = re.search(r'data-testid="secret-value">([^<]+)<', html).group(1)
    assert _token(world.app.test_client(), client_id, secret).status_code == 200
