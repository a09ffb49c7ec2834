"""Orders: cart, checkout, payment events applied exactly once, fulfilment, refunds, disputes and payouts.

The payment provider's events are the source of truth for money. Each event is stored by its id in the same
transaction that applies it, so a second delivery of the same event (even at the same moment, from another
worker) fails on the primary key and changes nothing. Fulfilment is one idempotent function keyed by the
checkout session, which locks the order row; the webhook and the buyer's return from checkout both call it.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

import licensing
from marketplace.accounts.models import Membership, Organisation, OrgKind, User
from marketplace.catalog.models import Dataset
from marketplace.catalog.vocab import DatasetStatus
from marketplace.db import UnitOfWork
from marketplace.errors import Conflict, DomainError, NotFound, PermissionDenied, ServiceUnavailable, ValidationFailed
from marketplace.events import emit
from marketplace.licenses import services as licenses
from marketplace.licenses.models import Grant, Offer
from marketplace.mail import send_after_commit
from marketplace.orders.models import (
    RANK,
    CartItem,
    Order,
    OrderLine,
    OrderStatus,
    PaymentEventRecord,
    ProviderAccount,
)
from marketplace.orders.payments import (
    CheckoutLine,
    CheckoutRequest,
    CheckoutSession,
    PaymentBackend,
    PaymentError,
    PaymentEvent,
    PaymentProviderUnavailable,
    SignatureInvalid,
    platform_fee_bps_from_settings,
    split_fee,
)
from marketplace.permissions import Action, can, require

log = logging.getLogger(__name__)


@dataclass
class PaymentUnavailable(ServiceUnavailable):
    """The payment provider cannot be reached now; the request may be retried."""

    message: str = "The payment provider is not reachable right now. Please try again in a minute."
    code: str = "payment_unavailable"


@dataclass
class WebhookRejected(DomainError):
    """A webhook that failed verification: nothing was read from it, nothing changed."""

    code: str = "webhook_rejected"


def backend(uow: UnitOfWork) -> PaymentBackend:
    payments = uow.context.payments
    if payments is None:
        raise RuntimeError("no payment backend configured")
    return payments


def _format(amount: int, currency: str) -> str:
    return licensing.Money(amount, currency).format()


def _payment_failure(error: PaymentError) -> DomainError:
    if isinstance(error, PaymentProviderUnavailable):
        return PaymentUnavailable()
    return Conflict(message=f"The payment provider refused: {error.message}", code="payment_refused")


# --- cart -----------------------------------------------------------------------------------------------------------


@dataclass
class CartLine:
    item: CartItem | None  # None for an order placed without a cart (the API's order_offers)
    offer: Offer
    dataset: Dataset
    licensee: Organisation
    provider: Organisation


@dataclass
class Cart:
    lines: list[CartLine] = field(default_factory=list)

    def totals(self) -> dict[tuple[str, str], int]:
        """Totals per (licensee slug, currency): what each checkout will charge."""
        out: dict[tuple[str, str], int] = defaultdict(int)
        for line in self.lines:
            out[(line.licensee.slug, line.offer.currency)] += line.offer.price_amount
        return dict(out)


def _buyer_org(uow: UnitOfWork, user: User, slug: str) -> Organisation:
    org = uow.session.exec(select(Organisation).where(Organisation.slug == slug)).first()
    if org is None or org.kind is not OrgKind.BUYER:
        raise ValidationFailed.for_field("licensee", f"no buyer organisation {slug!r}")
    if not can(uow.session, user, Action.ORG_ACT_FOR, org):
        raise PermissionDenied(message=f"You cannot buy licenses for {org.name}.")
    return org


def _check_sellable(uow: UnitOfWork, offer: Offer, licensee: Organisation) -> Dataset:
    dataset = uow.session.get(Dataset, offer.dataset_id)
    if dataset is None or dataset.status is not DatasetStatus.PUBLISHED:
        raise Conflict(message="This dataset is not available for licensing.", code="dataset_unavailable")
    if not offer.is_active:
        raise Conflict(message=f"The offer “{offer.title}” is no longer on sale.", code="offer_retired")
    if offer.audience_org_id is not None and offer.audience_org_id != licensee.id:
        raise PermissionDenied(message="This private offer is for another buyer.")
    return dataset


def add_to_cart(uow: UnitOfWork, user: User, offer: Offer, *, licensee_slug: str) -> CartItem:
    """Put a paid offer in the user's cart for one of their buyer organisations (free ones need no cart)."""
    licensee = _buyer_org(uow, user, licensee_slug)
    _check_sellable(uow, offer, licensee)
    if offer.is_free:
        raise Conflict(message="This license is free: get it directly from the dataset page.", code="free_offer")
    existing = uow.session.exec(
        select(CartItem).where(
            CartItem.user_id == user.id, CartItem.offer_id == offer.id, CartItem.licensee_org_id == licensee.id
        )
    ).first()
    if existing is not None:
        return existing
    item = CartItem(user_id=user.id, offer_id=offer.id, licensee_org_id=licensee.id, added_at=uow.now())  # type: ignore[arg-type]
    uow.session.add(item)
    uow.session.flush()
    return item


