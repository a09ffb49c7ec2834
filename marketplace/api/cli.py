"""``marketplace api purge``: delete expired idempotency records and OAuth tokens now (the job queue does it
hourly)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from marketplace.api.maintenance import purge_expired


@click.group("api", cls=AppGroup)
def api_group() -> None:
    """The JSON API's housekeeping."""


@api_group.command("purge")
def purge() -> None:
    """Delete idempotency records past their 24 hours and OAuth tokens expired for more than a day."""
    from marketplace.cli import _uow

    with _uow() as work:
        records, tokens = purge_expired(work)
    click.echo(f"{records} idempotency record(s), {tokens} token(s) deleted")
