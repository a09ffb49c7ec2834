"""custom: contract payments held in escrow, and each delivery of a milestone with its review grant

Revision ID: 0013_milestones
Revises: 0012_custom
Create Date: 2026-11-30

New tables only: ``custom_contract_payment`` (one checkout of a contract: the whole price or one milestone) and
``custom_milestone_delivery`` (one delivered version of a milestone, first delivery or redelivery).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision: str = "0013_milestones"
down_revision: str | None = "0012_custom"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "custom_contract_payment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("milestone_id", sa.Integer(), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "pending",
                "paid",
                "failed",
                "expired",
                name="paymentstate",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("backend", sa.String(length=20), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("checkout_session_id", sa.String(length=255), nullable=True),
        sa.Column("checkout_url", sa.Text(), nullable=True),
        sa.Column("payment_intent_id", sa.String(length=255), nullable=True),
        sa.Column("charge_id", sa.String(length=255), nullable=True),
        sa.Column("refunded_amount", sa.BigInteger(), nullable=False),
        sa.Column("paid_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", marketplace.db.UTCDateTime(), nullable=False),
        sa.Column("paid_at", marketplace.db.UTCDateTime(), nullable=True),
        sa.CheckConstraint("amount > 0", name=op.f("ck_custom_contract_payment_amount_positive")),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["custom_contract.id"],
            name=op.f("fk_custom_contract_payment_contract_id_custom_contract"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["milestone_id"],
            ["custom_milestone.id"],
            name=op.f("fk_custom_contract_payment_milestone_id_custom_milestone"),
        ),
        sa.ForeignKeyConstraint(
            ["paid_by_id"],
            ["user_account.id"],
            name=op.f("fk_custom_contract_payment_paid_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custom_contract_payment")),
        sa.UniqueConstraint("checkout_session_id", name=op.f("uq_custom_contract_payment_checkout_session_id")),
    )
    with op.batch_alter_table("custom_contract_payment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_custom_contract_payment_contract_id"), ["contract_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_custom_contract_payment_milestone_id"), ["milestone_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_custom_contract_payment_payment_intent_id"), ["payment_intent_id"], unique=False
        )

    op.create_table(
        "custom_milestone_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("milestone_id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("manifest_digest", sa.String(length=80), nullable=False),
        sa.Column("review_grant_id", sa.String(length=26), nullable=True),
        sa.Column("delivered_by_id", sa.Integer(), nullable=True),
        sa.Column("delivered_at", marketplace.db.UTCDateTime(), nullable=False),
        sa.Column("review_deadline", marketplace.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivered_by_id"],
            ["user_account.id"],
            name=op.f("fk_custom_milestone_delivery_delivered_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["milestone_id"],
            ["custom_milestone.id"],
            name=op.f("fk_custom_milestone_delivery_milestone_id_custom_milestone"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["review_grant_id"],
            ["license_grant.id"],
            name=op.f("fk_custom_milestone_delivery_review_grant_id_license_grant"),
        ),
        sa.ForeignKeyConstraint(
            ["version_id"], ["dataset_version.id"], name=op.f("fk_custom_milestone_delivery_version_id_dataset_version")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custom_milestone_delivery")),
        sa.UniqueConstraint("milestone_id", "attempt", name=op.f("uq_custom_milestone_delivery_milestone_id_attempt")),
    )
    with op.batch_alter_table("custom_milestone_delivery", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_custom_milestone_delivery_milestone_id"), ["milestone_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("custom_milestone_delivery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_custom_milestone_delivery_milestone_id"))

    op.drop_table("custom_milestone_delivery")
    with op.batch_alter_table("custom_contract_payment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_custom_contract_payment_payment_intent_id"))
        batch_op.drop_index(batch_op.f("ix_custom_contract_payment_milestone_id"))
        batch_op.drop_index(batch_op.f("ix_custom_contract_payment_contract_id"))

    op.drop_table("custom_contract_payment")
