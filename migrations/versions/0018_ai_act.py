"""ai act: the sign-off of a published version's EU AI Act Article 10 documentation, with its frozen content

Revision ID: 0018_ai_act
Revises: 0017_croissant
Create Date: 2026-11-30

One row per signed-off version (unique ``version_id``): who signed (account and typed name), when, and the pack
content as it stood, with its SHA-256. The new fields of the AI Act record (original purpose, how gaps are
addressed, the distribution across groups) live in the existing ``dataset.ai_act`` JSON document: no column.
Downgrading drops the table, and with it every sign-off.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision: str = "0018_ai_act"
down_revision: str | None = "0017_croissant"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ai_act_sign_off",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "draft",
                "signed_off",
                name="documentationstate",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("signed_by_id", sa.Integer(), nullable=True),
        sa.Column("signer_name", sa.String(length=200), nullable=False),
        sa.Column("signer_role", sa.String(length=200), nullable=False),
        sa.Column("signed_at", marketplace.db.UTCDateTime(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("content_digest", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["dataset.id"], name=op.f("fk_ai_act_sign_off_dataset_id_dataset"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["signed_by_id"],
            ["user_account.id"],
            name=op.f("fk_ai_act_sign_off_signed_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["dataset_version.id"],
            name=op.f("fk_ai_act_sign_off_version_id_dataset_version"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_act_sign_off")),
        sa.UniqueConstraint("version_id", name=op.f("uq_ai_act_sign_off_version_id")),
    )
    with op.batch_alter_table("ai_act_sign_off", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ai_act_sign_off_dataset_id"), ["dataset_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ai_act_sign_off", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ai_act_sign_off_dataset_id"))
    op.drop_table("ai_act_sign_off")