def remove_from_cart(uow: UnitOfWork, user: User, item_id: int) -> None:
    item = uow.session.get(CartItem, item_id)
    if item is None or item.user_id != user.id:
        raise NotFound(message="That item is not in your cart.")
    uow.session.delete(item)


def cart_of(session: Session, user: User) -> Cart:
    rows = session.exec(
        select(CartItem).where(CartItem.user_id == user.id).order_by(col(CartItem.added_at), col(CartItem.id))
    ).all()
    cart = Cart()
    for item in rows:
        offer = session.get(Offer, item.offer_id)
        licensee = session.get(Organisation, item.licensee_org_id)
        if offer is None or licensee is None:
            continue
        dataset = session.get(Dataset, offer.dataset_id)
        provider = session.get(Organisation, offer.organisation_id)
        if dataset is None or provider is None:
            continue
        cart.lines.append(CartLine(item, offer, dataset, licensee, provider))
    return cart


# --- checkout -------------------------------------------------------------------------------------------------------


def _provider_account(session: Session, org_id: int) -> ProviderAccount | None:
    return session.exec(select(ProviderAccount).where(ProviderAccount.organisation_id == org_id)).first()


def _already_licensed(session: Session, offer: Offer, licensee: Organisation) -> bool:
    return (
        session.exec(
            select(Grant.id).where(
                Grant.offer_id == offer.id,
                Grant.licensee_org_id == licensee.id,
                col(Grant.status).in_(["active", "suspended"]),
            )
        ).first()
        is not None
    )


def checkout(
    uow: UnitOfWork,
    user: User,
    *,
    licensee_slug: str,
    currency: str,
    accepted_terms: dict[int, str],
    success_url: str,
    cancel_url: str,
) -> Order:
    """Create an order from the cart's lines for one licensee and currency, and its checkout session.

    Every line's terms must have been accepted as shown (``accepted_terms`` maps offer id to the terms hash
    on the page); an offer already held, retired, or private to someone else is refused by name. With Stripe,
    each provider must have a connected account that can take charges. The order and its checkout session
    are created in one transaction: if the provider call fails, no order is left behind.
    ``success_url`` must contain ``{ORDER_ID}``; ``{CHECKOUT_SESSION_ID}`` is added by the payment backend.
    """
    session = uow.session
    licensee = _buyer_org(uow, user, licensee_slug)
    currency = currency.upper()
    cart = cart_of(session, user)
    lines = [ln for ln in cart.lines if ln.licensee.id == licensee.id and ln.offer.currency == currency]
    if not lines:
        raise ValidationFailed.for_field("cart", f"nothing in {currency} for {licensee.name} in your cart")
    return _place_order(uow, user, licensee, currency, lines, accepted_terms, success_url, cancel_url)


def order_offers(
    uow: UnitOfWork,
    user: User,
    *,
    licensee_slug: str,
    offer_ids: list[int],
    accepted_terms: dict[int, str],
    success_url: str,
    cancel_url: str,
) -> Order:
    """Like :func:`checkout`, for the given offers instead of the cart's lines (the JSON API's orders).

    The offers must share one currency; each line's terms must be accepted by hash, exactly as in checkout.
    """
    session = uow.session
    licensee = _buyer_org(uow, user, licensee_slug)
    if not offer_ids:
        raise ValidationFailed.for_field("lines", "name at least one offer")
    if len(set(offer_ids)) != len(offer_ids):
        raise ValidationFailed.for_field("lines", "each offer may appear once")
    lines: list[CartLine] = []
    for index, offer_id in enumerate(offer_ids):
        offer = session.get(Offer, offer_id)
        dataset = session.get(Dataset, offer.dataset_id) if offer is not None else None
        provider = session.get(Organisation, offer.organisation_id) if offer is not None else None
        if offer is None or dataset is None or provider is None:
            raise ValidationFailed.for_field(f"lines.{index}.offer_id", f"no offer {offer_id}")
        if offer.is_free:
            raise ValidationFailed.for_field(
                f"lines.{index}.offer_id", "this offer is free: acquire it directly instead of ordering it"
            )
        lines.append(CartLine(None, offer, dataset, licensee, provider))
    currencies = {line.offer.currency for line in lines}
    if len(currencies) > 1:
        raise ValidationFailed.for_field("lines", "one order is paid in one currency: order each currency apart")
    return _place_order(uow, user, licensee, currencies.pop(), lines, accepted_terms, success_url, cancel_url)


