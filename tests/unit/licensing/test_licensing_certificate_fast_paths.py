"""The fast paths of signing and verification give exactly what the straightforward code gives.

Signing writes the claims' JSON directly and caches the header segment and the key; verification decodes base64url
and JSON with prebuilt decoders and remembers well-formed headers and parsed JWKS documents. Each is compared here
with the plain version it replaces (json.dumps, joserfc, base64 with a canonical re-encoding, json.loads with hooks),
and the in-line verification of usual certificates with the general path, on certificates and signed near misses.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
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
from licensing._jws import b64decode, b64encode, json_object
from licensing.certificates import _REGISTRY, _payload_json
from licensing.grants import AgreementRef

DAY = timedelta(days=1)
_B64URL = re.compile(r"^[A-Za-z0-9_-]+$")
B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


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
    assert b64decode(segment.encode("ascii")) == _plain_b64decode(segment)


@pytest.mark.parametrize(
    "segment",
    [
        "QUJD",
        "QUJDRA",
        "QUJD    REVG",  # four bytes outside the alphabet: a lenient decoder would skip them and decode 6 bytes
        "QUJD!!!!REVG",
        "QUJD\n\n\n\nREVG",
        "QU+DREVG",
        "QU/DREVG",
        "QUJDREV=",
        "QUJDRE==",
        "QUJD====REVG",
        "QUJDRB",  # unused bits set: decodes as "QUJDRA" would
    ],
)
def test_strict_base64url_refuses_what_a_lenient_decoder_takes(segment: str) -> None:
    assert b64decode(segment.encode("ascii")) == _plain_b64decode(segment)
    assert (b64decode(segment.encode("ascii")) is None) is (segment not in ("QUJD", "QUJDRA"))


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


def _signed(keyring: KeyRing, head: str, body: str | bytes) -> str:
    """A token made of the header segment and the payload segment (or the payload's bytes, encoded), as they are,
    with a valid signature over them."""
    if isinstance(body, bytes):
        body = base64.urlsafe_b64encode(body).decode().rstrip("=")
    key = keyring.signer.key.private_key
    assert isinstance(key, Ed25519PrivateKey)
    signature = base64.urlsafe_b64encode(key.sign(f"{head}.{body}".encode("ascii"))).rstrip(b"=").decode()
    return f"{head}.{body}.{signature}"


def _known_head(keyring: KeyRing) -> str:
    """The header segment of the key ring's certificates, once verification has remembered it (so that tokens
    made with it take the in-line path)."""
    token = issue_certificate(make_grant(), keyring, ISSUER)
    assert verify_certificate(token, keyring, T0).valid
    return token.split(".")[0]


def _payload_with(wanted: str) -> bytes:
    """A payload (of a grant to a made-up licensee) whose standard base64 holds one of the characters in
    ``wanted`` or, for ``"="``, needs padding."""
    for i in range(500):
        payload = _plain_payload(make_grant(licensee=f"org-{i}?>~"))
        if any(c in base64.b64encode(payload).decode() for c in wanted):
            return payload
    raise AssertionError("no such payload")  # pragma: no cover


@pytest.mark.parametrize("character", ["+", "/"])
def test_standard_base64_characters_are_refused_even_when_signed(keyring: KeyRing, character: str) -> None:
    head, payload = _known_head(keyring), _payload_with(character)
    body = base64.b64encode(payload).decode().rstrip("=")  # "+" and "/" where base64url has "-" and "_"
    result = verify_certificate(_signed(keyring, head, body), keyring, T0)
    assert result.reason is VerificationReason.MALFORMED and "base64url" in result.message
    assert verify_certificate(_signed(keyring, head, payload), keyring, T0).valid


def test_padding_and_stray_characters_are_refused_even_when_signed(keyring: KeyRing) -> None:
    head, payload = _known_head(keyring), _payload_with("=")
    padded = base64.urlsafe_b64encode(payload).decode()
    unpadded = padded.rstrip("=")
    assert padded != unpadded
    last = B64URL.index(unpadded[-1])
    bits = 0x0F if len(unpadded) % 4 == 2 else 0x03
    twin = unpadded[:-1] + B64URL[last ^ 1 if last & bits else last | 1]  # same bytes, unused bits set
    spaced = unpadded[:8] + "    " + unpadded[8:]  # a lenient decoder skips the spaces
    for body in (padded, twin, spaced, unpadded + "=" * (-len(unpadded) % 4 or 4)):
        result = verify_certificate(_signed(keyring, head, body), keyring, T0)
        assert result.reason is VerificationReason.MALFORMED and "base64url" in result.message, body[-6:]
    assert verify_certificate(_signed(keyring, head, unpadded), keyring, T0).valid


def test_a_duplicate_member_is_refused_even_in_the_usual_claims(keyring: KeyRing) -> None:
    head, payload = _known_head(keyring), _plain_payload(make_grant())
    assert payload.startswith(b'{"all_versions":true,')
    duplicated = b'{"all_versions":false,' + payload[1:]  # a JSON reader keeps the last one
    result = verify_certificate(_signed(keyring, head, duplicated), keyring, T0)
    assert result.reason is VerificationReason.MALFORMED and "JSON" in result.message
    unsorted = json.dumps(dict(reversed(json.loads(payload).items()))).encode()  # not orjson's own writing
    assert verify_certificate(_signed(keyring, head, unsorted), keyring, T0).valid


CHANGED_CLAIMS: list[dict[str, Any]] = [
    {"iat": "now"},
    {"iat": True},
    {"nbf": 1.5},
    {"exp": "never"},
    {"exp": False},
    {"jti": "other"},
    {"dataset": "ds"},
    {"versions": "1.0.0"},
    {"all_versions": 0},
    {"agreement": "dua-1"},
    {"agreement": {"id": "dua-1", "version": "1"}},
    {"contract": {"id": "c-1", "deliveries": []}},
    {"nbf": 2_000_000_000},
    {"exp": 1},
]


def _tokens(keyring: KeyRing) -> list[str]:
    """Certificates and near misses: bytes of one certificate changed, segments added, cut or changed, signed
    payloads that are not a certificate's claims."""
    head = _known_head(keyring)
    token = issue_certificate(make_grant(), keyring, ISSUER)
    body, tail = token.split(".")[1:]
    tokens = [token, issue_certificate(make_grant(make_offer("CC-BY-4.0")), keyring, ISSUER)]
    tokens += [token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :] for i in range(0, len(token), 7)]
    tokens += [f"{head}.{body}.{tail}A", f"{head}.{body}.{tail}AAAA", f"{head}.{body}.{tail[:-4]}", f"{head}.{body}"]
    tokens += [f"{head}.{body}.{tail}.", f"{head}.{body}A.{tail}", f"{head}.{body[:-1]}.{tail}", f"{head}..{tail}"]
    tokens += [f"{head}.{body}.", f"{head}.{body}.{tail[:8]}    {tail[12:]}", f"{head}.{body}.{tail[:-2]}!!"]
    agreement = AgreementRef("dua-1", "v1", "ab" * 32)
    tokens += [issue_certificate(make_grant(agreement=agreement), keyring, ISSUER)]
    tokens += [issue_certificate(make_grant(), keyring, ISSUER, contract=ContractClaim("c-1", (("1.0.0", "d"),)))]
    claims = certificate_claims(make_grant(), ISSUER)
    payloads = [b"[1]", b"1", b'"x"', b"{}", b"null", b'{"a":1,"a":1}']
    payloads += [
        json.dumps(claims | change, sort_keys=True, separators=(",", ":")).encode() for change in CHANGED_CLAIMS
    ]
    payloads += [json.dumps({k: v for k, v in claims.items() if k != name}, sort_keys=True).encode() for name in claims]
    return tokens + [_signed(keyring, head, payload) for payload in payloads]


