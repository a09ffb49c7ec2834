"""The signed session cookie, written again only when it changed or is due for renewal.

Flask's cookie session (``SecureCookieSessionInterface``) signs and sends a permanent session's cookie again on
every response, so that its expiry (``PERMANENT_SESSION_LIFETIME``, 14 days) keeps sliding with use. Every request
then paid for a JSON dump, an HMAC and a ``Set-Cookie`` header, although the cookie only said again what the
browser already held. :class:`RenewingSessionInterface` keeps the same cookie and the same sliding expiry, but
renews an unchanged cookie only once it is :data:`RENEW_AFTER` old: the session still ends
``PERMANENT_SESSION_LIFETIME`` after its last renewal, so at most :data:`RENEW_AFTER` earlier than before. A
changed session (log-in, log-out, a new CSRF token, a flash message) is written at once, as before.

The signing serializer depends only on the secret keys, so it is built once per key set rather than twice per
request. Signatures, their check and the cookie's maximum age are itsdangerous's, unchanged.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from itsdangerous import BadSignature, URLSafeTimedSerializer

__all__ = ["RENEW_AFTER", "RenewingSessionInterface", "SignedAtSession"]

#: How old an unchanged permanent session's cookie may get before a response renews it.
RENEW_AFTER = timedelta(minutes=5)


class SignedAtSession(SecureCookieSession):
    """The session, and when its cookie was signed (Unix seconds; ``None`` for a session without a cookie)."""

    signed_at: int | None = None


class RenewingSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, renewing an unchanged cookie only after :data:`RENEW_AFTER`."""

    session_class = SignedAtSession

    def __init__(self) -> None:
        self._serializers: dict[tuple[Any, ...], URLSafeTimedSerializer] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, *(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        serializer = self._serializers.get(keys)
        if serializer is None:
            serializer = super().get_signing_serializer(app)
            if serializer is None:
                return None
            self._serializers = {keys: serializer}  # a key rotation replaces it
        return serializer

    def open_session(self, app: Flask, request: Request) -> SignedAtSession | None:
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        try:
            data, signed_at = serializer.loads(value, max_age=max_age, return_timestamp=True)
        except BadSignature:
            return self.session_class()
        session = self.session_class(data)
        session.signed_at = int(signed_at.timestamp())
        return session

    def should_set_cookie(self, app: Flask, session: SessionMixin) -> bool:
        if session.modified:
            return True
        if not (session.permanent and app.config["SESSION_REFRESH_EACH_REQUEST"]):
            return False
        signed_at = getattr(session, "signed_at", None)
        return signed_at is None or time.time() - signed_at >= RENEW_AFTER.total_seconds()