def _place_order(
    uow: UnitOfWork,
    user: User,
    licensee: Organisation,
    currency: str,
    lines: list[CartLine],
    accepted_terms: dict[int, str],
    success_url: str,
    cancel_url: str,
) -> Order:
    session = uow.session
    pay = backend(uow)
    problems: list[str] = []
    for line in lines:
        offer = line.offer
        try:
            _check_sellable(uow, offer, licensee)
        except DomainError as error:
            problems.append(error.message)
            continue
        if accepted_terms.get(offer.id or -1) != offer.terms_hash:
            problems.append(f"Accept the terms of “{offer.title}” for {line.dataset.title} first.")
        if _already_licensed(session, offer, licensee):
            problems.append(f"{licensee.name} already holds “{offer.title}” for {line.dataset.title}.")
        if not pay.is_sandbox:
            account = _provider_account(session, offer.organisation_id)
            if account is None or not account.charges_enabled:
                problems.append(f"{line.provider.name} cannot take payments yet; try again later.")
    if problems:
        raise ValidationFailed(
            message=" ".join(problems), details=[ValidationFailed.for_field("cart", p).details[0] for p in problems]
        )

    bps = platform_fee_bps_from_settings(uow.settings)
    fees = split_fee([ln.offer.price_amount for ln in lines], bps)
    order = Order(
        buyer_org_id=licensee.id,  # type: ignore[arg-type]
        buyer_user_id=user.id,
        buyer_email=user.email,
        status=OrderStatus.PENDING_PAYMENT.value,
        currency=currency,
        total_amount=sum(ln.offer.price_amount for ln in lines),
        platform_fee_amount=sum(fees),
        payment_backend=pay.name,
        created_at=uow.now(),
        updated_at=uow.now(),
    )
    session.add(order)
    session.flush()
    assert order.id is not None
    order_lines = []
    for line, fee in zip(lines, fees, strict=True):
        account = _provider_account(session, line.offer.organisation_id)
        order_line = OrderLine(
            order_id=order.id,
            offer_id=line.offer.id,  # type: ignore[arg-type]
            dataset_id=line.dataset.id,  # type: ignore[arg-type]
            provider_org_id=line.provider.id,  # type: ignore[arg-type]
            description=f"{line.dataset.title}: {line.offer.title}"[:300],
            amount=line.offer.price_amount,
            currency=currency,
            platform_fee_amount=fee,
            terms_hash=line.offer.terms_hash,
            provider_account_id=account.account_id if account and account.charges_enabled else None,
        )
        session.add(order_line)
        order_lines.append(order_line)
        if line.item is not None:
            session.delete(line.item)
    session.flush()
    _start_checkout(uow, order, order_lines, success_url, cancel_url)
    return order


def _start_checkout(uow: UnitOfWork, order: Order, lines: list[OrderLine], success_url: str, cancel_url: str) -> None:
    pay = backend(uow)
    assert order.id is not None
    order.checkout_attempt += 1
    key = f"checkout:{order.id}" if order.checkout_attempt == 1 else f"checkout:{order.id}:{order.checkout_attempt}"
    request = CheckoutRequest(
        order_id=str(order.id),
        lines=tuple(
            CheckoutLine(
                offer_id=str(line.offer_id),
                name=line.description,
                description=f"License {licensing.get_template(_offer(uow, line).license_id).name}",
                amount=line.amount,
                currency=line.currency.lower(),
                provider_account_id=line.provider_account_id,
                provider_id=str(line.provider_org_id),
            )
            for line in lines
        ),
        buyer_email=order.buyer_email,
        success_url=success_url.replace("{ORDER_ID}", str(order.id)),
        cancel_url=cancel_url.replace("{ORDER_ID}", str(order.id)),
        platform_fee_bps=platform_fee_bps_from_settings(uow.settings),
        idempotency_key=key,
    )
    try:
        created = pay.create_checkout(request)
    except PaymentError as error:
        raise _payment_failure(error) from error
    order.settlement = request.settlement.kind.value
    order.checkout_session_id = created.id
    order.checkout_url = created.url
    order.updated_at = uow.now()
    uow.session.add(order)


def _offer(uow: UnitOfWork, line: OrderLine) -> Offer:
    offer = uow.session.get(Offer, line.offer_id)
    assert offer is not None
    return offer


def order_for_session(session: Session, checkout_session_id: str) -> Order | None:
    return session.exec(select(Order).where(Order.checkout_session_id == checkout_session_id)).first()


def lines_of(session: Session, order: Order) -> list[OrderLine]:
    return list(session.exec(select(OrderLine).where(OrderLine.order_id == order.id).order_by(col(OrderLine.id))).all())


