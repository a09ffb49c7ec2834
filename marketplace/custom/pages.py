"""What the custom-data exchange's web pages show, assembled from the services for one user.

Read-only: each function looks things up through :mod:`marketplace.custom.access` (what a user may not see does
not exist for them: :class:`NotFound`) and the request, quote, thread and contract services, and returns plain
dictionaries the templates render. Templates never query.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

import licensing
from marketplace.accounts.models import Membership, Organisation, OrgKind, User
from marketplace.catalog.models import Dataset
from marketplace.catalog.vocab import Modality, OfferingType
from marketplace.custom import access, quotes, requests, threads
from marketplace.custom.models import Attachment, Contract, DataRequest, Quote, Thread, Transition, Visibility
from marketplace.custom.requests import PUBLISHED_STATES
from marketplace.custom.states import LIVE_QUOTE_STATES, QUOTABLE_REQUEST_STATES, Machine, RequestState
from marketplace.db import UnitOfWork
from marketplace.errors import NotFound, ServiceUnavailable
from marketplace.permissions import Action, can

#: How many requests one board page lists.
BOARD_PAGE = 50


@dataclass(frozen=True)
class BoardFilters:
    """The requests board's filters: a modality, a language (its primary subtag matches regional variants),
    and a budget the request's maximum must reach (in ``currency``, minor units)."""

    modality: str | None = None
    language: str | None = None
    budget_amount: int | None = None
    currency: str | None = None


def _orgs_of(session: Session, user: User | None, kind: OrgKind) -> list[Organisation]:
    if user is None:
        return []
    return list(
        session.exec(
            select(Organisation)
            .join(Membership, Membership.organisation_id == Organisation.id)  # type: ignore[arg-type]
            .where(Membership.user_id == user.id, Organisation.kind == kind)
            .order_by(col(Organisation.name))
        ).all()
    )


def _matches(request: DataRequest, filters: BoardFilters) -> bool:
    if filters.modality and request.modality.value != filters.modality:
        return False
    if filters.language:
        wanted = filters.language.lower()
        primary = wanted.split("-")[0]
        tags = [tag.lower() for tag in request.languages]
        if wanted not in tags and primary not in {tag.split("-")[0] for tag in tags}:
            return False
    if filters.budget_amount is not None:
        if filters.currency and request.currency != filters.currency:
            return False
        if request.budget_max < filters.budget_amount:
            return False
    return True


def _card(session: Session, user: User | None, request: DataRequest) -> dict[str, Any]:
    return {
        "request": request,
        "buyer": requests.buyer_label(session, user, request),
        "quote_count": len(requests.quoting_provider_ids(session, request)),
    }


def board(session: Session, user: User | None, tab: str, filters: BoardFilters) -> dict[str, Any]:
    """The requests board for ``user``: ``board`` (published open requests), ``mine`` (their buyer
    organisations' requests, any state) or ``for_you`` (open and invited requests their provider organisations
    may quote on); filtered, newest first, buyer names hidden unless shown."""
    buyer_orgs = _orgs_of(session, user, OrgKind.BUYER)
    provider_orgs = _orgs_of(session, user, OrgKind.PROVIDER)
    if tab == "mine" and user is not None:
        ids = [o.id for o in buyer_orgs]
        rows = session.exec(
            select(DataRequest).where(col(DataRequest.buyer_org_id).in_(ids)).order_by(col(DataRequest.id).desc())
        ).all()
    elif tab == "for_you" and user is not None:
        rows = [
            r
            for r in requests.request_board(session, limit=BOARD_PAGE * 4)
            + requests.requests_for_user(session, user, limit=BOARD_PAGE * 4)
            if r.state in QUOTABLE_REQUEST_STATES
            and any(
                can(session, user, Action.CUSTOM_REQUEST_VIEW, r) and org.id != r.buyer_org_id for org in provider_orgs
            )
        ]
        rows = sorted({r.id: r for r in rows}.values(), key=lambda r: -(r.id or 0))
    else:
        tab = "board"
        rows = session.exec(
            select(DataRequest)
            .where(DataRequest.visibility == Visibility.OPEN, col(DataRequest.state).in_(PUBLISHED_STATES))
            .order_by(col(DataRequest.id).desc())
        ).all()
    cards = [_card(session, user, r) for r in rows if _matches(r, filters)][:BOARD_PAGE]
    return {
        "tab": tab,
        "cards": cards,
        "is_buyer": bool(buyer_orgs),
        "is_provider": bool(provider_orgs),
        "modalities": Modality.choices(),
    }


