"""``marketplace api ...``: run queued API jobs, and purge expired idempotency records and OAuth tokens."""

from __future__ import annotations

from datetime import timedelta

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from marketplace.apikeys.models import IdempotencyRecord
from marketplace.db import Database, ServiceContext, unit_of_work
from marketplace.oauth.models import OAuthToken


@click.group("api", cls=AppGroup)
def api_group() -> None:
    """The JSON API's background work."""


@api_group.command("run-jobs")
def run_jobs() -> None:
    """Run every API job still queued (e.g. left by a restarted process)."""
    context: ServiceContext = current_app.extensions["marketplace.context"]
    if context.jobs is None:
        raise click.ClickException("API jobs are not set up in this application")
    count = context.jobs.run_queued()
    click.echo(f"{count} job(s) run")


@api_group.command("purge")
def purge() -> None:
    """Delete idempotency records past their 24 hours and OAuth tokens expired for more than a day."""
    database: Database = current_app.extensions["marketplace.db"]
    context: ServiceContext = current_app.extensions["marketplace.context"]
    with unit_of_work(database, context) as work:
        now = work.now()
        records = work.session.execute(sa.delete(IdempotencyRecord).where(sa.column("expires_at") <= now)).rowcount  # type: ignore[attr-defined]
        tokens = work.session.execute(
            sa.delete(OAuthToken).where(sa.column("expires_at") <= now - timedelta(days=1))
        ).rowcount  # type: ignore[attr-defined]
    click.echo(f"{records} idempotency record(s), {tokens} token(s) deleted")
