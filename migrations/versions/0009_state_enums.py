"""state enums: order status, settlement, payout status and grant status become enum columns with CHECK constraints

Revision ID: 0009_state_enums
Revises: 0007_webhooks_sso
Create Date: 2026-12-01

The columns stay VARCHAR(32) (non-native enums, alike on SQLite and PostgreSQL); each gains a CHECK constraint
naming its allowed values. An order's settlement was "" until its checkout was created: that becomes NULL.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_state_enums"
down_revision: str | None = "0008_dates"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The values as of this revision (copied, not imported: a migration must not change when the code does).
ORDER_STATUS = ("pending_payment", "processing", "paid", "failed", "expired", "cancelled", "refunded", "disputed")
CHARGE_KIND = ("destination", "separate_transfers", "platform")
PAYOUT_STATUS = ("pending", "held", "transferred", "transfer_failed", "reversed")
GRANT_STATUS = ("pending_payment", "pending_approval", "active", "suspended", "expired", "revoked")


def _enum(values: tuple[str, ...], name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


# (table, column, values, constraint name, nullable)
COLUMNS = [
    ("customer_order", "status", ORDER_STATUS, "orderstatus", False),
    ("customer_order", "settlement", CHARGE_KIND, "chargekind", True),
    ("order_line", "payout_status", PAYOUT_STATUS, "payoutstatus", False),
    ("license_grant", "status", GRANT_STATUS, "grantstatus", False),
    ("license_grant_event", "from_status", GRANT_STATUS, "from_status", True),
    ("license_grant_event", "to_status", GRANT_STATUS, "to_status", False),
]


def upgrade() -> None:
    with op.batch_alter_table("customer_order") as batch_op:
        batch_op.alter_column("settlement", existing_type=sa.String(length=32), nullable=True)
    op.execute(sa.text("UPDATE customer_order SET settlement = NULL WHERE settlement = ''"))
    for table in dict.fromkeys(t for t, *_ in COLUMNS):
        with op.batch_alter_table(table) as batch_op:
            for _, column, values, name, nullable in (c for c in COLUMNS if c[0] == table):
                batch_op.alter_column(
                    column, existing_type=sa.String(length=32), type_=_enum(values, name), existing_nullable=nullable
                )


def downgrade() -> None:
    for table in dict.fromkeys(t for t, *_ in COLUMNS):
        with op.batch_alter_table(table) as batch_op:
            for _, column, values, name, nullable in (c for c in COLUMNS if c[0] == table):
                batch_op.alter_column(
                    column, existing_type=_enum(values, name), type_=sa.String(length=32), existing_nullable=nullable
                )
    op.execute(sa.text("UPDATE customer_order SET settlement = '' WHERE settlement IS NULL"))
    with op.batch_alter_table("customer_order") as batch_op:
        batch_op.alter_column("settlement", existing_type=sa.String(length=32), nullable=False)
