"""The viewer's engine on files alone, for each of the four table formats: column types, pages, search, statistics
and histograms, the row/offset/time limits, and malformed or unsupported files."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from marketplace.viewer import engine
from marketplace.viewer.engine import DataFormat, Limits, ViewerProblem
from marketplace.viewer.errors import ViewerErrorCode

ROWS = [{"id": i, "city": ["Oslo", "Lima", "Pune"][i % 3], "temp": None if i == 7 else i / 2} for i in range(1, 121)]


def _csv(tmp: Path) -> Path:
    path = tmp / "t.csv"
    lines = ["id,city,temp"] + [f"{r['id']},{r['city']},{'' if r['temp'] is None else r['temp']}" for r in ROWS]
    path.write_text("\n".join(lines) + "\n")
    return path


def _jsonl(tmp: Path) -> Path:
    path = tmp / "t.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    return path


def _parquet(tmp: Path) -> Path:
    path = tmp / "t.parquet"
    source = _jsonl(tmp)
    duckdb.sql(f"COPY (SELECT * FROM read_json('{source}', format = 'newline_delimited')) TO '{path}' (FORMAT parquet)")
    return path


MAKERS = {DataFormat.CSV: _csv, DataFormat.JSONL: _jsonl, DataFormat.PARQUET: _parquet}


@pytest.mark.parametrize("fmt", list(MAKERS))
def test_types_pages_and_search_of_tables(tmp_path: Path, fmt: DataFormat) -> None:
    path = str(MAKERS[fmt](tmp_path))
    page = engine.read_rows(path, fmt, offset=100, length=100)
    assert page.total == 120 and len(page.rows) == 20
    kinds = {c.name: c.kind for c in page.columns}
    assert kinds == {"id": "integer", "city": "text", "temp": "number"}
    assert page.rows[0] == [101, "Pune", 50.5]
    found = engine.search_rows(path, fmt, "oslO")
    assert found.total == 40 and all(row[1] == "Oslo" for row in found.rows)
    # Each match keeps its position in the file (ids 3, 6, 9, ... are Oslo: rows 2, 5, 8, ...).
    assert found.indices[:3] == [2, 5, 8] and found.to_dict()["rows"][0]["row_idx"] == 2
    # LIKE's wildcards are searched for as they are.
    assert engine.search_rows(path, fmt, "%").total == 0
    assert engine.search_rows(path, fmt, "_").total == 0


@pytest.mark.parametrize("fmt", list(MAKERS))
def test_statistics_of_tables(tmp_path: Path, fmt: DataFormat) -> None:
    stats = engine.compute_statistics(str(MAKERS[fmt](tmp_path)), fmt)
    assert stats.rows == 120
    columns = {c.name: c for c in stats.columns}
    temp, city, ident = columns["temp"], columns["city"], columns["id"]
    assert (temp.nulls, temp.distinct, temp.min, temp.max) == (1, 119, 0.5, 60.0)
    assert temp.histogram_of == "values" and len(temp.histogram) == engine.HISTOGRAM_BINS
    assert sum(b.count for b in temp.histogram) == 119
    assert city.histogram_of == "categories"
    assert sorted((b.label, b.count) for b in city.histogram) == [("Lima", 40), ("Oslo", 40), ("Pune", 40)]
    assert ident.histogram[0].label == "1–12" and sum(b.count for b in ident.histogram) == 120
    assert stats.to_dict()["columns"][0]["name"] == "id"


def test_plain_text_is_one_row_per_line(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"first line\r\nsecond, with a comma\nthird\n")
    page = engine.read_rows(str(path), DataFormat.TEXT)
    assert [c.name for c in page.columns] == ["line", "text"]
    assert page.rows == [[1, "first line"], [2, "second, with a comma"], [3, "third"]]
    assert engine.search_rows(str(path), DataFormat.TEXT, "COMMA").rows == [[2, "second, with a comma"]]
    stats = engine.compute_statistics(str(path), DataFormat.TEXT)
    text = next(c for c in stats.columns if c.name == "text")
    assert (stats.rows, text.distinct, text.histogram_of) == (3, 3, "categories")


def test_long_text_gets_a_histogram_of_lengths_and_long_cells_are_cut(tmp_path: Path) -> None:
    path = tmp_path / "long.jsonl"
    path.write_text("".join(json.dumps({"t": "x" * n}) + "\n" for n in range(1, 40)) + json.dumps({"t": "y" * 900}))
    stats = engine.compute_statistics(str(path), DataFormat.JSONL)
    assert stats.columns[0].histogram_of == "lengths"
    cell = engine.read_rows(str(path), DataFormat.JSONL, offset=39, length=1).rows[0][0]
    assert len(cell) == engine.CELL_CHARS + 1 and cell.endswith("…")


def test_limits(tmp_path: Path) -> None:
    path = str(_csv(tmp_path))
    with pytest.raises(ViewerProblem) as info:
        engine.read_rows(path, DataFormat.CSV, length=engine.PAGE_SIZE_MAX + 1)
    assert info.value.code is ViewerErrorCode.LENGTH_OUT_OF_RANGE
    with pytest.raises(ViewerProblem) as info:
        engine.read_rows(path, DataFormat.CSV, offset=11, limits=Limits(max_offset=10))
    assert info.value.code is ViewerErrorCode.OFFSET_OUT_OF_RANGE
    with pytest.raises(ViewerProblem) as info:
        engine.search_rows(path, DataFormat.CSV, "x" * (engine.SEARCH_CHARS + 1))
    assert info.value.code is ViewerErrorCode.QUERY_INVALID


def test_a_read_that_takes_too_long_is_interrupted(tmp_path: Path) -> None:
    path = tmp_path / "big.parquet"
    duckdb.sql(f"COPY (SELECT range AS n, md5(range::VARCHAR) AS h FROM range(3000000)) TO '{path}' (FORMAT parquet)")
    with pytest.raises(ViewerProblem) as info:
        engine.compute_statistics(str(path), DataFormat.PARQUET, limits=Limits(seconds=0.01))
    assert info.value.code is ViewerErrorCode.TIME_LIMIT


@pytest.mark.parametrize(
    ("fmt", "content"),
    [
        (DataFormat.PARQUET, b"PAR1 this is not parquet"),
        (DataFormat.JSONL, b'{"a": 1}\n{"a": \n'),
        (DataFormat.CSV, b"a,b\n1,2\n3,\xff\xfe\n"),
    ],
)
def test_malformed_files(tmp_path: Path, fmt: DataFormat, content: bytes) -> None:
    path = tmp_path / "bad"
    path.write_bytes(content)
    with pytest.raises(ViewerProblem) as info:
        engine.read_rows(str(path), fmt)
    assert info.value.code is ViewerErrorCode.MALFORMED_FILE
    assert fmt.label in info.value.message


def test_formats_by_media_type_and_extension() -> None:
    assert engine.detect_format("a.bin", "text/csv") is DataFormat.CSV
    assert engine.detect_format("x/train.parquet", "application/octet-stream") is DataFormat.PARQUET
    assert engine.detect_format("a.jsonl", "") is DataFormat.JSONL
    assert engine.detect_format("a.png", "image/png") is DataFormat.IMAGE
    assert engine.detect_format("clip", "video/mp4") is DataFormat.VIDEO
    assert engine.detect_format("x.svg", "image/svg+xml") is None
    assert engine.detect_format("a.zip", "application/zip") is None
    with pytest.raises(ViewerProblem) as info:
        engine.read_rows("a.png", DataFormat.IMAGE)
    assert info.value.code is ViewerErrorCode.UNSUPPORTED_FORMAT


def test_values_are_made_json_safe() -> None:
    import datetime as dt
    import decimal

    assert engine.json_value(float("nan")) == "nan"
    assert engine.json_value(decimal.Decimal("1.50")) == "1.50"
    assert engine.json_value(dt.date(2024, 1, 2)) == "2024-01-02"
    assert engine.json_value(b"\x00\x01") == "base64:AAE="
    assert engine.json_value({"a": [dt.datetime(2024, 1, 2, 3, 4)]}) == {"a": ["2024-01-02T03:04:00"]}
