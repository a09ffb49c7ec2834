"""The one domain-event subscriber of notifications: each event becomes notices for the people concerned.

Who hears of what (each person then as they chose, :func:`marketplace.notifications.services.deliver`):

=====================================  ===========================================================================
``listing.submitted``                  the platform reviewers (platform admins)
``listing.approved`` / ``.rejected``   the provider's owners and admins
``order.paid``                         the buyer who placed the order; each provider's owners and admins (a sale,
                                       of their own lines only)
``order.refunded``                     the buyer who placed the order; each provider's owners and admins
``access.*``                           :mod:`marketplace.access.notify` (reviewers, or the requester)
``request.*``, ``quote.*``,            :mod:`marketplace.custom.notify` (the admins of the side concerned; both
``milestone.*``, ``contract.*``        sides for milestones and contracts)
=====================================  ===========================================================================

Withdrawal notices and their reminders are given by :mod:`marketplace.withdrawals.notify`, and the 14-day notice
of a license's end by :mod:`marketplace.notifications.expiring`, through the same :func:`deliver`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marketplace.accounts.models import Organisation, User
from marketplace.db import ServiceContext, UnitOfWork
from marketplace.notifications.kinds import NotificationKind
from marketplace.notifications.services import Notice, deliver, people_of, platform_reviewers


def _org(uow: UnitOfWork, slug: str | None) -> Organisation | None:
    from sqlmodel import select

    if not slug:
        return None
    return uow.session.exec(select(Organisation).where(Organisation.slug == slug)).first()


def _listing_submitted(uow: UnitOfWork, data: dict[str, Any], audience: list[int]) -> None:
    org = _org(uow, data.get("organisation"))
    who = org.name if org else "A provider"
    deliver(
        uow,
        platform_reviewers(uow.session),
        Notice(
            NotificationKind.LISTING_REVIEW,
            f"Listing submitted for review: {data['title']}",
            f"{who} submitted the listing {data['title']!r} for review.",
            "/reviews",
        ),
    )


def _listing_decided(uow: UnitOfWork, data: dict[str, Any], audience: list[int]) -> None:
    approved = "reason" not in data
    title = data["title"]
    notice = (
        Notice(
            NotificationKind.LISTING_DECISION,
            f"Your listing is published: {title}",
            f"The platform approved {title!r}; it is now in the catalog.",
            f"/datasets/{data['dataset']}",
        )
        if approved
        else Notice(
            NotificationKind.LISTING_DECISION,
            f"Your listing was sent back: {title}",
            f"The platform did not approve {title!r}. Reason: {data['reason']}\nChange it and submit it again.",
            f"/datasets/{data['dataset']}/manage",
        )
    )
    deliver(uow, people_of(uow.session, audience), notice)


def _order_parties(uow: UnitOfWork, order_id: int) -> tuple[Any, User | None, dict[int, list[Any]]]:
    """The order, the person who placed it, and its lines by provider organisation."""
    from marketplace.orders.base import lines_of
    from marketplace.orders.models import Order

    order = uow.session.get(Order, order_id)
    if order is None:
        return None, None, {}
    buyer = uow.session.get(User, order.buyer_user_id) if order.buyer_user_id is not None else None
    by_provider: dict[int, list[Any]] = {}
    for line in lines_of(uow.session, order):
        by_provider.setdefault(line.provider_org_id, []).append(line)
    return order, buyer, by_provider


def _money(amount: int, currency: str) -> str:
    import licensing

    return licensing.Money(int(amount), str(currency)).format()


def _order_paid(uow: UnitOfWork, data: dict[str, Any], audience: list[int]) -> None:
    order, buyer, by_provider = _order_parties(uow, int(data["order_id"]))
    if order is None:
        return
    total = _money(order.total_amount, order.currency)
    deliver(
        uow,
        [buyer] if buyer else [],
        Notice(
            NotificationKind.ORDER,
            f"Order {order.reference} is paid",
            f"Order {order.reference} is paid ({total}); your licenses and downloads are ready.",
            f"/orders/{order.id}",
        ),
    )
    for provider_id, lines in by_provider.items():
        provider = uow.session.get(Organisation, provider_id)
        items = "\n".join(f"  {ln.description}: {_money(ln.amount, ln.currency)}" for ln in lines)
        deliver(
            uow,
            people_of(uow.session, [provider_id]),
            Notice(
                NotificationKind.SALE,
                f"Sale: {lines[0].description}" + (f" and {len(lines) - 1} more" if len(lines) > 1 else ""),
                f"A buyer paid for order {order.reference}:\n{items}",
                f"/orgs/{provider.slug}/sales" if provider else "",
            ),
        )


def _order_refunded(uow: UnitOfWork, data: dict[str, Any], audience: list[int]) -> None:
    order, buyer, by_provider = _order_parties(uow, int(data["order_id"]))
    if order is None:
        return
    amount = _money(int(data.get("refunded") or order.refunded_amount), order.currency)
    deliver(
        uow,
        [buyer] if buyer else [],
        Notice(
            NotificationKind.ORDER,
            f"Order {order.reference} was refunded",
            f"Order {order.reference} was refunded ({amount}); its licenses were revoked. Reason: {data['reason']}",
            f"/orders/{order.id}",
        ),
    )
    for provider_id, lines in by_provider.items():
        provider = uow.session.get(Organisation, provider_id)
        deliver(
            uow,
            people_of(uow.session, [provider_id]),
            Notice(
                NotificationKind.SALE,
                f"Refund of order {order.reference}",
                "The sale of " + ", ".join(ln.description for ln in lines) + " was refunded and its licenses "
                f"revoked. Reason: {data['reason']}",
                f"/orgs/{provider.slug}/sales" if provider else "",
            ),
        )


_HANDLERS: dict[str, Callable[[UnitOfWork, dict[str, Any], list[int]], None]] = {
    "listing.submitted": _listing_submitted,
    "listing.approved": _listing_decided,
    "listing.rejected": _listing_decided,
    "order.paid": _order_paid,
    "order.refunded": _order_refunded,
}


def on_event(uow: UnitOfWork, event_type: str, data: dict[str, Any], audience: list[int]) -> None:
    """The domain-event handler: the notices ``event_type`` calls for (events that concern nobody: none)."""
    from marketplace.access import notify as access_notify
    from marketplace.custom import notify as custom_notify

    handler = _HANDLERS.get(event_type)
    if handler is not None:
        handler(uow, data, audience)
    elif event_type.startswith("access."):
        access_notify.on_event(uow, event_type, data, audience)
    else:
        custom_notify.on_event(uow, event_type, data, audience)


def subscribe_notifications(context: ServiceContext) -> None:
    """Register :func:`on_event` with the application's events (called once by ``create_app``)."""
    from marketplace.events import subscribe

    subscribe(context, on_event)
