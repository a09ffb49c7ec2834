"""Small helpers for driving the site through the Flask test client."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from marketplace.mail import ConsoleMailer

_CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    page = client.get(path).get_data(as_text=True)
    match = _CSRF_RE.search(page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def post_form(client: FlaskClient, path: str, data: dict[str, str], *, token_from: str | None = None, **kw):  # type: ignore[no-untyped-def]
    token = csrf_token(client, token_from or "/login")
    return client.post(path, data={**data, "csrf_token": token}, **kw)


def log_in(client: FlaskClient, email: str, password: str):  # type: ignore[no-untyped-def]
    return post_form(client, "/login", {"email": email, "password": password})


def link_from(outbox: ConsoleMailer, to: str, path_prefix: str) -> str:
    """The path (with query) of the last link in mail to ``to`` whose path starts with ``path_prefix``."""
    for message in reversed(outbox.messages_to(to)):
        match = re.search(r"https?://[^/\s]+(" + re.escape(path_prefix) + r"[^\s]*)", message.body)
        if match:
            return match.group(1)
    raise AssertionError(f"no mail to {to} with a link to {path_prefix}")