def retry_checkout(uow: UnitOfWork, user: User, order: Order, *, success_url: str, cancel_url: str) -> Order:
    """Start a new checkout session for an order whose last one expired, failed or was cancelled."""
    require_order_access(uow.session, user, order)
    if order.status not in {
        OrderStatus.PENDING_PAYMENT,
        OrderStatus.EXPIRED,
        OrderStatus.FAILED,
        OrderStatus.CANCELLED,
    }:
        raise Conflict(
            message=f"Order {order.reference} is {order.status}; it cannot be paid again.", code="not_payable"
        )
    order.status = OrderStatus.PENDING_PAYMENT.value
    _start_checkout(uow, order, lines_of(uow.session, order), success_url, cancel_url)
    return order


# --- reading orders -------------------------------------------------------------------------------------------------


def get_order(session: Session, order_id: int) -> Order:
    order = session.get(Order, order_id)
    if order is None:
        raise NotFound(message="No such order.")
    return order


def may_view_order(session: Session, user: User | None, order: Order) -> bool:
    if user is None:
        return False
    if user.is_platform_admin:
        return True
    buyer = session.get(Organisation, order.buyer_org_id)
    return buyer is not None and can(session, user, Action.ORG_ACT_FOR, buyer)


def require_order_access(session: Session, user: User | None, order: Order) -> None:
    if not may_view_order(session, user, order):
        raise NotFound(message="No such order.")


def orders_for_user(session: Session, user: User) -> list[Order]:
    org_ids = select(Membership.organisation_id).where(Membership.user_id == user.id)
    return list(
        session.exec(
            select(Order).where(col(Order.buyer_org_id).in_(org_ids)).order_by(col(Order.created_at).desc())
        ).all()
    )


def orders_of(session: Session, user: User, *, before_id: int | None = None, limit: int = 20) -> list[Order]:
    """Orders of the buyer organisations ``user`` may act for, newest (highest id) first, one page of ``limit``
    older than ``before_id`` (keyset paging for the JSON API; honours an API credential's delegation)."""
    org_ids = [
        org.id
        for org in session.exec(
            select(Organisation)
            .join(Membership, col(Membership.organisation_id) == Organisation.id)
            .where(Membership.user_id == user.id)
        ).all()
        if can(session, user, Action.ORG_ACT_FOR, org)
    ]
    if not org_ids:
        return []
    statement = select(Order).where(col(Order.buyer_org_id).in_(org_ids))
    if before_id is not None:
        statement = statement.where(col(Order.id) < before_id)
    return list(session.exec(statement.order_by(col(Order.id).desc()).limit(max(1, min(limit, 100)))).all())


# --- fulfilment -----------------------------------------------------------------------------------------------------


def _locked_order(session: Session, **where: Any) -> Order | None:
    statement = select(Order).with_for_update()
    for name, value in where.items():
        statement = statement.where(getattr(Order, name) == value)
    return session.exec(statement).first()


def _advance(order: Order, status: OrderStatus, reason: str, now: datetime) -> bool:
    """Move ``order`` to ``status`` unless that would go backwards; say whether it moved."""
    if RANK[status] <= RANK[OrderStatus(order.status)]:
        return False
    order.status = status.value
    order.status_reason = reason
    order.updated_at = now
    return True


def fulfil_checkout(uow: UnitOfWork, session_id: str, facts: CheckoutSession | None = None) -> Order:
    """Fulfil the order of a checkout session once it is paid; idempotent, safe to call concurrently.

    The order row is locked first, so the webhook and the buyer's return page cannot both issue licenses.
    ``facts`` is the session as the provider reported it in a verified event; without it, the provider is
    asked (the return page must not trust its own query string).
    """
    session = uow.session
    order = _locked_order(session, checkout_session_id=session_id)
    if order is None:
        raise NotFound(message="No order for this checkout session.")
    if RANK[OrderStatus(order.status)] >= RANK[OrderStatus.PAID]:
        return order
    if facts is None:
        try:
            facts = backend(uow).retrieve_checkout(session_id)
        except PaymentError as error:
            raise _payment_failure(error) from error
    if facts.order_id not in (None, str(order.id)):
        raise Conflict(message="This checkout session belongs to another order.", code="session_mismatch")
    if not facts.is_paid:
        if facts.status == "complete":
            _advance(order, OrderStatus.PROCESSING, "waiting for a delayed payment", uow.now())
            session.add(order)
        return order
    if facts.amount_total is not None and facts.amount_total != order.total_amount:
        raise Conflict(message="The amount paid does not match the order.", code="amount_mismatch")
    _mark_paid(uow, order, facts)
    return order


