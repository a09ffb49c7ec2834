"""withdrawals: files or records withdrawn from a published version, and each licensee's notice

Revision ID: 0019_withdrawals
Revises: 0018_ai_act
Create Date: 2026-11-30

New tables ``withdrawal`` and ``withdrawal_notice``; the job kind ``withdrawal_sweep`` joins the CHECK constraints
of ``background_job.kind`` and ``job_schedule.kind`` (the downgrade removes its rows first).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision: str = "0019_withdrawals"
down_revision: str | None = "0018_ai_act"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The values as of this revision (copied, not imported: a migration must not change when the code does).
JOB_KINDS = (
    "send_mail",
    "catalog_import",
    "webhook_delivery",
    "grant_expiry",
    "access_sweep",
    "access_digest",
    "custom_sweep",
    "payments_reconcile",
    "purge_expired",
    "verify_upload",
)
NEW_KIND = "withdrawal_sweep"
REASONS = ("consent_withdrawn", "legal_takedown", "error")
WITHDRAWAL_STATES = ("filed", "patched_version_published", "licensees_notified")
NOTICE_STATES = ("notified", "confirmed", "overdue")


def _enum(values: tuple[str, ...], name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def _utc(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, marketplace.db.UTCDateTime(), nullable=nullable)


def _job_kinds(old: tuple[str, ...], new: tuple[str, ...]) -> None:
    with op.batch_alter_table("background_job") as batch_op:
        batch_op.alter_column(
            "kind", existing_type=_enum(old, "jobkind"), type_=_enum(new, "jobkind"), existing_nullable=False
        )
    with op.batch_alter_table("job_schedule") as batch_op:
        batch_op.alter_column(
            "kind",
            existing_type=_enum(old, "schedule_kind"),
            type_=_enum(new, "schedule_kind"),
            existing_nullable=False,
        )


def upgrade() -> None:
    op.create_table(
        "withdrawal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("version_label", sa.String(length=64), nullable=False),
        sa.Column("patched_version_id", sa.Integer(), nullable=True),
        sa.Column("reason", _enum(REASONS, "withdrawalreason"), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("record_ids", sa.JSON(), nullable=False),
        sa.Column("deletion_days", sa.Integer(), nullable=False),
        sa.Column("state", _enum(WITHDRAWAL_STATES, "withdrawalstate"), nullable=False),
        sa.Column("filed_by_id", sa.Integer(), nullable=True),
        _utc("filed_at"),
        _utc("patch_published_at", True),
        _utc("notified_at", True),
        _utc("deadline_at", True),
        sa.ForeignKeyConstraint(["dataset_id"], ["dataset.id"], name=op.f("fk_withdrawal_dataset_id_dataset"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], name=op.f("fk_withdrawal_organisation_id_organisation")),
        sa.ForeignKeyConstraint(["version_id"], ["dataset_version.id"], name=op.f("fk_withdrawal_version_id_dataset_version")),
        sa.ForeignKeyConstraint(["patched_version_id"], ["dataset_version.id"], name=op.f("fk_withdrawal_patched_version_id_dataset_version"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["filed_by_id"], ["user_account.id"], name=op.f("fk_withdrawal_filed_by_id_user_account"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_withdrawal")),
        sa.UniqueConstraint("version_id", name=op.f("uq_withdrawal_version_id")),
    )  # fmt: skip
    op.create_index(op.f("ix_withdrawal_dataset_id"), "withdrawal", ["dataset_id"])
    op.create_index(op.f("ix_withdrawal_organisation_id"), "withdrawal", ["organisation_id"])
    op.create_index(op.f("ix_withdrawal_state"), "withdrawal", ["state"])
    op.create_table(
        "withdrawal_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("withdrawal_id", sa.Integer(), nullable=False),
        sa.Column("licensee_org_id", sa.Integer(), nullable=False),
        sa.Column("provider_org_id", sa.Integer(), nullable=False),
        sa.Column("grant_ids", sa.JSON(), nullable=False),
        sa.Column("state", _enum(NOTICE_STATES, "noticestate"), nullable=False),
        _utc("notified_at"),
        _utc("deadline_at"),
        sa.Column("reminders_sent", sa.Integer(), nullable=False),
        _utc("last_reminder_at", True),
        _utc("overdue_at", True),
        _utc("confirmed_at", True),
        sa.Column("confirmed_by_id", sa.Integer(), nullable=True),
        sa.Column("signer_name", sa.String(length=200), nullable=False),
        sa.Column("signer_role", sa.String(length=200), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("deleted_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["withdrawal_id"], ["withdrawal.id"], name=op.f("fk_withdrawal_notice_withdrawal_id_withdrawal"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["licensee_org_id"], ["organisation.id"], name=op.f("fk_withdrawal_notice_licensee_org_id_organisation")),
        sa.ForeignKeyConstraint(["provider_org_id"], ["organisation.id"], name=op.f("fk_withdrawal_notice_provider_org_id_organisation")),
        sa.ForeignKeyConstraint(["confirmed_by_id"], ["user_account.id"], name=op.f("fk_withdrawal_notice_confirmed_by_id_user_account"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_withdrawal_notice")),
        sa.UniqueConstraint("withdrawal_id", "licensee_org_id", name=op.f("uq_withdrawal_notice_withdrawal_id_licensee_org_id")),
    )  # fmt: skip
    op.create_index(op.f("ix_withdrawal_notice_withdrawal_id"), "withdrawal_notice", ["withdrawal_id"])
    op.create_index(op.f("ix_withdrawal_notice_licensee_org_id"), "withdrawal_notice", ["licensee_org_id"])
    op.create_index(op.f("ix_withdrawal_notice_provider_org_id"), "withdrawal_notice", ["provider_org_id"])
    op.create_index(op.f("ix_withdrawal_notice_state"), "withdrawal_notice", ["state"])
    op.create_index(op.f("ix_withdrawal_notice_deadline_at"), "withdrawal_notice", ["deadline_at"])
    _job_kinds(JOB_KINDS, (*JOB_KINDS, NEW_KIND))


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM background_job WHERE kind = :kind").bindparams(kind=NEW_KIND))
    op.execute(sa.text("DELETE FROM job_schedule WHERE kind = :kind").bindparams(kind=NEW_KIND))
    _job_kinds((*JOB_KINDS, NEW_KIND), JOB_KINDS)
    op.drop_table("withdrawal_notice")
    op.drop_table("withdrawal")
