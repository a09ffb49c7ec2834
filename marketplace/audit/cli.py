"""``marketplace audit``: export an organisation's chain, verify an export offline, check the stored chains.

``verify`` needs neither the application nor the database: it is registered on the top-level command, so the
application is not even created, and it runs :func:`marketplace.audit.chain.verify_lines` on the file.
"""

from __future__ import annotations

import sys
from typing import IO

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlmodel import col, select

from marketplace.audit.chain import verify_lines


@click.group("audit")
def audit_group() -> None:
    """The tamper-evident audit log: export an organisation's chain, verify an export."""


@audit_group.command("verify")
@click.argument("file", type=click.File("rb"))
def verify_command(file: IO[bytes]) -> None:
    """Verify an exported chain (JSON Lines) offline: every hash, link and sequence number.

    Prints "OK" with the number of entries and the head hash (exit status 0), or the first bad line and why
    (exit status 1). FILE may be "-" for standard input.
    """
    verdict = verify_lines(file)
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
    with database.session() as session:
        org = session.exec(select(Organisation).where(Organisation.slug == slug)).first()
        if org is None:
            raise click.BadParameter(f"no organisation called {slug!r}", param_hint="--org")
        count = 0
        for line in service.export_chain(session, org):
            out.write(line)
            count += 1
        head = service.chain_head(session, org)
    out.flush()
    click.echo(f"exported {count} entries of {slug}, head {head.hash if head else 'none'}", err=True)


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
