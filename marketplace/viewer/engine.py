"""The data viewer's engine: pages of rows, search within them and per-column statistics of one local file.

Why DuckDB rather than PyArrow: one library reads all four formats the viewer shows (CSV with type detection,
JSON Lines, Parquet, and plain text through ``read_text``), and answers every question in SQL that it runs out of
core under a memory limit: ``count(DISTINCT)``, min/max, histograms by ``GROUP BY`` and a case-insensitive search
across every column. PyArrow reads the formats too, but its CSV type inference is weaker, it has no query
planner, and the search and histograms would be written here by hand over in-memory tables.

Every call opens a fresh in-memory DuckDB connection limited to one thread and ``memory_limit``, with automatic
extension downloads switched off (nothing is fetched at run time), reads the file at ``path`` (a local copy the
caller made, see :mod:`marketplace.viewer.services`), and is interrupted after ``limits.seconds``. Pages are at
most :data:`PAGE_SIZE_MAX` rows, offsets at most ``limits.max_offset``; long cells are cut to
:data:`CELL_CHARS` characters. Problems are :class:`ViewerProblem` with a :class:`ViewerErrorCode`.

This module is pure: it imports nothing from Flask or the database, so it is tested on files alone.
"""

# The SQL here is assembled from the engine's own constants, the path of the caller's temporary copy (quoted by
# _literal) and the file's own column names (quoted by _quote); search text and numbers are bound parameters.
# ruff: noqa: S608

from __future__ import annotations

import base64
import datetime as dt
import decimal
import enum
import math
import posixpath
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import duckdb

from marketplace.viewer.errors import ViewerErrorCode

PAGE_SIZE_MAX = 100
CELL_CHARS = 500
HISTOGRAM_BINS = 10
CATEGORY_LIMIT = 20  # a text column with at most this many distinct values gets a bar per value
SEARCH_CHARS = 200


class DataFormat(enum.StrEnum):
    """The formats shown as a table of rows, and the media shown in a gallery or a player."""

    CSV = "csv"
    JSONL = "jsonl"
    PARQUET = "parquet"
    TEXT = "text"
    IMAGE = "image"
    AUDIO = "audio"
    VIDEO = "video"

    @property
    def tabular(self) -> bool:
        return self in (DataFormat.CSV, DataFormat.JSONL, DataFormat.PARQUET, DataFormat.TEXT)

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    DataFormat.CSV: "CSV",
    DataFormat.JSONL: "JSON Lines",
    DataFormat.PARQUET: "Parquet",
    DataFormat.TEXT: "plain text",
    DataFormat.IMAGE: "image",
    DataFormat.AUDIO: "audio",
    DataFormat.VIDEO: "video",
}
_BY_MEDIA_TYPE = {
    "text/csv": DataFormat.CSV,
    "application/csv": DataFormat.CSV,
    "application/jsonl": DataFormat.JSONL,
    "application/x-ndjson": DataFormat.JSONL,
    "application/x-jsonlines": DataFormat.JSONL,
    "application/vnd.apache.parquet": DataFormat.PARQUET,
    "application/x-parquet": DataFormat.PARQUET,
    "text/plain": DataFormat.TEXT,
    "text/markdown": DataFormat.TEXT,
}
_BY_EXTENSION = {
    ".csv": DataFormat.CSV,
    ".jsonl": DataFormat.JSONL,
    ".ndjson": DataFormat.JSONL,
    ".parquet": DataFormat.PARQUET,
    ".txt": DataFormat.TEXT,
    ".md": DataFormat.TEXT,
    ".png": DataFormat.IMAGE,
    ".jpg": DataFormat.IMAGE,
    ".jpeg": DataFormat.IMAGE,
    ".webp": DataFormat.IMAGE,
    ".gif": DataFormat.IMAGE,
    ".wav": DataFormat.AUDIO,
    ".mp3": DataFormat.AUDIO,
    ".ogg": DataFormat.AUDIO,
    ".flac": DataFormat.AUDIO,
    ".mp4": DataFormat.VIDEO,
    ".webm": DataFormat.VIDEO,
}


