"""Mail to the organisation admins of the right side at each step of a request for data, with a link.

:func:`subscribe_mail` is called once from ``create_app`` (no import side effects): it registers
:func:`mail_on_event` as a domain-event handler (:mod:`marketplace.events`). The handler runs inside the unit of
work that made the change and queues its messages with :func:`marketplace.mail.send_after_commit`, so nothing is
mailed for a change that rolls back. Who hears of what:

============================  ==========================================================
``request.created``           the invited providers (an open request is on the board)
``request.revised``           the providers who had quoted
``quote.submitted``           the buyer (a new quote, or a revised one)
``quote.declined``            the provider whose quote was declined (with the reason)
``quote.accepted``            the provider who won, and the buyer (the contract to pay)
============================  ==========================================================

Milestone and contract mail (delivered, accepted, rejected, completed, cancelled) is sent by the contract
services themselves, where the money moves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlmodel import col, select

from marketplace.accounts.models import Membership, Organisation, Role, User
from marketplace.db import ServiceContext, UnitOfWork
from marketplace.events import subscribe
from marketplace.mail import send_after_commit

#: The roles that receive an organisation's mail about requests, quotes and contracts.
ADMIN_ROLES = (Role.OWNER, Role.ADMIN)


def admin_addresses(uow: UnitOfWork, org_id: int) -> list[str]:
    """The e-mail addresses of the owners and admins of organisation ``org_id``, sorted, without repeats."""
    rows = uow.session.exec(
        select(User.email)
        .join(Membership, col(Membership.user_id) == col(User.id))
        .where(Membership.organisation_id == org_id, col(Membership.role).in_(ADMIN_ROLES))
    ).all()
    return sorted(set(rows))


def tell(uow: UnitOfWork, org_ids: list[int], subject: str, body: str, path: str) -> None:
    """Mail ``subject`` and ``body`` with a link to ``path`` to the admins of each organisation in ``org_ids``."""
    link = f"{uow.settings['BASE_URL']}{path}"
    for org_id in dict.fromkeys(org_ids):
        for address in admin_addresses(uow, org_id):
            send_after_commit(uow, address, subject, f"{body}\n\n{link}\n")


def _org_name(uow: UnitOfWork, org_id: int | None) -> str:
    org = uow.session.get(Organisation, org_id) if org_id is not None else None
    return org.name if org else "An organisation"


def _buyer_of(uow: UnitOfWork, request_id: int) -> int | None:
    from marketplace.custom.models import DataRequest

    request = uow.session.get(DataRequest, request_id)
    return request.buyer_org_id if request else None


def _title_of(uow: UnitOfWork, request_id: int) -> str:
    from marketplace.custom.models import DataRequest

    request = uow.session.get(DataRequest, request_id)
    return request.title if request else "a request for data"


def _money(amount: int, currency: str) -> str:
    import licensing

    return licensing.Money(int(amount), str(currency)).format()


def _request_created(uow: UnitOfWork, data: dict[str, Any], audience: list[int]) -> None:
    buyer = _buyer_of(uow, data["request_id"])
    invited = [org_id for org_id in audience if org_id != buyer]
    tell(
        uow,
        invited,
        f"You are invited to quote: {data['title']}",
        f"A buyer invites your organisation to quote on the request for data {data['title']!r} "
        f"(deadline {data['deadline']}).",
        f"/requests/{data['request_id']}",
    )


def _request_revised(uow: UnitOfWork, data: dict[str, Any], _audience: list[int]) -> None:
    title = _title_of(uow, data["request_id"])
    tell(
        uow,
        list(data.get("quoting_providers") or []),
        f"The request changed: {title}",
        f"The buyer changed the request {title!r} you quoted on (now version {data['revision']}). "
        "Check the specification and revise your quote if needed.",
        f"/requests/{data['request_id']}",
    )


def _quote_submitted(uow: UnitOfWork, data: dict[str, Any], _audience: list[int]) -> None:
    buyer = _buyer_of(uow, data["request_id"])
    title = _title_of(uow, data["request_id"])
    provider = _org_name(uow, data["provider_org_id"])
    what = "revised its quote" if int(data.get("revision") or 1) > 1 else "sent a quote"
    tell(
        uow,
        [buyer] if buyer is not None else [],
        f"{provider} {what}: {title}",
        f"{provider} {what} for {_money(data['price_amount'], data['currency'])} on your request {title!r}.",
        f"/requests/{data['request_id']}",
    )


def _quote_declined(uow: UnitOfWork, data: dict[str, Any], _audience: list[int]) -> None:
    title = _title_of(uow, data["request_id"])
    tell(
        uow,
        [data["provider_org_id"]],
        f"Your quote was declined: {title}",
        f"Your quote on {title!r} was declined. Reason: {data.get('reason') or 'none given'}",
        f"/requests/{data['request_id']}",
    )


def _quote_accepted(uow: UnitOfWork, data: dict[str, Any], _audience: list[int]) -> None:
    title = _title_of(uow, data["request_id"])
    price = _money(data["price_amount"], data["currency"])
    path = f"/contracts/{data['contract_id']}"
    tell(
        uow,
        [data["provider_org_id"]],
        f"Your quote was accepted: {title}",
        f"The buyer accepted your quote of {price} on {title!r}. The contract starts once the buyer has paid; "
        "the money is held and paid to you as each milestone is accepted.",
        path,
    )
    tell(
        uow,
        [data["buyer_org_id"]],
        f"Contract made: {title}",
        f"You accepted {_org_name(uow, data['provider_org_id'])}'s quote of {price} on {title!r}. "
        "Pay to start the work.",
        path,
    )


_HANDLERS: dict[str, Callable[[UnitOfWork, dict[str, Any], list[int]], None]] = {
    "request.created": _request_created,
    "request.revised": _request_revised,
    "quote.submitted": _quote_submitted,
    "quote.declined": _quote_declined,
    "quote.accepted": _quote_accepted,
}


def mail_on_event(uow: UnitOfWork, event_type: str, data: dict[str, Any], audience: list[int]) -> None:
    """The domain-event handler: mail the right side's admins about ``event_type`` (other events: nothing)."""
    handler = _HANDLERS.get(event_type)
    if handler is not None:
        handler(uow, data, audience)


def subscribe_mail(context: ServiceContext) -> None:
    """Register the mail of the custom-data exchange with the application's events (called by create_app)."""
    subscribe(context, mail_on_event)
