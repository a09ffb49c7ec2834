"""The signed head: a wholesale rewrite, a dropped tail or a forged signature fails; a genuine export verifies."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from licensing import KeyRing
from marketplace.audit.chain import GENESIS, entry_hash, export_line
from marketplace.audit.signing import head_line, sign_head, verify_export
from tests.unit.audit.test_chain import build

AT = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def ring() -> KeyRing:
    return KeyRing.generate(AT)


def signed(entries: list[dict], ring: KeyRing, *, organisation: int = 7) -> list[str]:
    head = entries[-1]["hash"] if entries else GENESIS
    token = sign_head(ring, issuer="https://market.example", organisation_id=organisation, seq=len(entries),
                      head=head, at=AT)  # fmt: skip
    return [export_line(e) + "\n" for e in entries] + [head_line(token) + "\n"]


def test_a_genuine_export_verifies_with_and_without_the_jwks(ring: KeyRing) -> None:
    lines = signed(build(4), ring)
    checked = verify_export(lines, ring.public_jwks())
    assert checked.ok and checked.count == 4
    assert checked.note == f"head signed by https://market.example at 2026-11-30T14:00:00Z, key {ring.signer_kid}: " \
        "signature valid"  # fmt: skip
    unchecked = verify_export(lines)
    assert unchecked.ok and unchecked.note.endswith("(signature not checked: no JWKS)")


def test_an_empty_chain_can_be_signed(ring: KeyRing) -> None:
    assert verify_export(signed([], ring), ring.public_jwks()).ok


def test_a_wholesale_rewrite_fails_on_the_signed_head(ring: KeyRing) -> None:
    genuine = signed(build(4), ring)
    rewritten = build(4)
    rewritten[2]["data"] = {"dataset": "rewritten"}
    previous = rewritten[1]["hash"]
    for entry in rewritten[2:]:  # every hash recomputed: the chain alone looks whole
        entry["prev"] = previous
        entry["hash"] = previous = entry_hash(entry)
    lines = [export_line(e) + "\n" for e in rewritten] + genuine[-1:]
    verdict = verify_export(lines, ring.public_jwks())
    assert verdict.line == 5 and verdict.problem.startswith("signed head does not match the chain")


def test_a_head_signed_by_another_key_or_with_a_broken_signature_fails(ring: KeyRing) -> None:
    entries = build(3)
    forged = signed(entries, KeyRing.generate(AT))
    verdict = verify_export(forged, ring.public_jwks())
    assert verdict.line == 4 and verdict.problem.endswith("is not in the JWKS")
    lines = signed(entries, ring)
    token = json.loads(lines[-1])["signed_head"]
    header, payload, signature = token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    lines[-1] = head_line(f"{header}.{payload}.{flipped}") + "\n"
    assert verify_export(lines, ring.public_jwks()).problem == "signed head: bad signature"


def test_a_head_for_another_organisation_fails(ring: KeyRing) -> None:
    lines = signed(build(2), ring, organisation=8)
    assert verify_export(lines).problem.startswith("signed head does not match the chain (it signs organisation 8")


def test_an_unreadable_signed_head_is_named(ring: KeyRing) -> None:
    lines = signed(build(2), ring)
    lines[-1] = head_line("not.a.token") + "\n"
    verdict = verify_export(lines)
    assert verdict.line == 3 and verdict.problem.startswith("unreadable signed head")


def test_a_signed_head_in_the_middle_is_not_an_entry(ring: KeyRing) -> None:
    lines = signed(build(2), ring)
    verdict = verify_export([lines[0], lines[2], lines[1]])
    assert verdict.line == 2 and verdict.problem.startswith("unreadable entry (missing")
