"""The token endpoint ``POST /oauth/token``: Authlib's authorization server with the client-credentials grant only.

Authlib's stock client and token mixins keep secrets in the clear; here the client is an adapter over
:class:`~marketplace.oauth.models.OAuthClient` that checks the secret against its peppered HMAC in constant time,
and ``save_token`` keeps only the token's digest. ``OAUTH2_SCOPES_SUPPORTED`` makes Authlib refuse unknown scopes,
and :class:`ClientCredentials` refuses scopes the client was not given (Authlib would silently drop them).
Errors use RFC 6749's shape (``{"error": "invalid_client", "error_description": ...}``), which OAuth client
libraries expect.
"""

from __future__ import annotations

from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin
from authlib.oauth2.rfc6749.errors import InvalidScopeError
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant
from authlib.oauth2.rfc6749.util import scope_to_list
from flask import Blueprint, Flask, current_app
from werkzeug.wrappers import Response

from marketplace.apikeys import tokens
from marketplace.apikeys.scopes import SCOPES
from marketplace.apikeys.services import peppers
from marketplace.crypto import Peppers
from marketplace.oauth import services
from marketplace.oauth.models import OAuthClient
from marketplace.web import client_ip, uow

bp = Blueprint("oauth", __name__)


class Client(ClientMixin):  # type: ignore[misc]
    """Authlib's view of a stored client: confidential, client-credentials only, secret checked against a hash."""

    def __init__(self, row: OAuthClient, ring: Peppers) -> None:
        self.row = row
        self._peppers = ring

    def get_client_id(self) -> str:
        return self.row.client_id

    def get_default_redirect_uri(self) -> None:
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        allowed = self.row.scope_list
        if not scope:
            return " ".join(allowed)
        return " ".join(s for s in scope_to_list(scope) if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        """Constant-time check under the pepper the row names; a secret hashed under another pepper than the
        writing one is re-hashed under it (written with the token the request issues)."""
        ok = tokens.well_formed(client_secret, tokens.CLIENT_SECRET_PREFIX) and self._peppers.matches(
            client_secret, self.row.pepper_id, self.row.secret_hash
        )
        if ok and self.row.pepper_id != self._peppers.writing_id:
            self.row.pepper_id, self.row.secret_hash = self._peppers.digest(client_secret)
        return ok

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint == "token" and method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "client_credentials"


class ClientCredentials(ClientCredentialsGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def validate_token_request(self) -> None:
        super().validate_token_request()
        requested = scope_to_list(self.request.payload.scope) or []
        missing = [s for s in requested if s not in self.request.client.row.scope_list]
        if missing:
            raise InvalidScopeError(description="This client was not given the scope(s): " + " ".join(missing))


def _query_client(client_id: str) -> Client | None:
    row = services.usable_client(uow(), client_id)
    return Client(row, peppers(current_app.config)) if row is not None else None


def _save_token(token: dict[str, Any], request: Any) -> None:
    services.store_token(uow(), request.client.row, token["access_token"], token.get("scope", ""), ip=client_ip())


def _generate_token(
    grant_type: str,
    client: Client,
    user: Any = None,
    scope: str | None = None,
    expires_in: int | None = None,
    include_refresh_token: bool = False,
) -> dict[str, Any]:
    lifetime = int(current_app.config["OAUTH_TOKEN_SECONDS"])
    return {
        "token_type": "Bearer",
        "access_token": tokens.new_secret(tokens.ACCESS_TOKEN_PREFIX),
        "expires_in": lifetime,
        "scope": client.get_allowed_scope(scope),
    }


def init_app(app: Flask) -> None:
    """Create the application's authorization server and mount ``/oauth/token``."""
    app.config["OAUTH2_SCOPES_SUPPORTED"] = list(SCOPES)
    server = AuthorizationServer()
    server.init_app(app, query_client=_query_client, save_token=_save_token)
    server.register_token_generator("default", _generate_token)
    server.register_grant(ClientCredentials)
    app.extensions["marketplace.oauth"] = server
    app.register_blueprint(bp)


@bp.post("/oauth/token")
def token() -> Response:
    """Client credentials in (HTTP Basic or form fields), a short-lived bearer token out."""
    server: AuthorizationServer = current_app.extensions["marketplace.oauth"]
    response: Response = server.create_token_response()
    return response
