"""Quotes: providers submit, revise (every version kept) and withdraw them; buyers decline them or compare them
side by side; a sweep expires quotes past their validity and requests past their deadline.

Accepting a quote is :func:`marketplace.custom.contracts.accept_quote`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

import licensing
from marketplace.accounts.models import OrgKind, User
from marketplace.custom import access, schemas, transitions
from marketplace.custom.models import DataRequest, PaymentPlan, Quote, QuoteMilestone, QuoteRevision
from marketplace.custom.states import LIVE_QUOTE_STATES, QUOTABLE_REQUEST_STATES, Machine, QuoteState, RequestState
from marketplace.custom.terms import differing_lines, engine_terms, plain_language
from marketplace.db import UnitOfWork
from marketplace.errors import FieldProblem, NotFound, ValidationFailed
from marketplace.events import emit
from marketplace.permissions import Action, ProviderOnRequest, can, require


def validate_quote(uow: UnitOfWork, request: DataRequest, data: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    """The loaded quote and its engine terms, or :class:`ValidationFailed` naming every bad field: amounts that do
    not add up to the price, due dates in the past or after the request's deadline, more than 20 milestones, a
    validity date in the past, terms the licensing engine refuses."""
    quote = schemas.load(schemas.QuoteSchema(), {k: v for k, v in data.items() if k in schemas.QuoteSchema().fields})
    today = uow.now().date()
    problems: list[FieldProblem] = []
    for index, milestone in enumerate(quote["milestones"]):
        due = milestone["due_date"]
        if due < today:
            problems.append(FieldProblem(f"milestones.{index}.due_date", "the due date must not be in the past"))
        elif due > request.deadline:
            problems.append(
                FieldProblem(
                    f"milestones.{index}.due_date",
                    f"the due date must not be after the request's deadline ({request.deadline.isoformat()})",
                )
            )
    if quote["valid_until"] <= uow.now():
        problems.append(FieldProblem("valid_until", "the quote must be valid until a time in the future"))
    if problems:
        raise ValidationFailed(
            message="Please correct: " + "; ".join(f"{p.field}: {p.message}" for p in problems), details=problems
        )
    terms = engine_terms(
        quote["license_id"], quote["license_overrides"], price=quote["price_amount"], currency=quote["currency"]
    )
    return quote, terms


def _write_revision(uow: UnitOfWork, actor: User, quote: Quote, data: dict[str, Any], terms: Any) -> QuoteRevision:
    revision = QuoteRevision(
        quote_id=quote.id,  # type: ignore[arg-type]
        number=quote.revision,
        price_amount=data["price_amount"],
        currency=data["currency"],
        payment_plan=PaymentPlan(data["payment_plan"]),
        license_id=licensing.get_template(data["license_id"]).id,
        license_overrides=dict(data["license_overrides"]),
        terms=terms.to_dict(),
        terms_hash=terms.terms_hash,
        valid_until=data["valid_until"],
        message=data["message"],
        created_by_id=actor.id,
        created_at=uow.now(),
    )
    uow.session.add(revision)
    uow.session.flush()
    for position, milestone in enumerate(data["milestones"], start=1):
        uow.session.add(QuoteMilestone(revision_id=revision.id, position=position, **milestone))  # type: ignore[arg-type]
    quote.price_amount = data["price_amount"]
    quote.currency = data["currency"]
    quote.valid_until = data["valid_until"]
    quote.updated_at = uow.now()
    uow.session.add(quote)
    uow.session.flush()
    return revision


def submit_quote(
    uow: UnitOfWork, actor: User, request: DataRequest, data: dict[str, Any], *, organisation_slug: str | None = None
) -> Quote:
    """Quote on ``request`` for a provider organisation ``actor`` belongs to (one standing quote per provider).

    The whole quote is validated before anything is written; the request moves to ``quoting`` on its first
    quote, and ``quote.submitted`` is emitted to the buyer.
    """
    session = uow.session
    if not access.request_visible(session, actor, request):
        raise NotFound(message="No such request for data.")
    provider = access.organisation(session, actor, organisation_slug, OrgKind.PROVIDER)
    require(session, actor, Action.CUSTOM_QUOTE_SUBMIT, ProviderOnRequest(request, provider))
    standing = session.exec(
        select(Quote.id).where(
            Quote.request_id == request.id,
            Quote.provider_org_id == provider.id,
            col(Quote.state).in_(LIVE_QUOTE_STATES),
        )
    ).first()
    if standing is not None:
        raise ValidationFailed.for_field("organisation", "your organisation already has a quote here: revise it")
    data, terms = validate_quote(uow, request, data)
    now = uow.now()
    quote = Quote(
        request_id=request.id,  # type: ignore[arg-type]
        provider_org_id=provider.id,  # type: ignore[arg-type]
        created_by_id=actor.id,
        price_amount=data["price_amount"],
        currency=data["currency"],
        valid_until=data["valid_until"],
        created_at=now,
        updated_at=now,
    )
    session.add(quote)
    session.flush()
    transitions.record(uow, Machine.QUOTE, quote.id, None, QuoteState.SUBMITTED, actor_id=actor.id)  # type: ignore[arg-type]
    _write_revision(uow, actor, quote, data, terms)
    if request.state is RequestState.OPEN:
        transitions.move(uow, Machine.REQUEST, request, RequestState.QUOTING, actor_id=actor.id, reason="first quote")
    _announce(uow, request, quote)
    return quote


def _announce(uow: UnitOfWork, request: DataRequest, quote: Quote) -> None:
    emit(
        uow,
        "quote.submitted",
        {
            "quote_id": quote.id,
            "request_id": request.id,
            "provider_org_id": quote.provider_org_id,
            "price_amount": quote.price_amount,
            "currency": quote.currency,
            "revision": quote.revision,
        },
        audience=[request.buyer_org_id, quote.provider_org_id],
    )


def revise_quote(uow: UnitOfWork, actor: User, quote: Quote, data: dict[str, Any]) -> Quote:
    """State the quote again with new terms (provider members only): a new :class:`QuoteRevision` is written
    and the earlier ones are kept; the buyer hears of it through ``quote.submitted``."""
    session = uow.session
    require(session, actor, Action.CUSTOM_QUOTE_MANAGE, quote)
    request = session.get(DataRequest, quote.request_id)
    assert request is not None
    if request.state not in QUOTABLE_REQUEST_STATES:
        raise ValidationFailed.for_field("request", "the request no longer takes quotes")
    transitions.check_only(Machine.QUOTE, quote.state, QuoteState.REVISED)
    data, terms = validate_quote(uow, request, data)
    transitions.move(uow, Machine.QUOTE, quote, QuoteState.REVISED, actor_id=actor.id)
    quote.revision += 1
    _write_revision(uow, actor, quote, data, terms)
    _announce(uow, request, quote)
    return quote


def withdraw_quote(uow: UnitOfWork, actor: User, quote: Quote, *, reason: str = "") -> None:
    """Take back a standing quote (provider members only)."""
    require(uow.session, actor, Action.CUSTOM_QUOTE_MANAGE, quote)
    transitions.move(uow, Machine.QUOTE, quote, QuoteState.WITHDRAWN, actor_id=actor.id, reason=reason)
    quote.updated_at = uow.now()


def decline_quote(uow: UnitOfWork, actor: User, quote: Quote, *, reason: str) -> None:
    """Turn down a standing quote with a reason the provider reads (buyer members only)."""
    require(uow.session, actor, Action.CUSTOM_QUOTE_DECIDE, quote)
    if not reason.strip():
        raise ValidationFailed.for_field("reason", "say why you decline the quote")
    _decline(uow, quote, actor_id=actor.id, reason=reason.strip())


def _decline(uow: UnitOfWork, quote: Quote, *, actor_id: int | None, reason: str) -> None:
    transitions.move(uow, Machine.QUOTE, quote, QuoteState.DECLINED, actor_id=actor_id, reason=reason)
    quote.decline_reason = reason[:2000]
    quote.updated_at = uow.now()
    emit(
        uow,
        "quote.declined",
        {
            "quote_id": quote.id,
            "request_id": quote.request_id,
            "provider_org_id": quote.provider_org_id,
            "reason": reason,
        },
        audience=[quote.provider_org_id],
    )


def decline_standing_quotes(
    uow: UnitOfWork, request: DataRequest, *, actor_id: int | None, reason: str, except_quote_id: int | None = None
) -> list[Quote]:
    """Decline every standing quote on ``request`` but ``except_quote_id`` (each provider hears of it)."""
    quotes = uow.session.exec(
        select(Quote).where(Quote.request_id == request.id, col(Quote.state).in_(LIVE_QUOTE_STATES))
    ).all()
    declined = [q for q in quotes if q.id != except_quote_id]
    for quote in declined:
        _decline(uow, quote, actor_id=actor_id, reason=reason)
    return declined


def quotes_for_request(session: Session, user: User | None, request: DataRequest) -> list[Quote]:
    """The quotes on ``request`` that ``user`` may see: all of them for the buyer, only their own for a provider."""
    quotes = session.exec(select(Quote).where(Quote.request_id == request.id).order_by(col(Quote.id))).all()
    return [q for q in quotes if can(session, user, Action.CUSTOM_QUOTE_VIEW, q)]


def quote_revisions(session: Session, quote: Quote) -> list[QuoteRevision]:
    """Every version of ``quote``, oldest first (the caller has the quote through :func:`access.get_quote`)."""
    return list(
        session.exec(
            select(QuoteRevision).where(QuoteRevision.quote_id == quote.id).order_by(col(QuoteRevision.number))
        ).all()
    )


def current_revision(session: Session, quote: Quote) -> QuoteRevision:
    """The quote's current version."""
    revision = session.exec(
        select(QuoteRevision).where(QuoteRevision.quote_id == quote.id, QuoteRevision.number == quote.revision)
    ).one()
    return revision


