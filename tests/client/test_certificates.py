"""Offline certificate verification in the client, against certificates the marketplace's licensing engine
signs: the same algorithm, the same strictness, no server code imported by the client."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from marketplace_client import PublicKeys, verify_certificate
from marketplace_client.certificates import read_certificate_file

from licensing import KeyRing, issue_certificate
from tests.unit.licensing.licensing_testkit import ISSUER, T0, make_grant


@pytest.fixture()
def keyring() -> KeyRing:
    return KeyRing.generate(T0)


def test_a_certificate_the_engine_signed_verifies_offline(keyring: KeyRing) -> None:
    token = issue_certificate(make_grant(), keyring, ISSUER)
    result = verify_certificate(token, json.loads(json.dumps(keyring.public_jwks(T0))), now=T0 + timedelta(days=1))
    assert result.valid and result.reason is None and result.kid == keyring.signer_kid
    assert result.claims is not None and result.claims["dataset"]["slug"] == "speech-de"


def test_changing_any_character_fails(keyring: KeyRing) -> None:
    token = issue_certificate(make_grant(), keyring, ISSUER)
    keys = PublicKeys(keyring.public_jwks(T0))
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for index in range(0, len(token), 7):
        if token[index] == ".":
            continue
        changed = token[:index] + next(c for c in alphabet if c != token[index]) + token[index + 1 :]
        result = verify_certificate(changed, keys, now=T0 + timedelta(days=1))
        assert not result.valid and result.reason in {"malformed", "bad_signature", "unknown_key"}, index


def test_time_and_keys(keyring: KeyRing) -> None:
    token = issue_certificate(make_grant(), keyring, ISSUER)
    keys = PublicKeys(keyring.public_jwks(T0))
    assert verify_certificate(token, keys, now=T0 - timedelta(days=1)).reason == "not_yet_valid"
    assert verify_certificate(token, keys, now=T0 + timedelta(days=366)).reason == "expired"
    other = PublicKeys(KeyRing.generate(T0).public_jwks(T0))
    assert verify_certificate(token, other, now=T0).reason == "unknown_key"
    assert verify_certificate("not.a-token", keys, now=T0).reason == "malformed"


def test_certificate_files_hold_the_token_or_the_api_json(tmp_path: Path, keyring: KeyRing) -> None:
    token = issue_certificate(make_grant(), keyring, ISSUER)
    (tmp_path / "a.jwt").write_text(token + "\n")
    (tmp_path / "b.json").write_text(json.dumps({"license_id": "x", "certificate": token}))
    assert read_certificate_file(tmp_path / "a.jwt") == token == read_certificate_file(tmp_path / "b.json")
