"""Key material independent of ``SECRET_KEY``: rotating it leaves API keys, OAuth clients and stored secrets
working; ``marketplace keys rotate-encryption`` moves every stored secret to the writing key, so an old key can go."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import Flask
from sqlalchemy.engine import Connection
from sqlmodel import select

from marketplace import create_app
from marketplace.apikeys import tokens
from marketplace.apikeys.models import ApiKey
from marketplace.crypto import LEGACY_ID, SecretUnreadable, key_id_of, legacy_pepper, new_encryption_key, new_pepper
from marketplace.db import utcnow
from marketplace.exports import destinations
from marketplace.exports.models import BucketDestination
from marketplace.oauth.models import OAuthClient
from marketplace.reencrypt import reencrypt_all
from marketplace.sso import services as sso
from marketplace.sso.models import SsoConnection
from marketplace.webhooks import services as webhooks
from marketplace.webhooks.models import WebhookEndpoint
from tests.functional.api.conftest import World, bearer, work

K1, K2 = new_encryption_key("k1"), new_encryption_key("k2")
P1 = new_pepper("p1")
OTHER_SECRET_KEY = "a-completely-different-secret-key-9f8e7d6c5b4a"


@pytest.fixture()
def app_settings(app_settings: dict[str, Any]) -> dict[str, Any]:
    return {**app_settings, "ENCRYPTION_KEYS": K1, "API_KEY_PEPPERS": P1}


def _rebuilt(app_settings: dict[str, Any], connection: Connection, **changes: str) -> Flask:
    """Another application on the same database (a restart with other settings)."""
    other = create_app({**app_settings, **changes})
    other.extensions["marketplace.db"].bind_to_connection(connection)
    return other


def _endpoint(world: World, url: str = "http://127.0.0.1:1/hook") -> tuple[WebhookEndpoint, str]:
    return webhooks.create_endpoint(
        work(world.app, world.session), world.people["seller"], world.orgs["prov"], url=url, events=["order.paid"]
    )


def _sso_connection(world: World, secret: str) -> SsoConnection:
    connection = SsoConnection(
        organisation_id=world.orgs["buy"].id,
        issuer="https://id.example.org",
        client_id="cid",
        client_secret_ciphertext=sso.secret_box(world.app.config).encrypt(secret),
    )
    world.session.add(connection)
    world.session.flush()
    return connection


def _token(client: Any, client_id: str, secret: str) -> Any:
    auth = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {auth}"}
    )


def test_rotating_secret_key_keeps_api_keys_oauth_clients_and_stored_secrets(world, app_settings, connection) -> None:
    key = world.key("purchaser", ["catalog:read"])
    client_id, client_secret = world.client_credentials("buyer_admin", "buy", ["licenses:read"])
    endpoint, signing_secret = _endpoint(world)
    sso_connection = _sso_connection(world, "sso-client-secret-value")
    access_token = _token(world.app.test_client(), client_id, client_secret).get_json()["access_token"]

    rotated = _rebuilt(app_settings, connection, SECRET_KEY=OTHER_SECRET_KEY)
    assert rotated.config["SECRET_KEY"] != world.app.config["SECRET_KEY"]
    client = rotated.test_client()
    assert client.get("/api/v1/me", headers=bearer(key)).status_code == 200
    assert client.get("/api/v1/me", headers=bearer(access_token)).status_code == 200
    fresh = _token(client, client_id, client_secret)
    assert fresh.status_code == 200, fresh.get_json()
    assert webhooks.signing_secrets(endpoint, rotated.config, utcnow()) == [signing_secret]
    assert sso.client_secret(rotated.config, sso_connection) == "sso-client-secret-value"

    # The peppers and the key ring are what the credentials and secrets depend on now.
    other_keys = _rebuilt(app_settings, connection, API_KEY_PEPPERS=new_pepper("p1"), ENCRYPTION_KEYS=K2)
    assert other_keys.test_client().get("/api/v1/me", headers=bearer(key)).status_code == 401
    with pytest.raises(SecretUnreadable, match="'k1'"):
        webhooks.signing_secrets(endpoint, other_keys.config, utcnow())


def test_a_key_hashed_under_the_secret_key_still_works_and_moves_to_the_writing_pepper(
    world, app_settings, connection, db_session
) -> None:
    secret = tokens.new_secret(tokens.LIVE_KEY_PREFIX)
    row = ApiKey(
        name="old key",
        key_hash=tokens_digest_legacy(world.app.config["SECRET_KEY"], secret),
        key_prefix=secret[:13],
        key_last4=secret[-4:],
        user_id=world.people["purchaser"].id,
        created_by_id=world.people["purchaser"].id,
        scopes="catalog:read",
    )
    db_session.add(row)
    db_session.flush()
    assert row.pepper_id == LEGACY_ID
    assert world.app.test_client().get("/api/v1/me", headers=bearer(secret)).status_code == 200
    db_session.expire_all()
    assert db_session.get(ApiKey, row.id).pepper_id == "p1"  # re-hashed when used
    # An OAuth client secret from before, too: re-hashed by its next token request.
    client_id, client_secret = world.client_credentials("buyer_admin", "buy", ["licenses:read"])
    oauth_client = db_session.exec(select(OAuthClient).where(OAuthClient.client_id == client_id)).one()
    oauth_client.pepper_id = LEGACY_ID
    oauth_client.secret_hash = tokens_digest_legacy(world.app.config["SECRET_KEY"], client_secret)
    db_session.add(oauth_client)
    db_session.flush()
    assert _token(world.app.test_client(), client_id, client_secret).status_code == 200
    db_session.expire_all()
    assert db_session.get(OAuthClient, oauth_client.id).pepper_id == "p1"

    rotated = _rebuilt(app_settings, connection, SECRET_KEY=OTHER_SECRET_KEY)
    assert rotated.test_client().get("/api/v1/me", headers=bearer(secret)).status_code == 200
    assert _token(rotated.test_client(), client_id, client_secret).status_code == 200


def tokens_digest_legacy(secret_key: str, secret: str) -> str:
    """A key's hash as stored before peppers had ids."""
    return hmac.new(legacy_pepper(secret_key), secret.encode(), hashlib.sha256).hexdigest()


