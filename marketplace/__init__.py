"""The Dataset Marketplace web application: :func:`create_app` is its only entry point."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import Flask, g
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from marketplace.config import ConfigError, load_settings
from marketplace.crypto import key_material_problems
from marketplace.db import Database, ServiceContext
from marketplace.logs import configure_logging, install_redaction
from marketplace.mail import mailer_from_settings
from marketplace.production_settings import unsafe_for_production
from marketplace.session_cookie import RenewingSessionInterface

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
    a development default (secret key, SQLite, console mail, cheap password hashing, plain http), and when a
    backend (payments, storage, webhooks) cannot be built from its settings.
    """
    settings = _checked_settings(overrides)
    app = _flask_app(settings)
    context = _services(app, settings)
    register_catalog_facets()
    _blueprints(app, context)
    _hooks(app, settings)
    return app


def _checked_settings(overrides: dict[str, Any] | None) -> dict[str, Any]:
    """The settings, refused as a whole when production is combined with an unsafe one."""
    settings = load_settings(overrides=overrides)
    if settings["MARKETPLACE_ENV"] == "production":
        problems = unsafe_for_production(settings)
    else:
        problems = key_material_problems(settings, required=False)
    if problems:
        raise ConfigError(*problems)
    return settings


def _flask_app(settings: dict[str, Any]) -> MarketplaceFlask:
    """The Flask object with its cookie, CSRF, upload-size and logging settings, behind any trusted proxies."""
    app = MarketplaceFlask(__name__, instance_path=settings["INSTANCE_PATH"], instance_relative_config=False)
    app.session_interface = RenewingSessionInterface()  # an unchanged cookie is not signed again on every response
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
    configure_logging(settings["LOG_LEVEL"], settings["LOG_FORMAT"])  # JSON lines in production (marketplace/logs.py)
    install_redaction()  # no token or link signature in any log line (marketplace/logs.py)
    if settings["TRUSTED_PROXIES"]:
        n = settings["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    csrf.init_app(app)
    return app


def _services(app: Flask, settings: dict[str, Any]) -> ServiceContext:
    """The database, the mailer and every backend the services use, as the typed :class:`ServiceContext`."""
    from marketplace.jobs.app import queue_from_settings
    from marketplace.licenses.keys import load_keyring
    from marketplace.orders.payments import PaymentConfigError, payment_backend_from_settings
    from storage import StorageConfigError, storage_from_settings

    database = Database(settings["DATABASE_URL"])
    mailer = mailer_from_settings(settings)
    context = ServiceContext(settings, mailer)
    app.extensions["marketplace.db"] = database
    app.extensions["marketplace.mailer"] = mailer
    app.extensions["marketplace.context"] = context
    context.keyring = load_keyring(settings)
    try:
        context.payments = payment_backend_from_settings(settings)
        context.storage = storage_from_settings(settings)
    except (PaymentConfigError, StorageConfigError) as error:
        raise ConfigError(str(error)) from error
    context.queue = queue_from_settings(database, context)
    _mount_local_storage(app, database, context)
    return context


def _mount_local_storage(app: Flask, database: Database, context: ServiceContext) -> None:
    """Serve the local backend's signed links from its own WSGI app, mounted at its base URL's path."""
    from werkzeug.middleware.dispatcher import DispatcherMiddleware

    from marketplace.delivery.app import link_reference_check, storage_mount_path
    from storage import LocalStorage, make_wsgi_app

    assert context.storage is not None
    local_storage = context.storage.default
    if not isinstance(local_storage, LocalStorage):
        return
    mount = storage_mount_path(context.settings)
    if mount:
        # Every download link is checked against its grant before a byte is served (a refund stops it at once).
        served = make_wsgi_app(local_storage, reference_check=link_reference_check(database, context))
        app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {mount: served})  # type: ignore[method-assign]


def register_catalog_facets() -> None:
    """The catalog's facets that come from offers (license family, AI training) and from the AI Act documentation
    packs, registered after its own, and the search index's hooks that keep it in step with all of them (the
    migration that fills the index and the benchmark call this too, without an app)."""
    from marketplace.aiact.status import register_ai_act_facet
    from marketplace.catalog import search_index
    from marketplace.licenses.facets import register_offer_facets

    register_offer_facets()
    register_ai_act_facet()
    search_index.install()


