"""notifications: notices in the site, each person's preferences per kind, and notices given once only

Revision ID: 0027_notifications
Revises: 0025_data_viewer
Create Date: 2026-11-30

New tables ``notification`` (one notice for one person; the bell counts a person's unread ones through the index
``(recipient_id, read_at, id)``), ``notification_preference`` (in the site / by mail, per person and kind) and
``notification_once`` (the keys of notices that must go once only, e.g. a license's 14-day notice).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision: str = "0027_notifications"
down_revision: str | None = "0025_data_viewer"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The values as of this revision (copied, not imported: a migration must not change when the code does).
KINDS = (
    "listing_review",
    "listing_decision",
    "sale",
    "order",
    "access_request",
    "access_decision",
    "custom_request",
    "quote",
    "contract",
    "withdrawal",
    "license_expiring",
)


def _kind() -> sa.Enum:
    return sa.Enum(*KINDS, name="notificationkind", native_enum=False, create_constraint=True, length=32)


def _utc(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, marketplace.db.UTCDateTime(), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("kind", _kind(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=False),
        _utc("created_at"),
        _utc("read_at", True),
        sa.ForeignKeyConstraint(["recipient_id"], ["user_account.id"], name=op.f("fk_notification_recipient_id_user_account"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
    )  # fmt: skip
    op.create_index("ix_notification_recipient_read", "notification", ["recipient_id", "read_at", "id"])
    op.create_table(
        "notification_preference",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", _kind(), nullable=False),
        sa.Column("in_site", sa.Boolean(), nullable=False),
        sa.Column("by_mail", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], name=op.f("fk_notification_preference_user_id_user_account"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_preference")),
        sa.UniqueConstraint("user_id", "kind", name=op.f("uq_notification_preference_user_id_kind")),
    )  # fmt: skip
    op.create_index(op.f("ix_notification_preference_user_id"), "notification_preference", ["user_id"])
    op.create_table(
        "notification_once",
        sa.Column("key", sa.String(length=200), nullable=False),
        _utc("created_at"),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_notification_once")),
    )


def downgrade() -> None:
    op.drop_table("notification_once")
    op.drop_index(op.f("ix_notification_preference_user_id"), table_name="notification_preference")
    op.drop_table("notification_preference")
    op.drop_index("ix_notification_recipient_read", table_name="notification")
    op.drop_table("notification")
