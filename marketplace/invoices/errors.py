"""The error codes of invoices and credit notes (see :mod:`marketplace.errors`)."""

from __future__ import annotations

from enum import StrEnum, unique


@unique
class InvoiceErrorCode(StrEnum):
    NOT_ISSUED = "invoice_not_issued"  # the order has no invoice (not paid) or no such credit note
    DOCUMENT_IMMUTABLE = "document_immutable"  # an issued invoice or credit note cannot be changed
