"""invoices: numbered invoices and credit notes of orders, and billing details of organisations

Revision ID: 0029_invoices
Revises: 0028_provider_analytics
Create Date: 2026-11-30

New tables ``invoice_counter`` (the last number of each series) and ``invoice_document`` (every issued invoice and
credit note with the snapshot it prints); ``organisation`` gains ``billing_name``, ``billing_address`` and
``tax_id`` (empty unless given).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision: str = "0029_invoices"
down_revision: str | None = "0028_provider_analytics"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The values as of this revision (copied, not imported: a migration must not change when the code does).
KINDS = ("invoice", "credit_note")
_BILLING = (("billing_name", 200), ("billing_address", 1000), ("tax_id", 64))


def upgrade() -> None:
    # In place (no batch copy): ``organisation`` is referenced by most tables, and SQLite adds a column in place.
    for name, length in _BILLING:
        op.add_column("organisation", sa.Column(name, sa.String(length=length), nullable=False, server_default=""))
    op.create_table(
        "invoice_counter",
        sa.Column("series", sa.String(length=32), nullable=False),
        sa.Column("last_number", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("series", name=op.f("pk_invoice_counter")),
    )
    op.create_table(
        "invoice_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Enum(*KINDS, name="documentkind", native_enum=False, create_constraint=True, length=32), nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("refers_to_id", sa.Integer(), nullable=True),
        sa.Column("issued_at", marketplace.db.UTCDateTime(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("refunded_total", sa.BigInteger(), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["customer_order.id"], name=op.f("fk_invoice_document_order_id_customer_order")),
        sa.ForeignKeyConstraint(["refers_to_id"], ["invoice_document.id"], name=op.f("fk_invoice_document_refers_to_id_invoice_document")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_document")),
        sa.UniqueConstraint("code", name=op.f("uq_invoice_document_code")),
        sa.UniqueConstraint("kind", "number", name=op.f("uq_invoice_document_kind_number")),
        sa.UniqueConstraint("order_id", "kind", "refunded_total", name=op.f("uq_invoice_document_order_id_kind_refunded_total")),
    )  # fmt: skip
    op.create_index(op.f("ix_invoice_document_order_id"), "invoice_document", ["order_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_invoice_document_order_id"), table_name="invoice_document")
    op.drop_table("invoice_document")
    op.drop_table("invoice_counter")
    for name, _length in reversed(_BILLING):
        op.drop_column("organisation", name)  # SQLite 3.35+ drops a column in place: no copy of a referenced table
