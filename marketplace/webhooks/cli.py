"""``marketplace webhooks deliver [--loop]``: deliver due webhooks from a cron job or a worker process."""

from __future__ import annotations

import signal
import threading
from types import FrameType

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
@click.option("--loop", is_flag=True, help="Keep running and deliver as deliveries fall due (a worker process).")
@click.option("--interval", type=float, default=None, help="Seconds between polls with --loop [WEBHOOK_POLL_SECONDS].")
@click.option(
    "--timeout", type=float, default=None, help="Seconds to wait for each receiver [WEBHOOK_TIMEOUT_SECONDS]."
)
def deliver(loop: bool, interval: float | None, timeout: float | None) -> None:
    """Send every delivery that is due now (retries included), then stop, or keep going with --loop.

    Several of these (and the web processes' own workers) may run at once: each delivery is claimed by one.
    """
    dispatcher = _dispatcher()
    if timeout is not None:
        dispatcher.settings["WEBHOOK_TIMEOUT_SECONDS"] = timeout
    if not loop:
        total = 0
        for _ in range(MAX_ROUNDS):
            claimed = dispatcher.deliver_due()
            total += claimed
            if claimed == 0:
                break
        click.echo(f"{total} deliveries attempted; {pending_count(dispatcher.database)} waiting for a retry")
        return

    stop = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    pause = interval if interval is not None else float(dispatcher.settings["WEBHOOK_POLL_SECONDS"])
    click.echo(f"delivering webhooks every {pause:g} s; stop with Ctrl-C or SIGTERM")
    while not stop.is_set():
        try:
            claimed = dispatcher.deliver_due()
        except Exception as error:  # the database may be briefly unavailable: keep the worker alive
            click.echo(f"delivery round failed: {error}", err=True)
            claimed = 0
        if claimed < dispatcher.batch_size:
            stop.wait(pause)
