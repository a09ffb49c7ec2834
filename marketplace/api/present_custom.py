"""Requests for data, quotes and threads as the plain values the custom-data response schemas dump, as the calling
user may see them: the buyer's name only to its members or when shown, invitations only to the buyer."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from marketplace.accounts.models import Organisation, User
from marketplace.api.present import api_url, base_url, org_ref
from marketplace.catalog.models import Dataset
from marketplace.custom import quotes, requests, transitions
from marketplace.custom.models import (
    Attachment,
    DataRequest,
    Message,
    Quote,
    QuoteRevision,
    RequestInvitation,
    Thread,
    Transition,
)
from marketplace.custom.states import Machine
from marketplace.custom.terms import plain_language
from marketplace.db import UnitOfWork
from marketplace.permissions import Action, can


def _value(value: Any) -> Any:
    return value.value if hasattr(value, "value") else value


def transition(row: Transition) -> dict[str, Any]:
    return {"from_state": row.from_state, "to_state": row.to_state, "at": row.at, "reason": row.reason}


def attachment(row: Attachment) -> dict[str, Any]:
    return {
        "id": row.id,
        "filename": row.filename,
        "media_type": row.media_type,
        "size_bytes": row.size_bytes,
        "sha256": row.sha256,
        "created_at": row.created_at,
    }


def _invitations(uow: UnitOfWork, request: DataRequest) -> list[dict[str, Any]]:
    rows = uow.session.exec(
        select(RequestInvitation, Organisation)
        .join(Organisation, Organisation.id == RequestInvitation.provider_org_id)  # type: ignore[arg-type]
        .where(RequestInvitation.request_id == request.id)
        .order_by(col(RequestInvitation.id))
    ).all()
    return [{"provider": org_ref(org), "created_at": invitation.created_at} for invitation, org in rows]


def data_request(uow: UnitOfWork, user: User, request: DataRequest) -> dict[str, Any]:
    """One request for data as ``user`` sees it (the caller has it through :func:`marketplace.custom.access`)."""
    session = uow.session
    is_buyer = can(session, user, Action.CUSTOM_REQUEST_MANAGE, request)
    source = session.get(Dataset, request.source_dataset_id) if request.source_dataset_id else None
    out: dict[str, Any] = {
        "id": request.id,
        "state": request.state.value,
        "revision": request.revision,
        "your_side": "buyer" if is_buyer else "provider",
        "buyer": requests.buyer_label(session, user, request),
    }
    out.update({name: _value(getattr(request, name)) for name in requests.SPEC_FIELDS})
    out.update(
        {
            "source_dataset": source.slug if source is not None else None,
            "attachments": [attachment(a) for a in requests.request_attachments(session, request)],
            "invitations": _invitations(uow, request) if is_buyer else [],
            "timeline": [transition(t) for t in transitions.timeline(uow, Machine.REQUEST, request.id)],  # type: ignore[arg-type]
            "created_at": request.created_at,
            "updated_at": request.updated_at,
            "published_at": request.published_at,
            "links": {
                "self": api_url(f"/custom/requests/{request.id}"),
                "quotes": api_url(f"/custom/requests/{request.id}/quotes"),
                "threads": api_url(f"/custom/requests/{request.id}/threads"),
                "page": f"{base_url()}/requests/{request.id}",
            },
        }
    )
    return out


def quote_version(uow: UnitOfWork, revision: QuoteRevision) -> dict[str, Any]:
    milestones = quotes.revision_milestones(uow.session, revision)
    return {
        "number": revision.number,
        "price_amount": revision.price_amount,
        "currency": revision.currency,
        "payment_plan": revision.payment_plan.value,
        "license_id": revision.license_id,
        "license_overrides": revision.license_overrides,
        "terms_hash": revision.terms_hash,
        "terms": plain_language(revision.terms),
        "valid_until": revision.valid_until,
        "message": revision.message,
        "milestones": [
            {
                "position": m.position,
                "title": m.title,
                "deliverable": m.deliverable,
                "quantity": m.quantity,
                "due_date": m.due_date,
                "amount": m.amount,
            }
            for m in milestones
        ],
        "created_at": revision.created_at,
    }


def quote(uow: UnitOfWork, row: Quote) -> dict[str, Any]:
    """A quote with its current version and its timeline (the caller may see it)."""
    return {
        "id": row.id,
        "request_id": row.request_id,
        "provider": org_ref(uow.session.get(Organisation, row.provider_org_id)),
        "state": row.state.value,
        "revision": row.revision,
        "price_amount": row.price_amount,
        "currency": row.currency,
        "valid_until": row.valid_until,
        "decline_reason": row.decline_reason,
        "current": quote_version(uow, quotes.current_revision(uow.session, row)),
        "timeline": [transition(t) for t in transitions.timeline(uow, Machine.QUOTE, row.id)],  # type: ignore[arg-type]
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


def comparison(uow: UnitOfWork, result: dict[str, Any]) -> dict[str, Any]:
    """:func:`marketplace.custom.quotes.compare_quotes`'s result as plain values."""
    rows = []
    for item in result["quotes"]:
        row: Quote = item["quote"]
        rows.append(
            {
                "quote_id": row.id,
                "provider": org_ref(uow.session.get(Organisation, row.provider_org_id)),
                "state": row.state.value,
                "revision": row.revision,
                "price_amount": item["price_amount"],
                "currency": item["currency"],
                "payment_plan": _value(item["payment_plan"]),
                "milestone_count": item["milestone_count"],
                "last_due_date": item["last_due_date"],
                "valid_until": row.valid_until,
                "terms": item["terms"],
            }
        )
    return {"quotes": rows, "differing_terms": list(result["differing_terms"])}


def thread(uow: UnitOfWork, row: Thread) -> dict[str, Any]:
    return {
        "id": row.id,
        "request_id": row.request_id,
        "provider": org_ref(uow.session.get(Organisation, row.provider_org_id)),
        "created_at": row.created_at,
        "messages_url": api_url(f"/custom/threads/{row.id}/messages"),
    }


def message(user: User, thread_row: Thread, row: Message, files: list[Attachment]) -> dict[str, Any]:
    return {
        "id": row.id,
        "thread_id": row.thread_id,
        "side": "provider" if row.author_org_id == thread_row.provider_org_id else "buyer",
        "mine": row.author_id == user.id,
        "body": row.body,
        "attachments": [attachment(a) for a in files],
        "created_at": row.created_at,
    }


def messages(user: User, thread_row: Thread, rows: list[tuple[Message, list[Attachment]]]) -> list[dict[str, Any]]:
    return [message(user, thread_row, m, files) for m, files in rows]