def new_request_context(
    session: Session, user: User, provider_slug: str | None, listing_slug: str | None
) -> dict[str, Any]:
    """What the new-request form needs: the user's buyer organisations, the license templates, and — coming
    from a custom listing's "Request a quote" — that listing and its provider (invited on posting)."""
    listing = None
    if listing_slug:
        listing = session.exec(select(Dataset).where(Dataset.slug == listing_slug)).first()
        if listing is None or not listing.is_public or listing.offering_type is not OfferingType.CUSTOM:
            raise NotFound(message=f"No custom listing called {listing_slug!r}.")
    provider = None
    if listing is not None:
        provider = session.get(Organisation, listing.organisation_id)
    elif provider_slug:
        provider = session.exec(select(Organisation).where(Organisation.slug == provider_slug)).first()
        if provider is None or provider.kind is not OrgKind.PROVIDER:
            raise NotFound(message=f"No provider organisation called {provider_slug!r}.")
    buyer_orgs = _orgs_of(session, user, OrgKind.BUYER)
    return {
        "buyer_orgs": buyer_orgs,
        "buyer_org_choices": [(org.slug, org.name) for org in buyer_orgs],
        "listing": listing,
        "provider": provider,
    }


def license_choices() -> list[tuple[str, str]]:
    return [(t.id, t.name) for t in licensing.list_templates()]


def plain_terms(license_id: str, overrides: dict[str, Any]) -> list[str]:
    """The plain-language lines of a template with overrides (what a request asks for; validated on posting)."""
    try:
        terms = licensing.get_template(license_id).terms.with_overrides(overrides)
    except licensing.LicensingError:
        return []
    return list(terms.plain_language())


def _quote_card(session: Session, quote: Quote) -> dict[str, Any]:
    revision = quotes.current_revision(session, quote)
    provider = session.get(Organisation, quote.provider_org_id)
    return {
        "quote": quote,
        "provider": provider,
        "revision": revision,
        "milestones": quotes.revision_milestones(session, revision),
        "revisions": quotes.quote_revisions(session, quote),
        "live": quote.state in LIVE_QUOTE_STATES,
    }


def request_page(session: Session, user: User | None, request_id: int) -> dict[str, Any]:
    """Everything the request page shows ``user``: the specification, attachments and revisions; for the
    buyer, invitations, every quote with a side-by-side comparison and the threads; for a provider, its own
    quote and thread and whether it may quote. :class:`NotFound` when ``user`` may not see the request."""
    request = access.get_request(session, user, request_id)
    is_buyer = can(session, user, Action.CUSTOM_REQUEST_MANAGE, request)
    provider_orgs = [
        org for org in _orgs_of(session, user, OrgKind.PROVIDER) if org.id != request.buyer_org_id and user is not None
    ]
    visible_quotes = quotes.quotes_for_request(session, user, request) if user is not None else []
    page: dict[str, Any] = {
        "request": request,
        "buyer": requests.buyer_label(session, user, request),
        "is_buyer": is_buyer,
        "attachments": requests.request_attachments(session, request),
        "revisions": requests.request_revisions(session, user, request),
        "wanted_terms": plain_terms(request.license_id, request.license_overrides),
        "template_name": _template_name(request.license_id),
        "quotes": [_quote_card(session, q) for q in visible_quotes],
        "provider_orgs": provider_orgs,
        "may_quote": bool(provider_orgs) and request.state in QUOTABLE_REQUEST_STATES,
        "contract_id": _contract_id(session, request),
        "timeline": _timeline(session, Machine.REQUEST, request.id),
        "threads": [],
        "invited": [],
        "comparison": None,
    }
    if user is not None and (is_buyer or provider_orgs):
        page["threads"] = [
            {"thread": t, "provider": session.get(Organisation, t.provider_org_id)}
            for t in threads.threads_for_request(session, user, request)
        ]
    if is_buyer and user is not None:
        page["invited"] = [
            session.get(Organisation, org_id) for org_id in requests.invited_provider_ids(session, request)
        ]
        page["comparison"] = comparison(session, user, request)
    page["own_quote"] = next((c for c in page["quotes"] if c["live"] and not is_buyer), None)
    return page


