"""The Dataset Marketplace web application: :func:`create_app` is its only entry point."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import Flask, g
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from marketplace.config import ConfigError, load_settings, unsafe_for_production
from marketplace.db import Database, ServiceContext
from marketplace.mail import mailer_from_settings

__all__ = ["ConfigError", "create_app"]

csrf = CSRFProtect()


class MarketplaceFlask(Flask):
    """Flask, plus the unit-of-work rule: a view that returns normally has its changes committed once.

    An exception escaping the view rolls everything back (in ``teardown``); side effects registered with the
    unit of work run only after the commit succeeded.
    """

    def dispatch_request(self) -> Any:
        response = self.make_response(super().dispatch_request())
        uow = g.get("uow")
        if uow is not None:
            uow.commit()
        return response


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the application from the environment, with ``overrides`` taking precedence.

    Raises :class:`ConfigError` naming each unsafe setting when ``MARKETPLACE_ENV=production`` is combined with
    a development default (secret key, SQLite, console mail, cheap password hashing, plain http).
    """
    settings = load_settings(overrides=overrides)
    if settings["MARKETPLACE_ENV"] == "production":
        problems = unsafe_for_production(settings)
        if problems:
            raise ConfigError("refusing to start in production: " + "; ".join(problems))

    app = MarketplaceFlask(__name__, instance_path=settings["INSTANCE_PATH"], instance_relative_config=False)
    app.config.update(settings)
    production = settings["MARKETPLACE_ENV"] == "production"
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=production,
        SESSION_COOKIE_NAME="marketplace_session",
        PERMANENT_SESSION_LIFETIME=timedelta(days=14),
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_SSL_STRICT=production,
        MAX_CONTENT_LENGTH=32 * 1024 * 1024,
    )
    logging.getLogger("marketplace").setLevel(settings["LOG_LEVEL"])
    if not logging.getLogger().handlers:
        logging.basicConfig(level=settings["LOG_LEVEL"], format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    if settings["TRUSTED_PROXIES"]:
        n = settings["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]

    database = Database(settings["DATABASE_URL"])
    mailer = mailer_from_settings(settings)
    app.extensions["marketplace.db"] = database
    app.extensions["marketplace.mailer"] = mailer
    context = ServiceContext(settings, mailer)
    app.extensions["marketplace.context"] = context

    from marketplace.licenses.keys import load_keyring

    context.extras["keyring"] = load_keyring(settings)

    from marketplace.orders.payments import PaymentConfigError, payment_backend_from_settings

    try:
        context.extras["payments"] = payment_backend_from_settings(settings)
    except PaymentConfigError as error:
        raise ConfigError(str(error)) from error

    from storage import LocalStorage, StorageConfigError, make_wsgi_app, storage_from_settings

    try:
        context.extras["storage"] = storage_from_settings(settings)
    except StorageConfigError as error:
        raise ConfigError(str(error)) from error
    local_storage = context.extras["storage"].default
    if isinstance(local_storage, LocalStorage):
        # The local backend's signed links are served by its own WSGI app, mounted at its base URL's path.
        from werkzeug.middleware.dispatcher import DispatcherMiddleware

        from marketplace.delivery.app import storage_mount_path

        mount = storage_mount_path(settings)
        if mount:
            app.wsgi_app = DispatcherMiddleware(  # type: ignore[method-assign]
                app.wsgi_app, {mount: make_wsgi_app(local_storage)}
            )

    csrf.init_app(app)
    from marketplace.licenses.facets import register_offer_facets

    register_offer_facets()  # the catalog's facets from offers (license family, AI training), after its own

    from marketplace import security
    from marketplace.accounts.views import bp as accounts_bp
    from marketplace.api import bp as api_bp
    from marketplace.handlers import register_error_handlers
    from marketplace.pages import bp as pages_bp

    app.register_blueprint(pages_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(api_bp)
    from marketplace.catalog.views import bp as catalog_bp

    app.register_blueprint(catalog_bp)
    from marketplace.licenses.views import bp as licenses_bp

    app.register_blueprint(licenses_bp)
    from marketplace.orders.views import bp as orders_bp
    from marketplace.orders.views import register_template_helpers as register_order_helpers
    from marketplace.orders.views import stripe_webhook

    app.register_blueprint(orders_bp)
    csrf.exempt(stripe_webhook)  # Authenticated by the Stripe-Signature header instead.
    register_order_helpers(app)
    from marketplace.delivery.app import init_app as init_delivery

    init_delivery(app)
    from marketplace.sso.app import init_app as init_sso
    from marketplace.webhooks.app import init_app as init_webhooks

    init_webhooks(app, database, context)  # outbound webhooks: event subscriber, pages, delivery worker
    init_sso(app)
    csrf.exempt(api_bp)  # The API authenticates with bearer keys, never with the session cookie.
    from marketplace.api import init_app as init_api
    from marketplace.apikeys.views import bp as apikeys_bp
    from marketplace.oauth.server import bp as oauth_bp

    init_api(app)  # rate limits, OAuth token endpoint, `marketplace api` commands
    csrf.exempt(oauth_bp)  # Authenticated by client credentials instead.
    app.register_blueprint(apikeys_bp)
    register_error_handlers(app)
    security.init_app(app)

    @app.teardown_request
    def _close_unit_of_work(exc: BaseException | None) -> None:
        uow = g.pop("uow", None)
        if uow is not None:
            if not uow.committed:
                uow.rollback()
            uow.close()

    @app.context_processor
    def _template_globals() -> dict[str, Any]:
        from marketplace.web import current_user

        return {"current_user": current_user(), "marketplace_env": settings["MARKETPLACE_ENV"]}

    from marketplace.cli import register_commands

    register_commands(app)
    return app