def detect_format(filename: str, media_type: str) -> DataFormat | None:
    """The viewer's format for a file, from its media type, else its extension; ``None`` when it cannot be shown."""
    kind = (media_type or "").split(";", 1)[0].strip().lower()
    if kind in _BY_MEDIA_TYPE:
        return _BY_MEDIA_TYPE[kind]
    extension = posixpath.splitext(filename.lower())[1]
    if extension in _BY_EXTENSION:
        return _BY_EXTENSION[extension]
    for prefix, media in (("image/", DataFormat.IMAGE), ("audio/", DataFormat.AUDIO), ("video/", DataFormat.VIDEO)):
        if kind.startswith(prefix) and kind != "image/svg+xml":
            return media
    return None


@dataclass(frozen=True)
class Limits:
    """How much one call may read and for how long."""

    seconds: float = 5.0
    max_offset: int = 1_000_000
    memory: str = "256MB"


@dataclass
class ViewerProblem(Exception):
    """A file the engine cannot show, or a request beyond its limits; ``code`` says which."""

    code: ViewerErrorCode
    message: str


@dataclass(frozen=True)
class Column:
    """One column: its name, DuckDB's type and the kind the page shows (integer, number, text, ...)."""

    name: str
    type: str
    kind: str


@dataclass(frozen=True)
class Page:
    """Rows ``offset`` to ``offset + len(rows)`` of ``total`` (all rows, or all matching rows of a search)."""

    columns: list[Column]
    rows: list[list[Any]]
    offset: int
    length: int
    total: int
    # Each row's position in the file (from 0): for a search, where the matches are; else offset, offset + 1, ...
    indices: list[int] = field(default_factory=list)

    def row_index(self, position: int) -> int:
        """The file position (from 0) of the ``position``-th row of this page."""
        return self.indices[position] if self.indices else self.offset + position

    def to_dict(self) -> dict[str, Any]:
        return {
            "columns": [{"name": c.name, "type": c.type, "kind": c.kind} for c in self.columns],
            "rows": [
                {"row_idx": self.row_index(i), "row": dict(zip([c.name for c in self.columns], r, strict=True))}
                for i, r in enumerate(self.rows)
            ],
            "offset": self.offset,
            "length": self.length,
            "total": self.total,
        }


@dataclass(frozen=True)
class Bar:
    """One bar of a histogram: its label and how many rows fall in it."""

    label: str
    count: int


@dataclass
class ColumnStatistics:
    """What one column holds: nulls, distinct values, least and greatest value and a histogram."""

    name: str
    type: str
    kind: str
    nulls: int = 0
    distinct: int = 0
    min: Any = None
    max: Any = None
    histogram_of: str = ""  # "values", "categories" or "lengths" (of text)
    histogram: list[Bar] = field(default_factory=list)


@dataclass
class Statistics:
    """A file's row count and each column's statistics."""

    rows: int
    columns: list[ColumnStatistics]

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "columns": [
                {
                    "name": c.name,
                    "type": c.type,
                    "kind": c.kind,
                    "nulls": c.nulls,
                    "distinct": c.distinct,
                    "min": c.min,
                    "max": c.max,
                    "histogram_of": c.histogram_of,
                    "histogram": [{"label": b.label, "count": b.count} for b in c.histogram],
                }
                for c in self.columns
            ],
        }


# --- opening a file ------------------------------------------------------------------------------------------------


def _literal(text: str) -> str:
    """A SQL string literal (for the file path, which the caller created; never user input)."""
    return "'" + text.replace("'", "''") + "'"