def _mark_paid(uow: UnitOfWork, order: Order, facts: CheckoutSession) -> None:
    session = uow.session
    now = uow.now()
    order.status = OrderStatus.PAID.value
    order.status_reason = ""
    order.paid_at = now
    order.updated_at = now
    order.payment_intent_id = facts.payment_intent_id or order.payment_intent_id
    order.charge_id = facts.charge_id or order.charge_id
    session.add(order)
    licensee = session.get(Organisation, order.buyer_org_id)
    buyer = session.get(User, order.buyer_user_id) if order.buyer_user_id else None
    assert licensee is not None
    lines = lines_of(session, order)
    issued: list[Grant] = []
    for line in lines:
        if line.grant_id is not None:
            continue
        offer = session.get(Offer, line.offer_id)
        assert offer is not None
        grant = licenses.issue_grant(
            uow,
            offer,
            licensee=licensee,
            acquired_by=buyer,
            payment_reference=order.payment_intent_id or order.checkout_session_id,
            price_paid=line.amount,
            actor=f"order:{order.id}",
            allow_retired=True,
        )
        line.grant_id = grant.id
        line.payout_status = {"destination": "transferred", "platform": "held"}.get(order.settlement, "pending")
        session.add(line)
        issued.append(grant)
    session.flush()
    if order.settlement == "separate_transfers":
        _transfer_to_providers(uow, order, lines)
    emit(
        uow,
        "order.paid",
        {
            "order_id": order.id,
            "reference": order.reference,
            "buyer_organisation": licensee.slug,
            "total": order.total_amount,
            "currency": order.currency,
            "license_ids": [ln.grant_id for ln in lines if ln.grant_id],
        },
        audience=[licensee.id] if licensee.id is not None else [],
    )
    lines_text = "\n".join(f"  {ln.description}: {_format(ln.amount, ln.currency)}" for ln in lines)
    links = "\n".join(f"  {uow.settings['BASE_URL']}/licenses/{g.id}" for g in issued)
    send_after_commit(
        uow,
        order.buyer_email,
        f"Receipt for order {order.reference}",
        f"Thank you. Order {order.reference} is paid.\n\n{lines_text}\n  Total: "
        f"{_format(order.total_amount, order.currency)}\n\nYour licenses and downloads:\n{links}\n",
    )


def _transfer_to_providers(uow: UnitOfWork, order: Order, lines: list[OrderLine]) -> None:
    """Pay each provider its share after a multi-provider charge; a failure is kept for reconcile to retry."""
    payouts: dict[str, int] = defaultdict(int)
    for line in lines:
        if line.provider_account_id and line.transfer_id is None:
            payouts[line.provider_account_id] += line.net_amount
    if not payouts:
        return
    try:
        if order.charge_id is None and order.checkout_session_id:
            # Events carry the session without its charge; the API expands it on request.
            order.charge_id = backend(uow).retrieve_checkout(order.checkout_session_id).charge_id
            uow.session.add(order)
        if order.charge_id is None:
            raise PaymentError("the charge of this payment is not known yet")
        transfers = backend(uow).create_transfers(
            str(order.id),
            order.charge_id,
            f"order_{order.id}",
            [(account, amount, order.currency.lower()) for account, amount in payouts.items()],
        )
    except PaymentError:
        log.exception("transfers for order %s failed; reconcile will retry", order.id)
        for line in lines:
            if line.provider_account_id and line.transfer_id is None:
                line.payout_status = "transfer_failed"
                uow.session.add(line)
        return
    by_account = {t.destination: t.id for t in transfers}
    for line in lines:
        if line.provider_account_id in by_account:
            line.transfer_id = by_account[line.provider_account_id]
            line.payout_status = "transferred"
            uow.session.add(line)


# --- payment events -------------------------------------------------------------------------------------------------


def handle_event(uow: UnitOfWork, payload: bytes, signature_header: str | None) -> str:
    """Verify and apply one payment event exactly once; return what was done.

    Verification comes before anything else: a forged, stale or malformed event raises
    :class:`WebhookRejected` having read nothing. A duplicate of an event already stored fails on its primary key
    with :class:`IntegrityError`; the caller rolls back and, when :func:`is_duplicate` confirms it, answers 200 so
    the provider stops retrying. Any other failure propagates, the transaction rolls back, and the provider's
    retry applies the event later.
    """
    try:
        event = backend(uow).parse_webhook(payload, signature_header or "")
    except SignatureInvalid as error:
        raise WebhookRejected(message=f"Webhook signature rejected: {error.reason}.") from error
    except PaymentError as error:
        raise WebhookRejected(message=f"Webhook rejected: {error.message}") from error
    session = uow.session
    record = PaymentEventRecord(
        id=event.id, type=event.type, backend=backend(uow).name, received_at=uow.now(), payload=dict(event.object)
    )
    session.add(record)
    # The primary key makes this the one delivery that applies the event: a concurrent duplicate waits here
    # for this transaction, then fails with an integrity error and changes nothing.
    session.flush()
    outcome, order = _apply(uow, event)
    record.outcome = outcome[:200]
    record.order_id = order.id if order else None
    session.add(record)
    return outcome


