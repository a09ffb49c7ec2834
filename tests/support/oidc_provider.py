"""A real OpenID provider for tests, built from Authlib's server components, on a free loopback port.

It speaks the authorization code flow with PKCE (``CodeChallenge``) and OpenID Connect (``OpenIDCode``): a
discovery document, a JWKS with an RSA key, ``/authorize`` (which approves at once as :attr:`OidcProvider.user`,
there is no log-in page), ``/token`` (codes work once) and ``/userinfo``. Tests steer it: who the user is, what
the ID token says (``id_token_overrides``, e.g. another ``aud``), and they can read every authorization request.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import ClientMixin
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from authlib.oidc.core.models import AuthorizationCodeMixin
from flask import Flask, jsonify, request
from joserfc.jwk import RSAKey
from werkzeug.serving import make_server

CODE_LIFETIME = 600


@dataclass
class Client(ClientMixin):
    client_id: str
    client_secret: str
    redirect_uris: list[str]

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope: str) -> str:
        allowed = {"openid", "email", "profile"}
        return " ".join(s for s in (scope or "").split() if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(self.client_secret, client_secret or "")

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint != "token" or method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class Code(AuthorizationCodeMixin):
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    user: dict[str, Any]
    issued_at: float = field(default_factory=time.time)

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return int(self.issued_at)

    def get_acr(self) -> str:
        return ""

    def get_amr(self) -> list[str]:
        return []


class OidcProvider:
    """The provider; :meth:`start` serves it in a thread, :attr:`issuer` is its address."""

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key-1", "use": "sig", "alg": "RS256"})
        self.clients: dict[str, Client] = {}
        self.codes: dict[str, Code] = {}
        self.tokens: dict[str, dict[str, Any]] = {}
        self.authorization_requests: list[dict[str, str]] = []
        self.token_requests = 0
        self.user: dict[str, Any] = {"sub": "user-1", "email": "ada@acme.test", "email_verified": True, "name": "Ada"}
        self.id_token_overrides: dict[str, Any] = {}
        #: Sign ID tokens with this key instead of the published one (a forged token, as far as clients can tell).
        self.signing_key: RSAKey | None = None
        self.issuer = ""
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.app = self._build_app()

    # --- control ---

    def add_client(self, redirect_uri: str, client_id: str | None = None) -> Client:
        client = Client(client_id or "client-" + secrets.token_hex(4), "secret-" + secrets.token_hex(8), [redirect_uri])
        self.clients[client.client_id] = client
        return client

    def start(self) -> OidcProvider:
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.issuer = f"http://127.0.0.1:{self._server.socket.getsockname()[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def reset(self) -> None:
        self.codes.clear()
        self.tokens.clear()
        self.authorization_requests.clear()
        self.id_token_overrides = {}
        self.signing_key = None
        self.user = {"sub": "user-1", "email": "ada@acme.test", "email_verified": True, "name": "Ada"}

    # --- the Authlib server ---

    def _build_app(self) -> Flask:
        provider = self
        app = Flask("oidc_provider")
        app.config["SECRET_KEY"] = secrets.token_hex(16)

        class CodeGrant(AuthorizationCodeGrant):
            TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

            def save_authorization_code(self, code: str, req: Any) -> None:
                data = req.payload.data
                provider.codes[code] = Code(
                    code=code,
                    client_id=req.client.get_client_id(),
                    redirect_uri=req.payload.redirect_uri or "",
                    scope=req.payload.scope or "",
                    nonce=data.get("nonce"),
                    code_challenge=data.get("code_challenge"),
                    code_challenge_method=data.get("code_challenge_method"),
                    user=dict(req.user),
                )

            def query_authorization_code(self, code: str, client: Any) -> Code | None:
                found = provider.codes.get(code)
                if (
                    found
                    and found.client_id == client.get_client_id()
                    and time.time() - found.issued_at < CODE_LIFETIME
                ):
                    return found
                return None

            def delete_authorization_code(self, authorization_code: Code) -> None:
                provider.codes.pop(authorization_code.code, None)  # a code works once

            def authenticate_user(self, authorization_code: Code) -> dict[str, Any]:
                return authorization_code.user

        class OpenIDCodeExtension(OpenIDCode):
            def exists_nonce(self, nonce: str, req: Any) -> bool:
                return any(c.nonce == nonce for c in provider.codes.values())

            def resolve_client_private_key(self, client: Any) -> Any:
                return provider.signing_key or provider.key

            def get_client_algorithm(self, client: Any) -> str:
                return "RS256"

            def get_encode_header(self, client: Any) -> dict[str, str]:
                return {"alg": "RS256", "kid": "test-key-1"}

            def get_client_claims(self, client: Any) -> dict[str, Any]:
                return {"iss": provider.issuer, "aud": [client.get_client_id()], **provider.id_token_overrides}

            def generate_user_info(self, user: dict[str, Any], scope: str) -> UserInfo:
                info = UserInfo(sub=user["sub"])
                if "email" in scope:
                    info["email"] = user.get("email")
                    info["email_verified"] = user.get("email_verified")
                if "profile" in scope:
                    info["name"] = user.get("name", "")
                return info

        def save_token(token: dict[str, Any], req: Any) -> None:
            provider.tokens[token["access_token"]] = dict(req.user)

        server = AuthorizationServer(app, query_client=self.clients.get, save_token=save_token)
        server.register_grant(CodeGrant, [CodeChallenge(required=True), OpenIDCodeExtension(require_nonce=True)])

        @app.get("/.well-known/openid-configuration")
        def discovery() -> Any:
            base = provider.issuer
            return jsonify(
                issuer=base,
                authorization_endpoint=f"{base}/authorize",
                token_endpoint=f"{base}/token",
                userinfo_endpoint=f"{base}/userinfo",
                jwks_uri=f"{base}/jwks",
                response_types_supported=["code"],
                subject_types_supported=["public"],
                id_token_signing_alg_values_supported=["RS256"],
                code_challenge_methods_supported=["S256"],
                scopes_supported=["openid", "email", "profile"],
                token_endpoint_auth_methods_supported=["client_secret_basic", "client_secret_post"],
            )

        @app.get("/jwks")
        def jwks() -> Any:
            return jsonify(keys=[provider.key.as_dict(private=False)])

        @app.get("/authorize")
        def authorize() -> Any:
            provider.authorization_requests.append(request.args.to_dict())
            user = dict(provider.user)
            try:
                grant = server.get_consent_grant(end_user=user)
            except OAuth2Error as error:
                return server.handle_error_response(None, error)
            return server.create_authorization_response(grant=grant, grant_user=user)

        @app.post("/token")
        def token() -> Any:
            provider.token_requests += 1
            return server.create_token_response()

        @app.get("/userinfo")
        def userinfo() -> Any:
            header = request.headers.get("Authorization", "")
            user = provider.tokens.get(header.removeprefix("Bearer ").strip())
            if user is None:
                return jsonify(error="invalid_token"), 401
            return jsonify({k: v for k, v in user.items() if k in ("sub", "email", "email_verified", "name")})

        return app
