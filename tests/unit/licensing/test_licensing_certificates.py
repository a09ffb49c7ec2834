"""Certificates: signing, independent verification with PyJWT, tampering, time, keys and rotation."""

from __future__ import annotations

import base64
import json
import os
import stat
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from hypothesis import given, settings
from licensing_testkit import ISSUER, T0, grants, make_grant, make_offer

from licensing import (
    CERTIFICATE_TYPE,
    CertificateError,
    Grant,
    KeyRing,
    KeyRingError,
    PublicKeys,
    VerificationReason,
    certificate_claims,
    issue_certificate,
    verify_certificate,
)
from licensing.keys import import_private_key, public_jwk

DAY = timedelta(days=1)
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
REASONS = set(VerificationReason)


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.fixture
def token(keyring: KeyRing) -> str:
    return issue_certificate(make_grant(), keyring, ISSUER)


def test_certificate_verifies_with_pyjwt_from_public_jwks_alone(keyring: KeyRing, token: str) -> None:
    jwks = json.loads(json.dumps(keyring.public_jwks(T0)))
    assert all("d" not in key for key in jwks["keys"])
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "EdDSA", "kid": keyring.signer_kid, "typ": CERTIFICATE_TYPE}
    key = jwt.PyJWKSet.from_dict(jwks)[header["kid"]]
    claims = jwt.decode(token, key, algorithms=["EdDSA"], options={"verify_exp": False})
    grant = make_grant()
    assert claims["iss"] == ISSUER and claims["sub"] == claims["jti"]
    assert claims["terms_hash"] == grant.terms_hash and claims["license_id"] == grant.license_id
    assert claims["dataset"] == {"id": "ds-123", "slug": "speech-de"} and claims["versions"] == ["1.0.0"]
    assert claims["exp"] - claims["nbf"] == 365 * 86400
    other = KeyRing.generate(T0).public_jwks(T0)
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, jwt.PyJWK(other["keys"][0]), algorithms=["EdDSA"], options={"verify_exp": False})


def test_pyjwt_checks_time_claims_too(keyring: KeyRing) -> None:
    grant = make_grant(make_offer(overrides={"term": "P1D"}), issued_at=datetime.now(T0.tzinfo) - 2 * DAY)
    token = issue_certificate(grant, keyring, ISSUER)
    key = jwt.PyJWKSet.from_dict(keyring.public_jwks())[keyring.signer_kid]
    with pytest.raises(jwt.ExpiredSignatureError):
        jwt.decode(token, key, algorithms=["EdDSA"])


def test_verify_certificate_valid(keyring: KeyRing, token: str) -> None:
    result = verify_certificate(token, keyring.public_jwks(T0), T0 + DAY)
    assert result.valid and bool(result) and result.reason is None and result.kid == keyring.signer_kid
    assert result.claims is not None and result.claims["licensee"] == "org-buyer"
    assert verify_certificate(token, json.dumps(keyring.public_jwks(T0)), T0).valid
    assert verify_certificate(token, keyring, T0).valid
    assert verify_certificate(token, PublicKeys(keyring.public_jwks(T0)), T0).valid


@pytest.mark.parametrize(
    ("offset", "reason"),
    [
        (-timedelta(seconds=1), VerificationReason.NOT_YET_VALID),
        (timedelta(0), None),
        (365 * DAY - timedelta(seconds=1), None),
        (365 * DAY, VerificationReason.EXPIRED),
        (400 * DAY, VerificationReason.EXPIRED),
    ],
)
def test_validity_window(keyring: KeyRing, token: str, offset: timedelta, reason: VerificationReason | None) -> None:
    result = verify_certificate(token, keyring.public_jwks(T0), T0 + offset)
    assert result.reason is reason and result.valid is (reason is None)
    assert not bool(result) or reason is None


def test_leeway(keyring: KeyRing, token: str) -> None:
    assert verify_certificate(token, keyring.public_jwks(T0), T0 - timedelta(seconds=30), leeway=60).valid
    assert verify_certificate(token, keyring.public_jwks(T0), T0 + 365 * DAY, leeway=60).valid


def test_future_start_is_not_yet_valid(keyring: KeyRing) -> None:
    token = issue_certificate(make_grant(valid_from=T0 + 10 * DAY), keyring, ISSUER)
    result = verify_certificate(token, keyring.public_jwks(T0), T0 + DAY)
    assert result.reason is VerificationReason.NOT_YET_VALID and result.claims is None


