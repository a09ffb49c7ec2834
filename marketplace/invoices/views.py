"""The PDFs of an order's invoice and credit notes, for the buyer's members, each seller's members and admins."""

from __future__ import annotations

from flask import Blueprint, Response

from marketplace.invoices import services
from marketplace.invoices.models import InvoiceDocument
from marketplace.web import current_user, login_required, uow

bp = Blueprint("invoices", __name__)


def pdf_response(document: InvoiceDocument) -> Response:
    """The document's PDF, named by its number, never cached by shared caches."""
    response = Response(services.pdf_of(document), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{document.filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/orders/<int:order_id>/invoice.pdf")
@login_required
def invoice_pdf(order_id: int) -> Response:
    return pdf_response(services.invoice_for(uow().session, current_user(), order_id))


@bp.get("/orders/<int:order_id>/credit-notes/<int:note_id>.pdf")
@login_required
def credit_note_pdf(order_id: int, note_id: int) -> Response:
    return pdf_response(services.credit_note_for(uow().session, current_user(), order_id, note_id))
