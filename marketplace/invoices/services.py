"""Issuing invoices and credit notes, and reading them back.

An order's invoice is issued in the transaction that marks it paid, and a credit note in the transaction that
records a refund: the number, the snapshot and the queued e-mail (the PDF attached) commit together or not at
all. Who may read an order's documents is :attr:`~marketplace.permissions.Action.ORDER_INVOICE_VIEW`: the
buyer's members, the members of each seller on the order, platform admins; to anyone else the documents do not
exist (404).
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from marketplace.accounts.models import User
from marketplace.config import SETTINGS_BY_NAME
from marketplace.db import UnitOfWork
from marketplace.errors import NotFound
from marketplace.invoices.errors import InvoiceErrorCode
from marketplace.invoices.models import PREFIX, DocumentKind, InvoiceDocument
from marketplace.invoices.numbering import next_number
from marketplace.invoices.pdf import render_document
from marketplace.invoices.snapshot import credit_snapshot, order_snapshot
from marketplace.mail import Attachment, AttachmentRef, send_after_commit
from marketplace.orders.base import format_money, lines_of
from marketplace.orders.models import Order
from marketplace.permissions import Action, can


def _issuer(uow: UnitOfWork) -> str:
    return str(uow.settings.get("INVOICE_ISSUER") or SETTINGS_BY_NAME["INVOICE_ISSUER"].default)


def _new_document(uow: UnitOfWork, kind: DocumentKind, order: Order, **fields: object) -> InvoiceDocument:
    number = next_number(uow.session, kind.value)
    shown_as = f"{PREFIX[kind]}-{number:06d}"  # the document's number as printed (not an error code)
    document = InvoiceDocument(
        kind=kind, number=number, code=shown_as, order_id=order.id,  # type: ignore[arg-type]
        currency=order.currency, **fields,  # type: ignore[arg-type]
    )  # fmt: skip
    uow.session.add(document)
    uow.session.flush()
    return document


def invoice_of(session: Session, order_id: int | None) -> InvoiceDocument | None:
    return session.exec(
        select(InvoiceDocument).where(
            InvoiceDocument.order_id == order_id, InvoiceDocument.kind == DocumentKind.INVOICE
        )
    ).first()


def credit_notes_of(session: Session, order_id: int | None) -> list[InvoiceDocument]:
    return list(
        session.exec(
            select(InvoiceDocument)
            .where(InvoiceDocument.order_id == order_id, InvoiceDocument.kind == DocumentKind.CREDIT_NOTE)
            .order_by(col(InvoiceDocument.number))
        ).all()
    )


def issue_invoice(uow: UnitOfWork, order: Order) -> InvoiceDocument:
    """The invoice of a paid ``order``: issued now with the next number, or the one issued before (idempotent).

    Call it with the order row locked (fulfilment does), in the transaction that records the payment.
    """
    existing = invoice_of(uow.session, order.id)
    if existing is not None:
        return existing
    now = uow.now()
    snapshot = order_snapshot(uow.session, order, lines_of(uow.session, order), issuer=_issuer(uow), issued_at=now)
    return _new_document(
        uow, DocumentKind.INVOICE, order, issued_at=now, amount=order.total_amount, refunded_total=0, snapshot=snapshot
    )


def credit_for_refund(
    uow: UnitOfWork, order: Order, *, previously_refunded: int, reason: str
) -> InvoiceDocument | None:
    """A credit note for what ``order`` has been refunded beyond ``previously_refunded``, mailed to the buyer.

    None when nothing new was refunded (a refund event delivered again) or the order was never paid. An order paid
    before invoices existed gets its invoice first, so the credit note has one to refer to.
    """
    amount = order.refunded_amount - previously_refunded
    if amount <= 0 or order.paid_at is None:
        return None
    invoice = issue_invoice(uow, order)
    now = uow.now()
    snapshot = credit_snapshot(
        invoice.snapshot, invoice_code=invoice.code, amount=amount, refunded_total=order.refunded_amount,
        reason=reason, issued_at=now,
    )  # fmt: skip
    note = _new_document(
        uow, DocumentKind.CREDIT_NOTE, order, refers_to_id=invoice.id, issued_at=now, amount=amount,
        refunded_total=order.refunded_amount, snapshot=snapshot,
    )  # fmt: skip
    send_after_commit(
        uow,
        order.buyer_email,
        f"Credit note {note.code} for order {order.reference}",
        f"{format_money(amount, order.currency)} of order {order.reference} was refunded ({reason}).\n"
        f"The credit note {note.code}, for invoice {invoice.code}, is attached.\n"
        f"Details: {uow.settings['BASE_URL']}/orders/{order.id}\n",
        attachments=[attachment_ref(note)],
    )
    return note


def attachment_ref(document: InvoiceDocument) -> AttachmentRef:
    """How a queued e-mail names ``document`` as its attachment."""
    assert document.id is not None
    return AttachmentRef("invoice_document", document.id)


def attachment(session: Session, document_id: int) -> Attachment:
    """``document_id``'s PDF as an e-mail attachment."""
    document = session.get(InvoiceDocument, document_id)
    if document is None:
        raise NotFound(message="No such invoice or credit note.", code=InvoiceErrorCode.NOT_ISSUED)
    return Attachment(document.filename, "application/pdf", pdf_of(document))


