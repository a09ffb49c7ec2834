"""Domain events: services announce what happened; subscribers (outbound webhooks, …) react.

:func:`emit` calls every handler in ``context.event_handlers`` (registered with :func:`subscribe`) *inside* the
current unit of work, so a handler can record what it must do (e.g. a webhook delivery row) in the same
transaction as the change itself: if the change rolls back, so does the announcement. Handlers that talk to the
outside world register their own :meth:`UnitOfWork.after_commit` callbacks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marketplace.db import ServiceContext, UnitOfWork

#: ``handler(uow, event_type, data, audience)``: ``audience`` is the ids of the organisations entitled to hear
#: of the event (a webhook endpoint of another organisation must never receive it).
EventHandler = Callable[[UnitOfWork, str, dict[str, Any], list[int]], None]

#: Every event type the marketplace emits, with what its ``data`` carries.
EVENT_TYPES: dict[str, str] = {
    "order.paid": "order id, buyer organisation, total and currency, license ids",
    "order.refunded": "order id, reference, amount refunded and currency, reason, license ids (revoked)",
    "listing.submitted": "dataset slug and title, provider organisation (sent for the platform's review)",
    "listing.approved": "dataset slug and title, provider organisation (the listing is published)",
    "listing.rejected": "dataset slug and title, provider organisation, the reason the provider sees",
    "license.issued": "license id, dataset slug, versions, licensee organisation, license id (SPDX or LicenseRef)",
    "license.revoked": "license id, dataset slug, licensee organisation, reason",
    "dataset.version_published": "dataset slug, version label, manifest digest, provider organisation",
    "milestone.delivered": "contract id, milestone position and title, version label, manifest digest, review deadline",
    "milestone.accepted": "contract id, milestone position, version label, automatic (true after silence), amount",
    "milestone.rejected": "contract id, milestone position, version label, reason",
    "contract.completed": "contract id, amounts paid out, refunded and kept as fees, license id",
    "contract.cancelled": "contract id, amounts refunded",
    "request.created": "request id, title, visibility, deadline, buyer organisation (when the buyer shows it)",
    "request.revised": "request id, revision number, providers that had quoted",
    "quote.submitted": "quote id, request id, provider organisation, price and currency, revision",
    "quote.declined": "quote id, request id, provider organisation, reason (automatic when another quote won)",
    "quote.accepted": "quote id, request id, contract id, provider and buyer organisations, price and currency",
    "access.requested": "dataset slug, request id, state, requester id",
    "access.approved": "dataset slug, request id (none for a grant without request), approval id, expiry, reason",
    "access.rejected": "dataset slug, request id, state, requester id, the reason the requester sees",
    "access.expired": "dataset slug, approval id, state, reason, user id",
    "access.revoked": "dataset slug, approval id, state (revoked, or reset: the person must ask again), reason",
    "access.expiring": "dataset slug, approval id, user id, expiry (sent once, 14 days before)",
    "access.credential_expiring": "credential id, user id, expiry date (sent once, 14 days before)",
    "dataset.withdrawal": "withdrawal and notice ids, dataset slug, withdrawn and patched versions, reason, files, "
    "record count, the licensee's license ids, deletion deadline (to each licensee organisation alone)",
}


def handlers(uow: UnitOfWork) -> list[EventHandler]:
    return list(uow.context.event_handlers)


def subscribe(context: ServiceContext, handler: EventHandler) -> None:
    """Register ``handler`` for every event of the application whose service ``context`` is given."""
    context.event_handlers.append(handler)


def emit(uow: UnitOfWork, event_type: str, data: dict[str, Any], *, audience: list[int]) -> None:
    """Announce ``event_type`` with ``data`` (JSON-safe) to the organisations in ``audience``, within the unit of
    work; every registered handler is called."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}")
    for handler in handlers(uow):
        handler(uow, event_type, data, list(audience))
