"""What an invoice or a credit note says, frozen as a JSON-ready dictionary when it is issued.

Amounts stay integer minor units in the snapshot (the PDF formats them with the currency's symbol); names,
addresses and tax ids are copied, so a later rename or move changes no issued document.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

import licensing
from marketplace.accounts.models import Organisation
from marketplace.catalog.models import Dataset
from marketplace.licenses.models import Offer
from marketplace.orders.models import Order, OrderLine

#: The version of the snapshot's layout, stored in it so a renderer can read older documents.
LAYOUT = 1


def party(org: Organisation, *, email: str = "") -> dict[str, str]:
    """An organisation as printed on a document: its name, legal name, address and tax id when given."""
    return {
        "name": org.name,
        "billing_name": org.billing_name,
        "address": org.billing_address,
        "tax_id": org.tax_id,
        "email": email,
    }


def _term(terms: licensing.Terms) -> str:
    return "perpetual" if terms.term is None else terms.term.describe()


def _seats(terms: licensing.Terms) -> str:
    return "unlimited" if terms.seats is None else str(terms.seats)


def _line(session: Session, line: OrderLine, sellers: dict[int, Organisation]) -> dict[str, Any]:
    offer = session.get(Offer, line.offer_id)
    dataset = session.get(Dataset, line.dataset_id)
    assert offer is not None and dataset is not None
    terms = licensing.Terms.from_dict(offer.terms)
    return {
        "seller": sellers[line.provider_org_id].name,
        "dataset": dataset.title,
        "offer": offer.title,
        "license": licensing.get_template(offer.license_id).name,
        "term": _term(terms),
        "seats": _seats(terms),
        "unit_price": line.amount,
        "quantity": 1,
        "amount": line.amount,
        "platform_fee": line.platform_fee_amount,
    }


def order_snapshot(
    session: Session, order: Order, lines: list[OrderLine], *, issuer: str, issued_at: datetime
) -> dict[str, Any]:
    """Everything an invoice of ``order`` prints: issuer, sellers, buyer, lines, fees and totals."""
    buyer = session.get(Organisation, order.buyer_org_id)
    assert buyer is not None
    sellers: dict[int, Organisation] = {}
    for line in lines:
        if line.provider_org_id not in sellers:
            seller = session.get(Organisation, line.provider_org_id)
            assert seller is not None
            sellers[line.provider_org_id] = seller
    subtotal = sum(line.amount for line in lines)
    return {
        "layout": LAYOUT,
        "issuer": issuer,
        "issued_at": issued_at.isoformat(),
        "currency": order.currency,
        "order": {
            "id": order.id,
            "reference": order.reference,
            "paid_at": order.paid_at.isoformat() if order.paid_at else None,
            "payment_reference": order.payment_intent_id or "",
        },
        "sellers": [party(org) for org in sellers.values()],
        "buyer": party(buyer, email=order.buyer_email),
        "lines": [_line(session, line, sellers) for line in lines],
        "totals": {
            "subtotal": subtotal,
            "platform_fee": order.platform_fee_amount,
            "total": order.total_amount,
        },
    }


def credit_snapshot(
    invoice_snapshot: dict[str, Any],
    *,
    invoice_code: str,
    amount: int,
    refunded_total: int,
    reason: str,
    issued_at: datetime,
) -> dict[str, Any]:
    """A credit note's content: the parties and lines of the invoice it credits, and the amount refunded now."""
    return {
        **invoice_snapshot,
        "issued_at": issued_at.isoformat(),
        "refers_to": invoice_code,
        "reason": reason,
        "credit": {
            "amount": amount,
            "refunded_total": refunded_total,
            "full": refunded_total >= invoice_snapshot["totals"]["total"],
        },
    }
