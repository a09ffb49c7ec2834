"""``marketplace audit``: export an organisation's chain, verify an export offline, check the stored chains.

``verify`` needs neither the application nor the database: it is registered on the top-level command, so the
application is not even created, and it runs :func:`marketplace.audit.signing.verify_export` on the file (with
``--jwks``, the signed head's signature is checked against the marketplace's public keys).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import IO

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlmodel import col, select

from marketplace.audit.chain import GENESIS
from marketplace.audit.signing import verify_export
from marketplace.db import unit_of_work


@click.group("audit")
def audit_group() -> None:
    """The tamper-evident audit log: export an organisation's chain, verify an export."""


@audit_group.command("verify")
@click.argument("file", type=click.File("rb"))
@click.option("--jwks", "jwks_path", type=click.Path(exists=True, dir_okay=False), default=None,
              help="The marketplace's public keys (save /.well-known/jwks.json): also check the signed head's "
              "signature, and fail if the export has none.")  # fmt: skip
def verify_command(file: IO[bytes], jwks_path: str | None) -> None:
    """Verify an exported chain (JSON Lines) offline: every hash, link and sequence number, and the signed head.

    Prints "OK" with the number of entries and the head hash (exit status 0), or the first bad line and why
    (exit status 1). FILE may be "-" for standard input.
    """
    jwks = None
    if jwks_path is not None:
        try:
            jwks = json.loads(Path(jwks_path).read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as error:
            click.echo(f"FAILED: the JWKS file cannot be read ({error})", err=True)
            sys.exit(2)
    verdict = verify_export(file, jwks)
    if verdict.ok:
        click.echo(verdict.describe())
        return
    click.echo(f"FAILED: {verdict.describe()}", err=True)
    sys.exit(1)


@audit_group.command("export")
@click.option("--org", "slug", required=True, help="The organisation whose chain is exported (its slug).")
@click.option("--out", "out", type=click.File("w", encoding="utf-8", lazy=True), default="-",
              help="Write to this file instead of standard output.")  # fmt: skip
@with_appcontext
def export_command(slug: str, out: IO[str]) -> None:
    """Export one organisation's audit chain as JSON Lines (oldest entry first)."""
    from marketplace.accounts.models import Organisation
    from marketplace.audit import service

    database = current_app.extensions["marketplace.db"]
    context = current_app.extensions["marketplace.context"]
    with unit_of_work(database, context) as uow:
        org = uow.session.exec(select(Organisation).where(Organisation.slug == slug)).first()
        if org is None:
            raise click.BadParameter(f"no organisation called {slug!r}", param_hint="--org")
        count, signed = 0, False
        for line in service.export_chain(uow, org):
            out.write(line)
            if line.startswith('{"signed_head"'):
                signed = True
            else:
                count += 1
        head = service.chain_head(uow.session, org)
    out.flush()
    note = ", signed" if signed else ", not signed (no signing key)"
    entries = "1 entry" if count == 1 else f"{count} entries"
    click.echo(f"exported {entries} of {slug}, head {head.hash if head else GENESIS}{note}", err=True)


@audit_group.command("check")
@click.option("--org", "slug", default=None, help="Check this organisation's chain only (default: every chain).")
@with_appcontext
def check_command(slug: str | None) -> None:
    """Verify the chains as stored in the database (the same rules as ``verify``); exit status 1 if one fails."""
    from marketplace.accounts.models import Organisation
    from marketplace.audit import service
    from marketplace.audit.models import AuditChainHead

    database = current_app.extensions["marketplace.db"]
    failed = False
    with database.session() as session:
        statement = select(Organisation).join(AuditChainHead, col(AuditChainHead.organisation_id) == Organisation.id)
        if slug is not None:
            statement = statement.where(Organisation.slug == slug)
        for org in session.exec(statement.order_by(col(Organisation.slug))).all():
            verdict = service.check_chain(session, org)
            failed = failed or not verdict.ok
            click.echo(f"{org.slug}: {verdict.describe() if verdict.ok else 'FAILED: ' + verdict.describe()}")
    if failed:
        sys.exit(1)
