"""API keys: format with checksum, stored only as a peppered hash, expiry, revocation on the next request, last
used at/from, test keys only against sandbox payments, organisation keys, and the settings page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import select

from marketplace.accounts.models import Membership
from marketplace.apikeys import tokens
from marketplace.apikeys.models import ApiKey
from marketplace.crypto import Peppers
from marketplace.db import utcnow
from tests.factories import PASSWORD
from tests.functional.api.conftest import bearer
from tests.helpers import csrf_token, log_in


def test_key_format_checksum_and_hash_only(world, client) -> None:
    secret = world.key("purchaser", ["catalog:read"])
    assert re.fullmatch(r"mkp_live_[0-9A-Za-z]{38}", secret)
    assert tokens.well_formed(secret) and tokens.checksum(secret[:-6]) == secret[-6:]
    row = world.last_key
    stored = " ".join(str(v) for v in row.model_dump().values())
    assert secret not in stored and secret[9:-6] not in stored
    peppers = Peppers.from_settings(world.app.config)
    assert row.pepper_id == peppers.writing_id != "legacy"
    assert row.key_hash == peppers.candidates(secret)[row.pepper_id]
    assert row.key_prefix == secret[:13] and row.key_last4 == secret[-4:]
    # One changed character fails the checksum: refused without a look-up.
    typo = secret[:-7] + ("A" if secret[-7] != "A" else "B") + secret[-6:]
    assert not tokens.well_formed(typo)
    assert client.get("/api/v1/me", headers=bearer(typo)).get_json()["error"]["code"] == "invalid_credential"


def test_revocation_and_expiry_take_effect_on_the_next_request(world, client) -> None:
    secret = world.key("purchaser", ["catalog:read"], expires_at=utcnow() + timedelta(hours=1))
    row = world.last_key
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200
    row.expires_at = utcnow() - timedelta(seconds=1)
    world.session.add(row)
    world.session.flush()
    assert client.get("/api/v1/me", headers=bearer(secret)).get_json()["error"]["code"] == "credential_expired"
    row.expires_at = None
    row.revoked_at = utcnow()
    world.session.add(row)
    world.session.flush()
    assert client.get("/api/v1/me", headers=bearer(secret)).get_json()["error"]["code"] == "credential_revoked"


def test_last_used_at_and_from(world, client) -> None:
    secret = world.key("purchaser")
    assert world.last_key.last_used_at is None
    client.get("/api/v1/me", headers=bearer(secret), environ_base={"REMOTE_ADDR": "203.0.113.9"})
    world.session.refresh(world.last_key)
    assert world.last_key.last_used_at is not None and world.last_key.last_used_ip == "203.0.113.9"


def test_test_keys_only_work_against_sandbox_payments(world, client, monkeypatch) -> None:
    secret = world.key("purchaser", environment="test")
    assert secret.startswith("mkp_test_")
    assert client.get("/api/v1/me", headers=bearer(secret)).get_json()["credential"]["environment"] == "test"

    class LivePayments:
        is_sandbox = False

    monkeypatch.setattr(world.app.extensions["marketplace.context"], "payments", LivePayments())
    refused = client.get("/api/v1/me", headers=bearer(secret))
    assert refused.status_code == 401 and refused.get_json()["error"]["code"] == "test_credential_refused"


def test_an_organisation_key_stops_when_its_creator_leaves(world, client) -> None:
    secret = world.key("buyer_admin", org="buy")
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200
    membership = world.session.exec(
        select(Membership).where(Membership.user_id == world.people["buyer_admin"].id)
    ).one()
    world.session.delete(membership)
    world.session.flush()
    refused = client.get("/api/v1/me", headers=bearer(secret))
    assert refused.status_code == 401 and refused.get_json()["error"]["code"] == "credential_inactive"


def test_only_organisation_admins_create_organisation_keys(world, client) -> None:
    from marketplace.apikeys import services
    from marketplace.errors import PermissionDenied
    from tests.functional.api.conftest import work

    with pytest.raises(PermissionDenied):
        services.create_key(
            work(world.app, world.session),
            world.people["purchaser"],
            name="x",
            scopes=["catalog:read"],
            organisation=world.orgs["buy"],
        )


def test_the_session_cookie_is_not_accepted_by_the_api(world, client) -> None:
    log_in(client, "purchaser@example.org", PASSWORD)
    assert client.get("/licenses").status_code == 200  # logged in on the website
    response = client.get("/api/v1/me")
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "authentication_required"


def test_settings_page_creates_shows_once_lists_and_revokes(world, client) -> None:
    log_in(client, "owner@example.org", PASSWORD)
    page = client.get("/settings/api")
    assert page.status_code == 200 and "Buyer Co only" in page.get_data(as_text=True)
    token = csrf_token(client, "/settings/api")
    created = client.post(
        "/settings/api/keys",
        data={
            "csrf_token": token,
            "name": "CI pipeline",
            "owner": "org:buy",
            "scopes": ["catalog:read", "orders:write"],
            "environment": "live",
            "expires_on": (utcnow() + timedelta(days=30)).date().isoformat(),
        },
    )
    assert created.status_code == 201
    html = created.get_data(as_text=True)
    secret = re.search(r'data-testid="secret-value">(mkp_live_[0-9A-Za-z]+)<', html).group(1)
    row = world.session.exec(select(ApiKey).where(ApiKey.name == "CI pipeline")).one()
    assert row.organisation_id == world.orgs["buy"].id and row.user_id is None and row.expires_at is not None
    assert row.scope_list == ["catalog:read", "orders:write"]
    me = client.get("/api/v1/me", headers=bearer(secret)).get_json()
    assert me["organisation"]["slug"] == "buy" and me["credential"]["name"] == "CI pipeline"
    # Listed afterwards without the secret.
    listing = client.get("/settings/api").get_data(as_text=True)
    assert "CI pipeline" in listing and secret not in listing and row.key_prefix in listing
    # Revoked: the next request is refused.
    revoked = client.post(
        f"/settings/api/keys/{row.id}/revoke", data={"csrf_token": csrf_token(client, "/settings/api")}
    )
    assert revoked.status_code == 302
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401


def test_settings_page_names_bad_input(world, client) -> None:
    log_in(client, "purchaser@example.org", PASSWORD)
    token = csrf_token(client, "/settings/api")
    response = client.post("/settings/api/keys", data={"csrf_token": token, "name": "no scopes"})
    assert response.status_code == 422 and "choose at least one scope" in response.get_data(as_text=True)
    # A member is not offered, and cannot create, an organisation key.
    response = client.post(
        "/settings/api/keys", data={"csrf_token": token, "name": "x", "owner": "org:buy", "scopes": ["catalog:read"]}
    )
    assert response.status_code == 403
    assert world.session.exec(select(ApiKey)).all() == []


def test_users_cannot_revoke_keys_of_others(world, client) -> None:
    world.key("outsider")
    row = world.last_key
    log_in(client, "purchaser@example.org", PASSWORD)
    response = client.post(
        f"/settings/api/keys/{row.id}/revoke", data={"csrf_token": csrf_token(client, "/settings/api")}
    )
    assert response.status_code == 404
    world.session.refresh(row)
    assert row.revoked_at is None
