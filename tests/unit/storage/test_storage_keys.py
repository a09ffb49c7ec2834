"""Validation of keys, file names, content types, expiries; Content-Disposition; upload planning."""

from __future__ import annotations

from datetime import timedelta

import pytest
from werkzeug.http import parse_options_header

from storage import (
    MAX_PART_SIZE,
    MAX_PARTS,
    MIN_PART_SIZE,
    InvalidContentType,
    InvalidExpiry,
    InvalidFilename,
    InvalidKey,
    UploadedPart,
    UploadError,
    UploadSession,
    choose_part_size,
    content_disposition,
    expiry_seconds,
    validate_content_type,
    validate_filename,
    validate_key,
    validate_prefix,
)
from storage.base import MiB, TiB, normalise_etag, normalise_parts

HOSTILE_KEYS = [
    pytest.param("", id="empty"),
    pytest.param("..", id="dotdot"),
    pytest.param("../etc/passwd", id="leading-dotdot"),
    pytest.param("a/../../etc/passwd", id="inner-dotdot"),
    pytest.param("a/..", id="trailing-dotdot"),
    pytest.param(".", id="dot"),
    pytest.param("a/./b", id="inner-dot"),
    pytest.param("/etc/passwd", id="absolute"),
    pytest.param("//server/share", id="double-slash-absolute"),
    pytest.param("a//b", id="empty-segment"),
    pytest.param("a/", id="trailing-slash"),
    pytest.param("..\\..\\windows", id="backslash-traversal"),
    pytest.param("a\\b", id="backslash"),
    pytest.param("C:/Windows/win.ini", id="windows-drive"),
    pytest.param("c:evil", id="windows-drive-relative"),
    pytest.param("nul\x00byte", id="nul"),
    pytest.param("new\nline", id="newline"),
    pytest.param("carriage\rreturn", id="cr"),
    pytest.param("tab\tchar", id="tab"),
    pytest.param("esc\x1b[31m", id="ansi-escape"),
    pytest.param("del\x7f", id="del"),
    pytest.param("c1\x85control", id="c1-next-line"),
    pytest.param("bidi\u202egpj.exe", id="bidi-override"),
    pytest.param("zero\u200bwidth", id="zero-width-space"),
    pytest.param("line\u2028sep", id="line-separator"),
    pytest.param("surrogate\ud800", id="lone-surrogate"),
    pytest.param("x" * 1025, id="too-long"),
    pytest.param("é" * 513, id="too-long-in-utf8-bytes"),
    pytest.param("a/" + "s" * 256, id="segment-too-long"),
]


@pytest.mark.parametrize("key", HOSTILE_KEYS)
def test_hostile_keys_are_refused(key: str) -> None:
    with pytest.raises(InvalidKey) as caught:
        validate_key(key)
    message = str(caught.value)
    assert message.startswith("Invalid storage key")
    assert "\n" not in message and "\x00" not in message


@pytest.mark.parametrize(
    "key",
    [
        "a",
        "datasets/42/versions/3/files/train.parquet",
        "données/naïve file (1).csv",
        "数据/样本.jsonl",
        "..hidden/...dots.../x..y",
        "with space/and+plus/and%percent/and?question#hash",
        ("s" * 254 + "/") * 4 + "abcd",
        "/".join(["s" * 255] * 4),
        "emoji/😀.txt",
    ],
)
def test_ordinary_keys_are_accepted(key: str) -> None:
    assert validate_key(key) == key


def test_non_string_key_is_refused() -> None:
    with pytest.raises(InvalidKey, match="expected a string"):
        validate_key(b"bytes-key")


def test_error_message_names_the_problem() -> None:
    with pytest.raises(InvalidKey, match=r"'\.\.' segments are not allowed"):
        validate_key("a/../b")
    with pytest.raises(InvalidKey, match="absolute paths"):
        validate_key("/a")
    with pytest.raises(InvalidKey, match=r"U\+000A"):
        validate_key("a\nb")


@pytest.mark.parametrize("prefix", ["", "a", "a/", "a/b", "a/partial-na", "datasets/42/"])
def test_prefixes(prefix: str) -> None:
    assert validate_prefix(prefix) == prefix


@pytest.mark.parametrize("prefix", ["/", "/a", "../", "a/../", "a//", "a\\", "a\x00", "a/./"])
def test_hostile_prefixes_are_refused(prefix: str) -> None:
    with pytest.raises(InvalidKey):
        validate_prefix(prefix)


