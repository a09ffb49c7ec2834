"""Looking things up on behalf of a user: what they may not see does not exist for them (404, not 403)."""

from __future__ import annotations

from sqlmodel import Session, select

from marketplace.accounts.models import Membership, Organisation, OrgKind, User
from marketplace.custom.models import Contract, DataRequest, Quote, Thread, Visibility
from marketplace.custom.states import RequestState
from marketplace.errors import NotFound, ValidationFailed
from marketplace.permissions import Action, can, require


def request_visible(session: Session, user: User | None, request: DataRequest) -> bool:
    """Anyone (even anonymous) sees a published open request on the board; otherwise the permission table says."""
    if request.visibility is Visibility.OPEN and request.state is not RequestState.DRAFT:
        return True
    return can(session, user, Action.CUSTOM_REQUEST_VIEW, request)


def get_request(session: Session, user: User | None, request_id: int) -> DataRequest:
    """The request ``request_id`` if ``user`` may see it; :class:`NotFound` otherwise (existence stays hidden)."""
    request = session.get(DataRequest, request_id)
    if request is None or not request_visible(session, user, request):
        raise NotFound(message="No such request for data.")
    return request


def get_quote(session: Session, user: User | None, quote_id: int) -> Quote:
    """The quote ``quote_id`` if ``user`` is on its provider's or its buyer's side; :class:`NotFound` otherwise."""
    quote = session.get(Quote, quote_id)
    if quote is None or not can(session, user, Action.CUSTOM_QUOTE_VIEW, quote):
        raise NotFound(message="No such quote.")
    return quote


def get_thread(session: Session, user: User | None, thread_id: int) -> Thread:
    """The thread ``thread_id`` if ``user`` is on one of its two sides; :class:`NotFound` otherwise."""
    thread = session.get(Thread, thread_id)
    if thread is None or not can(session, user, Action.CUSTOM_THREAD_VIEW, thread):
        raise NotFound(message="No such conversation.")
    return thread


def get_contract(session: Session, user: User | None, contract_id: int) -> Contract:
    """The contract ``contract_id`` if ``user`` belongs to one of its two parties; :class:`NotFound` otherwise."""
    contract = session.get(Contract, contract_id)
    if contract is None or not can(session, user, Action.CUSTOM_CONTRACT_VIEW, contract):
        raise NotFound(message="No such contract.")
    return contract


def organisation(
    session: Session, user: User, slug: str | None, kind: OrgKind, *, field: str = "organisation"
) -> Organisation:
    """The organisation ``slug`` of ``kind`` that ``user`` acts for; with no slug, their only one of that kind."""
    if slug:
        org = session.exec(select(Organisation).where(Organisation.slug == slug)).first()
        if org is None or org.kind is not kind:
            raise ValidationFailed.for_field(field, f"no {kind.value} organisation called {slug!r}")
        require(session, user, Action.ORG_ACT_FOR, org)
        return org
    candidates = [
        org
        for org in session.exec(
            select(Organisation)
            .join(Membership, Membership.organisation_id == Organisation.id)  # type: ignore[arg-type]
            .where(Membership.user_id == user.id, Organisation.kind == kind)
        ).all()
        if can(session, user, Action.ORG_ACT_FOR, org)
    ]
    if len(candidates) != 1:
        raise ValidationFailed.for_field(field, f"name the {kind.value} organisation you act for")
    return candidates[0]
