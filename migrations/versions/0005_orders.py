"""orders

Revision ID: 0005_orders
Revises: 0004_delivery
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision: str = "0005_orders"
down_revision: str | None = "0004_delivery"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "customer_order",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("buyer_org_id", sa.Integer(), nullable=False),
        sa.Column("buyer_user_id", sa.Integer(), nullable=True),
        sa.Column("buyer_email", sa.String(length=254), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total_amount", sa.BigInteger(), nullable=False),
        sa.Column("platform_fee_amount", sa.BigInteger(), nullable=False),
        sa.Column("refunded_amount", sa.BigInteger(), nullable=False),
        sa.Column("payment_backend", sa.String(length=20), nullable=False),
        sa.Column("settlement", sa.String(length=32), nullable=False),
        sa.Column("checkout_session_id", sa.String(length=255), nullable=True),
        sa.Column("checkout_url", sa.Text(), nullable=True),
        sa.Column("checkout_attempt", sa.Integer(), nullable=False),
        sa.Column("payment_intent_id", sa.String(length=255), nullable=True),
        sa.Column("charge_id", sa.String(length=255), nullable=True),
        sa.Column("status_reason", sa.String(length=1000), nullable=False),
        sa.Column("created_at", marketplace.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", marketplace.db.UTCDateTime(), nullable=False),
        sa.Column("paid_at", marketplace.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["buyer_org_id"], ["organisation.id"], name=op.f("fk_customer_order_buyer_org_id_organisation")
        ),
        sa.ForeignKeyConstraint(
            ["buyer_user_id"],
            ["user_account.id"],
            name=op.f("fk_customer_order_buyer_user_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_order")),
        sa.UniqueConstraint("checkout_session_id", name=op.f("uq_customer_order_checkout_session_id")),
    )
    with op.batch_alter_table("customer_order", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_customer_order_buyer_org_id"), ["buyer_org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_customer_order_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_customer_order_paid_at"), ["paid_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_customer_order_payment_intent_id"), ["payment_intent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_customer_order_status"), ["status"], unique=False)

    op.create_table(
        "provider_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(length=255), nullable=False),
        sa.Column("backend", sa.String(length=20), nullable=False),
        sa.Column("charges_enabled", sa.Boolean(), nullable=False),
        sa.Column("payouts_enabled", sa.Boolean(), nullable=False),
        sa.Column("requirements_due", sa.JSON(), nullable=False),
        sa.Column("updated_at", marketplace.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"], name=op.f("fk_provider_account_organisation_id_organisation")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_account")),
        sa.UniqueConstraint("account_id", name=op.f("uq_provider_account_account_id")),
        sa.UniqueConstraint("organisation_id", name=op.f("uq_provider_account_organisation_id")),
    )
    op.create_table(
        "payment_event",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("backend", sa.String(length=20), nullable=False),
        sa.Column("received_at", marketplace.db.UTCDateTime(), nullable=False),
        sa.Column("outcome", sa.String(length=200), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["customer_order.id"], name=op.f("fk_payment_event_order_id_customer_order")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_event")),
    )
    with op.batch_alter_table("payment_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_event_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payment_event_type"), ["type"], unique=False)

    op.create_table(
        "cart_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("licensee_org_id", sa.Integer(), nullable=False),
        sa.Column("added_at", marketplace.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["licensee_org_id"],
            ["organisation.id"],
            name=op.f("fk_cart_item_licensee_org_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"], ["offer.id"], name=op.f("fk_cart_item_offer_id_offer"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_cart_item_user_id_user_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cart_item")),
        sa.UniqueConstraint(
            "user_id", "offer_id", "licensee_org_id", name=op.f("uq_cart_item_user_id_offer_id_licensee_org_id")
        ),
    )
    with op.batch_alter_table("cart_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cart_item_user_id"), ["user_id"], unique=False)

    op.create_table(
        "order_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("provider_org_id", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("platform_fee_amount", sa.BigInteger(), nullable=False),
        sa.Column("terms_hash", sa.String(length=64), nullable=False),
        sa.Column("provider_account_id", sa.String(length=255), nullable=True),
        sa.Column("transfer_id", sa.String(length=255), nullable=True),
        sa.Column("payout_status", sa.String(length=32), nullable=False),
        sa.Column("grant_id", sa.String(length=26), nullable=True),
        sa.ForeignKeyConstraint(["dataset_id"], ["dataset.id"], name=op.f("fk_order_line_dataset_id_dataset")),
        sa.ForeignKeyConstraint(["grant_id"], ["license_grant.id"], name=op.f("fk_order_line_grant_id_license_grant")),
        sa.ForeignKeyConstraint(["offer_id"], ["offer.id"], name=op.f("fk_order_line_offer_id_offer")),
        sa.ForeignKeyConstraint(
            ["order_id"], ["customer_order.id"], name=op.f("fk_order_line_order_id_customer_order"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["provider_org_id"], ["organisation.id"], name=op.f("fk_order_line_provider_org_id_organisation")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_line")),
        sa.UniqueConstraint("grant_id", name=op.f("uq_order_line_grant_id")),
        sa.UniqueConstraint("order_id", "offer_id", name=op.f("uq_order_line_order_id_offer_id")),
    )
    with op.batch_alter_table("order_line", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_order_line_dataset_id"), ["dataset_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_order_line_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_order_line_provider_org_id"), ["provider_org_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("order_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_line_provider_org_id"))
        batch_op.drop_index(batch_op.f("ix_order_line_order_id"))
        batch_op.drop_index(batch_op.f("ix_order_line_dataset_id"))

    op.drop_table("order_line")
    with op.batch_alter_table("cart_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cart_item_user_id"))

    op.drop_table("cart_item")
    with op.batch_alter_table("payment_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_event_type"))
        batch_op.drop_index(batch_op.f("ix_payment_event_order_id"))

    op.drop_table("payment_event")
    op.drop_table("provider_account")
    with op.batch_alter_table("customer_order", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_order_status"))
        batch_op.drop_index(batch_op.f("ix_customer_order_payment_intent_id"))
        batch_op.drop_index(batch_op.f("ix_customer_order_paid_at"))
        batch_op.drop_index(batch_op.f("ix_customer_order_created_at"))
        batch_op.drop_index(batch_op.f("ix_customer_order_buyer_org_id"))

    op.drop_table("customer_order")