def _template_name(license_id: str) -> str:
    try:
        return licensing.get_template(license_id).name
    except licensing.LicensingError:
        return license_id


def _contract_id(session: Session, request: DataRequest) -> int | None:
    from marketplace.custom.models import Contract

    return session.exec(select(Contract.id).where(Contract.request_id == request.id)).first()


def _timeline(session: Session, machine: Machine, subject_id: int | None) -> list[dict[str, Any]]:
    rows = session.exec(
        select(Transition)
        .where(Transition.machine == machine, Transition.subject_id == subject_id)
        .order_by(col(Transition.at), col(Transition.id))
    ).all()
    return timeline_rows(session, list(rows))


def timeline_rows(session: Session, rows: list[Transition]) -> list[dict[str, Any]]:
    """Transition-log rows with the actor's name, for the timeline both parties see."""
    names: dict[int, str] = {}
    out = []
    for row in rows:
        actor = "the platform (automatic)"
        if row.actor_id is not None:
            if row.actor_id not in names:
                person = session.get(User, row.actor_id)
                names[row.actor_id] = person.label if person else "a former member"
            actor = names[row.actor_id]
        out.append({"row": row, "actor": actor})
    return out


def comparison(session: Session, user: User, request: DataRequest) -> dict[str, Any] | None:
    """The buyer's side-by-side comparison of standing quotes: price, payment plan, timeline, and the terms that
    differ in the engine's plain-language lines (None when fewer than one quote stands)."""
    compared = quotes.compare_quotes(session, user, request)
    if not compared["quotes"]:
        return None
    for row in compared["quotes"]:
        row["provider"] = session.get(Organisation, row["quote"].provider_org_id)
    return compared


def quote_form_context(session: Session, user: User, request_id: int) -> dict[str, Any]:
    """The provider's quote form on a request: the request, the provider's standing quote if any (revising it)
    and the organisations it may quote for. :class:`NotFound` when the request is not the user's to quote on."""
    request = access.get_request(session, user, request_id)
    orgs = [org for org in _orgs_of(session, user, OrgKind.PROVIDER) if org.id != request.buyer_org_id]
    if not orgs or can(session, user, Action.CUSTOM_REQUEST_MANAGE, request):
        raise NotFound(message="No such request for data.")
    standing = next(
        (q for q in quotes.quotes_for_request(session, user, request) if q.state in LIVE_QUOTE_STATES), None
    )
    return {"request": request, "quote": standing, "provider_orgs": orgs}


def quote_form_values(session: Session, quote: Quote) -> dict[str, Any]:
    """A standing quote as the form's values (money back in major units), to revise it."""
    revision = quotes.current_revision(session, quote)
    values: dict[str, Any] = {
        "price_amount": licensing.Money(revision.price_amount, revision.currency).decimal_string(),
        "currency": revision.currency,
        "payment_plan": revision.payment_plan.value,
        "license_id": revision.license_id,
        "valid_until": revision.valid_until.date().isoformat(),
        "message": revision.message,
    }
    values["license_overrides"] = dict(revision.license_overrides or {})  # shown through one input per term
    for index, item in enumerate(quotes.revision_milestones(session, revision)):
        values.update(
            {
                f"milestones.{index}.title": item.title,
                f"milestones.{index}.deliverable": item.deliverable,
                f"milestones.{index}.quantity": str(item.quantity),
                f"milestones.{index}.due_date": item.due_date.isoformat(),
                f"milestones.{index}.amount": licensing.Money(item.amount, revision.currency).decimal_string(),
            }
        )
    return values


