"""``marketplace license ...``, ``marketplace keys ...`` and ``marketplace grants ...``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

import licensing
from marketplace.db import ServiceContext, utcnow


@click.group("license", cls=AppGroup)
def license_group() -> None:
    """Verify license certificates."""


@license_group.command("verify")
@click.argument("certificate")
@click.option("--jwks", "jwks_path", type=click.Path(exists=True, dir_okay=False), required=True,
              help="The platform's public keys (save /.well-known/jwks.json).")  # fmt: skip
def verify(certificate: str, jwks_path: str) -> None:
    """Verify CERTIFICATE (a file, `-` for standard input, or the JWS itself) offline against a JWKS file.

    Exits 0 when the certificate is genuine and inside its validity window, 1 otherwise. Revocation cannot be
    seen offline: ask the platform's /licenses/<id>/verify for that.
    """
    if certificate == "-":
        token = sys.stdin.read().strip()
    elif certificate.count(".") == 2 and len(certificate) > 100:
        token = certificate.strip()  # the JWS itself, too long to be a file name
    elif Path(certificate).is_file():
        token = Path(certificate).read_text().strip()
    else:
        token = certificate.strip()
    try:
        jwks = json.loads(Path(jwks_path).read_text())
        result = licensing.verify_certificate(token, jwks, utcnow())
    except (ValueError, licensing.LicensingError) as error:
        click.echo(f"invalid: the JWKS file cannot be used ({error})", err=True)
        sys.exit(2)
    if result.valid:
        claims = result.claims or {}
        click.echo(f"valid: license {claims.get('jti')} for {claims.get('dataset')} held by {claims.get('licensee')}")
        click.echo(json.dumps(claims, indent=2, sort_keys=True))
        return
    click.echo(f"invalid: {result.reason.value if result.reason else 'unknown'}: {result.message}", err=True)
    sys.exit(1)


@click.group("keys", cls=AppGroup)
def keys_group() -> None:
    """Key material: the license-signing key ring (kept in a file, never in the database), the encryption keys of
    stored secrets and the peppers of API-key hashes (settings; see `generate-encryption-key`)."""


def _key_path() -> Path:
    from marketplace.licenses.keys import key_file_path

    return key_file_path(current_app.config)


@keys_group.command("generate")
@click.option(
    "--out", type=click.Path(dir_okay=False), help="Where to write the key ring (default: the configured file)."
)
@with_appcontext
def generate(out: str | None) -> None:
    """Write a new key ring with one Ed25519 key; refuses to overwrite an existing file."""
    path = Path(out) if out else _key_path()
    if path.exists():
        click.echo(f"error: {path} exists; use `marketplace keys rotate`", err=True)
        sys.exit(1)
    ring = licensing.KeyRing.generate(utcnow())
    path.parent.mkdir(parents=True, exist_ok=True)
    ring.save(path)
    click.echo(f"wrote {path} (signing kid {ring.signer_kid}); set LICENSE_SIGNING_KEY_FILE={path}")


@keys_group.command("rotate")
@with_appcontext
def rotate() -> None:
    """Add a new signing key; old keys keep verifying their certificates until those expire.

    Restart the application afterwards so every process signs with the new key.
    """
    from marketplace.cli import _uow
    from marketplace.licenses.verification import record_key_usage

    path = _key_path()
    ring = licensing.KeyRing.load(path, now=utcnow())
    old = ring.signer_kid
    with _uow() as uow:
        # The file cannot know what every process signed; the grants table does.
        record_key_usage(uow.session, ring, old)
    new = ring.rotate(utcnow())
    ring.save(path)
    click.echo(f"rotated {path}: new signing kid {new} (previous {old} still verifies)")


@keys_group.command("jwks")
@with_appcontext
def jwks() -> None:
    """Print the public JWKS (what /.well-known/jwks.json serves)."""
    context: ServiceContext = current_app.extensions["marketplace.context"]
    ring = context.keyring
    if ring is None:
        raise click.ClickException("this application has no license-signing key ring")
    click.echo(json.dumps(ring.public_jwks(utcnow()), indent=2, sort_keys=True))


@click.group("grants", cls=AppGroup)
def grants_group() -> None:
    """Administer license grants."""


@grants_group.command("create")
@click.option("--offer", "offer_id", type=int, required=True, help="The offer to issue from.")
@click.option("--licensee", "licensee_slug", required=True, help="Short name of the buyer organisation.")
@click.option("--reason", default="issued by an administrator", help="Recorded in the grant's event log.")
@with_appcontext
def create_grant(offer_id: int, licensee_slug: str, reason: str) -> None:
    """Issue a grant directly, without payment (support cases, tests, migrations from another system)."""
    from marketplace.accounts.services import get_organisation
    from marketplace.cli import _uow
    from marketplace.errors import DomainError
    from marketplace.licenses import services as svc

    try:
        with _uow() as uow:
            offer = svc.get_offer(uow.session, offer_id)
            licensee = get_organisation(uow.session, licensee_slug)
            grant = svc.issue_grant(uow, offer, licensee=licensee, acquired_by=None, actor=f"cli: {reason}")
    except DomainError as error:
        click.echo(f"error: {error.message}", err=True)
        sys.exit(1)
    click.echo(f"issued license {grant.id} ({grant.status}) to {licensee_slug}")
