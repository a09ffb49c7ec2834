"""Issued invoices and credit notes, and the counters their numbers come from.

A document is written once and never changed: its ``snapshot`` holds everything printed on it (parties, lines,
totals), so the PDF rendered from it tomorrow is the PDF issued today, whatever is renamed in between. A mapper
hook refuses any UPDATE or DELETE of a stored document.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlmodel import Field, SQLModel

from marketplace.db import enum_column, utc_column, utcnow
from marketplace.errors import Conflict
from marketplace.invoices.errors import InvoiceErrorCode


class DocumentKind(enum.StrEnum):
    """What a document is; each kind has its own number series."""

    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


#: How a document's number is shown: the series' prefix and six digits (``INV-000042``).
PREFIX: dict[DocumentKind, str] = {DocumentKind.INVOICE: "INV", DocumentKind.CREDIT_NOTE: "CN"}


class DocumentCounter(SQLModel, table=True):
    """The last number given in one series; the row is locked by the increment until its transaction ends."""

    __tablename__ = "invoice_counter"

    series: str = Field(primary_key=True, max_length=32)
    last_number: int = Field(default=0, sa_column=sa.Column(sa.BigInteger(), nullable=False))


class InvoiceDocument(SQLModel, table=True):
    """One issued invoice or credit note of an order."""

    __tablename__ = "invoice_document"
    __table_args__ = (
        sa.UniqueConstraint("kind", "number"),
        # An invoice per order; a credit note per refunded total the order reached (a refund applied twice is one).
        sa.UniqueConstraint("order_id", "kind", "refunded_total"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: DocumentKind = Field(sa_column=enum_column(DocumentKind))
    number: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False))
    code: str = Field(max_length=32, sa_column_kwargs={"unique": True})
    order_id: int = Field(foreign_key="customer_order.id", index=True)
    refers_to_id: int | None = Field(default=None, foreign_key="invoice_document.id")
    issued_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    currency: str = Field(max_length=3)
    # What the document is for: the order's total (invoice) or the amount refunded now (credit note).
    amount: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False))
    # The order's refunded amount once this credit note is counted (0 for an invoice).
    refunded_total: int = Field(default=0, sa_column=sa.Column(sa.BigInteger(), nullable=False, default=0))
    snapshot: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(sa.JSON(), nullable=False))

    @property
    def filename(self) -> str:
        return f"{self.code}.pdf"

    @property
    def is_credit_note(self) -> bool:
        return self.kind is DocumentKind.CREDIT_NOTE


def _refuse_change(_mapper: Any, _connection: Any, target: InvoiceDocument) -> None:
    raise Conflict(message=f"{target.code} is issued and cannot be changed.", code=InvoiceErrorCode.DOCUMENT_IMMUTABLE)


event.listen(InvoiceDocument, "before_update", _refuse_change)
event.listen(InvoiceDocument, "before_delete", _refuse_change)
