"""Notices to the organisation admins of the right side at each step of a request for data, with a link.

:func:`on_event` is called by the notifications subscriber (:mod:`marketplace.notifications.subscriber`, the one
domain-event handler) inside the unit of work that made the change; each notice goes through
:func:`marketplace.notifications.services.deliver` (a row in the site and a mail after the commit, as each person
chose), so nothing is told of a change that rolls back. Who hears of what:

============================  ==========================================================
``request.created``           the invited providers (an open request is on the board)
``request.revised``           the providers who had quoted
``quote.submitted``           the buyer (a new quote, or a revised one)
``quote.declined``            the provider whose quote was declined (with the reason)
``quote.accepted``            the provider who won, and the buyer (the contract to pay)
``milestone.*``               both sides: the one that must act next, and the other
``contract.*``                both sides
============================  ==========================================================
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from marketplace.accounts.models import Organisation, Role
from marketplace.db import UnitOfWork
from marketplace.notifications.kinds import NotificationKind
from marketplace.notifications.services import Notice, deliver, people_of

#: The roles that receive an organisation's notices about requests, quotes and contracts.
ADMIN_ROLES = (Role.OWNER, Role.ADMIN)


def tell(uow: UnitOfWork, org_ids: list[int], subject: str, body: str, path: str, kind: NotificationKind) -> None:
    """Tell the admins of each organisation in ``org_ids`` ``subject`` and ``body``, with a link to ``path``."""
    deliver(uow, people_of(uow.session, dict.fromkeys(org_ids), ADMIN_ROLES), Notice(kind, subject, body, path))


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
        NotificationKind.CUSTOM_REQUEST,
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
        NotificationKind.CUSTOM_REQUEST,
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
        NotificationKind.QUOTE,
    )


def _quote_declined(uow: UnitOfWork, data: dict[str, Any], _audience: list[int]) -> None:
    title = _title_of(uow, data["request_id"])
    tell(
        uow,
        [data["provider_org_id"]],
        f"Your quote was declined: {title}",
        f"Your quote on {title!r} was declined. Reason: {data.get('reason') or 'none given'}",
        f"/requests/{data['request_id']}",
        NotificationKind.QUOTE,
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
        NotificationKind.QUOTE,
    )
    tell(
        uow,
        [data["buyer_org_id"]],
        f"Contract made: {title}",
        f"You accepted {_org_name(uow, data['provider_org_id'])}'s quote of {price} on {title!r}. "
        "Pay to start the work.",
        path,
        NotificationKind.QUOTE,
    )


def _contract_of(uow: UnitOfWork, data: dict[str, Any]) -> Any:
    from marketplace.custom.models import Contract

    return uow.session.get(Contract, data.get("contract_id") or 0)


def _milestone_delivered(uow: UnitOfWork, data: dict[str, Any], _audience: list[int]) -> None:
    contract = _contract_of(uow, data)
    if contract is None:
        return
    n, label, title, path = data["milestone"], data["version"], data["title"], f"/contracts/{contract.id}"
    deadline = datetime.fromisoformat(data["review_deadline"]) if data.get("review_deadline") else None
    review = (
        f"Review it and accept or reject it by {deadline:%Y-%m-%d %H:%M} UTC; silence until then accepts it."
        if deadline
        else "Review it and accept or reject it."
    )
    tell(uow, [contract.buyer_org_id], f"Milestone {n} of contract {contract.id} is delivered",
         f"Version {label} was delivered for '{title}'. {review}", path, NotificationKind.CONTRACT)  # fmt: skip
    tell(uow, [contract.provider_org_id], f"Milestone {n} of contract {contract.id}: delivered, awaiting review",
         f"Version {label} of '{title}' was delivered; the buyer reviews it now.", path,
         NotificationKind.CONTRACT)  # fmt: skip


def _milestone_accepted(uow: UnitOfWork, data: dict[str, Any], _audience: list[int]) -> None:
    contract = _contract_of(uow, data)
    if contract is None:
        return
    n, label, title, path = data["milestone"], data["version"], data["title"], f"/contracts/{contract.id}"
    how = "was accepted automatically after the review period" if data.get("automatic") else "was accepted"
    tell(uow, [contract.provider_org_id], f"Milestone {n} of contract {contract.id} accepted",
         f"Version {label} of '{title}' {how}; its payment is on its way to your payout account.", path,
         NotificationKind.CONTRACT)  # fmt: skip
    tell(uow, [contract.buyer_org_id], f"Milestone {n} of contract {contract.id} accepted",
         f"Version {label} of '{title}' {how}; its payment is released to the provider.", path,
         NotificationKind.CONTRACT)  # fmt: skip


def _milestone_rejected(uow: UnitOfWork, data: dict[str, Any], _audience: list[int]) -> None:
    contract = _contract_of(uow, data)
    if contract is None:
        return
    n, label, title, path = data["milestone"], data["version"], data["title"], f"/contracts/{contract.id}"
    tell(uow, [contract.provider_org_id], f"Milestone {n} of contract {contract.id} rejected",
         f"Version {label} of '{title}' was rejected: {data['reason']}\nYou may redeliver it or escalate it.", path,
         NotificationKind.CONTRACT)  # fmt: skip
    tell(uow, [contract.buyer_org_id], f"Milestone {n} of contract {contract.id} rejected",
         f"Version {label} of '{title}' was rejected: {data['reason']}\nThe provider may redeliver it or escalate "
         "it.", path, NotificationKind.CONTRACT)  # fmt: skip


def _contract_ended(uow: UnitOfWork, data: dict[str, Any], _audience: list[int]) -> None:
    contract = _contract_of(uow, data)
    if contract is None:
        return
    completed = "paid_out" in data
    for org_id in (contract.buyer_org_id, contract.provider_org_id):
        tell(
            uow,
            [org_id],
            f"Contract {contract.id} is {'completed' if completed else 'cancelled'}",
            "Every milestone is settled." if completed else "The contract was cancelled; held money was refunded.",
            f"/contracts/{contract.id}",
            NotificationKind.CONTRACT,
        )


_HANDLERS: dict[str, Callable[[UnitOfWork, dict[str, Any], list[int]], None]] = {
    "request.created": _request_created,
    "request.revised": _request_revised,
    "quote.submitted": _quote_submitted,
    "quote.declined": _quote_declined,
    "quote.accepted": _quote_accepted,
    "milestone.delivered": _milestone_delivered,
    "milestone.accepted": _milestone_accepted,
    "milestone.rejected": _milestone_rejected,
    "contract.completed": _contract_ended,
    "contract.cancelled": _contract_ended,
}


def on_event(uow: UnitOfWork, event_type: str, data: dict[str, Any], audience: list[int]) -> None:
    """Tell the right side's admins about ``event_type`` (events of other domains: nothing)."""
    handler = _HANDLERS.get(event_type)
    if handler is not None:
        handler(uow, data, audience)