def test_perpetual_certificate_has_no_exp(keyring: KeyRing) -> None:
    token = issue_certificate(make_grant(make_offer("CC-BY-4.0")), keyring, ISSUER)
    result = verify_certificate(token, keyring.public_jwks(T0), T0 + 36500 * DAY)
    assert result.valid and result.claims is not None and "exp" not in result.claims


def test_unknown_kid(keyring: KeyRing, token: str) -> None:
    other = KeyRing.generate(T0)
    result = verify_certificate(token, other.public_jwks(T0), T0)
    assert result.reason is VerificationReason.UNKNOWN_KEY and keyring.signer_kid in result.message
    assert verify_certificate(token, {"keys": []}, T0).reason is VerificationReason.UNKNOWN_KEY


def test_kid_swapped_to_another_known_key_is_a_bad_signature(keyring: KeyRing, token: str) -> None:
    old_kid = keyring.signer_kid
    keyring.rotate(T0)
    header = {"alg": "EdDSA", "kid": keyring.signer_kid, "typ": CERTIFICATE_TYPE}
    forged = ".".join([_b64(header), *token.split(".")[1:]])
    assert old_kid != keyring.signer_kid
    assert verify_certificate(forged, keyring.public_jwks(T0), T0).reason is VerificationReason.BAD_SIGNATURE


def _variants(char: str) -> list[str]:
    alternatives = [B64[(B64.index(char) + 1) % 64] if char in B64 else "A", chr(ord(char) ^ 0x01), "é"]
    return [a for a in dict.fromkeys(alternatives) if a != char]


def test_every_single_character_change_fails_with_a_reason(keyring: KeyRing, token: str) -> None:
    jwks = PublicKeys(keyring.public_jwks(T0))
    header_end, payload_end = token.index("."), token.rindex(".")
    seen: dict[str, set[str]] = {"header": set(), "payload": set(), "signature": set()}
    for index, char in enumerate(token):
        part = "header" if index <= header_end else "payload" if index <= payload_end else "signature"
        for replacement in _variants(char):
            changed = token[:index] + replacement + token[index + 1 :]
            result = verify_certificate(changed, jwks, T0 + DAY)
            assert not result.valid, (index, replacement)
            assert result.reason in REASONS and result.message
            seen[part].add(result.reason.value)  # type: ignore[union-attr]
    assert seen["header"] <= {"malformed", "unknown_key", "bad_signature"}
    assert seen["payload"] == {"malformed", "bad_signature"}
    assert seen["signature"] == {"malformed", "bad_signature"}


def test_every_single_bit_flip_of_the_bytes_fails(keyring: KeyRing, token: str) -> None:
    jwks = PublicKeys(keyring.public_jwks(T0))
    raw = token.encode()
    for index in range(len(raw)):
        for bit in (0x01, 0x20, 0x80):
            changed = bytearray(raw)
            changed[index] ^= bit
            text = changed.decode("latin-1")
            result = verify_certificate(text, jwks, T0 + DAY)
            assert not result.valid and result.reason in REASONS


def test_non_canonical_base64_is_malformed(keyring: KeyRing, token: str) -> None:
    # The last character of the 86-char signature carries 2 padding bits: a look-alike would decode the same.
    signature = token.rsplit(".", 1)[1]
    last = B64.index(signature[-1])
    twin = B64[(last & ~0b1111) | ((last + 1) & 0b1111)]
    forged = token[:-1] + twin
    assert base64.urlsafe_b64decode(signature + "==") == base64.urlsafe_b64decode(signature[:-1] + twin + "==")
    assert verify_certificate(forged, keyring, T0).reason is VerificationReason.MALFORMED


@pytest.mark.parametrize(
    "mutate",
    [
        lambda t: t + ".",
        lambda t: t.replace(".", "", 1),
        lambda t: "",
        lambda t: t.split(".")[0] + "..",
        lambda t: t + "\n",
        lambda t: " " + t,
    ],
)
def test_malformed_shapes(keyring: KeyRing, token: str, mutate: Any) -> None:
    assert verify_certificate(mutate(token), keyring, T0).reason is VerificationReason.MALFORMED


