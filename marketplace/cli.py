"""The ``marketplace`` command: the Flask CLI (``run``, ``shell``, ``routes``) plus the marketplace commands."""

from __future__ import annotations

import os
import sys
from contextlib import AbstractContextManager
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup, with_appcontext
from flask.cli import run_command as flask_run_command

from marketplace.audit.cli import audit_group
from marketplace.db import Database, ServiceContext, UnitOfWork, unit_of_work
from marketplace.errors import DomainError


def _create_app() -> Flask:
    from marketplace import create_app
    from marketplace.config import ConfigError, exit_refusing

    try:
        return create_app()
    except ConfigError as error:
        exit_refusing(error)  # one line per unsafe setting and exit status 2, not a traceback


def _uow() -> AbstractContextManager[UnitOfWork]:
    database: Database = current_app.extensions["marketplace.db"]
    context: ServiceContext = current_app.extensions["marketplace.context"]
    return unit_of_work(database, context)


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
def main() -> None:
    """Dataset Marketplace: run the site and administer it."""


def development_base_url(host: str, port: int) -> str:
    """The site's address when the development server listens on ``host``:``port``.

    A server bound to every interface (``0.0.0.0``, ``::``) is reached locally at 127.0.0.1.
    """
    if host in ("", "0.0.0.0", "::", "[::]"):  # noqa: S104 (compared with, not bound to)
        host = "127.0.0.1"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


@click.command(
    "run",
    params=list(flask_run_command.params),
    help=(flask_run_command.help or "")
    + "\n\nIn development the site's address (BASE_URL, used in e-mailed links and the checkout) follows --host"
    " and --port unless BASE_URL is set.",
    short_help=flask_run_command.short_help,
)
@click.pass_context
def run_command(ctx: click.Context, /, **options: Any) -> None:
    """Flask's ``run``, and in development the site's address (``BASE_URL``) follows the port it serves on.

    Verification links, invitation links and the checkout's return addresses are built from ``BASE_URL``; with
    ``--port 5110`` they must point at port 5110, not at the default 5000. An explicit ``BASE_URL`` (environment
    or ``.env``) always wins, and production never guesses its address. The value is set in the environment, so
    the reloader's child process sees it too.
    """
    production = os.environ.get("MARKETPLACE_ENV", "development").strip() == "production"
    if not production and not os.environ.get("BASE_URL"):
        os.environ["BASE_URL"] = development_base_url(options["host"], options["port"])
    ctx.invoke(flask_run_command, **options)


main.add_command(run_command)
# On the top-level command (not the application's): ``audit verify`` checks a file offline, without creating the app.
main.add_command(audit_group)


def register_commands(app: Flask) -> None:
    """Attach the marketplace's command groups to ``app.cli`` (the FlaskGroup finds them there)."""
    app.cli.add_command(db_group)
    app.cli.add_command(users_group)
    app.cli.add_command(config_group)
    app.cli.add_command(seed)
    from marketplace.licenses.cli import grants_group, keys_group, license_group

    app.cli.add_command(license_group)
    app.cli.add_command(keys_group)
    from marketplace.crypto_cli import KEY_COMMANDS

    for command in KEY_COMMANDS:
        keys_group.add_command(command)
    app.cli.add_command(grants_group)
    app.cli.add_command(payments_group)
    from marketplace.webhooks.cli import webhooks_group

    app.cli.add_command(webhooks_group)
    from marketplace.delivery.cli import upload_command

    app.cli.add_command(upload_command)
    from marketplace.custom.cli import custom_group

    app.cli.add_command(custom_group)
    from marketplace.access.cli import access_group

    app.cli.add_command(access_group)
    app.cli.add_command(audit_group)


@click.group("db", cls=AppGroup)
def db_group() -> None:
    """Database schema migrations (Alembic)."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Migrate the database up to REVISION (default: the newest)."""
    from marketplace import migrate

    migrate.upgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"database is at {revision}")


@db_group.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Migrate the database down to REVISION (`base` removes every table)."""
    from marketplace import migrate

    migrate.downgrade(current_app.config["DATABASE_URL"], revision)


@db_group.command("current")
def db_current() -> None:
    """Show the database's current revision."""
    from marketplace import migrate

    migrate.current(current_app.config["DATABASE_URL"])


@db_group.command("revision")
@click.option("-m", "--message", required=True)
def db_revision(message: str) -> None:
    """Autogenerate a new revision from the models (review it before committing)."""
    from marketplace import migrate

    migrate.revision(current_app.config["DATABASE_URL"], message)


@click.group("users", cls=AppGroup)
def users_group() -> None:
    """User administration."""


@users_group.command("make-admin")
@click.argument("email")
@click.option("--revoke", is_flag=True, help="Take the platform-admin flag away instead.")
def make_admin(email: str, revoke: bool) -> None:
    """Give the account with EMAIL the platform-admin flag."""
    from marketplace.accounts.services import set_platform_admin

    try:
        with _uow() as uow:
            user = set_platform_admin(uow, email=email, admin=not revoke)
    except DomainError as error:
        click.echo(f"error: {error.message}", err=True)
        sys.exit(1)
    click.echo(f"{user.email} is {'no longer ' if revoke else ''}a platform admin")


@click.group("config", cls=AppGroup)
def config_group() -> None:
    """Settings."""


@config_group.command("docs")
def config_docs() -> None:
    """Print the settings table (Markdown) that the README carries."""
    from marketplace.config import settings_markdown_table

    click.echo(settings_markdown_table())


@click.command("seed")
@with_appcontext
def seed() -> None:
    """Load the demo data (idempotent: running it again changes nothing)."""
    from marketplace.seed import seed_demo

    with _uow() as uow:
        lines = seed_demo(uow)
    for line in lines:
        click.echo(line)


@click.group("payments", cls=AppGroup)
def payments_group() -> None:
    """Payments."""


@payments_group.command("reconcile")
@click.option("--older-than", default=5, show_default=True, help="Only orders waiting at least this many minutes.")
def payments_reconcile(older_than: int) -> None:
    """Ask the payment provider about orders and contract payments still waiting (for webhooks that never came),
    and retry transfers to providers of accepted milestones that failed."""
    from datetime import timedelta

    from marketplace.custom.escrow import reconcile as reconcile_contracts
    from marketplace.orders.services import reconcile

    with _uow() as uow:
        lines = reconcile(uow, older_than=timedelta(minutes=older_than))
        lines += reconcile_contracts(uow, older_than=timedelta(minutes=older_than))
    for line in lines or ["no order or contract payment is waiting"]:
        click.echo(line)
