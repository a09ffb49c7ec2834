"""Re-encrypting every stored secret under the writing key of ``ENCRYPTION_KEYS`` (``marketplace keys
rotate-encryption``).

Rows are taken in batches in id order, each batch re-encrypted and committed on its own; only rows with a
ciphertext not under the writing key are selected, so a second run does nothing and an interrupted run resumes
where it stopped. Once a run reports nothing left, the old key can be removed from ``ENCRYPTION_KEYS`` (and
``SECRET_KEY`` rotated: ciphertexts from before the key ring are gone too).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlmodel import SQLModel, col, select

from marketplace.crypto import SecretBox, SecretUnreadable, ciphertext_prefix
from marketplace.db import Database, ServiceContext, unit_of_work

DEFAULT_BATCH_SIZE = 500


@dataclass(frozen=True)
class SealedColumns:
    """The encrypted columns of one table and the box (purpose) they are sealed with."""

    label: str
    model: type[SQLModel]
    columns: tuple[str, ...]
    box: Callable[[Mapping[str, Any]], SecretBox]


def sealed_tables() -> tuple[SealedColumns, ...]:
    """Every table holding secrets sealed by the key ring (add new ones here)."""
    from marketplace.exports import destinations
    from marketplace.exports.models import BucketDestination
    from marketplace.sso import services as sso
    from marketplace.sso.models import SsoConnection
    from marketplace.webhooks import services as webhooks
    from marketplace.webhooks.models import WebhookEndpoint

    return (
        SealedColumns(
            "webhook endpoints",
            WebhookEndpoint,
            ("secret_ciphertext", "previous_secret_ciphertext"),
            webhooks.secret_box,
        ),
        SealedColumns("SSO connections", SsoConnection, ("client_secret_ciphertext",), sso.secret_box),
        SealedColumns("bucket destinations", BucketDestination, ("secret_ciphertext",), destinations.secret_box),
    )


@dataclass
class Outcome:
    """What a run did per table: rows re-encrypted, and the rows that could not be read (label, id, reason)."""

    reencrypted: dict[str, int] = field(default_factory=dict)
    unreadable: list[tuple[str, int, str]] = field(default_factory=list)


def _stale(table: SealedColumns, writing_id: str) -> sa.ColumnElement[bool]:
    """Rows with at least one ciphertext not under the writing key."""
    prefix = ciphertext_prefix(writing_id)
    clauses = []
    for name in table.columns:
        column = col(getattr(table.model, name))
        clauses.append(sa.and_(column.is_not(None), sa.not_(column.startswith(prefix, autoescape=True))))
    return sa.or_(*clauses)


def reencrypt_all(
    database: Database,
    context: ServiceContext,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Callable[[str, int, int], None] = lambda label, done, total: None,
) -> Outcome:
    """Re-encrypt every sealed secret not yet under the writing key, ``batch_size`` rows per transaction.

    ``progress(label, done, total)`` is called after each committed batch. A ciphertext that cannot be decrypted
    (its key is no longer in the ring) is left as it is and reported in :attr:`Outcome.unreadable`.
    """
    if batch_size < 1:
        raise ValueError("batch size must be at least 1")
    outcome = Outcome()
    for table in sealed_tables():
        outcome.reencrypted[table.label] = _reencrypt_table(database, context, table, batch_size, progress, outcome)
    return outcome


def _reencrypt_table(
    database: Database,
    context: ServiceContext,
    table: SealedColumns,
    batch_size: int,
    progress: Callable[[str, int, int], None],
    outcome: Outcome,
) -> int:
    box = table.box(context.settings)
    stale = _stale(table, box.keys.writing_id)
    id_column = col(getattr(table.model, "id"))  # noqa: B009 - ``SQLModel`` declares no id
    with unit_of_work(database, context) as uow:
        total = int(uow.session.execute(sa.select(sa.func.count()).select_from(table.model).where(stale)).scalar_one())
    progress(table.label, 0, total)
    done = changed = last_id = 0
    while True:
        with unit_of_work(database, context) as uow:
            query = select(table.model).where(stale, id_column > last_id).order_by(id_column).limit(batch_size)
            rows = list(uow.session.exec(query).all())
            for row in rows:
                changed += _reencrypt_row(table, box, row, outcome)
        if not rows:
            return changed
        last_id = int(getattr(rows[-1], "id"))  # noqa: B009
        done += len(rows)
        progress(table.label, done, max(total, done))


def _reencrypt_row(table: SealedColumns, box: SecretBox, row: Any, outcome: Outcome) -> int:
    """Re-encrypt one row's columns in place; 1 when it was re-encrypted, 0 when it could not be read."""
    try:
        fresh = {name: box.reencrypt(getattr(row, name)) for name in table.columns if getattr(row, name) is not None}
    except SecretUnreadable as error:
        outcome.unreadable.append((table.label, int(row.id), str(error)))
        return 0
    for name, value in fresh.items():
        setattr(row, name, value)
    return 1