def request_form_values(request: DataRequest) -> dict[str, Any]:
    """A request's specification as the form's values (budget in major units, lists joined with commas)."""
    quality, personal = request.quality or {}, request.personal_data or {}
    values: dict[str, Any] = {
        "title": request.title,
        "description": request.description,
        "modality": request.modality.value,
        "tasks": list(request.tasks),
        "volume_amount": str(request.volume_amount),
        "volume_unit": request.volume_unit.value,
        "languages": ", ".join(request.languages),
        "regions": ", ".join(request.regions),
        "personal_data.personal_data": personal.get("personal_data") or "unknown",
        "personal_data.special_categories": list(personal.get("special_categories") or []),
        "personal_data.deidentification": list(personal.get("deidentification") or []),
        "personal_data.notes": personal.get("notes") or "",
        "ai_act_documentation": "on" if request.ai_act_documentation else "",
        "license_id": request.license_id,
        "license_overrides": dict(request.license_overrides or {}),  # shown through one input per term
        "budget_min": licensing.Money(request.budget_min, request.currency).decimal_string(),
        "budget_max": licensing.Money(request.budget_max, request.currency).decimal_string(),
        "currency": request.currency,
        "deadline": request.deadline.isoformat(),
        "visibility": request.visibility.value,
        "show_buyer_name": "on" if request.show_buyer_name else "",
    }
    for name in ("annotation_method", "annotations_per_item", "agreement_metric", "agreement_min"):
        value = quality.get(name)
        values[f"quality.{name}"] = "" if value is None else str(value)
    return values


def editable_request(session: Session, user: User, request_id: int) -> DataRequest:
    """The request for its edit page: only the buyer's members see it (everyone else: :class:`NotFound`)."""
    request = access.get_request(session, user, request_id)
    if not can(session, user, Action.CUSTOM_REQUEST_MANAGE, request):
        raise NotFound(message="No such request for data.")
    return request


def thread_page(uow: UnitOfWork, user: User, request_id: int, provider_slug: str | None) -> dict[str, Any]:
    """The private conversation of a request with one provider (opened on first use) and its messages."""
    session = uow.session
    request = access.get_request(session, user, request_id)
    existing = None
    if provider_slug:
        # A conversation the provider started (before any invitation or quote) is the buyer's to read and answer.
        existing = session.exec(
            select(Thread)
            .join(Organisation, col(Organisation.id) == col(Thread.provider_org_id))
            .where(Thread.request_id == request.id, Organisation.slug == provider_slug)
        ).first()
    if existing is not None and can(session, user, Action.CUSTOM_THREAD_VIEW, existing):
        return _thread_context(session, request, existing)
    thread = threads.open_thread(uow, user, request, provider_slug=provider_slug)
    return _thread_context(session, request, thread)


def _thread_context(session: Session, request: DataRequest, thread: Thread) -> dict[str, Any]:
    return {
        "request": request,
        "thread": thread,
        "provider": session.get(Organisation, thread.provider_org_id),
        "messages": [
            {"message": m, "files": files, "org": session.get(Organisation, m.author_org_id)}
            for m, files in threads.thread_messages(session, thread)
        ],
        "buyer_org_id": request.buyer_org_id,
    }


def attachment_content(
    uow: UnitOfWork, user: User | None, request_id: int, attachment_id: int
) -> tuple[Attachment, bytes]:
    """An attachment and its bytes, for whoever may read it: the request's own files for anyone who sees the
    request, a message's files for the two sides of its thread only. :class:`NotFound` otherwise."""
    session = uow.session
    request = access.get_request(session, user, request_id)
    attachment = session.get(Attachment, attachment_id)
    if attachment is None or attachment.request_id != request.id:
        raise NotFound(message="No such file.")
    if attachment.message_id is not None:
        from marketplace.custom.models import Message

        message = session.get(Message, attachment.message_id)
        thread = session.get(Thread, message.thread_id) if message else None
        if thread is None or not can(session, user, Action.CUSTOM_THREAD_VIEW, thread):
            raise NotFound(message="No such file.")
    storage = uow.context.storage
    if storage is None:
        raise ServiceUnavailable(message="File storage is not configured.")
    return attachment, storage.read_bytes(attachment.storage_key)


