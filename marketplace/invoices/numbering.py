"""Gap-free document numbers: one counter row per series, incremented in the transaction that issues the document.

The increment is an ``UPDATE … SET last_number = last_number + 1``: on PostgreSQL it locks the counter row until the
issuing transaction ends, so concurrent payments take numbers one after the other, and a transaction that rolls
back takes its increment with it (no number is ever skipped or given twice). SQLite runs one writer at a time.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from marketplace.invoices.models import DocumentCounter

_COUNTER = DocumentCounter.__table__  # type: ignore[attr-defined]


def next_number(session: Session, series: str) -> int:
    """The next number of ``series`` (1 for a new series), reserved until the caller's transaction ends."""
    connection = session.connection()
    for _attempt in range(3):
        bumped = connection.execute(
            sa.update(_COUNTER)
            .where(_COUNTER.c.series == series)
            .values(last_number=_COUNTER.c.last_number + 1)
            .returning(_COUNTER.c.last_number)
        ).first()
        if bumped is not None:
            return int(bumped[0])
        try:
            # A series' first number: a concurrent first insert waits here for the other transaction, then fails
            # on the primary key; the next round increments the row that transaction made.
            with session.begin_nested():
                session.connection().execute(sa.insert(_COUNTER).values(series=series, last_number=1))
            return 1
        except IntegrityError:
            continue
    raise RuntimeError(f"could not allocate a number in series {series!r}")
