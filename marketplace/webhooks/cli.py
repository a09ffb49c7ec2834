"""``marketplace webhooks deliver``: deliver the webhooks that are due, now."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from marketplace.db import ServiceContext
from marketplace.webhooks.dispatcher import WebhookDispatcher, pending_count

MAX_ROUNDS = 10_000


@click.group("webhooks", cls=AppGroup)
def webhooks_group() -> None:
    """Outbound webhooks."""


def _dispatcher() -> WebhookDispatcher:
    context: ServiceContext = current_app.extensions["marketplace.context"]
    if context.webhooks is None:
        raise click.ClickException("outbound webhooks are not set up in this application")
    return context.webhooks


@webhooks_group.command("deliver")
@click.option(
    "--timeout", type=float, default=None, help="Seconds to wait for each receiver [WEBHOOK_TIMEOUT_SECONDS]."
)
def deliver(timeout: float | None) -> None:
    """Send every delivery that is due now (retries included), then stop.

    ``marketplace worker`` delivers continuously; this is for an operator who wants it done now. It may run beside
    the workers: each delivery is claimed by one.
    """
    dispatcher = _dispatcher()
    if timeout is not None:
        dispatcher.settings["WEBHOOK_TIMEOUT_SECONDS"] = timeout
    total = 0
    for _ in range(MAX_ROUNDS):
        claimed = dispatcher.deliver_due()
        total += claimed
        if claimed == 0:
            break
    click.echo(f"{total} deliveries attempted; {pending_count(dispatcher.database)} waiting for a retry")
