"""custom: requests for data, quotes, contracts, milestones, private threads and the transition log

Revision ID: 0012_custom
Revises: 0011_custom_listings
Create Date: 2026-12-01

New tables only (prefix ``custom_``). The contract's private dataset uses the new ``dataset.status`` value
``private``; the column is text without a CHECK constraint, so it needs no change here.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision: str = "0012_custom"
down_revision: str | None = "0011_custom_listings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "custom_transition",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "machine",
            sa.Enum(
                "request",
                "quote",
                "contract",
                "milestone",
                name="machine",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("from_state", sa.String(length=32), nullable=True),
        sa.Column("to_state", sa.String(length=32), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("at", marketplace.db.UTCDateTime(), nullable=False),
        sa.Column("reason", sa.String(length=2000), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["user_account.id"],
            name=op.f("fk_custom_transition_actor_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custom_transition")),
    )
    with op.batch_alter_table("custom_transition", schema=None) as batch_op:
        batch_op.create_index("ix_custom_transition_subject", ["machine", "subject_id", "at"], unique=False)

    op.create_table(
        "custom_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("buyer_org_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("source_dataset_id", sa.Integer(), nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "draft",
                "open",
                "quoting",
                "awarded",
                "closed",
                "expired",
                name="requeststate",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "modality",
            sa.Enum(
                "text",
                "image",
                "video",
                "audio",
                "multimodal",
                "tabular",
                "time_series",
                "sensor",
                "point_cloud",
                name="modality",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("tasks", sa.JSON(), nullable=False),
        sa.Column("volume_amount", sa.BigInteger(), nullable=False),
        sa.Column(
            "volume_unit",
            sa.Enum(
                "records",
                "items",
                "documents",
                "tokens",
                "words",
                "images",
                "hours",
                "clips",
                "frames",
                "speakers",
                "rows",
                name="volumeunit",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("regions", sa.JSON(), nullable=False),
        sa.Column("quality", sa.JSON(), nullable=False),
        sa.Column("personal_data", sa.JSON(), nullable=False),
        sa.Column("ai_act_documentation", sa.Boolean(), nullable=False),
        sa.Column("license_id", sa.String(length=120), nullable=False),
        sa.Column("license_overrides", sa.JSON(), nullable=False),
        sa.Column("budget_min", sa.BigInteger(), nullable=False),
        sa.Column("budget_max", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column(
            "visibility",
            sa.Enum("open", "invited", name="visibility", native_enum=False, create_constraint=True, length=32),
            nullable=False,
        ),
        sa.Column("show_buyer_name", sa.Boolean(), nullable=False),
        sa.Column("created_at", marketplace.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", marketplace.db.UTCDateTime(), nullable=False),
        sa.Column("published_at", marketplace.db.UTCDateTime(), nullable=True),
        sa.CheckConstraint("budget_min >= 0 AND budget_max >= budget_min", name=op.f("ck_custom_request_budget_range")),
        sa.CheckConstraint("volume_amount > 0", name=op.f("ck_custom_request_volume_positive")),
        sa.ForeignKeyConstraint(
            ["buyer_org_id"], ["organisation.id"], name=op.f("fk_custom_request_buyer_org_id_organisation")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_custom_request_created_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["source_dataset_id"],
            ["dataset.id"],
            name=op.f("fk_custom_request_source_dataset_id_dataset"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custom_request")),
    )
    with op.batch_alter_table("custom_request", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_custom_request_buyer_org_id"), ["buyer_org_id"], unique=False)
        batch_op.create_index("ix_custom_request_state_visibility", ["state", "visibility"], unique=False)

    op.create_table(
        "custom_quote",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("provider_org_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "submitted",
                "revised",
                "accepted",
                "declined",
                "withdrawn",
                "expired",
                name="quotestate",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("price_amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("valid_until", marketplace.db.UTCDateTime(), nullable=False),
        sa.Column("decline_reason", sa.String(length=2000), nullable=False),
        sa.Column("created_at", marketplace.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", marketplace.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_custom_quote_created_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["provider_org_id"], ["organisation.id"], name=op.f("fk_custom_quote_provider_org_id_organisation")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["custom_request.id"],
            name=op.f("fk_custom_quote_request_id_custom_request"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custom_quote")),
    )
    with op.batch_alter_table("custom_quote", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_custom_quote_provider_org_id"), ["provider_org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_custom_quote_request_id"), ["request_id"], unique=False)
        batch_op.create_index("ix_custom_quote_request_provider", ["request_id", "provider_org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_custom_quote_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_custom_quote_valid_until"), ["valid_until"], unique=False)

    op.create_table(
        "custom_request_invitation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("provider_org_id", sa.Integer(), nullable=False),
        sa.Column("invited_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", marketplace.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["invited_by_id"],
            ["user_account.id"],
            name=op.f("fk_custom_request_invitation_invited_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["provider_org_id"],
            ["organisation.id"],
            name=op.f("fk_custom_request_invitation_provider_org_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["custom_request.id"],
            name=op.f("fk_custom_request_invitation_request_id_custom_request"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custom_request_invitation")),
        sa.UniqueConstraint(
            "request_id", "provider_org_id", name=op.f("uq_custom_request_invitation_request_id_provider_org_id")
        ),
    )
    with op.batch_alter_table("custom_request_invitation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_custom_request_invitation_provider_org_id"), ["provider_org_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_custom_request_invitation_request_id"), ["request_id"], unique=False)

    op.create_table(
        "custom_request_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", marketplace.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_custom_request_revision_created_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["custom_request.id"],
            name=op.f("fk_custom_request_revision_request_id_custom_request"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custom_request_revision")),
        sa.UniqueConstraint("request_id", "number", name=op.f("uq_custom_request_revision_request_id_number")),
    )
    with op.batch_alter_table("custom_request_revision", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_custom_request_revision_request_id"), ["request_id"], unique=False)

    op.create_table(
        "custom_thread",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("provider_org_id", sa.Integer(), nullable=False),
        sa.Column("created_at", marketplace.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_org_id"], ["organisation.id"], name=op.f("fk_custom_thread_provider_org_id_organisation")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["custom_request.id"],
            name=op.f("fk_custom_thread_request_id_custom_request"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custom_thread")),
        sa.UniqueConstraint("request_id", "provider_org_id", name=op.f("uq_custom_thread_request_id_provider_org_id")),
    )
    with op.batch_alter_table("custom_thread", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_custom_thread_provider_org_id"), ["provider_org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_custom_thread_request_id"), ["request_id"], unique=False)

    op.create_table(
        "custom_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("author_org_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", marketplace.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["user_account.id"],
            name=op.f("fk_custom_message_author_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["author_org_id"], ["organisation.id"], name=op.f("fk_custom_message_author_org_id_organisation")
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["custom_thread.id"],
            name=op.f("fk_custom_message_thread_id_custom_thread"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custom_message")),
    )
    with op.batch_alter_table("custom_message", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_custom_message_thread_id"), ["thread_id"], unique=False)

    op.create_table(
        "custom_quote_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("quote_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("price_amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column(
            "payment_plan",
            sa.Enum(
                "upfront", "per_milestone", name="paymentplan", native_enum=False, create_constraint=True, length=32
            ),
            nullable=False,
        ),
        sa.Column("license_id", sa.String(length=120), nullable=False),
        sa.Column("license_overrides", sa.JSON(), nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.Column("terms_hash", sa.String(length=64), nullable=False),
        sa.Column("valid_until", marketplace.db.UTCDateTime(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", marketplace.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_custom_quote_revision_created_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["quote_id"],
            ["custom_quote.id"],
            name=op.f("fk_custom_quote_revision_quote_id_custom_quote"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custom_quote_revision")),
        sa.UniqueConstraint("quote_id", "number", name=op.f("uq_custom_quote_revision_quote_id_number")),
    )
    with op.batch_alter_table("custom_quote_revision", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_custom_quote_revision_quote_id"), ["quote_id"], unique=False)

    op.create_table(
        "custom_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("media_type", sa.String(length=255), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=1024), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", marketplace.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["custom_message.id"],
            name=op.f("fk_custom_attachment_message_id_custom_message"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["custom_request.id"],
            name=op.f("fk_custom_attachment_request_id_custom_request"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["user_account.id"],
            name=op.f("fk_custom_attachment_uploaded_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custom_attachment")),
    )
    with op.batch_alter_table("custom_attachment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_custom_attachment_message_id"), ["message_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_custom_attachment_request_id"), ["request_id"], unique=False)

    op.create_table(
        "custom_contract",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("quote_id", sa.Integer(), nullable=False),
        sa.Column("quote_revision_id", sa.Integer(), nullable=False),
        sa.Column("buyer_org_id", sa.Integer(), nullable=False),
        sa.Column("provider_org_id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "awaiting_payment",
                "active",
                "completed",
                "cancelled",
                "in_dispute",
                name="contractstate",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("price_amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column(
            "payment_plan",
            sa.Enum(
                "upfront", "per_milestone", name="paymentplan", native_enum=False, create_constraint=True, length=32
            ),
            nullable=False,
        ),
        sa.Column("terms_hash", sa.String(length=64), nullable=False),
        sa.Column("max_redeliveries", sa.Integer(), nullable=False),
        sa.Column("transfer_group", sa.String(length=120), nullable=True),
        sa.Column("payment_reference", sa.String(length=200), nullable=True),
        sa.Column("amount_held", sa.BigInteger(), nullable=False),
        sa.Column("amount_paid_out", sa.BigInteger(), nullable=False),
        sa.Column("amount_refunded", sa.BigInteger(), nullable=False),
        sa.Column("fees_amount", sa.BigInteger(), nullable=False),
        sa.Column("grant_id", sa.String(length=26), nullable=True),
        sa.Column("accepted_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", marketplace.db.UTCDateTime(), nullable=False),
        sa.Column("activated_at", marketplace.db.UTCDateTime(), nullable=True),
        sa.Column("closed_at", marketplace.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["accepted_by_id"],
            ["user_account.id"],
            name=op.f("fk_custom_contract_accepted_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["buyer_org_id"], ["organisation.id"], name=op.f("fk_custom_contract_buyer_org_id_organisation")
        ),
        sa.ForeignKeyConstraint(["dataset_id"], ["dataset.id"], name=op.f("fk_custom_contract_dataset_id_dataset")),
        sa.ForeignKeyConstraint(
            ["grant_id"], ["license_grant.id"], name=op.f("fk_custom_contract_grant_id_license_grant")
        ),
        sa.ForeignKeyConstraint(["offer_id"], ["offer.id"], name=op.f("fk_custom_contract_offer_id_offer")),
        sa.ForeignKeyConstraint(
            ["provider_org_id"], ["organisation.id"], name=op.f("fk_custom_contract_provider_org_id_organisation")
        ),
        sa.ForeignKeyConstraint(
            ["quote_id"], ["custom_quote.id"], name=op.f("fk_custom_contract_quote_id_custom_quote")
        ),
        sa.ForeignKeyConstraint(
            ["quote_revision_id"],
            ["custom_quote_revision.id"],
            name=op.f("fk_custom_contract_quote_revision_id_custom_quote_revision"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"], ["custom_request.id"], name=op.f("fk_custom_contract_request_id_custom_request")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custom_contract")),
        sa.UniqueConstraint("quote_id", name=op.f("uq_custom_contract_quote_id")),
        sa.UniqueConstraint("request_id", name=op.f("uq_custom_contract_request_id")),
        sa.UniqueConstraint("transfer_group", name=op.f("uq_custom_contract_transfer_group")),
    )
    with op.batch_alter_table("custom_contract", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_custom_contract_buyer_org_id"), ["buyer_org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_custom_contract_dataset_id"), ["dataset_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_custom_contract_offer_id"), ["offer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_custom_contract_provider_org_id"), ["provider_org_id"], unique=False)

    op.create_table(
        "custom_quote_milestone",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("revision_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("deliverable", sa.String(length=4000), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["revision_id"],
            ["custom_quote_revision.id"],
            name=op.f("fk_custom_quote_milestone_revision_id_custom_quote_revision"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custom_quote_milestone")),
        sa.UniqueConstraint("revision_id", "position", name=op.f("uq_custom_quote_milestone_revision_id_position")),
    )
    with op.batch_alter_table("custom_quote_milestone", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_custom_quote_milestone_revision_id"), ["revision_id"], unique=False)

    op.create_table(
        "custom_milestone",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("deliverable", sa.String(length=4000), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "pending",
                "delivered",
                "accepted",
                "rejected",
                "redelivered",
                "auto_accepted",
                "cancelled",
                "refunded",
                "settled_by_admin",
                name="milestonestate",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("delivered_version_id", sa.Integer(), nullable=True),
        sa.Column("delivered_at", marketplace.db.UTCDateTime(), nullable=True),
        sa.Column("review_deadline", marketplace.db.UTCDateTime(), nullable=True),
        sa.Column("redelivery_count", sa.Integer(), nullable=False),
        sa.Column("rejection_reason", sa.String(length=4000), nullable=False),
        sa.Column("decided_at", marketplace.db.UTCDateTime(), nullable=True),
        sa.Column("transfer_reference", sa.String(length=200), nullable=True),
        sa.Column("refund_reference", sa.String(length=200), nullable=True),
        sa.Column("settled_payout_amount", sa.BigInteger(), nullable=True),
        sa.Column("settled_refund_amount", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["custom_contract.id"],
            name=op.f("fk_custom_milestone_contract_id_custom_contract"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["delivered_version_id"],
            ["dataset_version.id"],
            name=op.f("fk_custom_milestone_delivered_version_id_dataset_version"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custom_milestone")),
        sa.UniqueConstraint("contract_id", "position", name=op.f("uq_custom_milestone_contract_id_position")),
    )
    with op.batch_alter_table("custom_milestone", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_custom_milestone_contract_id"), ["contract_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_custom_milestone_review_deadline"), ["review_deadline"], unique=False)
        batch_op.create_index(batch_op.f("ix_custom_milestone_state"), ["state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("custom_milestone", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_custom_milestone_state"))
        batch_op.drop_index(batch_op.f("ix_custom_milestone_review_deadline"))
        batch_op.drop_index(batch_op.f("ix_custom_milestone_contract_id"))

    op.drop_table("custom_milestone")
    with op.batch_alter_table("custom_quote_milestone", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_custom_quote_milestone_revision_id"))

    op.drop_table("custom_quote_milestone")
    with op.batch_alter_table("custom_contract", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_custom_contract_provider_org_id"))
        batch_op.drop_index(batch_op.f("ix_custom_contract_offer_id"))
        batch_op.drop_index(batch_op.f("ix_custom_contract_dataset_id"))
        batch_op.drop_index(batch_op.f("ix_custom_contract_buyer_org_id"))

    op.drop_table("custom_contract")
    with op.batch_alter_table("custom_attachment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_custom_attachment_request_id"))
        batch_op.drop_index(batch_op.f("ix_custom_attachment_message_id"))

    op.drop_table("custom_attachment")
    with op.batch_alter_table("custom_quote_revision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_custom_quote_revision_quote_id"))

    op.drop_table("custom_quote_revision")
    with op.batch_alter_table("custom_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_custom_message_thread_id"))

    op.drop_table("custom_message")
    with op.batch_alter_table("custom_thread", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_custom_thread_request_id"))
        batch_op.drop_index(batch_op.f("ix_custom_thread_provider_org_id"))

    op.drop_table("custom_thread")
    with op.batch_alter_table("custom_request_revision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_custom_request_revision_request_id"))

    op.drop_table("custom_request_revision")
    with op.batch_alter_table("custom_request_invitation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_custom_request_invitation_request_id"))
        batch_op.drop_index(batch_op.f("ix_custom_request_invitation_provider_org_id"))

    op.drop_table("custom_request_invitation")
    with op.batch_alter_table("custom_quote", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_custom_quote_valid_until"))
        batch_op.drop_index(batch_op.f("ix_custom_quote_state"))
        batch_op.drop_index("ix_custom_quote_request_provider")
        batch_op.drop_index(batch_op.f("ix_custom_quote_request_id"))
        batch_op.drop_index(batch_op.f("ix_custom_quote_provider_org_id"))

    op.drop_table("custom_quote")
    with op.batch_alter_table("custom_request", schema=None) as batch_op:
        batch_op.drop_index("ix_custom_request_state_visibility")
        batch_op.drop_index(batch_op.f("ix_custom_request_buyer_org_id"))

    op.drop_table("custom_request")
    with op.batch_alter_table("custom_transition", schema=None) as batch_op:
        batch_op.drop_index("ix_custom_transition_subject")

    op.drop_table("custom_transition")