def legacy_seal(secret_key: str, plaintext: str, purpose: str = "webhook-signing-secret") -> str:
    """A secret as sealed before the key ring: Fernet under an HKDF subkey of ``SECRET_KEY``, no key id."""
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"dataset-marketplace secret box v1", info=purpose.encode()
    ).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(derived)).encrypt(plaintext.encode()).decode()


def _ciphertexts(db_session) -> list[str]:
    db_session.expire_all()
    found = []
    for endpoint in db_session.exec(select(WebhookEndpoint)).all():
        found += [c for c in (endpoint.secret_ciphertext, endpoint.previous_secret_ciphertext) if c]
    found += [c.client_secret_ciphertext for c in db_session.exec(select(SsoConnection)).all()]
    found += [d.secret_ciphertext for d in db_session.exec(select(BucketDestination)).all()]
    return found


def _destination(world, secret: str) -> BucketDestination:  # type: ignore[no-untyped-def]
    """A bucket destination of the buyer, its secret access key sealed as the app seals it (no bucket is reached)."""
    row = BucketDestination(
        organisation_id=world.orgs["buy"].id, name="Lake", bucket="lake", access_key_id="AKIA",
        secret_ciphertext=destinations.secret_box(world.app.config).encrypt(secret),
    )  # fmt: skip
    world.session.add(row)
    world.session.flush()
    return row


