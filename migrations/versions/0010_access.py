"""access: governed access to datasets (access mode, policies, agreements, requests, approvals, credentials)

Revision ID: 0010_access
Revises: 0009_state_enums
Create Date: 2026-11-30

Every existing dataset becomes ``open`` (the behaviour it had). The ``dataset`` column is added and dropped with
plain ALTER TABLE on both dialects: a batch rebuild of ``dataset`` on SQLite would drop the full-text triggers.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision: str = "0010_access"
down_revision: str | None = "0009_state_enums"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "access_credential",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("issuer", sa.String(length=200), nullable=False),
        sa.Column("course", sa.String(length=300), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("media_type", sa.String(length=255), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=1024), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "submitted", "verified", "refused", "expired", name="credentialstate", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", marketplace.db.UTCDateTime(), nullable=True),
        sa.Column("decision_reason", sa.String(length=1000), nullable=False),
        sa.Column("submitted_at", marketplace.db.UTCDateTime(), nullable=False),
        sa.Column("expiry_notice_at", marketplace.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["user_account.id"],
            name=op.f("fk_access_credential_decided_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_access_credential_user_id_user_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_credential")),
    )
    with op.batch_alter_table("access_credential", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_access_credential_user_id"), ["user_id"], unique=False)

    op.create_table(
        "access_agreement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column(
            "resign_policy",
            sa.Enum("immediately", "at_renewal", name="resignpolicy", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", marketplace.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_access_agreement_created_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_access_agreement_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_agreement")),
    )
    with op.batch_alter_table("access_agreement", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_access_agreement_organisation_id"), ["organisation_id"], unique=False)

    op.create_table(
        "access_agreement_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("term_days", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", marketplace.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["access_agreement.id"],
            name=op.f("fk_access_agreement_version_agreement_id_access_agreement"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_access_agreement_version_created_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_agreement_version")),
        sa.UniqueConstraint("agreement_id", "version", name=op.f("uq_access_agreement_version_agreement_id_version")),
    )
    with op.batch_alter_table("access_agreement_version", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_access_agreement_version_agreement_id"), ["agreement_id"], unique=False)

    op.create_table(
        "access_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", marketplace.db.UTCDateTime(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=20), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_state", sa.String(length=32), nullable=True),
        sa.Column("to_state", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=True),
        sa.Column("provider_org_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["user_account.id"], name=op.f("fk_access_event_actor_id_user_account"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["dataset.id"], name=op.f("fk_access_event_dataset_id_dataset"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["user_account.id"], name=op.f("fk_access_event_person_id_user_account"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["provider_org_id"],
            ["organisation.id"],
            name=op.f("fk_access_event_provider_org_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_event")),
    )
    with op.batch_alter_table("access_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_access_event_dataset_id"), ["dataset_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_access_event_person_id"), ["person_id"], unique=False)
        batch_op.create_index("ix_access_event_provider_at", ["provider_org_id", "at"], unique=False)

    op.create_table(
        "access_policy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column(
            "holder", sa.Enum("person", "organisation", name="holderkind", native_enum=False, length=32), nullable=False
        ),
        sa.Column("samples_public", sa.Boolean(), nullable=False),
        sa.Column("default_expiry_days", sa.Integer(), nullable=True),
        sa.Column("agreement_id", sa.Integer(), nullable=True),
        sa.Column("form_fields", sa.JSON(), nullable=False),
        sa.Column("updated_at", marketplace.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["access_agreement.id"],
            name=op.f("fk_access_policy_agreement_id_access_agreement"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["dataset.id"], name=op.f("fk_access_policy_dataset_id_dataset"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_policy")),
        sa.UniqueConstraint("dataset_id", name=op.f("uq_access_policy_dataset_id")),
    )
    op.create_table(
        "access_reviewer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("membership_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("verifies_credentials", sa.Boolean(), nullable=False),
        sa.Column(
            "notice",
            sa.Enum("realtime", "daily_digest", name="reviewernotice", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("created_at", marketplace.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["membership_id"],
            ["membership.id"],
            name=op.f("fk_access_reviewer_membership_id_membership"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_access_reviewer_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_access_reviewer_user_id_user_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_reviewer")),
        sa.UniqueConstraint("membership_id", name=op.f("uq_access_reviewer_membership_id")),
    )
    with op.batch_alter_table("access_reviewer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_access_reviewer_organisation_id"), ["organisation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_access_reviewer_user_id"), ["user_id"], unique=False)

    op.create_table(
        "access_signature",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agreement_version_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("signed_at", marketplace.db.UTCDateTime(), nullable=False),
        sa.Column("ip_address", sa.String(length=64), nullable=False),
        sa.Column("user_agent", sa.String(length=512), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_version_id"],
            ["access_agreement_version.id"],
            name=op.f("fk_access_signature_agreement_version_id_access_agreement_version"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_access_signature_user_id_user_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_signature")),
    )
    with op.batch_alter_table("access_signature", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_access_signature_agreement_version_id"), ["agreement_version_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_access_signature_user_id"), ["user_id"], unique=False)

    op.create_table(
        "access_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("provider_org_id", sa.Integer(), nullable=False),
        sa.Column("requester_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("intended_uses", sa.JSON(), nullable=False),
        sa.Column("intended_use_text", sa.String(length=4000), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "submitted", "approved", "rejected", "withdrawn", name="requeststate", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("agreement_version_id", sa.Integer(), nullable=True),
        sa.Column("signature_id", sa.Integer(), nullable=True),
        sa.Column("decision_reason", sa.String(length=1000), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", marketplace.db.UTCDateTime(), nullable=True),
        sa.Column("submitted_at", marketplace.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_version_id"],
            ["access_agreement_version.id"],
            name=op.f("fk_access_request_agreement_version_id_access_agreement_version"),
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["dataset.id"], name=op.f("fk_access_request_dataset_id_dataset"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["user_account.id"],
            name=op.f("fk_access_request_decided_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"], name=op.f("fk_access_request_organisation_id_organisation")
        ),
        sa.ForeignKeyConstraint(
            ["provider_org_id"], ["organisation.id"], name=op.f("fk_access_request_provider_org_id_organisation")
        ),
        sa.ForeignKeyConstraint(
            ["requester_id"],
            ["user_account.id"],
            name=op.f("fk_access_request_requester_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["signature_id"], ["access_signature.id"], name=op.f("fk_access_request_signature_id_access_signature")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_request")),
    )
    with op.batch_alter_table("access_request", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_access_request_dataset_id"), ["dataset_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_access_request_organisation_id"), ["organisation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_access_request_provider_org_id"), ["provider_org_id"], unique=False)
        batch_op.create_index(
            "ix_access_request_provider_state", ["provider_org_id", "state", "submitted_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_access_request_requester_id"), ["requester_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_access_request_state"), ["state"], unique=False)

    op.create_table(
        "access_approval",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("provider_org_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column(
            "holder", sa.Enum("person", "organisation", name="holderkind", native_enum=False, length=32), nullable=False
        ),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum("active", "expired", "reset", "revoked", name="approvalstate", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("signature_id", sa.Integer(), nullable=True),
        sa.Column("granted_by_id", sa.Integer(), nullable=True),
        sa.Column("granted_at", marketplace.db.UTCDateTime(), nullable=False),
        sa.Column("expires_at", marketplace.db.UTCDateTime(), nullable=True),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("ended_at", marketplace.db.UTCDateTime(), nullable=True),
        sa.Column("expiry_notice_at", marketplace.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["dataset.id"], name=op.f("fk_access_approval_dataset_id_dataset"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["granted_by_id"],
            ["user_account.id"],
            name=op.f("fk_access_approval_granted_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"], name=op.f("fk_access_approval_organisation_id_organisation")
        ),
        sa.ForeignKeyConstraint(
            ["provider_org_id"], ["organisation.id"], name=op.f("fk_access_approval_provider_org_id_organisation")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["access_request.id"],
            name=op.f("fk_access_approval_request_id_access_request"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["signature_id"], ["access_signature.id"], name=op.f("fk_access_approval_signature_id_access_signature")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_access_approval_user_id_user_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_approval")),
        sa.UniqueConstraint("request_id", name=op.f("uq_access_approval_request_id")),
    )
    with op.batch_alter_table("access_approval", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_access_approval_dataset_id"), ["dataset_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_access_approval_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_access_approval_organisation_id"), ["organisation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_access_approval_provider_org_id"), ["provider_org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_access_approval_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_access_approval_user_id"), ["user_id"], unique=False)

    op.create_table(
        "access_seat",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("approval_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.Column("added_at", marketplace.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["added_by_id"],
            ["user_account.id"],
            name=op.f("fk_access_seat_added_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["approval_id"],
            ["access_approval.id"],
            name=op.f("fk_access_seat_approval_id_access_approval"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_access_seat_user_id_user_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_seat")),
        sa.UniqueConstraint("approval_id", "user_id", name=op.f("uq_access_seat_approval_id_user_id")),
    )
    with op.batch_alter_table("access_seat", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_access_seat_approval_id"), ["approval_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_access_seat_user_id"), ["user_id"], unique=False)

    op.add_column(
        "dataset",
        sa.Column(
            "access_mode",
            sa.Enum(
                "open", "gated_auto", "gated_manual", "credentialed", name="accessmode", native_enum=False, length=32
            ),
            nullable=False,
            server_default="open",
        ),
    )
    op.create_index(op.f("ix_dataset_access_mode"), "dataset", ["access_mode"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_dataset_access_mode"), table_name="dataset")
    op.drop_column("dataset", "access_mode")  # SQLite 3.35+ drops a column in place, keeping the triggers

    with op.batch_alter_table("access_seat", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_seat_user_id"))
        batch_op.drop_index(batch_op.f("ix_access_seat_approval_id"))

    op.drop_table("access_seat")
    with op.batch_alter_table("access_approval", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_approval_user_id"))
        batch_op.drop_index(batch_op.f("ix_access_approval_state"))
        batch_op.drop_index(batch_op.f("ix_access_approval_provider_org_id"))
        batch_op.drop_index(batch_op.f("ix_access_approval_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_access_approval_expires_at"))
        batch_op.drop_index(batch_op.f("ix_access_approval_dataset_id"))

    op.drop_table("access_approval")
    with op.batch_alter_table("access_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_request_state"))
        batch_op.drop_index(batch_op.f("ix_access_request_requester_id"))
        batch_op.drop_index("ix_access_request_provider_state")
        batch_op.drop_index(batch_op.f("ix_access_request_provider_org_id"))
        batch_op.drop_index(batch_op.f("ix_access_request_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_access_request_dataset_id"))

    op.drop_table("access_request")
    with op.batch_alter_table("access_signature", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_signature_user_id"))
        batch_op.drop_index(batch_op.f("ix_access_signature_agreement_version_id"))

    op.drop_table("access_signature")
    with op.batch_alter_table("access_reviewer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_reviewer_user_id"))
        batch_op.drop_index(batch_op.f("ix_access_reviewer_organisation_id"))

    op.drop_table("access_reviewer")
    op.drop_table("access_policy")
    with op.batch_alter_table("access_event", schema=None) as batch_op:
        batch_op.drop_index("ix_access_event_provider_at")
        batch_op.drop_index(batch_op.f("ix_access_event_person_id"))
        batch_op.drop_index(batch_op.f("ix_access_event_dataset_id"))

    op.drop_table("access_event")
    with op.batch_alter_table("access_agreement_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_agreement_version_agreement_id"))

    op.drop_table("access_agreement_version")
    with op.batch_alter_table("access_agreement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_agreement_organisation_id"))

    op.drop_table("access_agreement")
    with op.batch_alter_table("access_credential", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_credential_user_id"))

    op.drop_table("access_credential")