def pdf_of(document: InvoiceDocument) -> bytes:
    """The document's PDF, rendered from its snapshot (never from the current names of anything)."""
    return render_document(document.snapshot, document.code)


# --- reading, with the permission check --------------------------------------------------------------------------


def may_view_documents(session: Session, user: User | None, order: Order) -> bool:
    return can(session, user, Action.ORDER_INVOICE_VIEW, order)


def _order_for(session: Session, user: User | None, order_id: int) -> Order:
    order = session.get(Order, order_id)
    if order is None or not may_view_documents(session, user, order):
        raise NotFound(message="No such order.")
    return order


def invoice_for(session: Session, user: User | None, order_id: int) -> InvoiceDocument:
    """The invoice of order ``order_id`` for someone allowed to read it; 404 for anyone else or before payment."""
    invoice = invoice_of(session, _order_for(session, user, order_id).id)
    if invoice is None:
        raise NotFound(
            message="This order has no invoice yet: it is issued when the order is paid.",
            code=InvoiceErrorCode.NOT_ISSUED,
        )
    return invoice


def credit_note_for(session: Session, user: User | None, order_id: int, note_id: int) -> InvoiceDocument:
    """Credit note ``note_id`` of order ``order_id`` for someone allowed to read the order's documents."""
    order = _order_for(session, user, order_id)
    note = session.get(InvoiceDocument, note_id)
    if note is None or note.order_id != order.id or note.kind is not DocumentKind.CREDIT_NOTE:
        raise NotFound(message="This order has no such credit note.", code=InvoiceErrorCode.NOT_ISSUED)
    return note


def documents_of(session: Session, order: Order) -> list[InvoiceDocument]:
    """The order's invoice (if issued) and its credit notes, in the order they were issued."""
    invoice = invoice_of(session, order.id)
    return ([invoice] if invoice else []) + credit_notes_of(session, order.id)


def documents_by_order(session: Session, order_ids: list[int | None]) -> dict[int, list[InvoiceDocument]]:
    """The documents of each of ``order_ids`` (invoice first, then credit notes), in one query."""
    found: dict[int, list[InvoiceDocument]] = {}
    if not order_ids:
        return found
    rows = session.exec(
        select(InvoiceDocument)
        .where(col(InvoiceDocument.order_id).in_(sorted({i for i in order_ids if i is not None})))
        .order_by(col(InvoiceDocument.kind).desc(), col(InvoiceDocument.number))
    ).all()
    for document in rows:
        found.setdefault(document.order_id, []).append(document)
    return found
