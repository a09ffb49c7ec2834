"""Wiring webhooks into the application: the dispatcher, the event subscription, the pages."""

from __future__ import annotations

from flask import Flask

from marketplace import events
from marketplace.config import ConfigError
from marketplace.db import Database, ServiceContext
from marketplace.webhooks.dispatcher import WebhookDispatcher, parse_schedule
from marketplace.webhooks.services import on_event


def init_app(app: Flask, database: Database, context: ServiceContext) -> WebhookDispatcher:
    """Subscribe the outbox writer to every event and register the pages; the job queue delivers."""
    try:
        parse_schedule(context.settings["WEBHOOK_RETRY_SCHEDULE"])
    except ValueError as error:
        raise ConfigError(str(error)) from error
    dispatcher = WebhookDispatcher(database, context)
    context.webhooks = dispatcher
    events.subscribe(context, on_event)

    from marketplace.webhooks.views import bp

    app.register_blueprint(bp)

    return dispatcher
