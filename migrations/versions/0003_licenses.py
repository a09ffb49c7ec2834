"""licenses

Revision ID: 0003_licenses
Revises: 0002_catalog
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision: str = "0003_licenses"
down_revision: str | None = "0002_catalog"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "offer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("license_id", sa.String(length=120), nullable=False),
        sa.Column("license_family", sa.String(length=40), nullable=False),
        sa.Column("overrides", sa.JSON(), nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.Column("terms_hash", sa.String(length=64), nullable=False),
        sa.Column("training_permitted", sa.Boolean(), nullable=False),
        sa.Column("price_amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("version_label", sa.String(length=64), nullable=True),
        sa.Column("audience_org_id", sa.Integer(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", marketplace.db.UTCDateTime(), nullable=False),
        sa.Column("retired_at", marketplace.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["audience_org_id"], ["organisation.id"], name=op.f("fk_offer_audience_org_id_organisation")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_offer_created_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["dataset.id"], name=op.f("fk_offer_dataset_id_dataset"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"], name=op.f("fk_offer_organisation_id_organisation")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offer")),
    )
    with op.batch_alter_table("offer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_offer_audience_org_id"), ["audience_org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_offer_dataset_id"), ["dataset_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_offer_is_active"), ["is_active"], unique=False)
        batch_op.create_index(batch_op.f("ix_offer_license_family"), ["license_family"], unique=False)
        batch_op.create_index(batch_op.f("ix_offer_organisation_id"), ["organisation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_offer_training_permitted"), ["training_permitted"], unique=False)

    op.create_table(
        "license_grant",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("licensor_org_id", sa.Integer(), nullable=False),
        sa.Column("licensee_org_id", sa.Integer(), nullable=False),
        sa.Column("acquired_by_id", sa.Integer(), nullable=True),
        sa.Column("license_id", sa.String(length=120), nullable=False),
        sa.Column("versions", sa.JSON(), nullable=False),
        sa.Column("all_versions", sa.Boolean(), nullable=False),
        sa.Column("manifest_digest", sa.String(length=80), nullable=False),
        sa.Column("terms_hash", sa.String(length=64), nullable=False),
        sa.Column("price_amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("payment_reference", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("issued_at", marketplace.db.UTCDateTime(), nullable=False),
        sa.Column("valid_from", marketplace.db.UTCDateTime(), nullable=False),
        sa.Column("valid_until", marketplace.db.UTCDateTime(), nullable=True),
        sa.Column("certificate", sa.Text(), nullable=True),
        sa.Column("certificate_kid", sa.String(length=64), nullable=True),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("updated_at", marketplace.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["acquired_by_id"],
            ["user_account.id"],
            name=op.f("fk_license_grant_acquired_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(["dataset_id"], ["dataset.id"], name=op.f("fk_license_grant_dataset_id_dataset")),
        sa.ForeignKeyConstraint(
            ["licensee_org_id"], ["organisation.id"], name=op.f("fk_license_grant_licensee_org_id_organisation")
        ),
        sa.ForeignKeyConstraint(
            ["licensor_org_id"], ["organisation.id"], name=op.f("fk_license_grant_licensor_org_id_organisation")
        ),
        sa.ForeignKeyConstraint(["offer_id"], ["offer.id"], name=op.f("fk_license_grant_offer_id_offer")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_license_grant")),
    )
    with op.batch_alter_table("license_grant", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_license_grant_dataset_id"), ["dataset_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_license_grant_licensee_org_id"), ["licensee_org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_license_grant_licensor_org_id"), ["licensor_org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_license_grant_offer_id"), ["offer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_license_grant_status"), ["status"], unique=False)

    op.create_table(
        "license_grant_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grant_id", sa.String(length=26), nullable=False),
        sa.Column("at", marketplace.db.UTCDateTime(), nullable=False),
        sa.Column("from_status", sa.String(length=32), nullable=True),
        sa.Column("to_status", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["grant_id"], ["license_grant.id"], name=op.f("fk_license_grant_event_grant_id_license_grant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_license_grant_event")),
    )
    with op.batch_alter_table("license_grant_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_license_grant_event_grant_id"), ["grant_id"], unique=False)

    op.create_table(
        "terms_acceptance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("terms_hash", sa.String(length=64), nullable=False),
        sa.Column("accepted_at", marketplace.db.UTCDateTime(), nullable=False),
        sa.Column("ip_address", sa.String(length=64), nullable=False),
        sa.Column("grant_id", sa.String(length=26), nullable=True),
        sa.ForeignKeyConstraint(
            ["grant_id"], ["license_grant.id"], name=op.f("fk_terms_acceptance_grant_id_license_grant")
        ),
        sa.ForeignKeyConstraint(["offer_id"], ["offer.id"], name=op.f("fk_terms_acceptance_offer_id_offer")),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"], name=op.f("fk_terms_acceptance_organisation_id_organisation")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_terms_acceptance_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_terms_acceptance")),
    )
    with op.batch_alter_table("terms_acceptance", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_terms_acceptance_offer_id"), ["offer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_terms_acceptance_organisation_id"), ["organisation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_terms_acceptance_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("terms_acceptance", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_terms_acceptance_user_id"))
        batch_op.drop_index(batch_op.f("ix_terms_acceptance_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_terms_acceptance_offer_id"))

    op.drop_table("terms_acceptance")
    with op.batch_alter_table("license_grant_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_license_grant_event_grant_id"))

    op.drop_table("license_grant_event")
    with op.batch_alter_table("license_grant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_license_grant_status"))
        batch_op.drop_index(batch_op.f("ix_license_grant_offer_id"))
        batch_op.drop_index(batch_op.f("ix_license_grant_licensor_org_id"))
        batch_op.drop_index(batch_op.f("ix_license_grant_licensee_org_id"))
        batch_op.drop_index(batch_op.f("ix_license_grant_dataset_id"))

    op.drop_table("license_grant")
    with op.batch_alter_table("offer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_offer_training_permitted"))
        batch_op.drop_index(batch_op.f("ix_offer_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_offer_license_family"))
        batch_op.drop_index(batch_op.f("ix_offer_is_active"))
        batch_op.drop_index(batch_op.f("ix_offer_dataset_id"))
        batch_op.drop_index(batch_op.f("ix_offer_audience_org_id"))

    op.drop_table("offer")
