"""Signed, expiring, single-use tokens for e-mailed links.

A link carries an itsdangerous signature over the id of an :class:`ActionToken` row, salted with its purpose, so
a token for one purpose is useless for another. The row gives expiry and single use: it is consumed with a
conditional UPDATE (``used_at IS NULL``) inside the transaction that performs the action.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from itsdangerous import BadSignature, URLSafeSerializer
from sqlmodel import Session, col

from marketplace.accounts.models import ActionToken, TokenPurpose
from marketplace.errors import InvalidToken


def _serializer(secret_key: str, purpose: TokenPurpose) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=f"marketplace.token.{purpose.value}")


def issue(
    session: Session,
    secret_key: str,
    purpose: TokenPurpose,
    *,
    now: datetime,
    max_age: int,
    user_id: int | None = None,
    subject: str = "",
) -> str:
    """Create a token row and return the signed string to put in a link."""
    row = ActionToken(
        id=secrets.token_urlsafe(24),
        purpose=purpose,
        user_id=user_id,
        subject=subject,
        created_at=now,
        expires_at=now + timedelta(seconds=max_age),
    )
    session.add(row)
    session.flush()
    return _serializer(secret_key, purpose).dumps(row.id)


def peek(session: Session, secret_key: str, purpose: TokenPurpose, token: str, *, now: datetime) -> ActionToken:
    """Return the token's row if the token is genuine, unused and unexpired; raise :class:`InvalidToken`."""
    try:
        token_id = _serializer(secret_key, purpose).loads(token)
    except BadSignature as exc:
        raise InvalidToken() from exc
    if not isinstance(token_id, str):
        raise InvalidToken()
    row = session.get(ActionToken, token_id)
    if row is None or row.purpose != purpose or row.used_at is not None or row.expires_at <= now:
        raise InvalidToken()
    return row


def consume(session: Session, secret_key: str, purpose: TokenPurpose, token: str, *, now: datetime) -> ActionToken:
    """Validate the token and mark it used, atomically: a second use, even a concurrent one, fails."""
    row = peek(session, secret_key, purpose, token, now=now)
    result = session.execute(
        sa.update(ActionToken)
        .where(col(ActionToken.id) == row.id, col(ActionToken.used_at).is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        raise InvalidToken()
    session.refresh(row)
    return row


def revoke_all(session: Session, purpose: TokenPurpose, *, user_id: int, now: datetime) -> None:
    """Mark every unused token of ``purpose`` for ``user_id`` as used (e.g. after a password change)."""
    session.execute(
        sa.update(ActionToken)
        .where(
            col(ActionToken.user_id) == user_id,
            col(ActionToken.purpose) == purpose,
            col(ActionToken.used_at).is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
