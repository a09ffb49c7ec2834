"""Orders: cart, checkout and reading orders; the rest of the orders service is re-exported here, so callers
have one module to import.

Fulfilment (:mod:`.fulfilment`), payment events (:mod:`.events`), refunds and reconciling (:mod:`.refunds`) and
providers' payouts and ledger (:mod:`.payouts`) live in their own modules.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

import licensing
from licensing import GrantStatus
from marketplace.access import gate as access_gate
from marketplace.accounts.models import Membership, Organisation, OrgKind, User
from marketplace.catalog.models import Dataset
from marketplace.catalog.vocab import DatasetStatus
from marketplace.db import UnitOfWork
from marketplace.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationFailed
from marketplace.licenses.models import Grant, Offer
from marketplace.orders.base import (
    PaymentUnavailable,
    WebhookRejected,
    backend,
    lines_of,
    payment_failure,
    provider_account,
)
from marketplace.orders.errors import OrderErrorCode
from marketplace.orders.events import EventHandled, handle_event
from marketplace.orders.fulfilment import fulfil_checkout
from marketplace.orders.models import (
    CartItem,
    Order,
    OrderLine,
    OrderStatus,
)
from marketplace.orders.payments import (
    CheckoutLine,
    CheckoutRequest,
    PaymentError,
    platform_fee_bps_from_settings,
    split_fee,
)
from marketplace.orders.payouts import Ledger, payout_account, refresh_account, sales_ledger, start_onboarding
from marketplace.orders.refunds import may_refund, reconcile, refund_order
from marketplace.permissions import Action, can

log = logging.getLogger(__name__)

__all__ = [
    "Cart",
    "CartLine",
    "EventHandled",
    "Ledger",
    "PaymentUnavailable",
    "WebhookRejected",
    "add_to_cart",
    "backend",
    "cart_of",
    "checkout",
    "fulfil_checkout",
    "get_order",
    "handle_event",
    "lines_of",
    "may_refund",
    "may_view_order",
    "order_for_session",
    "order_offers",
    "orders_for_user",
    "orders_of",
    "payout_account",
    "reconcile",
    "refresh_account",
    "refund_order",
    "remove_from_cart",
    "require_order_access",
    "retry_checkout",
    "sales_ledger",
    "start_onboarding",
]


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
        raise Conflict(message="This dataset is not available for licensing.", code=OrderErrorCode.DATASET_UNAVAILABLE)
    if not offer.is_active:
        raise Conflict(message=f"The offer “{offer.title}” is no longer on sale.", code=OrderErrorCode.OFFER_RETIRED)
    if offer.is_expired(uow.now()):
        raise Conflict(message=f"The offer “{offer.title}” has expired.", code=OrderErrorCode.OFFER_EXPIRED)
    if offer.audience_org_id is not None and offer.audience_org_id != licensee.id:
        raise PermissionDenied(message="This private offer is for another buyer.")
    return dataset


def add_to_cart(uow: UnitOfWork, user: User, offer: Offer, *, licensee_slug: str) -> CartItem:
    """Put a paid offer in the user's cart for one of their buyer organisations (free ones need no cart)."""
    licensee = _buyer_org(uow, user, licensee_slug)
    _check_sellable(uow, offer, licensee)
    if offer.is_free:
        raise Conflict(
            message="This license is free: get it directly from the dataset page.", code=OrderErrorCode.FREE_OFFER
        )
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


def _already_licensed(session: Session, offer: Offer, licensee: Organisation) -> bool:
    return (
        session.exec(
            select(Grant.id).where(
                Grant.offer_id == offer.id,
                Grant.licensee_org_id == licensee.id,
                col(Grant.status).in_([GrantStatus.ACTIVE, GrantStatus.SUSPENDED]),
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
        try:
            # Governed datasets are sold only to people whose access request was approved.
            access_gate.require_approved(uow, user, line.dataset, licensee)
        except DomainError as error:
            problems.append(error.message)
            continue
        if accepted_terms.get(offer.id or -1) != offer.terms_hash:
            problems.append(f"Accept the terms of “{offer.title}” for {line.dataset.title} first.")
        if _already_licensed(session, offer, licensee):
            problems.append(f"{licensee.name} already holds “{offer.title}” for {line.dataset.title}.")
        if not pay.is_sandbox:
            account = provider_account(session, offer.organisation_id)
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
        status=OrderStatus.PENDING_PAYMENT,
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
        account = provider_account(session, line.offer.organisation_id)
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
        raise payment_failure(error) from error
    order.settlement = request.settlement.kind
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


def retry_checkout(uow: UnitOfWork, user: User, order: Order, *, success_url: str, cancel_url: str) -> Order:
    """Start a new checkout session for an order whose last one expired, failed or was cancelled."""
    require_order_access(uow.session, user, order)
    if not order.is_payable:
        raise Conflict(
            message=f"Order {order.reference} is {order.status}; it cannot be paid again.",
            code=OrderErrorCode.NOT_PAYABLE,
        )
    lines = lines_of(uow.session, order)
    for line in lines:
        # A new payment is a new purchase: an offer that expired since the order was placed is no longer sold.
        if _offer(uow, line).is_expired(uow.now()):
            raise Conflict(
                message=f"The offer “{_offer(uow, line).title}” has expired.", code=OrderErrorCode.OFFER_EXPIRED
            )
    order.status = OrderStatus.PENDING_PAYMENT
    _start_checkout(uow, order, lines, success_url, cancel_url)
    return order


# --- reading orders -------------------------------------------------------------------------------------------------


def get_order(session: Session, order_id: int) -> Order:
    order = session.get(Order, order_id)
    if order is None:
        raise NotFound(message="No such order.")
    return order


def may_view_order(session: Session, user: User | None, order: Order) -> bool:
    """Members of the buyer organisation (and platform admins, not through an API credential) see an order."""
    return can(session, user, Action.ORDER_VIEW, order)


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