def request_state_label(state: RequestState) -> str:
    return state.value.replace("_", " ")


def contract_page(session: Session, user: User | None, contract_id: int) -> dict[str, Any]:
    """The contract page for one of its parties (or a platform admin): parties, terms hash, the private dataset,
    the milestones with their states, the license once granted, and every transition of the contract and its
    milestones with actor, time and reason. :class:`NotFound` for everyone else."""
    from marketplace.custom import contracts
    from marketplace.custom.models import DataRequest
    from marketplace.licenses.models import Offer

    contract = contract_for(session, user, contract_id)
    is_admin = can(session, user, Action.CUSTOM_ESCALATION_DECIDE, contract)
    milestones = contracts.contract_milestones(session, contract)
    labels = {m.id: f"Milestone {m.position}" for m in milestones}
    rows = timeline_rows(session, contracts.contract_timeline(session, contract))
    for item in rows:
        item["label"] = "Contract" if item["row"].machine is Machine.CONTRACT else labels.get(item["row"].subject_id)
    member_of = {org.id for org in _orgs_of(session, user, OrgKind.BUYER) + _orgs_of(session, user, OrgKind.PROVIDER)}
    offer = session.get(Offer, contract.offer_id)
    return {
        "contract": contract,
        "request": session.get(DataRequest, contract.request_id),
        "buyer": session.get(Organisation, contract.buyer_org_id),
        "provider": session.get(Organisation, contract.provider_org_id),
        "dataset": session.get(Dataset, contract.dataset_id),
        "offer": offer,
        "terms": plain_terms(offer.license_id, offer.overrides) if offer else [],
        "milestones": milestones,
        "timeline": rows,
        "is_buyer": contract.buyer_org_id in member_of,
        "is_provider": contract.provider_org_id in member_of,
        "is_admin": is_admin,
    }


def contract_for(session: Session, user: User | None, contract_id: int) -> Contract:
    """The contract for one of its two parties, or for the platform admin who decides escalations;
    :class:`NotFound` for everyone else."""
    contract = session.get(Contract, contract_id)
    if contract is None or not (
        can(session, user, Action.CUSTOM_CONTRACT_VIEW, contract)
        or can(session, user, Action.CUSTOM_ESCALATION_DECIDE, contract)
    ):
        raise NotFound(message="No such contract.")
    return contract


def contract_actions(uow: UnitOfWork, contract: Contract, milestones: list[Any]) -> dict[str, Any]:
    """What the contract page offers: the amount due now, the payments, the draft versions of the private dataset
    a milestone can be delivered as, and each milestone's current delivery (version, manifest digest, review
    license) and whether it is funded."""
    from marketplace.catalog.models import DatasetVersion
    from marketplace.catalog.vocab import VersionStatus
    from marketplace.custom import escrow
    from marketplace.custom import milestones as milestone_service

    session = uow.session
    due, due_milestone = escrow.amount_due(session, contract)
    drafts = session.exec(
        select(DatasetVersion)
        .where(DatasetVersion.dataset_id == contract.dataset_id, DatasetVersion.status == VersionStatus.DRAFT)
        .order_by(col(DatasetVersion.id))
    ).all()
    deliveries: dict[int, Any] = {}
    for milestone in milestones:
        rows = milestone_service.deliveries_of(uow, milestone)
        if rows:
            version = session.get(DatasetVersion, rows[-1].version_id)
            deliveries[milestone.id] = {"delivery": rows[-1], "version": version, "count": len(rows)}
    return {
        "amount_due": due,
        "due_milestone": due_milestone,
        "payments": escrow.payments_of(session, contract),
        "drafts": list(drafts),
        "deliveries": deliveries,
        "funded": {m.id: escrow.funding_payment(session, contract, m) is not None for m in milestones},
        "under_review": {state.value for state in milestone_service.UNDER_REVIEW},
    }