HOSTILE_FILENAMES = [
    "",
    "   ",
    ".",
    "..",
    "../../etc/passwd",
    "..\\..\\boot.ini",
    "dir/file.csv",
    "C:\\file.csv",
    "a\x00b.csv",
    "a\r\nSet-Cookie: x=y",
    "tab\t.csv",
    "invoice\u202efdp.exe",
    "isolate\u2066.csv",
    "line\u2029sep.csv",
    "x" * 256,
]


@pytest.mark.parametrize("filename", HOSTILE_FILENAMES)
def test_hostile_filenames_are_refused(filename: str) -> None:
    with pytest.raises(InvalidFilename):
        validate_filename(filename)


@pytest.mark.parametrize("filename", ["report.csv", 'say "hi".txt', "Données été.csv", "数据集.parquet", "a;b=c.txt"])
def test_ordinary_filenames_are_accepted(filename: str) -> None:
    assert validate_filename(filename) == filename


def _filename_in(value: str) -> str:
    """The file name a browser would use (werkzeug, like browsers, prefers ``filename*``)."""
    disposition, options = parse_options_header(value)
    assert disposition in ("attachment", "inline")
    return options["filename"]


def _assert_safe_header(value: str) -> None:
    assert value.isascii()
    assert all(" " <= char <= "~" for char in value), value


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("report.csv", 'attachment; filename="report.csv"'),
        ('say "hi".txt', 'attachment; filename="say \\"hi\\".txt"; filename*=UTF-8\'\'say%20%22hi%22.txt'),
        ("back\\slash.txt", 'attachment; filename="back_slash.txt"'),
        (None, "attachment"),
        ("\r\n", "attachment"),
    ],
)
def test_content_disposition_exact_values(filename: str | None, expected: str) -> None:
    assert content_disposition(filename) == expected


@pytest.mark.parametrize(
    "filename",
    [
        'quote"in"name.csv',
        "new\r\nline\nSet-Cookie: session=stolen.csv",
        "Données été.csv",
        "数据集 v2.parquet",
        "emoji 😀.txt",
        "../../etc/passwd",
        "tab\there.txt",
        "bidi\u202egpj.exe",
        "percent%20.csv",
        "semi;colon=x.csv",
        "back\\\\slashes\\.csv",
        "é" * 300 + ".csv",
    ],
)
def test_content_disposition_is_always_a_safe_single_header(filename: str) -> None:
    value = content_disposition(filename)
    _assert_safe_header(value)
    assert value.startswith("attachment; filename=")
    assert "\r" not in value and "\n" not in value
    name = _filename_in(value)
    assert name
    assert "/" not in name and "\\" not in name
    assert not any(ord(c) < 32 for c in name)
    assert len(name.encode("utf-8")) <= 255


def test_content_disposition_keeps_non_ascii_names_exactly() -> None:
    value = content_disposition("Données été.csv")
    assert value == ("attachment; filename=\"Donnees ete.csv\"; filename*=UTF-8''Donn%C3%A9es%20%C3%A9t%C3%A9.csv")
    assert _filename_in(value) == "Données été.csv"
    chinese = content_disposition("数据集.parquet")
    assert 'filename="download.parquet"' in chinese
    assert _filename_in(chinese) == "数据集.parquet"


def test_content_disposition_inline_and_bad_disposition() -> None:
    assert content_disposition("a.png", disposition="inline") == 'inline; filename="a.png"'
    with pytest.raises(ValueError):
        content_disposition("a.png", disposition="attachment\r\nX: y")


@pytest.mark.parametrize(
    "value", ["text/csv", "application/vnd.apache.parquet", "text/plain; charset=utf-8", 'a/b; x="q r"']
)
def test_content_types_accepted(value: str) -> None:
    assert validate_content_type(value) == value


@pytest.mark.parametrize(
    "value", ["text", "text/csv\r\nX-Evil: 1", "text/csv\n", 'a/b; c="é"', "a b/c", "/csv", "x" * 300 + "/y", 42]
)
def test_content_types_refused(value: object) -> None:
    with pytest.raises(InvalidContentType):
        validate_content_type(value)


def test_empty_content_type_means_none() -> None:
    assert validate_content_type(None) is None
    assert validate_content_type("") is None


@pytest.mark.parametrize(
    "expiry",
    [timedelta(0), timedelta(seconds=-1), timedelta(days=-7), timedelta(days=7, microseconds=1), timedelta(days=30)],
)
def test_expiry_bounds_refused(expiry: timedelta) -> None:
    with pytest.raises(InvalidExpiry):
        expiry_seconds(expiry)


