"""dates: the AI Act bias-review date moves out of the ``dataset.ai_act`` JSON document into a DATE column

Revision ID: 0008_dates
Revises: 0007_webhooks_sso
Create Date: 2026-11-30

JSON keeps no dates, so the date was stored as ISO 8601 text and read back as text where a date was expected.
The upgrade copies each stored date into ``dataset.bias_reviewed_on`` and removes it from the document; the
downgrade writes it back as text. The rows are converted in Python so that SQLite and PostgreSQL take the same
path (their JSON functions differ).
"""

from collections.abc import Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0008_dates"
down_revision: str | None = "0007_webhooks_sso"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEY = "bias_reviewed_on"
_DATASET = sa.table(
    "dataset",
    sa.column("id", sa.Integer()),
    sa.column("ai_act", sa.JSON()),
    sa.column(_KEY, sa.Date()),
)


def _as_date(value: Any) -> date | None:
    """The stored text as a date; text that is not an ISO date (never accepted by the form) is dropped."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def upgrade() -> None:
    # Plain ALTER TABLE on both dialects: a batch rebuild of ``dataset`` on SQLite would drop the full-text triggers.
    op.add_column("dataset", sa.Column(_KEY, sa.Date(), nullable=True))
    bind = op.get_bind()
    for row_id, document in bind.execute(sa.select(_DATASET.c.id, _DATASET.c.ai_act)).all():
        if not isinstance(document, dict) or _KEY not in document:
            continue
        rest = {key: value for key, value in document.items() if key != _KEY}
        bind.execute(
            _DATASET.update().where(_DATASET.c.id == row_id).values({"ai_act": rest, _KEY: _as_date(document[_KEY])})
        )


def downgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(_DATASET.c.id, _DATASET.c.ai_act, _DATASET.c[_KEY])).all()
    for row_id, document, reviewed in rows:
        restored = {
            **(document if isinstance(document, dict) else {}),
            _KEY: reviewed.isoformat() if reviewed else None,
        }
        bind.execute(_DATASET.update().where(_DATASET.c.id == row_id).values({"ai_act": restored}))
    op.drop_column("dataset", _KEY)  # SQLite 3.35+ drops a column in place, keeping the full-text triggers
