"""Many rows in few statements, below the ORM: inserting (COPY on PostgreSQL), updating by id and deleting by key
with the values as arrays on PostgreSQL (one statement, whatever the number of rows), the driver's
``executemany`` elsewhere.

Each value goes through its column type's bind processing first, exactly as a statement through SQLAlchemy would
send it (JSON documents, enums, UTC timestamps): the stored rows are the same, without SQLAlchemy's per-row
bookkeeping, which costs more than the database's own work at these sizes. A refused row raises SQLAlchemy's error
for it (:class:`sqlalchemy.exc.IntegrityError`…), as a statement through SQLAlchemy would.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa


def write_rows(connection: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (dictionaries with the same keys) into ``table`` as fast as the database takes them: COPY on
    PostgreSQL, the driver's own ``executemany`` on SQLite."""
    if not rows:
        return
    dialect = connection.dialect
    keys = list(rows[0])
    values = list(zip(*_columns(dialect, table, keys, rows), strict=True))
    quote = dialect.identifier_preparer.quote
    columns = ", ".join(quote(table.c[key].name) for key in keys)
    if dialect.name == "postgresql":
        statement = f"COPY {quote(table.name)} ({columns}) FROM STDIN"
        driver = connection.connection.driver_connection
        assert driver is not None and dialect.loaded_dbapi is not None
        try:
            with driver.cursor() as cursor, cursor.copy(statement) as copy:
                for row in values:
                    copy.write_row(row)
        except dialect.loaded_dbapi.Error as error:  # raised as any statement's error would be (IntegrityError…)
            raise sa.exc.DBAPIError.instance(statement, None, error, dialect.loaded_dbapi.Error) from error
    else:
        marks = ", ".join("?" for _ in keys)
        statement = f"INSERT INTO {quote(table.name)} ({columns}) VALUES ({marks})"  # noqa: S608 (names from the model)
        connection.exec_driver_sql(statement, values)


def update_rows(connection: sa.Connection, table: sa.Table, key: str, rows: list[dict[str, Any]]) -> None:
    """Set, on each row of ``table`` whose ``key`` column equals a row's ``key`` value, that row's other values
    (``rows`` are dictionaries with the same keys, ``key`` among them; each names one stored row).

    PostgreSQL: one ``UPDATE … FROM unnest(…)`` with one array per column. SQLite: one ``UPDATE`` per row, sent
    by the driver's ``executemany``."""
    if not rows:
        return
    dialect = connection.dialect
    keys = list(rows[0])
    others = [k for k in keys if k != key]
    quote = dialect.identifier_preparer.quote
    columns = _columns(dialect, table, keys, rows)
    if dialect.name == "postgresql":
        names = [quote(table.c[k].name) for k in keys]
        assignments = ", ".join(f"{quote(table.c[k].name)} = v.{quote(table.c[k].name)}" for k in others)
        arrays = _unnest_arguments(dialect, table, keys)
        match = quote(table.c[key].name)
        statement = (
            f"UPDATE {quote(table.name)} AS t SET {assignments}"  # noqa: S608 (names from the model)
            f" FROM unnest({arrays}) AS v({', '.join(names)}) WHERE t.{match} = v.{match}"
        )
        connection.exec_driver_sql(statement, _arrays(columns))
        return
    assignments = ", ".join(f"{quote(table.c[k].name)} = ?" for k in others)
    statement = f"UPDATE {quote(table.name)} SET {assignments} WHERE {quote(table.c[key].name)} = ?"  # noqa: S608
    by_key = dict(zip(keys, columns, strict=True))
    connection.exec_driver_sql(statement, list(zip(*(by_key[k] for k in [*others, key]), strict=True)))


def delete_rows(connection: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Delete the rows of ``table`` that match one of ``rows`` on all its keys (dictionaries with the same keys).

    PostgreSQL: one ``DELETE … USING unnest(…)``. SQLite: one ``DELETE`` per row, by ``executemany``."""
    if not rows:
        return
    dialect = connection.dialect
    keys = list(rows[0])
    quote = dialect.identifier_preparer.quote
    columns = _columns(dialect, table, keys, rows)
    names = [quote(table.c[k].name) for k in keys]
    if dialect.name == "postgresql":
        arrays = _unnest_arguments(dialect, table, keys)
        match = " AND ".join(f"t.{name} = v.{name}" for name in names)
        statement = (
            f"DELETE FROM {quote(table.name)} AS t"  # noqa: S608 (names from the model)
            f" USING unnest({arrays}) AS v({', '.join(names)}) WHERE {match}"
        )
        connection.exec_driver_sql(statement, _arrays(columns))
        return
    match = " AND ".join(f"{name} = ?" for name in names)
    statement = f"DELETE FROM {quote(table.name)} WHERE {match}"  # noqa: S608 (names from the model)
    connection.exec_driver_sql(statement, list(zip(*columns, strict=True)))


def _unnest_arguments(dialect: sa.Dialect, table: sa.Table, keys: Sequence[str]) -> str:
    """``unnest``'s arguments on PostgreSQL: one array parameter per key, cast to its column's array type."""
    return ", ".join(f"%(a{i})s::{_array_type(dialect, table.c[k])}" for i, k in enumerate(keys))


def _columns(dialect: sa.Dialect, table: sa.Table, keys: Sequence[str], rows: list[dict[str, Any]]) -> list[list[Any]]:
    """The values of ``rows`` column by column (in the order of ``keys``), as the column types bind them."""
    out = []
    for key in keys:
        process = _memo(table.c[key].type.dialect_impl(dialect).bind_processor(dialect))
        column = [row[key] for row in rows]
        out.append(column if process is None else list(map(process, column)))
    return out


def _arrays(columns: list[list[Any]]) -> dict[str, list[Any]]:
    """The columns as the array parameters ``a0``, ``a1``… The driver sends a list as an array of its elements'
    one type: whole numbers among fractional ones become fractional, text subclasses (enum members) plain text."""
    out = {}
    for index, column in enumerate(columns):
        kinds = {type(value) for value in column if value is not None}
        if len(kinds) > 1 and kinds <= {int, float}:
            column = [None if value is None else float(value) for value in column]
        elif any(kind is not str and issubclass(kind, str) for kind in kinds):
            column = [value if value is None else str.__str__(value) for value in column]
        out[f"a{index}"] = column
    return out


def _array_type(dialect: sa.Dialect, column: sa.Column[Any]) -> str:
    """The SQL type of an array of ``column``'s values. Strings go as unbounded text: a cast to ``VARCHAR(n)``
    would cut a longer value short, where storing it into the column refuses it."""
    kind = column.type.impl_instance if isinstance(column.type, sa.TypeDecorator) else column.type
    if isinstance(kind, sa.String):
        return "TEXT[]"
    return f"{column.type.compile(dialect)}[]"


def _memo(process: Callable[[Any], Any] | None) -> Callable[[Any], Any] | None:
    """``process`` remembering its results for hashable values (enums, the import's one timestamp, dates)."""
    if process is None:
        return None
    results: dict[tuple[type, Any], Any] = {}

    def processed(value: Any) -> Any:
        try:
            key = (type(value), value)
            if key not in results:
                results[key] = process(value)
            return results[key]
        except TypeError:  # a JSON document
            return process(value)

    return processed