def test_rotate_encryption_moves_every_secret_to_the_writing_key_in_batches(
    world, app_settings, connection, db_session
) -> None:
    endpoints = [_endpoint(world, f"http://127.0.0.1:1/hook{n}") for n in range(3)]
    rotated_secret = webhooks.rotate_secret(work(world.app, db_session), world.people["seller"], endpoints[0][0])
    _sso_connection(world, "sso-secret")
    _destination(world, "bucket-secret")
    # One secret from before the key ring (sealed with the SECRET_KEY-derived key).
    endpoints[2][0].secret_ciphertext = legacy_seal(world.app.config["SECRET_KEY"], "whsec_legacy")
    db_session.add(endpoints[2][0])
    db_session.flush()
    assert {key_id_of(c) for c in _ciphertexts(db_session)} == {"k1", LEGACY_ID}

    both = _rebuilt(app_settings, connection, ENCRYPTION_KEYS=f"{K2},{K1}")
    result = both.test_cli_runner().invoke(args=["keys", "rotate-encryption", "--batch-size", "2"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[:4] == [
        "webhook endpoints: 0/3",
        "webhook endpoints: 2/3",
        "webhook endpoints: 3/3",
        "SSO connections: 0/1",
    ]
    assert lines[4:] == [
        "SSO connections: 1/1",
        "bucket destinations: 0/1",
        "bucket destinations: 1/1",
        "re-encrypted 5 row(s) under key k2",
    ]
    assert {key_id_of(c) for c in _ciphertexts(db_session)} == {"k2"}

    again = both.test_cli_runner().invoke(args=["keys", "rotate-encryption"])
    assert again.exit_code == 0 and "webhook endpoints: 0/0" in again.output and "re-encrypted 0 row(s)" in again.output

    # k1 (and SECRET_KEY) can go now: everything still decrypts.
    only_k2 = _rebuilt(app_settings, connection, ENCRYPTION_KEYS=K2, SECRET_KEY=OTHER_SECRET_KEY)
    now = utcnow()
    first = db_session.get(WebhookEndpoint, endpoints[0][0].id)
    assert webhooks.signing_secrets(first, only_k2.config, now) == [rotated_secret, endpoints[0][1]]
    assert webhooks.signing_secrets(db_session.get(WebhookEndpoint, endpoints[1][0].id), only_k2.config, now) == [
        endpoints[1][1]
    ]
    assert webhooks.signing_secrets(db_session.get(WebhookEndpoint, endpoints[2][0].id), only_k2.config, now) == [
        "whsec_legacy"
    ]
    assert sso.client_secret(only_k2.config, db_session.exec(select(SsoConnection)).one()) == "sso-secret"
    sealed = db_session.exec(select(BucketDestination)).one().secret_ciphertext
    assert destinations.secret_box(only_k2.config).decrypt(sealed) == "bucket-secret"


def test_rotate_encryption_resumes_after_an_interruption_and_reports_unreadable_rows(
    world, app_settings, connection, db_session
) -> None:
    secrets = [_endpoint(world, f"http://127.0.0.1:1/hook{n}")[1] for n in range(3)]
    both = _rebuilt(app_settings, connection, ENCRYPTION_KEYS=f"{K2},{K1}")
    database, context = both.extensions["marketplace.db"], both.extensions["marketplace.context"]

    class Interrupted(Exception):
        pass

    def stop_after_first_batch(label: str, done: int, total: int) -> None:
        if done:
            raise Interrupted

    with pytest.raises(Interrupted):
        reencrypt_all(database, context, batch_size=2, progress=stop_after_first_batch)
    assert sorted(key_id_of(c) for c in _ciphertexts(db_session)) == ["k1", "k2", "k2"]  # the first batch stayed

    seen: list[tuple[str, int, int]] = []
    outcome = reencrypt_all(database, context, batch_size=2, progress=lambda *p: seen.append(p))
    assert outcome.reencrypted == {"webhook endpoints": 1, "SSO connections": 0, "bucket destinations": 0}
    assert not outcome.unreadable
    assert seen[:2] == [("webhook endpoints", 0, 1), ("webhook endpoints", 1, 1)]
    assert {key_id_of(c) for c in _ciphertexts(db_session)} == {"k2"}

    # A secret under a key no longer listed is reported, left as it is, and the command exits 1.
    k3 = new_encryption_key("k3")
    stray = _rebuilt(app_settings, connection, ENCRYPTION_KEYS=k3)
    endpoint = db_session.exec(select(WebhookEndpoint)).first()
    endpoint.secret_ciphertext = webhooks.secret_box(stray.config).encrypt("whsec_stray")
    db_session.add(endpoint)
    db_session.flush()
    result = both.test_cli_runner().invoke(args=["keys", "rotate-encryption"])
    assert result.exit_code == 1
    assert f"unreadable: webhook endpoints #{endpoint.id}" in result.output and "'k3'" in result.output
    assert len(secrets) == 3


def test_generate_commands_print_usable_entries(app, app_settings) -> None:
    runner = app.test_cli_runner()
    key = runner.invoke(args=["keys", "generate-encryption-key", "--id", "k7"])
    assert key.exit_code == 0 and key.output.startswith("k7:")
    pepper = runner.invoke(args=["keys", "generate-pepper", "--id", "p7"])
    assert pepper.exit_code == 0 and pepper.output.startswith("p7:")
    ring = create_app({**app_settings, "ENCRYPTION_KEYS": key.output.strip(), "API_KEY_PEPPERS": pepper.output.strip()})
    assert webhooks.secret_box(ring.config).encrypt("x").startswith("v1:k7:")
    assert runner.invoke(args=["keys", "generate-encryption-key", "--id", "bad id"]).exit_code == 2
