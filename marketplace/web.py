"""Request plumbing shared by every blueprint: the request's unit of work, the current user, input parsing.

The unit of work is opened lazily for each request and committed by the application once the view has
returned (see ``MarketplaceFlask.dispatch_request``); a view that catches a domain error to re-render a form
calls :func:`discard_changes` first, so the failed attempt leaves nothing behind.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import current_app, g, has_request_context, redirect, request, session, url_for
from marshmallow import Schema
from marshmallow import ValidationError as MarshmallowError
from werkzeug.wrappers import Response

from marketplace.accounts.models import User
from marketplace.db import Database, ServiceContext, UnitOfWork, limit_statement_time, read_only_on_sqlite
from marketplace.errors import NotAuthenticated, ValidationFailed
from marketplace.forms import field_problems
from marketplace.labels import describe_problems
from marketplace.logs import identify

F = TypeVar("F", bound=Callable[..., Any])


def database() -> Database:
    return cast(Database, current_app.extensions["marketplace.db"])


def service_context() -> ServiceContext:
    return cast(ServiceContext, current_app.extensions["marketplace.context"])


#: Endpoints whose request never writes through its unit of work: searching the catalog, the page and the API (the
#: API key's last use is written afterwards in a unit of work of its own). On SQLite their transactions take no
#: write lock (:func:`marketplace.db.read_only_on_sqlite`). An endpoint that writes must not be listed.
READ_ONLY_ENDPOINTS = frozenset({"catalog.catalog", "api.catalog_search_datasets"})


def uow() -> UnitOfWork:
    """The unit of work of the current request, opened on first use."""
    if "uow" not in g:
        context = service_context()
        session = database().session()
        # A web request never waits on one statement for long (the CLI and jobs have no such limit).
        limit_statement_time(session, int(context.settings.get("DATABASE_STATEMENT_TIMEOUT_MS") or 0))
        if has_request_context() and request.method in ("GET", "HEAD") and request.endpoint in READ_ONLY_ENDPOINTS:
            read_only_on_sqlite(session)
        g.uow = UnitOfWork(session, context)
    return cast(UnitOfWork, g.uow)


def discard_changes() -> None:
    """Roll back what the request staged so far (and its side effects), e.g. before re-rendering a form."""
    if "uow" in g:
        g.uow.rollback()


def current_user() -> User | None:
    """The logged-in user, or None. A session from before a password change is no longer valid."""
    if "user" in g:
        return cast(User | None, g.user)
    user: User | None = None
    user_id = session.get("user_id")
    if isinstance(user_id, int):
        candidate = uow().session.get(User, user_id)
        if candidate is not None and session.get("session_version") == candidate.session_version:
            user = candidate
        else:
            session.clear()
    g.user = user
    identify(user_id=user.id if user is not None else None)
    return user


def require_user() -> User:
    """The logged-in user, or :class:`NotAuthenticated` (views behind ``@login_required`` rely on it)."""
    user = current_user()
    if user is None:
        raise NotAuthenticated()
    return user


def log_in(user: User) -> None:
    """Start a fresh session for ``user`` (clearing the old one prevents session fixation)."""
    session.clear()
    session["user_id"] = user.id
    session["session_version"] = user.session_version
    session.permanent = True
    g.user = user
    identify(user_id=user.id)


def log_out() -> None:
    session.clear()
    g.user = None


def refresh_session_version(user: User) -> None:
    """Keep the current session alive after the user changed their own password."""
    session["session_version"] = user.session_version


def login_required(view: F) -> F:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            if request.path.startswith("/api/"):
                raise NotAuthenticated()
            return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return cast(F, wrapper)


def safe_next(target: str | None, default: str = "/") -> str:
    """A same-site path to go back to after logging in; anything else falls back to ``default``."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def parse(schema: Schema, data: Mapping[str, Any]) -> dict[str, Any]:
    """Load ``data`` with ``schema``; raise :class:`ValidationFailed` naming every bad field."""
    try:
        return cast(dict[str, Any], schema.load(dict(data)))
    except MarshmallowError as exc:
        details = field_problems(exc, schema, whole="_schema")
        summary = describe_problems(details)
        raise ValidationFailed(message=f"Please correct the form: {summary}", details=details) from exc


def form_data() -> dict[str, Any]:
    """The posted form without the CSRF token field."""
    return {k: v for k, v in request.form.items() if k != "csrf_token"}


def client_ip() -> str:
    return request.remote_addr or "unknown"


def redirect_to(endpoint: str, **values: Any) -> Response:
    return redirect(url_for(endpoint, **values))
