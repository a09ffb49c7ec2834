"""Counting a view of a listing or an offer: one insert statement, deduplicated per visitor and window.

What is not counted: requests from crawlers and other automated clients (by their User-Agent), prefetches and
prerenders the browser made without the person asking, and anyone who may see the provider's analytics (its own
members and platform admins), so a provider checking its own page does not inflate its figures.

The visitor is a keyed hash (HMAC-SHA256 under the application's secret key) of the signed-in user, or of the
address and User-Agent of an anonymous one, together with the day: it is stable for a day, and a row of one day
cannot be linked to a row of another. Repeated views by the same visitor within one :data:`WINDOW_MINUTES` window
(fixed windows counted from the epoch) are one view.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, SQLModel

from marketplace.accounts.models import User
from marketplace.analytics.models import ListingView, OfferView
from marketplace.catalog.models import Dataset
from marketplace.db import UnitOfWork
from marketplace.licenses.models import Offer
from marketplace.permissions import Action, can

__all__ = ["WINDOW_MINUTES", "Visit", "is_automated", "record_listing_view", "record_offer_view"]

#: Views by the same visitor of the same listing (or offer) within this many minutes count once.
WINDOW_MINUTES = 30

#: User-Agent fragments of crawlers, link previewers, monitors, scripts and headless browsers.
_AUTOMATED = re.compile(
    r"bot\b|bot/|crawl|spider|slurp|archiver|facebookexternalhit|embedly|preview|monitor|pingdom|uptime|"
    r"headless|phantomjs|lighthouse|curl/|wget/|httpie|python-requests|python-urllib|aiohttp|httpx|go-http-client|"
    r"java/|okhttp|libwww|scrapy|node-fetch|axios",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Visit:
    """Who is looking, as far as counting needs to know: the user (if signed in), address, User-Agent, and the
    browser's ``Sec-Purpose``/``Purpose`` header (``prefetch`` when the person did not ask for the page), and the
    HTTP method (a ``HEAD`` request shows nobody anything)."""

    user: User | None
    ip_address: str
    user_agent: str
    purpose: str = ""
    method: str = "GET"


def is_automated(visit: Visit) -> bool:
    """True for a request no person asked for: no User-Agent, a known automated one, a prefetch, or a ``HEAD``."""
    if visit.method == "HEAD":
        return True
    if "prefetch" in visit.purpose.lower() or "prerender" in visit.purpose.lower():
        return True
    agent = visit.user_agent.strip()
    return not agent or _AUTOMATED.search(agent) is not None


def _visitor(secret: str, visit: Visit, now: datetime) -> str:
    identity = f"user:{visit.user.id}" if visit.user is not None else f"anon:{visit.ip_address}|{visit.user_agent}"
    message = f"{now.date().isoformat()}|{identity}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def _insert_once(session: Session, model: type[SQLModel], values: dict[str, Any]) -> None:
    """One ``INSERT … ON CONFLICT DO NOTHING``: a second view in the same window changes nothing."""
    table = sa.inspect(model).local_table
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(table).values(**values).on_conflict_do_nothing())


def _counted(uow: UnitOfWork, visit: Visit, dataset: Dataset) -> bool:
    if not dataset.is_public or is_automated(visit):
        return False
    return not can(uow.session, visit.user, Action.ANALYTICS_VIEW, dataset)


def _values(uow: UnitOfWork, visit: Visit) -> dict[str, Any]:
    now = uow.now()
    return {
        "day": now.date(),
        "slot": int(now.timestamp()) // (WINDOW_MINUTES * 60),
        "visitor": _visitor(str(uow.settings["SECRET_KEY"]), visit, now),
    }


def record_listing_view(uow: UnitOfWork, visit: Visit, dataset: Dataset) -> bool:
    """Count a view of ``dataset``'s public page unless it is not to be counted (see the module); True if it was
    counted (or already counted in this window)."""
    if not _counted(uow, visit, dataset):
        return False
    _insert_once(uow.session, ListingView, {"dataset_id": dataset.id, **_values(uow, visit)})
    return True


def record_offer_view(uow: UnitOfWork, visit: Visit, offer_id: int) -> bool:
    """Count that ``visit`` opened the terms of offer ``offer_id`` (an active offer of a public listing that the
    visitor may see); an unknown offer counts nothing."""
    session = uow.session
    offer = session.get(Offer, offer_id)
    dataset = session.get(Dataset, offer.dataset_id) if offer is not None else None
    if offer is None or dataset is None or not offer.is_active:
        return False
    if offer.audience_org_id is not None and not can(session, visit.user, Action.OFFER_VIEW, offer):
        return False
    if not _counted(uow, visit, dataset):
        return False
    _insert_once(session, OfferView, {"offer_id": offer.id, "dataset_id": dataset.id, **_values(uow, visit)})
    return True
