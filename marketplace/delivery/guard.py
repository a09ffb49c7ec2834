"""The publish guard: no version becomes published while its uploads are unfinished or unverified.

Versions are published by the catalog (one version at a time, or every draft when a listing is approved) and by
:func:`marketplace.delivery.services.publish_uploaded_version`. Rather than trust every path to remember the
delivery rule, a ``before_flush`` hook refuses any flush that turns a version's status into ``published`` while
:func:`~marketplace.delivery.services.deliverability_problems` finds a problem; the refusal is the domain error
:class:`~marketplace.delivery.errors.FilesNotVerified` (409), raised out of the service that published.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from marketplace.catalog.models import DatasetVersion
from marketplace.catalog.vocab import VersionStatus


def _allow_declared() -> bool:
    # Outside an application (scripts, some unit tests) and in production the strict rule applies.
    if not has_app_context() or current_app.config.get("MARKETPLACE_ENV") == "production":
        return False
    return bool(current_app.config.get("PUBLISH_DECLARED_MANIFESTS", False))


def _becoming_published(session: Session) -> list[DatasetVersion]:
    versions = []
    for obj in list(session.dirty) + list(session.new):
        if not isinstance(obj, DatasetVersion) or obj.status is not VersionStatus.PUBLISHED:
            continue
        history = inspect(obj).attrs.status.history
        if obj in session.new or history.added:
            versions.append(obj)
    return versions


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    versions = _becoming_published(session)
    if not versions:
        return
    from marketplace.delivery.services import require_deliverable

    allow_declared = _allow_declared()
    with session.no_autoflush:
        for version in versions:
            if version.id is not None:
                require_deliverable(session, version, allow_declared=allow_declared)  # type: ignore[arg-type]


def install() -> None:
    """Register the guard on every ORM session (idempotent)."""
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
