"""Fulfilment: a paid checkout session becomes a paid order with one license per line, exactly once.

Fulfilment is one idempotent function keyed by the checkout session, which locks the order row; the webhook and
the buyer's return from checkout both call it.
"""

from __future__ import annotations

import logging
from collections import defaultdict

from marketplace.access import gate as access_gate
from marketplace.accounts.models import Organisation, User
from marketplace.catalog.models import Dataset
from marketplace.db import UnitOfWork
from marketplace.errors import Conflict, NotFound
from marketplace.events import emit
from marketplace.invoices import services as invoices
from marketplace.licenses import services as licenses
from marketplace.licenses.models import Grant, Offer
from marketplace.mail import send_after_commit
from marketplace.orders.base import (
    advance,
    backend,
    format_money,
    lines_of,
    locked_order,
    payment_failure,
)
from marketplace.orders.errors import OrderErrorCode
from marketplace.orders.models import (
    RANK,
    Order,
    OrderLine,
    OrderStatus,
    PayoutStatus,
)
from marketplace.orders.payments import (
    ChargeKind,
    CheckoutSession,
    PaymentError,
)

log = logging.getLogger(__name__)


#: Where a line's payout stands once its order is paid, by how the charge was settled.
_PAYOUT_ON_PAYMENT: dict[ChargeKind | None, PayoutStatus] = {
    ChargeKind.DESTINATION: PayoutStatus.TRANSFERRED,  # Stripe paid the provider with the charge itself
    ChargeKind.PLATFORM: PayoutStatus.HELD,
}


def fulfil_checkout(uow: UnitOfWork, session_id: str, facts: CheckoutSession | None = None) -> Order:
    """Fulfil the order of a checkout session once it is paid; idempotent, safe to call concurrently.

    The order row is locked first, so the webhook and the buyer's return page cannot both issue licenses.
    ``facts`` is the session as the provider reported it in a verified event; without it, the provider is
    asked (the return page must not trust its own query string).
    """
    session = uow.session
    order = locked_order(session, checkout_session_id=session_id)
    if order is None:
        raise NotFound(message="No order for this checkout session.")
    if RANK[order.status] >= RANK[OrderStatus.PAID]:
        return order
    if facts is None:
        try:
            facts = backend(uow).retrieve_checkout(session_id)
        except PaymentError as error:
            raise payment_failure(error) from error
    if facts.order_id not in (None, str(order.id)):
        raise Conflict(message="This checkout session belongs to another order.", code=OrderErrorCode.SESSION_MISMATCH)
    if not facts.is_paid:
        if facts.status == "complete":
            advance(order, OrderStatus.PROCESSING, "waiting for a delayed payment", uow.now())
            session.add(order)
        return order
    if facts.amount_total is not None and facts.amount_total != order.total_amount:
        raise Conflict(message="The amount paid does not match the order.", code=OrderErrorCode.AMOUNT_MISMATCH)
    _mark_paid(uow, order, facts)
    return order


def _mark_paid(uow: UnitOfWork, order: Order, facts: CheckoutSession) -> None:
    session = uow.session
    now = uow.now()
    order.status = OrderStatus.PAID
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
        dataset = session.get(Dataset, line.dataset_id)
        assert offer is not None and dataset is not None
        # The agreement the buyer signed when approved (checked at checkout) binds the paid grant too.
        agreement = access_gate.agreement_for_licensee(session, dataset, licensee.id or 0, order.buyer_user_id)
        grant = licenses.issue_grant(
            uow,
            offer,
            licensee=licensee,
            acquired_by=buyer,
            payment_reference=order.payment_intent_id or order.checkout_session_id,
            price_paid=line.amount,
            actor=f"order:{order.id}",
            allow_retired=True,
            agreement=agreement,
        )
        line.grant_id = grant.id
        line.payout_status = _PAYOUT_ON_PAYMENT.get(order.settlement, PayoutStatus.PENDING)
        session.add(line)
        issued.append(grant)
    session.flush()
    if order.settlement is ChargeKind.SEPARATE_TRANSFERS:
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
    # The invoice takes its number in this transaction: a payment that rolls back takes its number with it.
    invoice = invoices.issue_invoice(uow, order)
    lines_text = "\n".join(f"  {ln.description}: {format_money(ln.amount, ln.currency)}" for ln in lines)
    links = "\n".join(f"  {uow.settings['BASE_URL']}/licenses/{g.id}" for g in issued)
    send_after_commit(
        uow,
        order.buyer_email,
        f"Receipt for order {order.reference}",
        f"Thank you. Order {order.reference} is paid.\n\n{lines_text}\n  Total: "
        f"{format_money(order.total_amount, order.currency)}\n\nYour licenses and downloads:\n{links}\n\n"
        f"Invoice {invoice.code} is attached.\n",
        attachments=[invoices.attachment_ref(invoice)],
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
                line.payout_status = PayoutStatus.TRANSFER_FAILED
                uow.session.add(line)
        return
    by_account = {t.destination: t.id for t in transfers}
    for line in lines:
        if line.provider_account_id in by_account:
            line.transfer_id = by_account[line.provider_account_id]
            line.payout_status = PayoutStatus.TRANSFERRED
            uow.session.add(line)
