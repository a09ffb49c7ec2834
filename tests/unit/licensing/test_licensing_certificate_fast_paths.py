"""The fast paths of signing and verification give exactly what the straightforward code gives.

Signing writes the claims' JSON directly and caches the header segment and the key; verification decodes base64url
and JSON with prebuilt decoders and remembers well-formed headers and parsed JWKS documents. Each is compared here
with the plain version it replaces (json.dumps, joserfc, base64 with a canonical re-encoding, json.loads with hooks).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from joserfc import jws
from licensing_testkit import ISSUER, T0, grants, make_grant, make_offer

from licensing import (
    CERTIFICATE_TYPE,
    ContractClaim,
    Grant,
    KeyRing,
    PublicKeys,
    VerificationReason,
    certificate_claims,
    issue_certificate,
    verify_certificate,
)
from licensing._jws import TO_STANDARD, b64decode, b64encode, json_object
from licensing.certificates import _REGISTRY, _payload_json
from licensing.grants import AgreementRef

DAY = timedelta(days=1)
_B64URL = re.compile(r"^[A-Za-z0-9_-]+$")


def _plain_payload(grant: Grant, contract: ContractClaim | None = None) -> bytes:
    claims = certificate_claims(grant, ISSUER, contract=contract)
    return json.dumps(claims, separators=(",", ":"), sort_keys=True).encode("ascii")


@settings(max_examples=60, deadline=None)
@given(grants())
def test_payload_is_the_sorted_compact_json_of_the_claims(grant: Grant) -> None:
    iat = int(grant.issued_at.timestamp())
    assert _payload_json(grant, ISSUER, iat, None) == _plain_payload(grant)


@settings(max_examples=60, deadline=None)
@given(
    st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp")), min_size=1, max_size=12),
    st.one_of(st.none(), st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp")), min_size=1)),
    st.lists(st.tuples(st.text(min_size=1, max_size=5), st.text(min_size=1, max_size=5)), min_size=1, max_size=3),
    st.booleans(),
)
def test_payload_escapes_every_string_as_json_does(
    ident: str, slug: str | None, deliveries: list[tuple[str, str]], with_agreement: bool
) -> None:
    agreement = AgreementRef(ident, "v1", "ab" * 32) if with_agreement else None
    grant = make_grant(licensee=ident, dataset_id=f'ds-"{ident}\\', dataset_slug=slug, agreement=agreement)
    contract = ContractClaim(ident, tuple(deliveries))
    iat = int(grant.issued_at.timestamp())
    assert _payload_json(grant, ISSUER, iat, contract) == _plain_payload(grant, contract)
    assert _payload_json(grant, ISSUER, iat, None) == _plain_payload(grant)


def test_perpetual_grant_payload_has_no_exp() -> None:
    grant = make_grant(make_offer("CC-BY-4.0"))
    assert grant.valid_until is None
    assert _payload_json(grant, ISSUER, int(grant.issued_at.timestamp()), None) == _plain_payload(grant)
    assert b'"exp"' not in _plain_payload(grant)


def test_token_is_byte_for_byte_what_joserfc_signs(keyring: KeyRing) -> None:
    grant = make_grant()
    token = issue_certificate(grant, keyring, ISSUER)
    header = {"alg": "EdDSA", "kid": keyring.signer_kid, "typ": CERTIFICATE_TYPE}
    expected = jws.serialize_compact(header, _plain_payload(grant), keyring.signer.key, registry=_REGISTRY)
    assert token == expected  # Ed25519 signatures are deterministic
    keyring.rotate(T0)
    segment = issue_certificate(grant, keyring, ISSUER).split(".")[0]
    assert json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))["kid"] == keyring.signer_kid


def test_expiries_recorded_while_signing_reach_the_saved_key_ring(keyring: KeyRing) -> None:
    first, later = make_grant(), make_grant(issued_at=T0 + 10 * DAY)
    issue_certificate(later, keyring, ISSUER)
    issue_certificate(first, keyring, ISSUER)
    assert keyring.signer.latest_expiry == later.valid_until
    saved = keyring.to_dict()["keys"][0]
    assert saved["latest_expiry"] is not None and saved["latest_expiry"].startswith(str(later.valid_until)[:10])
    old = keyring.signer_kid
    keyring.rotate(T0 + DAY)
    assert keyring.get(old).retire_after == later.valid_until
    token = issue_certificate(first, keyring, ISSUER)  # the new signer signs, with its own header
    assert verify_certificate(token, keyring, T0).kid == keyring.signer_kid != old


def _plain_b64decode(segment: str) -> bytes | None:
    if not _B64URL.match(segment):
        return None
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        return None
    return raw if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") == segment else None


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(
        st.text("ABCDEFabcdef0123456789-_+/= \n", max_size=12),
        st.binary(max_size=9).map(lambda b: b64encode(b).decode()),
    )
)
def test_strict_base64url_matches_the_canonical_re_encoding(segment: str) -> None:
    assert b64decode(segment.encode("ascii").translate(TO_STANDARD)) == _plain_b64decode(segment)


def _plain_json_object(raw: bytes) -> dict[str, Any] | None:
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                raise ValueError(key)
            result[key] = value
        return result

    def reject(name: str) -> Any:
        raise ValueError(name)

    try:
        value = json.loads(raw.decode("utf-8"), object_pairs_hook=no_duplicates, parse_constant=reject)
    except (UnicodeDecodeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a":1}',
        b' {"a": 1} ',
        b'{"a":1}\n',
        b'{"a":1} x',
        b'{"a":{"b":1,"b":2}}',
        b'{"a":[{"b":1},{"c":1,"c":1}]}',
        b'{"a":1,"a":1}',
        b'{"a":NaN}',
        b'{"a":-Infinity}',
        b"[1]",
        b"",
        b"\xef\xbb\xbf{}",
        b'{"a":"\xff"}',
        b'{"a":1}{"b":2}',
        b'{"\\u0061":1,"a":2}',
        # Compact, sorted text (what orjson reads and writes back byte for byte) and its near misses.
        b'{"a":1,"b":[1,2,{"c":null}],"d":{"e":true,"f":"x"}}',
        b'{"a":{"b":1,"b":1}}',
        b'{"a":1,"a":1,"b":2}',
        b'{"b":1,"a":2}',
        b'{"a":123456789012345678901234567890}',
        b'{"a":"\\u00e9"}',
        b'{"a":"\xc3\xa9"}',
        b'{"a":1.0}',
    ],
)
def test_strict_json_matches_json_loads_with_hooks(raw: bytes) -> None:
    assert json_object(raw) == _plain_json_object(raw)


def test_parsed_jwks_documents_are_reused_but_follow_changes(keyring: KeyRing) -> None:
    document = keyring.public_jwks(T0)
    first = PublicKeys.coerce(document)
    assert PublicKeys.coerce(json.loads(json.dumps(document))) is first
    assert PublicKeys.coerce(json.dumps(document)) is PublicKeys.coerce(json.dumps(document))
    token = issue_certificate(make_grant(), keyring, ISSUER)
    other = KeyRing.generate(T0).public_jwks(T0)
    swapped = {"keys": [{**document["keys"][0], "x": other["keys"][0]["x"]}]}
    assert PublicKeys.coerce(swapped) is not first
    assert verify_certificate(token, swapped, T0).reason is VerificationReason.BAD_SIGNATURE
    assert verify_certificate(token, {"keys": []}, T0).reason is VerificationReason.UNKNOWN_KEY
    assert verify_certificate(token, document, T0).valid
    unhashable = {"keys": [{**document["keys"][0], "x": ["not", "a", "string"]}]}
    assert PublicKeys.coerce(unhashable).kids() == []


def test_key_ring_verification_keys_follow_rotation_and_pruning(keyring: KeyRing) -> None:
    token = issue_certificate(make_grant(), keyring, ISSUER)
    old = keyring.signer_kid
    assert set(keyring.verification_keys()) == {old}
    keyring.rotate(T0, retire_after=T0 + DAY)
    assert set(keyring.verification_keys()) == {old, keyring.signer_kid}
    assert verify_certificate(token, keyring, T0).valid
    keyring.prune(T0 + 2 * DAY)
    assert set(keyring.verification_keys()) == {keyring.signer_kid}
    assert verify_certificate(token, keyring, T0).reason is VerificationReason.UNKNOWN_KEY


def test_a_remembered_header_still_needs_its_key_and_signature(keyring: KeyRing) -> None:
    token = issue_certificate(make_grant(), keyring, ISSUER)
    assert verify_certificate(token, keyring, T0).valid  # the header is now remembered
    result = verify_certificate(token, KeyRing.generate(T0), T0)
    assert result.reason is VerificationReason.UNKNOWN_KEY
    head, payload, signature = token.split(".")
    forged = ".".join([head, payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1], signature])
    reasons = {VerificationReason.BAD_SIGNATURE, VerificationReason.MALFORMED}
    assert verify_certificate(forged, keyring, T0).reason in reasons
    result = verify_certificate(token, keyring, T0)
    assert result.header == {"alg": "EdDSA", "kid": keyring.signer_kid, "typ": CERTIFICATE_TYPE}
    assert result.header is not verify_certificate(token, keyring, T0).header  # each result has its own copy