def test_non_string_token(keyring: KeyRing) -> None:
    assert verify_certificate(b"abc", keyring, T0).reason is VerificationReason.MALFORMED  # type: ignore[arg-type]


def _sign(keyring: KeyRing, header: dict[str, Any], payload: bytes) -> str:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = keyring.signer.key.private_key
    assert isinstance(key, Ed25519PrivateKey)
    signing_input = _b64(header) + "." + base64.urlsafe_b64encode(payload).rstrip(b"=").decode()
    return signing_input + "." + base64.urlsafe_b64encode(key.sign(signing_input.encode())).rstrip(b"=").decode()


@pytest.mark.parametrize(
    ("header", "payload", "message"),
    [
        ({"alg": "HS256", "typ": CERTIFICATE_TYPE}, b"{}", "header must hold only"),
        ({"alg": "EdDSA", "typ": "JWT"}, b"{}", "header must hold only"),
        ({"alg": "EdDSA", "typ": CERTIFICATE_TYPE, "crit": ["x"], "x": 1}, b"{}", "header must hold only"),
        ({"alg": "EdDSA", "typ": CERTIFICATE_TYPE}, b"{}", "no kid"),
        ({"alg": "EdDSA", "typ": CERTIFICATE_TYPE, "kid": "KID", "zip": "DEF"}, b"{}", "header must hold only"),
        ({"alg": "EdDSA", "typ": CERTIFICATE_TYPE, "kid": "KID"}, b"[1]", "not a JSON object"),
        ({"alg": "EdDSA", "typ": CERTIFICATE_TYPE, "kid": "KID"}, b"\xff", "not a JSON object"),
        ({"alg": "EdDSA", "typ": CERTIFICATE_TYPE, "kid": "KID"}, b'{"a":1,"a":2}', "not a JSON object"),
        ({"alg": "EdDSA", "typ": CERTIFICATE_TYPE, "kid": "KID"}, b'{"a":NaN}', "not a JSON object"),
        ({"alg": "EdDSA", "typ": CERTIFICATE_TYPE, "kid": "KID"}, b"{}", "claim 'iss'"),
    ],
)
def test_signed_but_malformed(keyring: KeyRing, header: dict[str, Any], payload: bytes, message: str) -> None:
    header = {k: (keyring.signer_kid if v == "KID" else v) for k, v in header.items()}
    result = verify_certificate(_sign(keyring, header, payload), keyring, T0)
    assert result.reason is VerificationReason.MALFORMED and message in result.message


def test_header_that_is_not_an_object(keyring: KeyRing, token: str) -> None:
    forged = base64.urlsafe_b64encode(b"[1]").decode().rstrip("=") + token[token.index(".") :]
    assert verify_certificate(forged, keyring, T0).reason is VerificationReason.MALFORMED


@pytest.mark.parametrize(
    "change",
    [
        {"iat": "now"},
        {"iat": True},
        {"nbf": 1.5},
        {"exp": "never"},
        {"exp": False},
        {"jti": "other"},
        {"dataset": "ds"},
        {"agreement": "dua-1"},
        {"agreement": {"id": "dua-1", "version": "1"}},
        {"agreement": {"id": "dua-1", "version": "1", "sha256": 1}},
        {"agreement": {"id": "dua-1", "version": "1", "sha256": "ab", "note": "x"}},
    ],
)
def test_claim_types_are_checked(keyring: KeyRing, change: dict[str, Any]) -> None:
    claims = {**certificate_claims(make_grant(), ISSUER), **change}
    header = {"alg": "EdDSA", "kid": keyring.signer_kid, "typ": CERTIFICATE_TYPE}
    result = verify_certificate(_sign(keyring, header, json.dumps(claims).encode()), keyring, T0)
    assert result.reason is VerificationReason.MALFORMED


def test_only_active_grants_are_certified(keyring: KeyRing) -> None:
    with pytest.raises(CertificateError) as info:
        issue_certificate(make_grant(payment_reference=None), keyring, ISSUER)
    assert info.value.fields == ("status",)
    with pytest.raises(CertificateError):
        issue_certificate(make_grant(), keyring, "")


