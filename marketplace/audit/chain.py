"""The audit chain itself: what an entry is, how it is hashed, and how a chain is verified.

Pure Python on purpose: nothing here knows Flask or the database, so an exported file is verified offline
(``marketplace audit verify FILE``) with exactly the code that wrote the hashes.

An entry is a JSON object with the fields of :data:`FIELDS`. Its ``hash`` is the lowercase hex SHA-256 of the
canonical JSON (RFC 8785, :func:`licensing.canonical.canonical_json`) of every other field, ``prev`` included, so
each entry covers the one before it. The first entry of an organisation's chain has ``seq`` 1 and ``prev``
:data:`GENESIS`. An export is one entry per line, each line the canonical JSON of the entry with its ``hash``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from licensing.canonical import canonical_json, sha256_hex
from licensing.errors import CanonicalJSONError

#: The ``prev`` of an organisation's first entry.
GENESIS = "0" * 64
#: The fields the hash covers, in the order an export shows them (the canonical form sorts them anyway).
FIELDS = ("organisation", "seq", "at", "kind", "subject", "actor", "data", "prev")
#: An event kind: dotted lowercase words, such as ``license.issued`` or ``access.request_approved``.
KIND_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
_HASH = re.compile(r"^[0-9a-f]{64}$")
_AT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")


def format_time(moment: datetime) -> str:
    """The one text form of an entry's time: UTC, microseconds, ``Z`` (naive datetimes are refused)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given; use timezone-aware UTC")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(entry: Mapping[str, Any]) -> str:
    """The hash of ``entry``: SHA-256 over the canonical JSON of the fields in :data:`FIELDS` (``hash`` excluded).

    Raises :class:`~licensing.errors.CanonicalJSONError` when a value is not canonical JSON (e.g. a float).
    """
    return sha256_hex({name: entry[name] for name in FIELDS})


def export_line(entry: Mapping[str, Any]) -> str:
    """One line of an export: the canonical JSON of the entry's fields plus its ``hash`` (no newline)."""
    shown = {name: entry[name] for name in FIELDS}
    shown["hash"] = entry["hash"]
    return canonical_json(shown).decode("utf-8")


@dataclass(frozen=True)
class Verdict:
    """The outcome of verifying a chain: ``ok``, how many entries, the head's hash; else the first bad line."""

    ok: bool
    count: int
    head: str
    line: int | None = None
    problem: str = ""
    #: The chain's organisation (None for an empty chain).
    organisation: int | None = None
    #: What else was checked (e.g. the signed head), for a person.
    note: str = ""

    def describe(self) -> str:
        """One line for a person: ``OK: 12 entries, head <hash>`` or ``line 7: hash mismatch (…)``."""
        if self.ok:
            entries = "1 entry" if self.count == 1 else f"{self.count} entries"
            return f"OK: {entries}, head {self.head}" + (f"; {self.note}" if self.note else "")
        return f"line {self.line}: {self.problem}"


class _Bad(Exception):
    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def _shape(raw: str) -> dict[str, Any]:
    """The entry on one line, once it is readable JSON with the fields and types an entry has."""
    try:
        entry = json.loads(raw)
    except json.JSONDecodeError as error:
        raise _Bad(f"unreadable JSON ({error.msg})") from error
    if not isinstance(entry, dict):
        raise _Bad("unreadable entry (not a JSON object)")
    missing = [name for name in (*FIELDS, "hash") if name not in entry]
    if missing:
        raise _Bad("unreadable entry (missing " + ", ".join(missing) + ")")
    extra = sorted(set(entry) - {*FIELDS, "hash"})
    if extra:
        raise _Bad("unreadable entry (unknown field " + ", ".join(extra) + ")")
    checks = {
        "organisation": isinstance(entry["organisation"], int) and not isinstance(entry["organisation"], bool),
        "seq": isinstance(entry["seq"], int) and not isinstance(entry["seq"], bool) and entry["seq"] >= 1,
        "at": isinstance(entry["at"], str) and bool(_AT.match(entry["at"])),
        "kind": isinstance(entry["kind"], str) and bool(KIND_PATTERN.match(entry["kind"])),
        "subject": isinstance(entry["subject"], dict)
        and set(entry["subject"]) == {"type", "id"}
        and all(isinstance(v, str) for v in entry["subject"].values()),
        "actor": isinstance(entry["actor"], str),
        "data": isinstance(entry["data"], dict),
        "prev": isinstance(entry["prev"], str) and bool(_HASH.match(entry["prev"])),
        "hash": isinstance(entry["hash"], str) and bool(_HASH.match(entry["hash"])),
    }
    wrong = [name for name, fine in checks.items() if not fine]
    if wrong:
        raise _Bad("unreadable entry (malformed " + ", ".join(wrong) + ")")
    return entry


