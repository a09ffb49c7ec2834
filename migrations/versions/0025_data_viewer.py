"""data viewer: cached per-file statistics, views of licensed files, and the statistics job

Revision ID: 0025_data_viewer
Revises: 0024_title_trigrams
Create Date: 2026-11-30

New tables ``viewer_statistics`` (the statistics of one version file or one sample, computed once by a job) and
``view_event`` (each look at a licensed file through the viewer: the delivery audit's views, apart from its
downloads); the job kind ``viewer_stats`` joins the CHECK constraints of ``background_job.kind`` and
``job_schedule.kind`` (the downgrade removes its rows first).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision: str = "0025_data_viewer"
down_revision: str | None = "0024_title_trigrams"
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
    "withdrawal_sweep",
)
NEW_KIND = "viewer_stats"
STATES = ("pending", "ready", "failed")
VIEW_KINDS = ("rows", "search", "statistics", "media")


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
        "viewer_statistics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=True),
        sa.Column("sample_id", sa.Integer(), nullable=True),
        sa.Column("state", _enum(STATES, "statisticsstate"), nullable=False),
        sa.Column("statistics", sa.JSON(), nullable=False),
        sa.Column("error", sa.String(length=1000), nullable=False),
        _utc("requested_at"),
        _utc("computed_at", True),
        sa.CheckConstraint("(file_id IS NULL) <> (sample_id IS NULL)", name="ck_viewer_statistics_one_target"),
        sa.ForeignKeyConstraint(["file_id"], ["dataset_file.id"], name=op.f("fk_viewer_statistics_file_id_dataset_file"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["sample_id"], ["sample_file.id"], name=op.f("fk_viewer_statistics_sample_id_sample_file"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_viewer_statistics")),
        sa.UniqueConstraint("file_id", name=op.f("uq_viewer_statistics_file_id")),
        sa.UniqueConstraint("sample_id", name=op.f("uq_viewer_statistics_sample_id")),
    )  # fmt: skip
    op.create_table(
        "view_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grant_id", sa.String(length=26), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("licensee_org_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("api_key_id", sa.Integer(), nullable=True),
        sa.Column("what", _enum(VIEW_KINDS, "viewkind"), nullable=False),
        sa.Column("ip_address", sa.String(length=64), nullable=False),
        sa.Column("user_agent", sa.String(length=512), nullable=False),
        _utc("viewed_at"),
        sa.ForeignKeyConstraint(["grant_id"], ["license_grant.id"], name=op.f("fk_view_event_grant_id_license_grant")),
        sa.ForeignKeyConstraint(["file_id"], ["dataset_file.id"], name=op.f("fk_view_event_file_id_dataset_file")),
        sa.ForeignKeyConstraint(["dataset_id"], ["dataset.id"], name=op.f("fk_view_event_dataset_id_dataset")),
        sa.ForeignKeyConstraint(["licensee_org_id"], ["organisation.id"], name=op.f("fk_view_event_licensee_org_id_organisation")),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], name=op.f("fk_view_event_user_id_user_account"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_view_event")),
    )  # fmt: skip
    op.create_index(op.f("ix_view_event_grant_id"), "view_event", ["grant_id"])
    op.create_index(op.f("ix_view_event_file_id"), "view_event", ["file_id"])
    op.create_index(op.f("ix_view_event_licensee_org_id"), "view_event", ["licensee_org_id"])
    op.create_index(op.f("ix_view_event_user_id"), "view_event", ["user_id"])
    op.create_index("ix_view_event_dataset_id_viewed_at", "view_event", ["dataset_id", "viewed_at"])
    _job_kinds(JOB_KINDS, (*JOB_KINDS, NEW_KIND))


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM background_job WHERE kind = :kind").bindparams(kind=NEW_KIND))
    op.execute(sa.text("DELETE FROM job_schedule WHERE kind = :kind").bindparams(kind=NEW_KIND))
    _job_kinds((*JOB_KINDS, NEW_KIND), JOB_KINDS)
    op.drop_table("view_event")
    op.drop_table("viewer_statistics")