def _source(path: str, fmt: DataFormat) -> str:
    if fmt is DataFormat.CSV:
        return f"read_csv({_literal(path)}, header = true, sample_size = 20480)"
    if fmt is DataFormat.JSONL:
        return f"read_json({_literal(path)}, format = 'newline_delimited', sample_size = 20480)"
    if fmt is DataFormat.PARQUET:
        return f"read_parquet({_literal(path)})"
    if fmt is DataFormat.TEXT:
        # One row per line, numbered from 1; a final newline does not make an empty last line.
        lines = "string_split(regexp_replace(content, '\\r?\\n$', ''), chr(10))"
        return (
            f"(SELECT unnest(range(1, len(parts) + 1)) AS line, rtrim(unnest(parts), chr(13)) AS text "
            f"FROM (SELECT {lines} AS parts FROM read_text({_literal(path)})))"
        )
    raise ViewerProblem(ViewerErrorCode.UNSUPPORTED_FORMAT, f"{fmt.label} files are not shown as a table of rows.")


class _Deadline:
    """Interrupts a connection's running query once ``seconds`` have passed, and keeps interrupting (a query that
    starts after the first interrupt is stopped too) until stopped."""

    def __init__(self, con: duckdb.DuckDBPyConnection, seconds: float) -> None:
        self._con = con
        self._seconds = seconds
        self._stop = threading.Event()
        self.expired = False
        self._thread = threading.Thread(target=self._run, name="viewer-deadline", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        if self._stop.wait(self._seconds):
            return
        self.expired = True
        while not self._stop.is_set():
            self._con.interrupt()
            self._stop.wait(0.02)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


@contextmanager
def _connection(path: str, fmt: DataFormat, limits: Limits) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection with the view ``data`` over the file, interrupted once ``limits.seconds`` have passed."""
    con = duckdb.connect(
        ":memory:",
        config={
            "threads": 1,
            "memory_limit": limits.memory,
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
        },
    )
    deadline = _Deadline(con, limits.seconds)
    too_long = f"Reading the file took longer than {limits.seconds:g} seconds."
    try:
        con.execute(f"CREATE VIEW data AS SELECT * FROM {_source(path, fmt)}")
        yield con  # a read that finished before an interrupt reached it stands
    except duckdb.Error as error:
        if deadline.expired or isinstance(error, duckdb.InterruptException):
            raise ViewerProblem(ViewerErrorCode.TIME_LIMIT, too_long) from error
        raise ViewerProblem(
            ViewerErrorCode.MALFORMED_FILE, f"The file could not be read as {fmt.label}: {_first_line(error)}"
        ) from error
    finally:
        deadline.stop()
        con.close()


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or ["unknown error"])[0][:300]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _kind(type_name: str) -> str:
    upper = type_name.upper()
    if upper in (
        "TINYINT",
        "SMALLINT",
        "INTEGER",
        "BIGINT",
        "HUGEINT",
        "UTINYINT",
        "USMALLINT",
        "UINTEGER",
        "UBIGINT",
        "UHUGEINT",
    ):
        return "integer"
    if upper in ("FLOAT", "DOUBLE", "REAL") or upper.startswith("DECIMAL"):
        return "number"
    if upper == "BOOLEAN":
        return "boolean"
    if upper == "DATE":
        return "date"
    if upper.startswith("TIMESTAMP"):
        return "timestamp"
    if upper in ("VARCHAR", "TEXT", "UUID"):
        return "text"
    return "other"


def _columns(con: duckdb.DuckDBPyConnection) -> list[Column]:
    described = con.execute("DESCRIBE data").fetchall()
    return [Column(str(row[0]), str(row[1]), _kind(str(row[1]))) for row in described]


# --- JSON-safe values ----------------------------------------------------------------------------------------------


def json_value(value: Any, *, cut: int = CELL_CHARS) -> Any:
    """A value DuckDB returned, as JSON can carry it: dates as ISO text, decimals and odd floats as text, bytes
    as base64, nested lists and structs kept, long text cut to ``cut`` characters (with an ellipsis)."""
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return value if len(value) <= cut else value[:cut] + "…"
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID, dt.timedelta)):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "base64:" + base64.b64encode(bytes(value)[:cut]).decode("ascii")
    if isinstance(value, dict):
        return {str(k): json_value(v, cut=cut) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_value(v, cut=cut) for v in value]
    return json_value(str(value), cut=cut)


# --- rows and search -----------------------------------------------------------------------------------------------


def _check_window(offset: int, length: int, limits: Limits) -> None:
    if offset < 0 or offset > limits.max_offset:
        raise ViewerProblem(ViewerErrorCode.OFFSET_OUT_OF_RANGE, f"offset must be between 0 and {limits.max_offset:,}.")
    if length < 1 or length > PAGE_SIZE_MAX:
        raise ViewerProblem(ViewerErrorCode.LENGTH_OUT_OF_RANGE, f"length must be between 1 and {PAGE_SIZE_MAX}.")


def read_rows(
    path: str, fmt: DataFormat, *, offset: int = 0, length: int = PAGE_SIZE_MAX, limits: Limits | None = None
) -> Page:
    """Rows ``offset`` .. ``offset + length`` of the file, in file order, with its columns and row count."""
    limits = limits or Limits()
    _check_window(offset, length, limits)
    with _connection(path, fmt, limits) as con:
        columns = _columns(con)
        total = int(_one(con.execute("SELECT count(*) FROM data").fetchone()))
        rows = con.execute("SELECT * FROM data LIMIT ? OFFSET ?", [length, offset]).fetchall()
    return Page(columns, [[json_value(v) for v in row] for row in rows], offset, length, total)


def _like_pattern(query: str) -> str:
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_rows(
    path: str,
    fmt: DataFormat,
    query: str,
    *,
    offset: int = 0,
    length: int = PAGE_SIZE_MAX,
    limits: Limits | None = None,
) -> Page:
    """The rows where any column's text contains ``query`` (case-insensitive), a page of them and how many match."""
    limits = limits or Limits()
    _check_window(offset, length, limits)
    text = query.strip()
    if not text:
        raise ViewerProblem(ViewerErrorCode.QUERY_INVALID, "Type something to search for.")
    if len(text) > SEARCH_CHARS:
        raise ViewerProblem(ViewerErrorCode.QUERY_INVALID, f"Search for at most {SEARCH_CHARS} characters.")
    with _connection(path, fmt, limits) as con:
        columns = _columns(con)
        haystack = ", ".join(f"CAST({_quote(c.name)} AS VARCHAR)" for c in columns) or "''"
        condition = f"concat_ws(chr(31), {haystack}) ILIKE ? ESCAPE '\\'"
        pattern = _like_pattern(text)
        # The SQL is built from quoted column names only; the query is a bound parameter.
        total = int(_one(con.execute(f"SELECT count(*) FROM data WHERE {condition}", [pattern]).fetchone()))
        # Numbered before filtering, so each match keeps its position in the file.
        numbered = "(SELECT row_number() OVER () - 1 AS viewer_row_idx__, * FROM data)"
        rows = con.execute(
            f"SELECT * FROM {numbered} WHERE {condition} ORDER BY viewer_row_idx__ LIMIT ? OFFSET ?",
            [pattern, length, offset],
        ).fetchall()
    values = [[json_value(v) for v in row[1:]] for row in rows]
    return Page(columns, values, offset, length, total, indices=[int(row[0]) for row in rows])


def _one(row: tuple[Any, ...] | None) -> Any:
    return row[0] if row else 0


# --- statistics ----------------------------------------------------------------------------------------------------


def compute_statistics(path: str, fmt: DataFormat, *, limits: Limits | None = None) -> Statistics:
    """Row count and, per column, nulls, distinct values, min/max and a histogram: equal-width bins of numbers,
    a bar per value of a column with few distinct values (text, booleans), else bins of text lengths."""
    limits = limits or Limits()
    with _connection(path, fmt, limits) as con:
        columns = _columns(con)
        total = int(_one(con.execute("SELECT count(*) FROM data").fetchone()))
        result = [_column_statistics(con, column, total) for column in columns]
    return Statistics(total, result)


def _column_statistics(con: duckdb.DuckDBPyConnection, column: Column, total: int) -> ColumnStatistics:
    name = _quote(column.name)
    stats = ColumnStatistics(column.name, column.type, column.kind)
    ordered = column.kind in ("integer", "number", "date", "timestamp", "text", "boolean")
    extremes = f", min({name}), max({name})" if ordered else ", NULL, NULL"
    # Column names are quoted identifiers of the file's own columns; nothing else reaches the SQL.
    row = con.execute(f"SELECT count({name}), count(DISTINCT {name}){extremes} FROM data").fetchone()
    assert row is not None
    stats.nulls = total - int(row[0])
    stats.distinct = int(row[1])
    stats.min, stats.max = json_value(row[2], cut=100), json_value(row[3], cut=100)
    if column.kind in ("integer", "number") and row[2] is not None:
        stats.histogram_of = "values"
        stats.histogram = _number_bins(con, name, float(row[2]), float(row[3]), integer=column.kind == "integer")
    elif column.kind in ("text", "boolean") and 0 < stats.distinct <= CATEGORY_LIMIT:
        stats.histogram_of = "categories"
        stats.histogram = _categories(con, name)
    elif column.kind == "text" and stats.distinct:
        lengths = con.execute(f"SELECT min(length({name})), max(length({name})) FROM data").fetchone()
        assert lengths is not None
        stats.histogram_of = "lengths"
        stats.histogram = _number_bins(con, f"length({name})", float(lengths[0]), float(lengths[1]), integer=True)
    return stats


def _number_bins(
    con: duckdb.DuckDBPyConnection, expression: str, low: float, high: float, *, integer: bool
) -> list[Bar]:
    """Equal-width bins from ``low`` to ``high`` (integers never split: at most one bin per whole number)."""
    span = high - low
    bins = HISTOGRAM_BINS
    if integer:
        bins = max(1, min(bins, int(span) + 1))
    if span <= 0:
        count = _one(con.execute(f"SELECT count({expression}) FROM data").fetchone())
        return [Bar(_format_number(low, integer), int(count))]
    width = span / bins if not integer else math.ceil((span + 1) / bins)
    query = (
        f"SELECT least(CAST(floor((CAST({expression} AS DOUBLE) - ?) / ?) AS BIGINT), ?) AS bin, count(*) "
        f"FROM data WHERE {expression} IS NOT NULL AND isfinite(CAST({expression} AS DOUBLE)) GROUP BY bin"
    )
    counts = dict(con.execute(query, [low, width, bins - 1]).fetchall())
    bars = []
    for index in range(bins):
        start = low + index * width
        if integer:
            end = min(high, start + width - 1)
            label = (
                _format_number(start, True)
                if end == start
                else f"{_format_number(start, True)}–{_format_number(end, True)}"
            )
        else:
            label = f"{_format_number(start, False)}–{_format_number(start + width, False)}"
        bars.append(Bar(label, int(counts.get(index, 0))))
    return bars


def _format_number(value: float, integer: bool) -> str:
    return str(int(value)) if integer else f"{value:.4g}"


def _categories(con: duckdb.DuckDBPyConnection, name: str) -> list[Bar]:
    rows = con.execute(
        f"SELECT CAST({name} AS VARCHAR) AS v, count(*) AS n FROM data WHERE {name} IS NOT NULL "
        f"GROUP BY v ORDER BY n DESC, v LIMIT {CATEGORY_LIMIT}"
    ).fetchall()
    return [Bar(str(json_value(v, cut=60)), int(n)) for v, n in rows]