def _check(entry: dict[str, Any], previous: dict[str, Any] | None) -> None:
    """Raise :class:`_Bad` when ``entry`` does not hash to its ``hash`` or does not follow ``previous``."""
    try:
        computed = entry_hash(entry)
    except CanonicalJSONError as error:
        raise _Bad(f"unreadable entry ({error})") from error
    if computed != entry["hash"]:
        raise _Bad(f"hash mismatch (the entry hashes to {computed}, the line says {entry['hash']})")
    expected_seq = 1 if previous is None else previous["seq"] + 1
    if previous is not None and entry["organisation"] != previous["organisation"]:
        raise _Bad(f"another organisation's entry ({entry['organisation']}, the chain is {previous['organisation']})")
    if entry["seq"] != expected_seq:
        raise _Bad(f"sequence gap (expected seq {expected_seq}, found {entry['seq']})")
    expected_prev = GENESIS if previous is None else previous["hash"]
    if entry["prev"] != expected_prev:
        raise _Bad(f"broken link (prev is {entry['prev']}, the previous entry's hash is {expected_prev})")


def verify_entries(entries: Iterable[Mapping[str, Any]]) -> Verdict:
    """Verify already-parsed entries (e.g. read from the database), numbering them from 1 like lines."""
    previous: dict[str, Any] | None = None
    count = 0
    for number, entry in enumerate(entries, start=1):
        try:
            _check(dict(entry), previous)
        except _Bad as bad:
            return Verdict(False, count, previous["hash"] if previous else GENESIS, number, bad.problem)
        previous = dict(entry)
        count += 1
    if previous is None:
        return Verdict(True, 0, GENESIS)
    return Verdict(True, count, previous["hash"], organisation=previous["organisation"])


def verify_lines(lines: Iterable[str | bytes]) -> Verdict:
    """Verify an export, line by line: each line readable, hashing to its ``hash``, following the line before
    (``seq`` one more, ``prev`` its hash, the same organisation), the first being ``seq`` 1 after :data:`GENESIS`.

    Stops at the first bad line and names it (1-based) with the reason: unreadable JSON, hash mismatch, sequence
    gap or broken link. A blank last line (a trailing newline) is allowed; a blank line elsewhere is not. Lines
    given as bytes (a file opened in binary) must be UTF-8.
    """
    previous: dict[str, Any] | None = None
    count = 0
    pending_blank: int | None = None
    for number, raw in enumerate(lines, start=1):
        try:
            text = (raw.decode("utf-8") if isinstance(raw, bytes) else raw).rstrip("\r\n")
        except UnicodeDecodeError:
            text = "\ufffd"  # not blank: reported below as unreadable
        if not text.strip():
            pending_blank = pending_blank or number
            continue
        try:
            if pending_blank is not None:
                raise _Bad("blank line inside the chain")
            if text == "\ufffd":
                raise _Bad("unreadable JSON (not UTF-8)")
            entry = _shape(text)
            _check(entry, previous)
        except _Bad as bad:
            bad_line = pending_blank if pending_blank is not None else number
            return Verdict(False, count, previous["hash"] if previous else GENESIS, bad_line, bad.problem)
        previous = entry
        count += 1
    if previous is None:
        return Verdict(True, 0, GENESIS)
    return Verdict(True, count, previous["hash"], organisation=previous["organisation"])