def is_duplicate(session: Session, payload: bytes) -> bool:
    """After a failed insert: was it because the event is already stored? (Checked on a clean session.)"""
    import json

    try:
        event_id = json.loads(payload).get("id")
    except ValueError:
        return False
    return isinstance(event_id, str) and session.get(PaymentEventRecord, event_id) is not None


def _apply(uow: UnitOfWork, event: PaymentEvent) -> tuple[str, Order | None]:
    kind = event.type
    if kind.startswith("checkout.session."):
        from marketplace.custom import contracts

        facts = event.checkout_session()
        if contracts.is_contract_session(facts):
            # A custom-data contract's payment into escrow: same verified, stored-once event, its own effect.
            return contracts.apply_checkout_event(uow, kind, facts), None
    if kind in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
        facts = event.checkout_session()
        try:
            order = fulfil_checkout(uow, facts.id, facts)
        except NotFound:
            return "ignored: no order for this session", None
        return f"order {order.status}", order
    if kind in ("checkout.session.async_payment_failed", "checkout.session.expired"):
        facts = event.checkout_session()
        pending = _locked_order(uow.session, checkout_session_id=facts.id)
        if pending is None:
            return "ignored: no order for this session", None
        order = pending
        target = OrderStatus.FAILED if kind.endswith("failed") else OrderStatus.EXPIRED
        moved = _advance(order, target, kind, uow.now())
        uow.session.add(order)
        return (f"order {order.status}" if moved else f"ignored: order already {order.status}"), order
    if kind == "charge.refunded":
        return _on_refund(uow, event.object)
    if kind == "charge.dispute.created":
        return _on_dispute_opened(uow, event.object)
    if kind == "charge.dispute.closed":
        return _on_dispute_closed(uow, event.object)
    if kind == "account.updated":
        return _on_account_updated(uow, event), None
    return f"ignored: {kind} is not handled", None


def _order_by_payment_intent(session: Session, obj: Any) -> Order | None:
    intent = obj.get("payment_intent")
    if isinstance(intent, dict):
        intent = intent.get("id")
    if not intent:
        return None
    return _locked_order(session, payment_intent_id=intent)


def _grants_of(session: Session, order: Order) -> list[Grant]:
    ids = [ln.grant_id for ln in lines_of(session, order) if ln.grant_id]
    if not ids:
        return []
    return list(session.exec(select(Grant).where(col(Grant.id).in_(ids))).all())


def _change_grants(
    uow: UnitOfWork, order: Order, action: licensing.GrantAction, reason: str, from_statuses: set[str]
) -> int:
    changed = 0
    for grant in _grants_of(uow.session, order):
        if grant.status in from_statuses:
            licenses.transition_grant(uow, grant, action, reason=reason, actor=f"order:{order.id}")
            changed += 1
    if changed:
        verb = {"revoke": "revoked", "suspend": "suspended", "reinstate": "reinstated"}[action.value]
        send_after_commit(
            uow,
            order.buyer_email,
            f"Your licenses from order {order.reference} were {verb}",
            f"{changed} license(s) from order {order.reference} were {verb}: {reason}.\n"
            f"Details: {uow.settings['BASE_URL']}/orders/{order.id}\n",
        )
    return changed


def _apply_full_refund(uow: UnitOfWork, order: Order, reason: str, amount: int) -> str:
    order.refunded_amount = max(order.refunded_amount, amount)
    if RANK[OrderStatus(order.status)] < RANK[OrderStatus.PAID]:
        uow.session.add(order)
        return "ignored: order was not paid"
    _advance(order, OrderStatus.REFUNDED, reason, uow.now())
    for line in lines_of(uow.session, order):
        line.payout_status = "reversed"
        uow.session.add(line)
    uow.session.add(order)
    revoked = _change_grants(uow, order, licensing.GrantAction.REVOKE, reason, {"active", "suspended"})
    return f"order refunded; {revoked} license(s) revoked"


def _on_refund(uow: UnitOfWork, charge: Any) -> tuple[str, Order | None]:
    order = _order_by_payment_intent(uow.session, charge)
    if order is None:
        return "ignored: no order for this charge", None
    refunded = int(charge.get("amount_refunded") or 0)
    if charge.get("refunded") or refunded >= order.total_amount:
        return _apply_full_refund(uow, order, "payment refunded", refunded or order.total_amount), order
    order.refunded_amount = max(order.refunded_amount, refunded)
    uow.session.add(order)
    return f"partial refund of {refunded} recorded; licenses unchanged", order


