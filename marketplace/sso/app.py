"""Wiring single sign-on into the application: the Authlib registry and the pages."""

from __future__ import annotations

from flask import Flask

from marketplace.sso.client import SsoClients


def init_app(app: Flask) -> SsoClients:
    clients = SsoClients(app)
    app.extensions["marketplace.sso"] = clients

    from marketplace.sso.views import bp

    app.register_blueprint(bp)
    return clients
