"""Shared by the invoice tests: a PDF's text, and an order bought and paid through the sandbox."""

from __future__ import annotations

import io
import re
from typing import Any

from flask import Flask
from pypdf import PdfReader
from sqlmodel import Session

from marketplace.accounts.models import Organisation, User
from marketplace.db import UnitOfWork
from marketplace.licenses.models import Offer
from marketplace.orders import services as orders
from marketplace.orders.models import Order


def pdf_text(data: bytes) -> str:
    """The text of every page of a PDF, its white space collapsed to single spaces."""
    assert data.startswith(b"%PDF-"), data[:40]
    reader = PdfReader(io.BytesIO(data))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def work(app: Flask, session: Session) -> UnitOfWork:
    return UnitOfWork(session, app.extensions["marketplace.context"])


def paid_order(app: Flask, session: Session, buyer: User, licensee: str, offers: list[Offer]) -> Order:
    """An order of ``offers`` placed by ``buyer`` for ``licensee`` and paid through the sandbox's signed event."""
    uow = work(app, session)
    order = orders.order_offers(
        uow, buyer, licensee_slug=licensee, offer_ids=[o.id for o in offers],
        accepted_terms={o.id: o.terms_hash for o in offers},
        success_url="http://localhost/orders/{ORDER_ID}/complete?session_id={CHECKOUT_SESSION_ID}",
        cancel_url="http://localhost/orders/{ORDER_ID}",
    )  # fmt: skip
    assert order.checkout_session_id is not None
    signed = app.extensions["marketplace.context"].payments.complete_checkout(order.checkout_session_id, "paid")
    orders.handle_event(uow, signed.payload, signed.signature_header)
    session.flush()
    session.refresh(order)
    assert order.status == "paid"
    return order


def set_billing(session: Session, org: Organisation, **fields: Any) -> None:
    for name, value in fields.items():
        setattr(org, name, value)
    session.add(org)
    session.flush()
