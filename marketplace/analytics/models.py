"""Views of listings and offers, one row per visitor and time window.

A row is inserted with "on conflict do nothing" against the unique ``(target, visitor, slot)`` key: one statement
per page view, and reloads by the same visitor within one window (``slot``) count once. ``visitor`` is a keyed hash
that changes every day (see :mod:`marketplace.analytics.recording`), so no row can follow a person across days.
The report counts rows per ``day`` through the ``(dataset_id, day)`` index.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


class ListingView(SQLModel, table=True):
    """A visitor opened a dataset's public page (once per window)."""

    __tablename__ = "listing_view"
    __table_args__ = (
        sa.UniqueConstraint("dataset_id", "visitor", "slot"),
        sa.Index("ix_listing_view_dataset_id_day", "dataset_id", "day"),
    )

    id: int | None = Field(default=None, primary_key=True)
    dataset_id: int = Field(foreign_key="dataset.id", ondelete="CASCADE")
    day: date
    slot: int
    visitor: str = Field(max_length=32)


class OfferView(SQLModel, table=True):
    """A visitor opened an offer's terms (once per window); ``dataset_id`` is the offer's, copied for the report."""

    __tablename__ = "offer_view"
    __table_args__ = (
        sa.UniqueConstraint("offer_id", "visitor", "slot"),
        sa.Index("ix_offer_view_dataset_id_day", "dataset_id", "day"),
    )

    id: int | None = Field(default=None, primary_key=True)
    offer_id: int = Field(foreign_key="offer.id", ondelete="CASCADE")
    dataset_id: int = Field(foreign_key="dataset.id", ondelete="CASCADE")
    day: date
    slot: int
    visitor: str = Field(max_length=32)
