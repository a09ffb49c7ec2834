"""Accepting a quote: the contract, its private dataset and private offer, and its milestone schedule.

Two acceptances at once (two quotes of one request, or one quote twice) give exactly one contract: the request
row is locked first (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already serialises
writers), its state re-read under the lock, and ``custom_contract.request_id`` is unique besides.
"""

from __future__ import annotations

import uuid

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, or_, select

import licensing
from marketplace.accounts.models import Membership, Organisation, User
from marketplace.catalog.models import Dataset
from marketplace.catalog.vocab import DatasetStatus, OfferingType
from marketplace.custom import transitions
from marketplace.custom.errors import AlreadyAwarded, CustomErrorCode
from marketplace.custom.models import Contract, DataRequest, Milestone, Quote, QuoteRevision, Transition
from marketplace.custom.quotes import current_revision, decline_standing_quotes, revision_milestones
from marketplace.custom.states import ContractState, Machine, MilestoneState, QuoteState, RequestState
from marketplace.db import UnitOfWork
from marketplace.errors import Conflict
from marketplace.events import emit
from marketplace.licenses.models import Offer
from marketplace.licenses.services import org_ref
from marketplace.permissions import Action, can, require


def _lock_request(session: Session, request_id: int) -> DataRequest:
    # populate_existing: the row as it is now, under the lock, not as this session first read it.
    return session.exec(
        select(DataRequest)
        .where(DataRequest.id == request_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def accept_quote(uow: UnitOfWork, actor: User, quote: Quote) -> Contract:
    """Accept ``quote`` for its request (buyer members only) and make the contract.

    Creates, in one unit of work: a private dataset (offering type ``custom``, status ``private``: only the
    provider and, through the contract, the buyer see it), a private offer to the buyer organisation holding the
    accepted revision's terms snapshot and its canonical hash, the contract (``awaiting_payment``) and one
    ``pending`` milestone per quoted milestone. The quote becomes ``accepted``, the request ``awarded``, every
    other standing quote ``declined`` (each provider is told); ``quote.accepted`` is emitted.
    Raises :class:`AlreadyAwarded` when the request already has a contract.
    """
    session = uow.session
    require(session, actor, Action.CUSTOM_QUOTE_DECIDE, quote)
    request = _lock_request(session, quote.request_id)
    session.refresh(quote)
    _check_acceptable(uow, request, quote)
    revision = current_revision(session, quote)
    buyer = session.get(Organisation, request.buyer_org_id)
    assert buyer is not None
    dataset = _private_dataset(uow, actor, request, quote)
    offer = _private_offer(uow, actor, request, revision, dataset, buyer)
    contract = _contract_row(uow, actor, request, quote, revision, dataset, offer)
    _schedule_milestones(uow, actor, contract, revision)
    transitions.move(uow, Machine.QUOTE, quote, QuoteState.ACCEPTED, actor_id=actor.id)
    transitions.move(uow, Machine.REQUEST, request, RequestState.AWARDED, actor_id=actor.id)
    decline_standing_quotes(
        uow, request, actor_id=actor.id, reason="The buyer accepted another quote.", except_quote_id=quote.id
    )
    emit(
        uow,
        "quote.accepted",
        {
            "quote_id": quote.id,
            "request_id": request.id,
            "contract_id": contract.id,
            "provider_org_id": quote.provider_org_id,
            "buyer_org_id": request.buyer_org_id,
            "price_amount": contract.price_amount,
            "currency": contract.currency,
        },
        audience=[request.buyer_org_id, quote.provider_org_id],
    )
    return contract


def _check_acceptable(uow: UnitOfWork, request: DataRequest, quote: Quote) -> None:
    """Refuse, before anything is written, a request already awarded, an expired quote or an illegal move."""
    session = uow.session
    if (
        request.state is RequestState.AWARDED
        or session.exec(select(Contract.id).where(Contract.request_id == request.id)).first()
    ):
        raise AlreadyAwarded()
    if quote.state in (QuoteState.SUBMITTED, QuoteState.REVISED) and quote.valid_until <= uow.now():
        raise Conflict(
            message="This quote is no longer valid: ask the provider to revise it.", code=CustomErrorCode.QUOTE_EXPIRED
        )
    transitions.check_only(Machine.QUOTE, quote.state, QuoteState.ACCEPTED)
    transitions.check_only(Machine.REQUEST, request.state, RequestState.AWARDED)


def _private_dataset(uow: UnitOfWork, actor: User, request: DataRequest, quote: Quote) -> Dataset:
    """The provider's private listing the milestones are delivered into (seen only by the two parties)."""
    now = uow.now()
    dataset = Dataset(
        slug=f"custom-{request.id}-{uuid.uuid4().hex[:8]}",
        organisation_id=quote.provider_org_id,
        title=request.title[:200],
        summary="Custom dataset collected under contract.",
        description=request.description,
        status=DatasetStatus.PRIVATE,
        offering_type=OfferingType.CUSTOM,
        modality=request.modality,
        created_by_id=actor.id,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(dataset)
    uow.session.flush()
    return dataset


def _private_offer(
    uow: UnitOfWork,
    actor: User,
    request: DataRequest,
    revision: QuoteRevision,
    dataset: Dataset,
    buyer: Organisation,
) -> Offer:
    """The offer to the buyer organisation alone, holding the accepted revision's terms and their canonical hash."""
    template = licensing.get_template(revision.license_id)
    engine_offer = licensing.Offer(
        template=template,
        price=licensing.Money(0 if template.is_open else revision.price_amount, revision.currency),
        overrides=revision.license_overrides,
        audience=licensing.Audience.private(org_ref(buyer)),
    )
    terms = engine_offer.terms
    offer = Offer(
        dataset_id=dataset.id,  # type: ignore[arg-type]
        organisation_id=dataset.organisation_id,
        title=f"Contract terms: {request.title}"[:120],
        license_id=revision.license_id,
        license_family=licensing.license_family(revision.license_id).value,
        overrides=dict(revision.license_overrides),
        terms=terms.to_dict(),
        terms_hash=terms.terms_hash,
        training_permitted=terms.permits_training(),
        price_amount=revision.price_amount,
        currency=revision.currency,
        audience_org_id=buyer.id,
        created_by_id=actor.id,
        created_at=uow.now(),
    )
    uow.session.add(offer)
    uow.session.flush()
    return offer


def _contract_row(
    uow: UnitOfWork,
    actor: User,
    request: DataRequest,
    quote: Quote,
    revision: QuoteRevision,
    dataset: Dataset,
    offer: Offer,
) -> Contract:
    """The contract, awaiting payment; a concurrent acceptance that slipped past the lock is refused here."""
    session = uow.session
    contract = Contract(
        request_id=request.id,  # type: ignore[arg-type]
        quote_id=quote.id,  # type: ignore[arg-type]
        quote_revision_id=revision.id,  # type: ignore[arg-type]
        buyer_org_id=request.buyer_org_id,
        provider_org_id=quote.provider_org_id,
        dataset_id=dataset.id,  # type: ignore[arg-type]
        offer_id=offer.id,  # type: ignore[arg-type]
        price_amount=revision.price_amount,
        currency=revision.currency,
        payment_plan=revision.payment_plan,
        terms_hash=offer.terms_hash,
        max_redeliveries=int(uow.settings.get("CUSTOM_MAX_REDELIVERIES", 2)),
        transfer_group=f"custom-contract-{uuid.uuid4().hex}",
        accepted_by_id=actor.id,
        created_at=uow.now(),
    )
    try:
        with session.begin_nested():
            session.add(contract)
            session.flush()
    except IntegrityError as error:  # a concurrent acceptance won although the lock should have made us wait
        raise AlreadyAwarded() from error
    transitions.record(uow, Machine.CONTRACT, contract.id, None, ContractState.AWAITING_PAYMENT, actor_id=actor.id)  # type: ignore[arg-type]
    return contract


def _schedule_milestones(uow: UnitOfWork, actor: User, contract: Contract, revision: QuoteRevision) -> None:
    """One ``pending`` milestone per milestone of the accepted revision, each with its first timeline entry."""
    session = uow.session
    for item in revision_milestones(session, revision):
        milestone = Milestone(
            contract_id=contract.id,  # type: ignore[arg-type]
            position=item.position,
            title=item.title,
            deliverable=item.deliverable,
            quantity=item.quantity,
            due_date=item.due_date,
            amount=item.amount,
            currency=revision.currency,
        )
        session.add(milestone)
        session.flush()
        transitions.record(uow, Machine.MILESTONE, milestone.id, None, MilestoneState.PENDING, actor_id=actor.id)  # type: ignore[arg-type]


def contract_milestones(session: Session, contract: Contract) -> list[Milestone]:
    """The contract's milestones in schedule order."""
    return list(
        session.exec(
            select(Milestone).where(Milestone.contract_id == contract.id).order_by(col(Milestone.position))
        ).all()
    )


def contracts_for_user(session: Session, user: User) -> list[Contract]:
    """Contracts of the organisations ``user`` belongs to (either side), newest first."""
    org_ids = session.exec(select(Membership.organisation_id).where(Membership.user_id == user.id)).all()
    rows = session.exec(
        select(Contract)
        .where(or_(col(Contract.buyer_org_id).in_(org_ids), col(Contract.provider_org_id).in_(org_ids)))
        .order_by(col(Contract.id).desc())
    ).all()
    return [c for c in rows if can(session, user, Action.CUSTOM_CONTRACT_VIEW, c)]


def contract_timeline(session: Session, contract: Contract) -> list[Transition]:
    """Every transition of the contract and of its milestones, oldest first: the timeline both parties see."""
    milestone_ids = [m.id for m in contract_milestones(session, contract)]
    return list(
        session.exec(
            select(Transition)
            .where(
                or_(
                    (col(Transition.machine) == Machine.CONTRACT) & (col(Transition.subject_id) == contract.id),
                    (col(Transition.machine) == Machine.MILESTONE) & col(Transition.subject_id).in_(milestone_ids),
                )
            )
            .order_by(col(Transition.at), col(Transition.id))
        ).all()
    )
