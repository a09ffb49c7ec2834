"""``marketplace custom sweep``: expire quotes past their validity and requests past their deadline, and accept
milestones whose review period ended in silence (cron); ``reconcile`` and ``decide`` (contracts)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from marketplace.custom.commands import decide_command, reconcile_command
from marketplace.custom.milestones import sweep as sweep_milestones
from marketplace.custom.quotes import sweep
from marketplace.db import Database, ServiceContext, unit_of_work


@click.group("custom", cls=AppGroup)
def custom_group() -> None:
    """Custom datasets: requests for data, quotes and contracts."""


@custom_group.command("sweep")
def sweep_command() -> None:
    """Expire standing quotes whose validity ended and requests whose deadline passed without an award.

    Safe to run as often as you like (each run moves only what is due); prints how many of each moved.
    """
    database: Database = current_app.extensions["marketplace.db"]
    context: ServiceContext = current_app.extensions["marketplace.context"]
    with unit_of_work(database, context) as uow:
        counts = sweep(uow)
        accepted = sweep_milestones(uow)
    click.echo(f"{counts['quotes_expired']} quote(s) expired, {counts['requests_expired']} request(s) expired")
    click.echo(f"{len(accepted)} milestone(s) accepted after the review period")
    for line in accepted:
        click.echo(line)


custom_group.add_command(reconcile_command)
custom_group.add_command(decide_command)
