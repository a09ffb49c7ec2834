"""The audit chain offline: hashing, the export's lines, and verification naming the first bad line and why."""

from __future__ import annotations

import ast
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from licensing.canonical import canonical_json
from marketplace.audit import chain
from marketplace.audit.chain import GENESIS, entry_hash, export_line, format_time, verify_entries, verify_lines

START = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def build(count: int, *, organisation: int = 7) -> list[dict[str, Any]]:
    """A valid chain of ``count`` entries, built the way the service builds them."""
    entries: list[dict[str, Any]] = []
    prev = GENESIS
    for seq in range(1, count + 1):
        entry = {
            "organisation": organisation,
            "seq": seq,
            "at": format_time(START + timedelta(minutes=seq)),
            "kind": "license.issued" if seq % 2 else "download.link_issued",
            "subject": {"type": "license", "id": f"01HX{seq:022d}"},
            "actor": f"user:{seq}",
            "data": {"dataset": "speech-corpus", "reason": "ünïcode ✓", "n": seq, "tags": ["a", None, True]},
            "prev": prev,
        }
        entry["hash"] = entry_hash(entry)
        prev = entry["hash"]
        entries.append(entry)
    return entries


def lines_of(entries: list[dict[str, Any]]) -> list[str]:
    return [export_line(e) + "\n" for e in entries]


def test_a_valid_export_verifies_with_its_count_and_head() -> None:
    entries = build(5)
    verdict = verify_lines(lines_of(entries))
    assert verdict.ok and verdict.count == 5 and verdict.head == entries[-1]["hash"]
    assert verdict.describe() == f"OK: 5 entries, head {entries[-1]['hash']}"


def test_an_empty_export_verifies_as_an_empty_chain() -> None:
    assert verify_lines([]).describe() == f"OK: 0 entries, head {GENESIS}"


def test_lines_are_canonical_json_and_bytes_verify_too() -> None:
    entries = build(3)
    lines = lines_of(entries)
    for line, entry in zip(lines, entries, strict=True):
        assert line.rstrip("\n").encode() == canonical_json(entry)
    assert verify_lines([line.encode() for line in lines]).ok


def test_the_hash_covers_every_field_including_the_previous_hash() -> None:
    entry = build(1)[0]
    for name, other in [
        ("organisation", 8), ("seq", 2), ("at", format_time(START)), ("kind", "license.revoked"),
        ("subject", {"type": "license", "id": "x"}), ("actor", "system"), ("data", {}), ("prev", "1" * 64),
    ]:  # fmt: skip
        assert entry_hash({**entry, name: other}) != entry["hash"], name


def test_the_hash_does_not_depend_on_key_order() -> None:
    entry = build(1)[0]
    shuffled = dict(reversed(list(entry.items())))
    shuffled["data"] = dict(reversed(list(entry["data"].items())))
    assert entry_hash(shuffled) == entry["hash"]


def test_changing_one_line_fails_naming_that_line() -> None:
    lines = lines_of(build(6))
    entry = json.loads(lines[3])
    entry["data"]["dataset"] = "another-dataset"
    lines[3] = json.dumps(entry) + "\n"
    verdict = verify_lines(lines)
    assert not verdict.ok and verdict.line == 4 and verdict.count == 3
    assert verdict.problem.startswith("hash mismatch")
    assert verdict.describe().startswith("line 4: hash mismatch")


def test_a_rewritten_line_with_a_fresh_hash_breaks_the_next_link() -> None:
    entries = build(6)
    forged = {**entries[2], "actor": "user:999"}
    forged["hash"] = entry_hash(forged)
    lines = lines_of(entries)
    lines[2] = export_line(forged) + "\n"
    verdict = verify_lines(lines)
    assert (verdict.line, verdict.problem.split(" (")[0]) == (4, "broken link")


def test_deleting_a_line_fails_as_a_sequence_gap_at_the_next_line() -> None:
    lines = lines_of(build(6))
    del lines[2]
    verdict = verify_lines(lines)
    assert verdict.line == 3 and verdict.problem == "sequence gap (expected seq 3, found 4)"


