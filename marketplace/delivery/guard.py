"""The publish guard: no version becomes published while its uploads are unfinished or unverified.

Versions are published by the catalog (one version at a time, or every draft when a listing is approved), and
every way of publishing goes through :func:`marketplace.catalog.services.versions._publish`, which calls
:func:`require_publishable` before it changes the version's status; so does
:func:`marketplace.delivery.services.publish_uploaded_version` (strictly) before it hands over to the catalog.
The refusal is the domain error :class:`~marketplace.delivery.errors.FilesNotVerified` (409).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel import Session

from marketplace.catalog.models import DatasetVersion


def declared_manifests_allowed(settings: Mapping[str, Any]) -> bool:
    """Whether a version whose files are only declared (nothing uploaded: demo data) may be published: when
    ``PUBLISH_DECLARED_MANIFESTS`` is set, and never in production."""
    if settings.get("MARKETPLACE_ENV") == "production":
        return False
    return bool(settings.get("PUBLISH_DECLARED_MANIFESTS", False))


def require_publishable(session: Session, version: DatasetVersion, *, allow_declared: bool) -> None:
    """Raise :class:`~marketplace.delivery.errors.FilesNotVerified` naming every file of ``version`` that is not
    uploaded and verified (with ``allow_declared``, a version of only declared files passes)."""
    # Imported here: delivery's services import the catalog's, which call this guard.
    from marketplace.delivery.services import require_deliverable

    with session.no_autoflush:
        require_deliverable(session, version, allow_declared=allow_declared)