def test_the_in_line_path_gives_what_the_general_path_gives(keyring: KeyRing) -> None:
    from licensing.certificates import _verify_parts

    keys = PublicKeys(keyring.public_jwks(T0))
    other = PublicKeys(KeyRing.generate(T0).public_jwks(T0))
    outcomes = set()
    for at in (T0 - DAY, T0, T0 + 400 * DAY):
        for token in _tokens(keyring):
            for jwks in (keys, other):
                data = token.encode("ascii")
                expected = _verify_parts(data.split(b"."), data, jwks, int(at.timestamp()), 0)
                result = verify_certificate(token, jwks, at)
                assert (result, result.header) == (expected, expected.header), token
                outcomes.add(result.reason)
    assert outcomes == {None, *VerificationReason}


@pytest.mark.parametrize("change", CHANGED_CLAIMS)
def test_claims_that_are_not_a_certificates_are_refused_on_the_in_line_path(
    keyring: KeyRing, change: dict[str, Any]
) -> None:
    claims = certificate_claims(make_grant(), ISSUER) | change
    payload = json.dumps(claims, sort_keys=True, separators=(",", ":")).encode()
    result = verify_certificate(_signed(keyring, _known_head(keyring), payload), keyring, T0 + DAY)
    assert not result.valid and result.reason in {
        VerificationReason.MALFORMED,
        VerificationReason.NOT_YET_VALID,
        VerificationReason.EXPIRED,
    }