def test_rotation_keeps_old_certificates_verifiable(keyring: KeyRing) -> None:
    old_kid = keyring.signer_kid
    old_token = issue_certificate(make_grant(), keyring, ISSUER)
    perpetual_free = make_grant(make_offer("CC0-1.0"))
    new_kid = keyring.rotate(T0 + DAY)
    assert new_kid != old_kid and keyring.signer_kid == new_kid
    new_token = issue_certificate(perpetual_free, keyring, ISSUER)
    assert jwt.get_unverified_header(new_token)["kid"] == new_kid
    assert jwt.get_unverified_header(old_token)["kid"] == old_kid
    jwks = keyring.public_jwks(T0 + 2 * DAY)
    assert [k["kid"] for k in jwks["keys"]] == [new_kid, old_kid]
    assert verify_certificate(old_token, jwks, T0 + 2 * DAY).valid
    assert verify_certificate(new_token, jwks, T0 + 2 * DAY).valid
    old = keyring.get(old_kid)
    assert old.retire_after == make_grant().valid_until  # the last certificate it signed
    assert keyring.get(new_kid).retire_after is None
    after = T0 + 366 * DAY
    assert [k["kid"] for k in keyring.public_jwks(after)["keys"]] == [new_kid]
    assert verify_certificate(old_token, keyring.public_jwks(after), after).reason is VerificationReason.UNKNOWN_KEY
    assert keyring.prune(T0 + 2 * DAY) == []
    assert keyring.prune(after) == [old_kid] and len(keyring) == 1
    # The new key signed a perpetual certificate: on the next rotation it is never retired.
    keyring.rotate(after)
    assert keyring.get(new_kid).retire_after is None and keyring.get(new_kid).unbounded


def test_rotation_of_an_unused_key_and_explicit_retirement(keyring: KeyRing) -> None:
    first = keyring.signer_kid
    keyring.rotate(T0)
    assert keyring.get(first).retire_after == T0
    second = keyring.signer_kid
    keyring.rotate(T0 + DAY, retire_after=T0 + 30 * DAY)
    assert keyring.get(second).retire_after == T0 + 30 * DAY
    keyring.record_signature(keyring.signer_kid, T0 + 5 * DAY)
    keyring.record_signature(keyring.signer_kid, T0 + 2 * DAY)
    assert keyring.signer.latest_expiry == T0 + 5 * DAY
    with pytest.raises(KeyRingError):
        keyring.get("nope")


def test_public_jwks_never_contains_private_parts(keyring: KeyRing) -> None:
    keyring.rotate(T0)
    for key in keyring.public_jwks(T0)["keys"]:
        assert set(key) == {"kty", "crv", "x", "kid", "alg", "use"}
        assert key["kty"] == "OKP" and key["crv"] == "Ed25519" and key["alg"] == "EdDSA"
    assert set(public_jwk(keyring.signer.key)) == {"kty", "crv", "x", "kid", "alg", "use"}
    assert "d" in keyring.private_jwk()


def test_kid_is_the_rfc7638_thumbprint(keyring: KeyRing) -> None:
    import hashlib

    jwk = keyring.public_jwks(T0)["keys"][0]
    canonical = json.dumps({"crv": jwk["crv"], "kty": jwk["kty"], "x": jwk["x"]}, separators=(",", ":"))
    expected = base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()
    assert jwk["kid"] == expected == keyring.signer_kid


def test_save_and_load_key_ring(tmp_path: Path, keyring: KeyRing, token: str) -> None:
    keyring.rotate(T0 + DAY)
    path = tmp_path / "keys.json"
    keyring.save(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    loaded = KeyRing.load(path)
    assert loaded.signer_kid == keyring.signer_kid and len(loaded) == 2
    assert [k.retire_after for k in loaded] == [k.retire_after for k in keyring]
    assert verify_certificate(token, loaded.public_jwks(T0), T0).valid
    assert verify_certificate(issue_certificate(make_grant(), loaded, ISSUER), keyring, T0).valid


def test_load_single_keys_from_pem_jwk_and_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, keyring: KeyRing
) -> None:
    pem = keyring.private_pem()
    jwk = keyring.private_jwk()
    from_pem = KeyRing.from_string(pem.decode(), T0)
    assert from_pem.signer_kid == keyring.signer_kid and from_pem.signer.unbounded
    assert KeyRing.from_private_key(pem, T0).signer_kid == keyring.signer_kid
    assert KeyRing.from_string(json.dumps(jwk), T0).signer_kid == keyring.signer_kid
    assert KeyRing.from_private_key(jwk, T0).signer_kid == keyring.signer_kid
    (tmp_path / "key.pem").write_bytes(pem)
    assert KeyRing.load(tmp_path / "key.pem", T0).signer_kid == keyring.signer_kid
    monkeypatch.setenv("LICENSING_SIGNING_KEY", pem.decode())
    assert KeyRing.from_env(now=T0).signer_kid == keyring.signer_kid
    monkeypatch.setenv("OTHER_KEY", json.dumps(keyring.to_dict()))
    assert KeyRing.from_env("OTHER_KEY").signer_kid == keyring.signer_kid
    from_pem.rotate(T0 + DAY)
    assert from_pem.get(keyring.signer_kid).retire_after is None  # unknown history: kept