@pytest.mark.parametrize("expiry", [900, 900.0, "15m", None])
def test_expiry_must_be_a_timedelta(expiry: object) -> None:
    with pytest.raises(InvalidExpiry, match="timedelta"):
        expiry_seconds(expiry)


@pytest.mark.parametrize(
    ("expiry", "seconds"),
    [
        (timedelta(microseconds=1), 1),
        (timedelta(seconds=1.5), 2),
        (timedelta(minutes=15), 900),
        (timedelta(days=7), 7 * 86400),
    ],
)
def test_expiry_rounds_up_to_whole_seconds(expiry: timedelta, seconds: int) -> None:
    assert expiry_seconds(expiry) == seconds


def test_choose_part_size_defaults_and_growth() -> None:
    assert choose_part_size(0) == 16 * MiB
    assert choose_part_size(100 * MiB) == 16 * MiB
    big = 1 * TiB
    size = choose_part_size(big)
    assert size % MiB == 0 and big / size <= MAX_PARTS
    assert choose_part_size(5 * TiB) <= MAX_PART_SIZE
    assert -(-5 * TiB // choose_part_size(5 * TiB)) <= MAX_PARTS
    assert choose_part_size(10, default=MIN_PART_SIZE) == MIN_PART_SIZE


@pytest.mark.parametrize(
    ("size", "part_size"),
    [
        (-1, None),
        (5 * TiB + 1, None),
        (100, MIN_PART_SIZE - 1),
        (100, MAX_PART_SIZE + 1),
        (MIN_PART_SIZE * MAX_PARTS + 1, MIN_PART_SIZE),
        (100, True),
    ],
)
def test_choose_part_size_refuses_impossible_plans(size: int, part_size: int | None) -> None:
    with pytest.raises(UploadError):
        choose_part_size(size, part_size)


def test_upload_session_part_arithmetic_and_round_trip() -> None:
    session = UploadSession(key="a/b", size=12 * MiB + 3, part_size=5 * MiB, content_type="text/csv", upload_id="u1")
    assert session.multipart and session.part_count == 3
    assert session.part_range(1) == (0, 5 * MiB)
    assert session.part_range(3) == (10 * MiB, 12 * MiB + 3)
    assert session.part_length(3) == 2 * MiB + 3
    for bad in (0, 4, -1, "1", 1.0, True):
        with pytest.raises(UploadError):
            session.part_range(bad)  # type: ignore[arg-type]
    assert UploadSession.from_dict(session.to_dict()) == session
    single = UploadSession(key="k", size=0, part_size=5 * MiB, headers=(("Content-Type", "text/csv"),))
    assert not single.multipart and single.part_count == 1
    assert UploadSession.from_dict(single.to_dict()) == single


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"key": "../x", "size": 1, "part_size": MIN_PART_SIZE},
        {"key": "k", "size": "many", "part_size": MIN_PART_SIZE},
        {"key": "k", "size": -1, "part_size": MIN_PART_SIZE},
        {"key": "k", "size": 1, "part_size": MIN_PART_SIZE, "content_type": "bad\r\n"},
    ],
)
def test_upload_session_from_malformed_dict(data: dict[str, object]) -> None:
    with pytest.raises((UploadError, InvalidKey, InvalidContentType)):
        UploadSession.from_dict(data)


def test_normalise_parts() -> None:
    session = UploadSession(key="k", size=11 * MiB, part_size=5 * MiB, upload_id="u")
    parts = normalise_parts(session, [(3, '"c"'), UploadedPart(1, "a", 5), (2, 'W/"b"')])
    assert parts == [(1, "a"), (2, "b"), (3, "c")]
    with pytest.raises(UploadError, match="missing: 2"):
        normalise_parts(session, [(1, "a"), (3, "c")])
    with pytest.raises(UploadError, match="twice"):
        normalise_parts(session, [(1, "a"), (1, "a"), (2, "b"), (3, "c")])
    with pytest.raises(UploadError, match="no ETag"):
        normalise_parts(session, [(1, '""'), (2, "b"), (3, "c")])
    with pytest.raises(UploadError):
        normalise_parts(session, ["garbage"])  # type: ignore[list-item]
    assert normalise_etag(' W/"abc" ') == "abc"


def test_ascii_fallback_alone_parses_to_the_sanitised_name() -> None:
    value = content_disposition('say "hi"\r\n.txt')
    fallback_only = value.split("; filename*=")[0]
    assert _filename_in(fallback_only) == 'say "hi".txt'
