"""custom listings and private offers: a custom-collection service's structured fields, and an offer's expiry

Revision ID: 0011_custom_listings
Revises: 0010_access
Create Date: 2026-12-01

A listing of offering type ``custom`` describes a service rather than files: its typical lead time, its price
range (integer minor units and a currency) and whether it writes the EU AI Act documentation; the modalities it
collects and the de-identification methods it offers are new ``dataset_term`` schemes (a VARCHAR column without a
CHECK constraint, so no change to that table). A private offer for one buyer organisation now has an expiry.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision: str = "0011_custom_listings"
down_revision: str | None = "0010_access"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DATASET_COLUMNS = (
    ("lead_time_days", sa.Integer()),
    ("service_price_min", sa.BigInteger()),
    ("service_price_max", sa.BigInteger()),
    ("service_price_currency", sa.String(length=3)),
    ("ai_act_documentation", sa.Boolean()),
)
_NEW_SCHEMES = ("service_modality", "deidentification_offered")


def upgrade() -> None:
    # Plain ALTER TABLE on both dialects: a batch rebuild of ``dataset`` on SQLite would drop the full-text triggers.
    for name, type_ in _DATASET_COLUMNS:
        op.add_column("dataset", sa.Column(name, type_, nullable=True))
    op.add_column("offer", sa.Column("expires_at", marketplace.db.UTCDateTime(), nullable=True))


def downgrade() -> None:
    terms = sa.table("dataset_term", sa.column("scheme", sa.String()))
    op.get_bind().execute(terms.delete().where(terms.c.scheme.in_(_NEW_SCHEMES)))
    # DROP COLUMN works in place on SQLite >= 3.35 and keeps the full-text triggers, unlike a batch rebuild.
    op.drop_column("offer", "expires_at")
    for name, _type in reversed(_DATASET_COLUMNS):
        op.drop_column("dataset", name)
