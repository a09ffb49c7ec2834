"""Housekeeping of the API's stored records."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import col

from marketplace.apikeys.models import IdempotencyRecord
from marketplace.db import UnitOfWork
from marketplace.oauth.models import OAuthToken


def purge_expired(work: UnitOfWork) -> tuple[int, int]:
    """Delete idempotency records past their 24 hours and OAuth tokens expired for more than a day; returns the
    numbers of each deleted."""
    now = work.now()
    records = work.session.execute(sa.delete(IdempotencyRecord).where(col(IdempotencyRecord.expires_at) <= now))
    tokens = work.session.execute(sa.delete(OAuthToken).where(col(OAuthToken.expires_at) <= now - timedelta(days=1)))
    return int(getattr(records, "rowcount", 0)), int(getattr(tokens, "rowcount", 0))
