"""The viewer's cached statistics: computed once per version file or sample by a background job.

A :class:`ViewerStatistics` row belongs to exactly one published version's file or one sample (both immutable:
a published version never changes, and a changed sample is a new sample), so a row never goes stale. Its state
moves PENDING → READY or PENDING → FAILED (:mod:`marketplace.viewer.states`); the page shows "being computed"
while it is pending.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from marketplace.db import enum_column, utc_column, utcnow


class StatisticsState(enum.StrEnum):
    """Where a file's statistics stand: asked for, computed, or impossible (with the reason)."""

    PENDING = "pending"
    READY = "ready"
    FAILED = "failed"


class ViewerStatistics(SQLModel, table=True):
    """The statistics of one version file (``file_id``) or one sample (``sample_id``): exactly one is set."""

    __tablename__ = "viewer_statistics"
    __table_args__ = (
        sa.CheckConstraint("(file_id IS NULL) <> (sample_id IS NULL)", name="ck_viewer_statistics_one_target"),
    )

    id: int | None = Field(default=None, primary_key=True)
    file_id: int | None = Field(
        default=None, foreign_key="dataset_file.id", ondelete="CASCADE", sa_column_kwargs={"unique": True}
    )
    sample_id: int | None = Field(
        default=None, foreign_key="sample_file.id", ondelete="CASCADE", sa_column_kwargs={"unique": True}
    )
    state: StatisticsState = Field(default=StatisticsState.PENDING, sa_column=enum_column(StatisticsState))
    # engine.Statistics.to_dict(): the row count and each column's nulls, distinct values, min/max and histogram.
    statistics: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(sa.JSON(), nullable=False))
    error: str = Field(default="", max_length=1000)
    requested_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    computed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