def test_deleting_the_first_line_fails_on_line_one() -> None:
    verdict = verify_lines(lines_of(build(3))[1:])
    assert verdict.line == 1 and verdict.problem.startswith("sequence gap (expected seq 1, found 2)")


def test_reordering_lines_fails_naming_the_first_moved_line() -> None:
    lines = lines_of(build(6))
    lines[2], lines[3] = lines[3], lines[2]
    verdict = verify_lines(lines)
    assert verdict.line == 3 and verdict.problem == "sequence gap (expected seq 3, found 4)"


def test_renumbering_after_a_deletion_still_fails_on_the_link() -> None:
    entries = build(5)
    del entries[1]
    for entry in entries[1:]:  # renumber and rehash each, but the links still point at the deleted entry
        entry["seq"] -= 1
        entry["hash"] = entry_hash(entry)
    verdict = verify_lines(lines_of(entries))
    assert verdict.line == 2 and verdict.problem.startswith("broken link")


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("{not json", "unreadable JSON"),
        ("[1, 2]", "unreadable entry (not a JSON object)"),
        ('{"seq": 2}', "unreadable entry (missing organisation, at, kind"),
    ],
)
def test_an_unreadable_line_is_named(line: str, problem: str) -> None:
    lines = lines_of(build(3))
    lines[1] = line + "\n"
    verdict = verify_lines(lines)
    assert verdict.line == 2 and verdict.problem.startswith(problem)


def test_malformed_fields_floats_extra_fields_and_bad_utf8_are_unreadable() -> None:
    entries = build(2)
    cases = {
        "malformed seq": {**entries[1], "seq": "2"},
        "malformed at": {**entries[1], "at": "yesterday"},
        "unknown field extra": {**entries[1], "extra": 1},
        "must be integers": {**entries[1], "data": {"price": 1.5}},
    }
    for expected, bad in cases.items():
        verdict = verify_lines([export_line(entries[0]) + "\n", json.dumps(bad) + "\n"])
        assert verdict.line == 2 and "unreadable" in verdict.problem, expected
    verdict = verify_lines([export_line(entries[0]).encode() + b"\n", b"\xff\xfe{}\n"])
    assert (verdict.line, verdict.problem) == (2, "unreadable JSON (not UTF-8)")


def test_a_blank_line_inside_fails_but_a_trailing_newline_does_not() -> None:
    lines = lines_of(build(3))
    assert verify_lines([*lines, "\n"]).ok
    verdict = verify_lines([lines[0], "\n", lines[1], lines[2]])
    assert (verdict.line, verdict.problem) == (2, "blank line inside the chain")


def test_another_organisations_entry_in_the_middle_is_refused() -> None:
    ours, theirs = build(3), build(3, organisation=8)
    verdict = verify_lines(lines_of(ours[:2]) + lines_of(theirs[2:]))
    assert verdict.line == 3 and verdict.problem.startswith("another organisation's entry")


def test_verify_entries_uses_the_same_rules() -> None:
    entries = build(4)
    assert verify_entries(entries).ok
    entries[1] = {**entries[1], "kind": "license.revoked"}
    assert verify_entries(entries).line == 2


def test_time_is_utc_with_microseconds_and_naive_times_are_refused() -> None:
    assert format_time(datetime(2026, 1, 2, 4, 5, 6, 7, tzinfo=UTC)) == "2026-01-02T04:05:06.000007Z"
    with pytest.raises(ValueError, match="naive"):
        format_time(datetime(2026, 1, 2))


def test_the_chain_module_imports_neither_flask_nor_the_database() -> None:
    tree = ast.parse(Path(chain.__file__).read_text(encoding="utf-8"))
    imported = {
        (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    roots = {name.split(".")[0] for name in imported}
    assert roots <= {"__future__", "json", "re", "collections", "dataclasses", "datetime", "typing", "licensing"}
