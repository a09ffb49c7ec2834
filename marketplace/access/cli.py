"""``marketplace access sweep``: end access whose term ended and give 14-day notices (run it daily, e.g. by cron,
until the job queue runs it)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

access_group = AppGroup("access", help="Governed access: sweeps.")


@access_group.command("sweep")
def sweep_command() -> None:
    """Expire ended approvals and credentials, and send the notices due 14 days before."""
    from marketplace.access.holders import sweep
    from marketplace.cli import _uow

    with _uow() as work:
        report = sweep(work)
    click.echo(
        f"approvals expired: {len(report.approvals_expired)}, credentials expired: {len(report.credentials_expired)}, "
        f"notices: {len(report.approval_notices)} approvals, {len(report.credential_notices)} credentials"
    )