def _on_dispute_opened(uow: UnitOfWork, dispute: Any) -> tuple[str, Order | None]:
    order = _order_by_payment_intent(uow.session, dispute)
    if order is None:
        return "ignored: no order for this dispute", None
    if order.status != OrderStatus.PAID:
        return f"ignored: order is {order.status}", order
    _advance(order, OrderStatus.DISPUTED, "payment disputed", uow.now())
    uow.session.add(order)
    n = _change_grants(uow, order, licensing.GrantAction.SUSPEND, "payment disputed", {"active"})
    return f"order disputed; {n} license(s) suspended", order


def _on_dispute_closed(uow: UnitOfWork, dispute: Any) -> tuple[str, Order | None]:
    order = _order_by_payment_intent(uow.session, dispute)
    if order is None:
        return "ignored: no order for this dispute", None
    if order.status != OrderStatus.DISPUTED:
        return f"ignored: order is {order.status}", order
    if dispute.get("status") == "won":
        # The one move back: a dispute decided for the provider restores the paid state.
        order.status = OrderStatus.PAID.value
        order.status_reason = "dispute won"
        order.updated_at = uow.now()
        uow.session.add(order)
        n = _change_grants(uow, order, licensing.GrantAction.REINSTATE, "dispute closed in the provider's favour",
                           {"suspended"})  # fmt: skip
        return f"dispute won; {n} license(s) reinstated", order
    _advance(order, OrderStatus.REFUNDED, "dispute lost", uow.now())
    uow.session.add(order)
    n = _change_grants(uow, order, licensing.GrantAction.REVOKE, "dispute lost", {"active", "suspended"})
    return f"dispute lost; {n} license(s) revoked", order


def _on_account_updated(uow: UnitOfWork, event: PaymentEvent) -> str:
    facts = event.connect_account()
    account = uow.session.exec(select(ProviderAccount).where(ProviderAccount.account_id == facts.id)).first()
    if account is None:
        return "ignored: unknown account"
    account.charges_enabled = facts.charges_enabled
    account.payouts_enabled = facts.payouts_enabled
    account.requirements_due = list(facts.requirements_due)
    account.updated_at = uow.now()
    uow.session.add(account)
    return f"account {facts.id}: charges {facts.charges_enabled}, payouts {facts.payouts_enabled}"


# --- refunds, reconcile -----------------------------------------------------------------------------------------------


def may_refund(session: Session, user: User | None, order: Order) -> bool:
    """Platform admins may refund any order; a provider's admins may refund orders only of their datasets."""
    if user is None:
        return False
    if user.is_platform_admin:
        return True
    providers = {ln.provider_org_id for ln in lines_of(session, order)}
    if len(providers) != 1:
        return False
    org = session.get(Organisation, providers.pop())
    return org is not None and can(session, user, Action.ORG_UPDATE, org)


def refund_order(uow: UnitOfWork, actor: User, order: Order, *, reason: str) -> Order:
    """Refund a paid order in full: reverse the provider's transfer and the platform fee as the charge allows,
    revoke its licenses (their links stop working) and tell the licensee."""
    session = uow.session
    if not may_refund(session, actor, order):
        raise PermissionDenied(message="You cannot refund this order.")
    locked = _locked_order(session, id=order.id)
    assert locked is not None
    order = locked
    if order.status not in (OrderStatus.PAID, OrderStatus.DISPUTED):
        raise Conflict(message=f"Order {order.reference} is {order.status}; only paid orders are refunded.",
                       code="not_refundable")  # fmt: skip
    if not reason.strip():
        raise ValidationFailed.for_field("reason", "say why the order is refunded")
    if not order.payment_intent_id:
        raise Conflict(message="This order has no payment to refund.", code="not_refundable")
    pay = backend(uow)
    destination = order.settlement == "destination"
    try:
        pay.refund(
            order.payment_intent_id,
            reverse_transfer=destination,
            refund_application_fee=destination,
            idempotency_key=f"refund:{order.id}",
            reason="requested_by_customer",
        )
        for line in lines_of(session, order):
            if line.transfer_id:
                pay.reverse_transfer(line.transfer_id, idempotency_key=f"reversal:{line.id}")
    except PaymentError as error:
        raise _payment_failure(error) from error
    _apply_full_refund(uow, order, f"refunded by {actor.email}: {reason.strip()}", order.total_amount)
    return order


