"""``marketplace catalog …``: catalog commands (attached to the catalog blueprint's command group): ``import``
and ``reindex`` (rebuild the search index)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlmodel import Session, col, select

from marketplace.accounts.models import Membership, Organisation, Role, User
from marketplace.accounts.services import user_by_email
from marketplace.db import unit_of_work
from marketplace.errors import DomainError


def _first_owner(session: Session, organisation: str) -> User | None:
    return session.exec(
        select(User)
        .join(Membership, col(Membership.user_id) == User.id)
        .join(Organisation, col(Organisation.id) == Membership.organisation_id)
        .where(Organisation.slug == organisation, Membership.role == Role.OWNER)
        .order_by(col(Membership.created_at), col(Membership.id))
    ).first()


def register(group: click.Group) -> None:
    group.add_command(import_command)
    group.add_command(reindex_command)


@click.command("import")
@with_appcontext
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--org", "organisation", required=True, help="Slug of the provider organisation the listings belong to.")
@click.option(
    "--as",
    "email",
    default=None,
    help="E-mail of the member recorded as the importer (default: the organisation's first owner).",
)
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "jsonl", "croissant"]), default=None, help="Default: from the file."
)
def import_command(file: Path, organisation: str, email: str | None, fmt: str | None) -> None:
    """Import listings from FILE (CSV, JSON Lines, or Croissant JSON-LD): all rows, or none if any row fails."""
    from marketplace.catalog.importer import import_catalog

    bar: Any = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = click.progressbar(length=total, label=f"Importing {file.name}", file=sys.stderr)
            bar.__enter__()
        bar.update(done - bar.pos)

    try:
        with unit_of_work(
            current_app.extensions["marketplace.db"], current_app.extensions["marketplace.context"]
        ) as uow:
            user = user_by_email(uow.session, email) if email else _first_owner(uow.session, organisation)
            if user is None:
                raise click.UsageError(
                    f"no account with the e-mail address {email}" if email else f"{organisation} has no owner"
                )
            report = import_catalog(
                uow,
                user,
                organisation=organisation,
                data=file.read_bytes(),
                filename=file.name,
                fmt=fmt,
                progress=progress,
            )
    except DomainError as error:
        if bar is not None:
            bar.__exit__(None, None, None)
        click.echo(f"error: {error.message}", err=True)
        for problem in error.details:
            where = f"{problem.location}: " if problem.location else ""
            click.echo(f"  {where}{problem.field}: {problem.message}", err=True)
        sys.exit(1)
    if bar is not None:
        bar.__exit__(None, None, None)
    click.echo(f"imported {report.total} listing(s): {report.summary()}")


@click.command("reindex")
@with_appcontext
@click.option("--check", is_flag=True, help="Also say whether the kept index differed (reads it all into memory).")
def reindex_command(check: bool) -> None:
    """Rebuild the whole search index in one transaction (searches keep reading the old one until it commits).

    Set-based: minutes per million listings on PostgreSQL. Prints the listings indexed; with ``--check``, whether
    the index kept on every write differed from the rebuild (it never should).
    """
    from marketplace.catalog import search_index

    with unit_of_work(current_app.extensions["marketplace.db"], current_app.extensions["marketplace.context"]) as uow:
        connection = uow.session.connection()
        before = search_index.snapshot(connection) if check else None
        total = search_index.rebuild(connection)
        drifted = check and before != search_index.snapshot(connection)
        uow.commit()
    verdict = "; the index had drifted" if drifted else ("; no difference" if check else "")
    click.echo(f"{total} published listing(s) indexed{verdict}")
