"""keys: every API-key, OAuth client-secret and access-token hash names the pepper it was made with

Revision ID: 0016_key_material
Revises: 0015_jobs
Create Date: 2026-12-02

Hashes were peppered with a key derived from ``SECRET_KEY``; they now use ``API_KEY_PEPPERS`` and record the id.
Existing rows name ``legacy`` (the ``SECRET_KEY``-derived pepper, still accepted). Downgrading drops the column:
credentials hashed under a pepper of ``API_KEY_PEPPERS`` then stop working (the old code only knows ``legacy``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_key_material"
down_revision: str | None = "0015_jobs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("api_key", "oauth_client", "oauth_token")


def upgrade() -> None:
    for table in _TABLES:
        op.add_column(
            table, sa.Column("pepper_id", sa.String(length=32), nullable=False, server_default=sa.text("'legacy'"))
        )


def downgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("pepper_id")
