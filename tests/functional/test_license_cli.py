"""``marketplace license verify`` offline, ``marketplace keys`` rotation, and the signing-key settings."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

import licensing
from marketplace import create_app
from marketplace.config import ConfigError
from marketplace.db import utcnow


def _certificate(ring: licensing.KeyRing) -> str:
    offer = licensing.Offer(template=licensing.get_template("CC-BY-4.0"), price=licensing.Money(0, "EUR"))
    grant = licensing.issue_grant(
        offer, licensor="org:p", licensee="org:b", dataset_id="1", versions="1.0.0",
        manifest_digest="ab" * 32, issued_at=utcnow(), status=licensing.GrantStatus.ACTIVE,
    )  # fmt: skip
    return licensing.issue_certificate(grant, ring, "http://localhost")


def test_offline_verify_accepts_genuine_and_refuses_tampered(app, tmp_path) -> None:
    ring = app.extensions["marketplace.context"].keyring
    token = _certificate(ring)
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(ring.public_jwks(utcnow())))
    cert = tmp_path / "cert.jws"
    cert.write_text(token)
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["license", "verify", str(cert), "--jwks", str(jwks)])
    assert ok.exit_code == 0, ok.output
    assert ok.output.startswith("valid:")
    header, payload, signature = token.split(".")
    forged = f"{header}.{payload}.{signature[:-4]}{'AAAA' if not signature.endswith('AAAA') else 'BBBB'}"
    bad = runner.invoke(args=["license", "verify", forged, "--jwks", str(jwks)])
    assert bad.exit_code == 1
    assert "bad_signature" in bad.output


@pytest.fixture()
def key_file(tmp_path, app_settings):
    path = tmp_path / "keys.json"
    licensing.KeyRing.generate(utcnow()).save(path)
    app_settings["LICENSE_SIGNING_KEY_FILE"] = str(path)
    return path


def test_rotation_keeps_old_certificates_valid(key_file, app, db_session) -> None:
    import base64

    from marketplace.accounts.models import OrgKind, Role
    from marketplace.db import ServiceContext, UnitOfWork
    from marketplace.licenses import services as svc
    from marketplace.mail import ConsoleMailer
    from tests.factories import OrganisationFactory, member
    from tests.functional.test_licenses import published_dataset

    provider = OrganisationFactory(kind=OrgKind.PROVIDER)
    buyer = OrganisationFactory(kind=OrgKind.BUYER)
    seller = member(provider, Role.OWNER)
    dataset, _version = published_dataset(db_session, provider, slug="rotating")
    old_ring = app.extensions["marketplace.context"].keyring
    context = ServiceContext({"BASE_URL": "http://localhost"}, ConsoleMailer(), keyring=old_ring)
    uow = UnitOfWork(db_session, context)
    offer = svc.create_offer(uow, seller, dataset, title="Open", license_id="CC-BY-4.0", price_amount=0, currency="EUR")
    grant = svc.issue_grant(uow, offer, licensee=buyer, acquired_by=None)
    db_session.flush()

    result = app.test_cli_runner().invoke(args=["keys", "rotate"])
    assert result.exit_code == 0, result.output
    rotated = licensing.KeyRing.load(key_file, now=utcnow())
    assert rotated.signer_kid != old_ring.signer_kid
    # The old key signed a perpetual license, so it stays in the public JWKS, for ever.
    jwks = rotated.public_jwks(utcnow() + timedelta(days=3650))
    assert licensing.verify_certificate(grant.certificate, jwks, utcnow()).valid
    new_cert = _certificate(rotated)
    assert licensing.verify_certificate(new_cert, jwks, utcnow() + timedelta(seconds=1)).valid
    segment = new_cert.split(".")[0]
    header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    assert header["kid"] == rotated.signer_kid


def test_production_refuses_to_start_without_a_signing_key(tmp_path) -> None:
    with pytest.raises(ConfigError, match="LICENSE_SIGNING_KEY"):
        create_app(
            {
                "MARKETPLACE_ENV": "production",
                "INSTANCE_PATH": str(tmp_path),
                "SECRET_KEY": "k" * 40,
                "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/test",
                "MAIL_BACKEND": "smtp",
                "BASE_URL": "https://data.example.org",
            }
        )


def test_signing_key_from_the_environment_wins(tmp_path, app_settings) -> None:
    ring = licensing.KeyRing.generate(utcnow())
    app = create_app({**app_settings, "LICENSE_SIGNING_KEY": ring.private_pem().decode()})
    served = app.extensions["marketplace.context"].keyring
    assert served.signer_kid == ring.signer_kid
    client = app.test_client()
    assert client.get("/.well-known/jwks.json").get_json()["keys"][0]["kid"] == ring.signer_kid