def reconcile(uow: UnitOfWork, *, older_than: timedelta = timedelta(minutes=5)) -> list[str]:
    """Ask the provider about orders still waiting for payment, for webhooks that never came."""
    session = uow.session
    cutoff = uow.now() - older_than
    pending = session.exec(
        select(Order).where(
            col(Order.status).in_([OrderStatus.PENDING_PAYMENT.value, OrderStatus.PROCESSING.value]),
            col(Order.checkout_session_id).is_not(None),
            col(Order.created_at) <= cutoff,
        )
    ).all()
    report = []
    for order in pending:
        assert order.checkout_session_id is not None
        try:
            facts = backend(uow).retrieve_checkout(order.checkout_session_id)
        except PaymentError as error:
            report.append(f"{order.reference}: provider unavailable ({error.message})")
            continue
        if facts.is_paid:
            fulfil_checkout(uow, order.checkout_session_id, facts)
            report.append(f"{order.reference}: paid, fulfilled")
        elif facts.status == "expired":
            _advance(order, OrderStatus.EXPIRED, "checkout expired (reconciled)", uow.now())
            session.add(order)
            report.append(f"{order.reference}: expired")
        else:
            report.append(f"{order.reference}: still {facts.status}/{facts.payment_status}")
    return report


# --- provider payouts and ledger ------------------------------------------------------------------------------------


def payout_account(session: Session, org: Organisation) -> ProviderAccount | None:
    return _provider_account(session, org.id)  # type: ignore[arg-type]


def start_onboarding(uow: UnitOfWork, actor: User, org: Organisation, *, country: str, return_url: str,
                     refresh_url: str) -> str:  # fmt: skip
    """Create the provider's connected account if needed and return the onboarding link to send them to."""
    require(uow.session, actor, Action.ORG_UPDATE, org)
    if org.kind is not OrgKind.PROVIDER:
        raise ValidationFailed.for_field("organisation", "only provider organisations receive payouts")
    pay = backend(uow)
    account = _provider_account(uow.session, org.id)  # type: ignore[arg-type]
    try:
        if account is None:
            created = pay.create_express_account(actor.email, country, idempotency_key=f"account:{org.id}")
            account = ProviderAccount(
                organisation_id=org.id,  # type: ignore[arg-type]
                account_id=created.id,
                backend=pay.name,
                charges_enabled=created.charges_enabled,
                payouts_enabled=created.payouts_enabled,
                requirements_due=list(created.requirements_due),
                updated_at=uow.now(),
            )
            uow.session.add(account)
            uow.session.flush()
        return pay.account_onboarding_link(account.account_id, refresh_url, return_url)
    except PaymentError as error:
        raise _payment_failure(error) from error


def refresh_account(uow: UnitOfWork, actor: User, org: Organisation) -> ProviderAccount | None:
    """Ask the provider for the account's state (on return from onboarding; the redirect itself proves nothing)."""
    require(uow.session, actor, Action.ORG_VIEW, org)
    account = _provider_account(uow.session, org.id)  # type: ignore[arg-type]
    if account is None:
        return None
    try:
        facts = backend(uow).retrieve_account(account.account_id)
    except PaymentError as error:
        raise _payment_failure(error) from error
    account.charges_enabled, account.payouts_enabled = facts.charges_enabled, facts.payouts_enabled
    account.requirements_due = list(facts.requirements_due)
    account.updated_at = uow.now()
    uow.session.add(account)
    return account


@dataclass
class Ledger:
    rows: list[tuple[OrderLine, Order, Dataset | None]]
    totals: dict[str, dict[str, int]]  # currency -> gross/fee/net/refunded
    daily: dict[str, list[tuple[date, int]]]  # currency -> [(day, net)]


def sales_ledger(session: Session, actor: User, org: Organisation, *, days: int = 90, now: datetime) -> Ledger:
    """A provider's sales: every paid line of its datasets with gross, platform fee, net and payout status."""
    require(session, actor, Action.ORG_VIEW, org)
    rows = session.exec(
        select(OrderLine, Order)
        .join(Order, col(Order.id) == OrderLine.order_id)
        .where(OrderLine.provider_org_id == org.id, col(Order.paid_at).is_not(None))
        .order_by(col(Order.paid_at).desc())
    ).all()
    totals: dict[str, dict[str, int]] = defaultdict(lambda: {"gross": 0, "fee": 0, "net": 0, "refunded": 0})
    by_day: dict[str, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    start = (now - timedelta(days=days - 1)).date()
    out = []
    for line, order in rows:
        t = totals[line.currency]
        refunded = order.status == OrderStatus.REFUNDED
        t["gross"] += line.amount
        t["fee"] += line.platform_fee_amount
        t["net"] += 0 if refunded else line.net_amount
        t["refunded"] += line.amount if refunded else 0
        assert order.paid_at is not None
        if order.paid_at.date() >= start and not refunded:
            by_day[line.currency][order.paid_at.date()] += line.net_amount
        out.append((line, order, session.get(Dataset, line.dataset_id)))
    daily = {
        cur: [(start + timedelta(days=i), days_map.get(start + timedelta(days=i), 0)) for i in range(days)]
        for cur, days_map in by_day.items()
    }
    return Ledger(rows=out, totals=dict(totals), daily=daily)