@pytest.mark.parametrize(
    "text",
    [
        "not a key",
        "{not json",
        '{"kty": "oct", "k": "AAAA"}',
        '{"format": "licensing-keyring/1", "keys": "x"}',
        '{"format": "licensing-keyring/1", "signer": "x", "keys": [{"created_at": "2025-01-01T00:00:00Z"}]}',
    ],
)
def test_bad_key_material(text: str) -> None:
    with pytest.raises(KeyRingError):
        KeyRing.from_string(text, T0)


def test_signing_registry_allows_only_eddsa() -> None:
    from joserfc.errors import UnsupportedAlgorithmError

    from licensing.certificates import _REGISTRY

    assert _REGISTRY.get_alg("EdDSA").name == "EdDSA"
    with pytest.raises(UnsupportedAlgorithmError):
        _REGISTRY.get_alg("HS256")


def test_import_private_key_from_json_text(keyring: KeyRing) -> None:
    key = import_private_key(json.dumps(keyring.private_jwk()))
    assert key.thumbprint() == keyring.signer_kid
    assert import_private_key(keyring.private_pem()).thumbprint() == keyring.signer_kid


def test_key_import_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keyring: KeyRing) -> None:
    from joserfc.jwk import OKPKey

    x25519 = OKPKey.generate_key("X25519").as_pem(private=True)
    with pytest.raises(KeyRingError, match="expected an Ed25519"):
        import_private_key(x25519)
    with pytest.raises(KeyRingError, match="private part"):
        import_private_key(keyring.public_jwks(T0)["keys"][0])
    with pytest.raises(KeyRingError, match="cannot read"):
        KeyRing.load(tmp_path / "missing.pem")
    monkeypatch.delenv("LICENSING_SIGNING_KEY", raising=False)
    with pytest.raises(KeyRingError, match="not set"):
        KeyRing.from_env()
    entry = keyring.signer
    with pytest.raises(KeyRingError, match="duplicate"):
        KeyRing([entry, entry], entry.kid)
    with pytest.raises(KeyRingError, match="signer"):
        KeyRing([entry], "other")


def test_public_keys_skip_foreign_entries(keyring: KeyRing) -> None:
    jwk = keyring.public_jwks(T0)["keys"][0]
    without_kid = {k: v for k, v in jwk.items() if k != "kid"}
    keys = PublicKeys(
        {
            "keys": [
                "junk",
                {"kty": "RSA", "n": "x", "e": "AQAB"},
                {"kty": "OKP", "crv": "Ed25519", "x": "!!"},
                without_kid,
            ]
        }
    )
    assert keys.kids() == [keyring.signer_kid] and keys.get(keyring.signer_kid) is not None
    with pytest.raises(CertificateError):
        PublicKeys({"keys": "none"})
    with pytest.raises(CertificateError):
        PublicKeys("[]")


@settings(max_examples=40, deadline=None)
@given(grants())
def test_sign_verify_round_trip_for_arbitrary_grants(grant: Grant) -> None:
    keyring = KeyRing.generate(T0)
    token = issue_certificate(grant, keyring, ISSUER)
    result = verify_certificate(token, keyring.public_jwks(T0), grant.valid_from)
    assert result.valid, result.message
    assert result.claims == certificate_claims(grant, ISSUER)
    key = jwt.PyJWKSet.from_dict(keyring.public_jwks(T0))[keyring.signer_kid]
    decoded = jwt.decode(
        token, key, algorithms=["EdDSA"], options={"verify_exp": False, "verify_nbf": False, "verify_iat": False}
    )
    assert decoded == result.claims
