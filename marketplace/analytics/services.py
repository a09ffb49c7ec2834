"""Finding the scope of a report (a provider organisation, or one of its listings) and building it."""

from __future__ import annotations

from marketplace.accounts.models import Organisation, User
from marketplace.accounts.services import get_organisation
from marketplace.analytics.report import Report, build_report
from marketplace.catalog.services import get_dataset
from marketplace.db import UnitOfWork
from marketplace.errors import NotFound
from marketplace.permissions import Action, can

__all__ = ["listing_report", "organisation_report"]


def organisation_report(uow: UnitOfWork, user: User | None, slug: str, *, days: int, bucket: str) -> Report:
    """The report over every listing of the organisation ``slug`` (its members and platform admins only)."""
    organisation = get_organisation(uow.session, slug)
    return build_report(uow, user, organisation, None, days=days, bucket=bucket)


def listing_report(uow: UnitOfWork, user: User | None, slug: str, *, days: int, bucket: str) -> Report:
    """The report of the listing ``slug`` (its provider's members and platform admins only); a listing the public
    cannot see is not found for anyone else, so its existence is not given away."""
    session = uow.session
    dataset = get_dataset(session, slug)
    if not dataset.is_public and not can(session, user, Action.ANALYTICS_VIEW, dataset):
        raise NotFound(message=f"No dataset called {slug!r}.")
    organisation = session.get(Organisation, dataset.organisation_id)
    if organisation is None:
        raise NotFound(message=f"No dataset called {slug!r}.")
    return build_report(uow, user, organisation, dataset, days=days, bucket=bucket)
