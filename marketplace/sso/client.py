"""Authlib OpenID clients, one per organisation connection, registered on demand.

Each client is named after the connection's id *and a digest of its settings*, so changing an organisation's
settings (a new client secret, another issuer) takes effect at once: Authlib caches a client (and the provider's
metadata and keys) by name for the life of the process, and a database may reuse a deleted connection's id.
"""

from __future__ import annotations

import hashlib
from typing import Any

from authlib.integrations.flask_client import OAuth
from flask import Flask

from marketplace.sso.models import SsoConnection
from marketplace.sso.services import discovery_url

SCOPE = "openid email profile"


class SsoClients:
    """The application's Authlib registry of per-organisation OpenID clients."""

    def __init__(self, app: Flask) -> None:
        self.oauth = OAuth(app)
        self.timeout = float(app.config["SSO_TIMEOUT_SECONDS"])

    def client_for(self, connection: SsoConnection, client_secret: str) -> Any:
        """The Authlib client for ``connection`` (PKCE with S256; state and nonce are Authlib's, kept in the
        session and checked on the way back)."""
        digest = hashlib.sha256(
            "\n".join([connection.issuer, connection.client_id, connection.client_secret_ciphertext]).encode()
        ).hexdigest()[:16]
        name = f"sso{connection.id}_{digest}"
        client = self.oauth.create_client(name)
        if client is None:
            client = self.oauth.register(
                name,
                client_id=connection.client_id,
                client_secret=client_secret,
                server_metadata_url=discovery_url(connection.issuer),
                client_kwargs={"scope": SCOPE, "code_challenge_method": "S256", "default_timeout": self.timeout},
            )
        return client
