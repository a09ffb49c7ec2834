"""Wiring delivery into the application: blueprints, settings checks, and the check the local storage server
makes before serving a download link."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import Flask

import storage
from marketplace.config import ConfigError
from marketplace.db import Database, ServiceContext, unit_of_work


def storage_mount_path(settings: Mapping[str, Any]) -> str | None:
    """Where to mount the local storage app: the path of ``STORAGE_LOCAL_BASE_URL`` when it is this site's.

    A base URL on another host means the links are served elsewhere (another process or nginx): nothing to mount.
    """
    base = str(settings.get("STORAGE_LOCAL_BASE_URL") or "/storage")
    parts = urlsplit(base)
    if parts.netloc:
        site = urlsplit(str(settings.get("BASE_URL") or ""))
        if parts.netloc != site.netloc:
            return None
    path = parts.path.rstrip("/")
    if not path.startswith("/") or path == "":
        raise ConfigError(f"STORAGE_LOCAL_BASE_URL must be a path such as /storage or a URL with one; got {base!r}")
    return path


def link_reference_check(database: Database, context: ServiceContext) -> storage.ReferenceCheck:
    """The local storage server's question "does this link still stand?", answered from the grant's state.

    Each answer is its own short read-only transaction; a database error propagates, and the storage server then
    refuses the link with 503 rather than serve it unchecked.
    """
    from marketplace.delivery.downloads import link_refusal

    def check(reference: str) -> str | None:
        with unit_of_work(database, context) as work:
            return link_refusal(work, reference)

    return check


def _check_settings(settings: Mapping[str, Any]) -> None:
    for name, upper in (("DOWNLOAD_LINK_SECONDS", 7 * 86400), ("UPLOAD_LINK_SECONDS", 7 * 86400)):
        value = settings.get(name)
        if not isinstance(value, int) or not 1 <= value <= upper:
            raise ConfigError(f"{name} must be a number of seconds from 1 to {upper} (7 days); got {value!r}")


def init_app(app: Flask) -> None:
    from marketplace.delivery.views import bp, uploads_bp

    _check_settings(app.config)
    app.register_blueprint(bp)
    app.register_blueprint(uploads_bp)
    # The upload endpoints keep the CSRF check: the script sends the token in the X-CSRFToken header.