def _blueprints(app: Flask, context: ServiceContext) -> None:
    """Every area of the site and the API, with its template helpers and CSRF exemptions."""
    from marketplace.accounts.views import bp as accounts_bp
    from marketplace.aiact.views import bp as aiact_bp
    from marketplace.api import bp as api_bp
    from marketplace.api import init_app as init_api
    from marketplace.apikeys.views import bp as apikeys_bp
    from marketplace.catalog.views import bp as catalog_bp
    from marketplace.custom.contract_views import bp as contracts_bp
    from marketplace.custom.views import bp as custom_bp
    from marketplace.delivery.app import init_app as init_delivery
    from marketplace.health import init_app as init_health
    from marketplace.invoices.views import bp as invoices_bp
    from marketplace.labels import register_template_helpers as register_label_helpers
    from marketplace.licenses.term_form import register_template_helpers as register_term_helpers
    from marketplace.licenses.views import bp as licenses_bp
    from marketplace.oauth.server import bp as oauth_bp
    from marketplace.orders.views import bp as orders_bp
    from marketplace.orders.views import register_template_helpers as register_order_helpers
    from marketplace.orders.views import stripe_webhook
    from marketplace.pages import bp as pages_bp
    from marketplace.sso.app import init_app as init_sso
    from marketplace.webhooks.app import init_app as init_webhooks
    from marketplace.withdrawals.views import bp as withdrawals_bp

    app.register_blueprint(pages_bp)
    init_health(app)  # /healthz (liveness), /readyz (database, Redis, storage)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(catalog_bp)
    app.register_blueprint(aiact_bp)  # AI Act documentation packs: JSON, PDF, the provider's sign-off
    app.register_blueprint(licenses_bp)
    app.register_blueprint(orders_bp)
    app.register_blueprint(invoices_bp)  # invoices and credit notes of orders, as PDF
    app.register_blueprint(custom_bp)  # requests for data, quotes, conversations
    app.register_blueprint(contracts_bp)  # contracts: pay, deliver, review, escalate, decide
    csrf.exempt(stripe_webhook)  # Authenticated by the Stripe-Signature header instead.
    register_order_helpers(app)
    register_label_helpers(app)  # |state and |field_label: states and field names in words
    register_term_helpers(app)  # one input per license term on offer, request and quote forms
    init_delivery(app)
    init_webhooks(app, app.extensions["marketplace.db"], context)  # event subscriber, pages, delivery worker
    init_sso(app)
    csrf.exempt(api_bp)  # The API authenticates with bearer keys, never with the session cookie.
    init_api(app)  # rate limits, OAuth token endpoint, `marketplace api` commands
    csrf.exempt(oauth_bp)  # Authenticated by client credentials instead.
    app.register_blueprint(apikeys_bp)
    app.register_blueprint(withdrawals_bp)  # withdrawals: file, publish the patch, licensees confirm deletion
    from marketplace.viewer.views import bp as viewer_bp

    app.register_blueprint(viewer_bp)  # the data viewer: rows, search and statistics of samples and licensed files
    from marketplace.audit.views import bp as audit_bp

    app.register_blueprint(audit_bp)  # the organisation's tamper-evident audit log
    from marketplace.sharing.views import bp as sharing_bp

    app.register_blueprint(sharing_bp)  # the Delta Sharing protocol's read endpoints under /delta-sharing
    csrf.exempt(sharing_bp)  # Authenticated by recipient profiles' bearer tokens, never with the session cookie.
    from marketplace.sharing.pages import bp as sharing_pages_bp

    app.register_blueprint(sharing_pages_bp)  # the license page's recipient profiles (CSRF-protected forms)
    from marketplace.exports.views import bp as exports_bp

    app.register_blueprint(exports_bp)  # delivery into the licensee's own bucket
    from marketplace.analytics.views import bp as analytics_bp
    from marketplace.analytics.views import offer_viewed

    app.register_blueprint(analytics_bp)  # the provider's analytics: funnel, downloads, revenue, CSV
    csrf.exempt(offer_viewed)  # A count only, sent without a session; cross-site requests are not counted.
    _governed_access(app, context)
    _notifications(app, context)
    _jobs(app, context)


def _notifications(app: Flask, context: ServiceContext) -> None:
    """The bell, ``/notifications`` and the preferences page; the one subscriber that turns domain events into
    notices (in the site and by mail, as each person chose) for listings, orders, access, requests and contracts."""
    from marketplace.notifications.subscriber import subscribe_notifications
    from marketplace.notifications.views import init_app as init_notifications

    init_notifications(app)
    subscribe_notifications(context)


def _jobs(app: Flask, context: ServiceContext) -> None:
    """The job queue's admin pages, readiness probe and commands (``marketplace worker``, ``marketplace jobs``)."""
    from marketplace.jobs.app import init_app as init_jobs

    assert context.queue is not None
    init_jobs(app, context.queue)


def _governed_access(app: Flask, context: ServiceContext) -> None:
    """The governed-access pages and ``marketplace access digest`` (its notices: the notifications subscriber)."""
    from marketplace.access.cli import access_group
    from marketplace.access.notify import digest_command
    from marketplace.access.review_views import bp as access_review_bp
    from marketplace.access.views import bp as access_bp

    app.register_blueprint(access_bp)
    app.register_blueprint(access_review_bp)
    access_group.add_command(digest_command)


def _hooks(app: Flask, settings: dict[str, Any]) -> None:
    """Error pages, security headers, the unit of work's teardown, template globals and the CLI commands."""
    from marketplace import logs, metrics, security
    from marketplace.cli import register_commands
    from marketplace.handlers import register_error_handlers

    register_error_handlers(app)
    security.init_app(app)
    logs.init_app(app)  # request id, user and organisation in every record; one access line per request
    metrics.init_app(app)  # /metrics (token or allowed network), request latency per route

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

    register_commands(app)