def revision_milestones(session: Session, revision: QuoteRevision) -> list[QuoteMilestone]:
    return list(
        session.exec(
            select(QuoteMilestone)
            .where(QuoteMilestone.revision_id == revision.id)
            .order_by(col(QuoteMilestone.position))
        ).all()
    )


def compare_quotes(session: Session, user: User, request: DataRequest) -> dict[str, Any]:
    """The buyer's side-by-side view of the standing quotes: price, timeline (last due date), milestone count,
    the engine's plain-language line of each term, and which terms differ between the quotes."""
    require(session, user, Action.CUSTOM_REQUEST_MANAGE, request)
    rows: list[dict[str, Any]] = []
    revisions: list[QuoteRevision] = []
    for quote in quotes_for_request(session, user, request):
        if quote.state not in LIVE_QUOTE_STATES:
            continue
        revision = current_revision(session, quote)
        milestones = revision_milestones(session, revision)
        revisions.append(revision)
        rows.append(
            {
                "quote": quote,
                "revision": revision,
                "price_amount": revision.price_amount,
                "currency": revision.currency,
                "payment_plan": revision.payment_plan,
                "milestone_count": len(milestones),
                "last_due_date": max(m.due_date for m in milestones),
                "terms": plain_language(revision.terms),
            }
        )
    differing = differing_lines([r.terms for r in revisions]) if len(revisions) > 1 else []
    return {"quotes": rows, "differing_terms": differing}


def sweep(uow: UnitOfWork, *, now: datetime | None = None) -> dict[str, int]:
    """Expire standing quotes past their ``valid_until`` and requests past their deadline without an award.

    Idempotent: run it as often as you like (CLI ``marketplace custom sweep``). Returns how many of each moved.
    """
    session = uow.session
    now = now or uow.now()
    quotes = session.exec(
        select(Quote).where(col(Quote.state).in_(LIVE_QUOTE_STATES), col(Quote.valid_until) <= now)
    ).all()
    for quote in quotes:
        transitions.move(uow, Machine.QUOTE, quote, QuoteState.EXPIRED, actor_id=None, reason="validity ended")
    requests = session.exec(
        select(DataRequest).where(
            col(DataRequest.state).in_(QUOTABLE_REQUEST_STATES), col(DataRequest.deadline) < now.date()
        )
    ).all()
    for request in requests:
        transitions.move(uow, Machine.REQUEST, request, RequestState.EXPIRED, actor_id=None, reason="deadline passed")
        decline_standing_quotes(uow, request, actor_id=None, reason="The request's deadline passed.")
    return {"quotes_expired": len(quotes), "requests_expired": len(requests)}
