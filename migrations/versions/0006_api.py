"""api: API keys, OAuth clients and tokens, idempotency records, API jobs

Revision ID: 0006_api
Revises: 0005_orders
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision: str = "0006_api"
down_revision: str | None = "0005_orders"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "idempotency_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("principal", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.Column("response_headers", sa.JSON(), nullable=False),
        sa.Column("created_at", marketplace.db.UTCDateTime(), nullable=False),
        sa.Column("expires_at", marketplace.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_record")),
        sa.UniqueConstraint("principal", "key", name=op.f("uq_idempotency_record_principal_key")),
    )
    with op.batch_alter_table("idempotency_record", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_idempotency_record_expires_at"), ["expires_at"], unique=False)

    op.create_table(
        "api_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column(
            "status",
            sa.Enum("queued", "running", "succeeded", "failed", name="jobstatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("api_key_id", sa.Integer(), nullable=True),
        sa.Column("oauth_client_id", sa.Integer(), nullable=True),
        sa.Column("input", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.String(length=2000), nullable=False),
        sa.Column("created_at", marketplace.db.UTCDateTime(), nullable=False),
        sa.Column("started_at", marketplace.db.UTCDateTime(), nullable=True),
        sa.Column("finished_at", marketplace.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_api_job_created_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_api_job_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_job")),
    )
    with op.batch_alter_table("api_job", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_job_organisation_id"), ["organisation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_api_job_status"), ["status"], unique=False)

    op.create_table(
        "api_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("environment", sa.String(length=8), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("key_prefix", sa.String(length=24), nullable=False),
        sa.Column("key_last4", sa.String(length=4), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("scopes", sa.String(length=255), nullable=False),
        sa.Column("created_at", marketplace.db.UTCDateTime(), nullable=False),
        sa.Column("expires_at", marketplace.db.UTCDateTime(), nullable=True),
        sa.Column("revoked_at", marketplace.db.UTCDateTime(), nullable=True),
        sa.Column("revoked_by_id", sa.Integer(), nullable=True),
        sa.Column("last_used_at", marketplace.db.UTCDateTime(), nullable=True),
        sa.Column("last_used_ip", sa.String(length=64), nullable=False),
        sa.CheckConstraint("(user_id IS NULL) <> (organisation_id IS NULL)", name=op.f("ck_api_key_one_owner")),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_api_key_created_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_api_key_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by_id"],
            ["user_account.id"],
            name=op.f("fk_api_key_revoked_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_api_key_user_id_user_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_key")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_key_key_hash")),
    )
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_key_organisation_id"), ["organisation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_api_key_user_id"), ["user_id"], unique=False)

    op.create_table(
        "oauth_client",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("secret_last4", sa.String(length=4), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("environment", sa.String(length=8), nullable=False),
        sa.Column("scopes", sa.String(length=255), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", marketplace.db.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", marketplace.db.UTCDateTime(), nullable=True),
        sa.Column("last_used_at", marketplace.db.UTCDateTime(), nullable=True),
        sa.Column("last_used_ip", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_oauth_client_created_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_oauth_client_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_client")),
        sa.UniqueConstraint("client_id", name=op.f("uq_oauth_client_client_id")),
    )
    with op.batch_alter_table("oauth_client", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oauth_client_organisation_id"), ["organisation_id"], unique=False)

    op.create_table(
        "oauth_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.String(length=255), nullable=False),
        sa.Column("issued_at", marketplace.db.UTCDateTime(), nullable=False),
        sa.Column("expires_at", marketplace.db.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", marketplace.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"], ["oauth_client.id"], name=op.f("fk_oauth_token_client_id_oauth_client"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_oauth_token_token_hash")),
    )
    with op.batch_alter_table("oauth_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oauth_token_client_id"), ["client_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_oauth_token_expires_at"), ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("oauth_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oauth_token_expires_at"))
        batch_op.drop_index(batch_op.f("ix_oauth_token_client_id"))

    op.drop_table("oauth_token")
    with op.batch_alter_table("oauth_client", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oauth_client_organisation_id"))

    op.drop_table("oauth_client")
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_key_user_id"))
        batch_op.drop_index(batch_op.f("ix_api_key_organisation_id"))

    op.drop_table("api_key")
    with op.batch_alter_table("api_job", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_job_status"))
        batch_op.drop_index(batch_op.f("ix_api_job_organisation_id"))

    op.drop_table("api_job")
    with op.batch_alter_table("idempotency_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idempotency_record_expires_at"))

    op.drop_table("idempotency_record")
