"""Wiring webhooks into the application: the dispatcher, the event subscription, the pages, the worker thread."""

from __future__ import annotations

import atexit

from flask import Flask

from marketplace import events
from marketplace.config import ConfigError
from marketplace.db import Database, ServiceContext
from marketplace.webhooks.dispatcher import WebhookDispatcher, parse_schedule
from marketplace.webhooks.services import on_event


def init_app(app: Flask, database: Database, context: ServiceContext) -> WebhookDispatcher:
    """Subscribe the outbox writer to every event and register the pages.

    With ``WEBHOOK_WORKER=thread`` each web process starts its delivery thread on its first request (after any
    fork, so it also works with gunicorn's ``preload_app``); tests start it themselves when they want it.
    """
    try:
        parse_schedule(context.settings["WEBHOOK_RETRY_SCHEDULE"])
    except ValueError as error:
        raise ConfigError(str(error)) from error
    dispatcher = WebhookDispatcher(database, context)
    context.webhooks = dispatcher
    dispose = database.dispose

    def _dispose_after_stopping_the_worker() -> None:
        dispatcher.stop()  # the worker must not outlive the engine it polls (tests dispose apps one by one)
        dispose()

    database.dispose = _dispose_after_stopping_the_worker  # type: ignore[method-assign]
    events.subscribe(context, on_event)

    from marketplace.webhooks.views import bp

    app.register_blueprint(bp)

    if context.settings["WEBHOOK_WORKER"] == "thread" and not app.config.get("TESTING"):

        @app.before_request
        def _ensure_webhook_worker() -> None:
            if not dispatcher.running:
                dispatcher.start()

        atexit.register(dispatcher.stop)
    return dispatcher
