"""Offline verification of license certificates against the marketplace's public JWKS.

A certificate is a compact JWS signed with Ed25519 (``alg: EdDSA``): header ``{"alg": "EdDSA", "kid": ...,
"typ": "license-certificate+jwt"}`` and a JWT claim set (``iss``, ``sub`` = ``jti`` = the license id, ``iat``,
``nbf``, ``exp`` unless perpetual, ``license_id``, ``licensor``, ``licensee``, ``dataset``, ``versions``,
``all_versions``, ``manifest_digest``, ``terms_hash``, and ``agreement``/``contract`` when they apply).

Verification is as strict as the marketplace's own: every segment canonical unpadded base64url, a header with only
those three members, the key found by ``kid`` among the JWKS's Ed25519 keys, the signature checked with
``cryptography``'s Ed25519, every required claim present with its exact JSON type, then ``nbf``/``exp`` against the
time given. Changing any character of a token makes it fail. Revocation is not visible offline: ask
:meth:`marketplace_client.Client.verify_online` for that.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

ALGORITHM = "EdDSA"
CURVE = "Ed25519"
CERTIFICATE_TYPE = "license-certificate+jwt"
_HEADER_MEMBERS = frozenset({"alg", "kid", "typ"})
_SEGMENT = re.compile(r"^[A-Za-z0-9_-]+$")
_REQUIRED_CLAIMS: dict[str, type] = {
    "iss": str,
    "sub": str,
    "jti": str,
    "iat": int,
    "nbf": int,
    "license_id": str,
    "licensor": str,
    "licensee": str,
    "dataset": dict,
    "versions": list,
    "all_versions": bool,
    "manifest_digest": str,
    "terms_hash": str,
}


@dataclass(frozen=True)
class Verification:
    """The outcome: ``valid``, else a ``reason`` (``malformed``, ``unknown_key``, ``bad_signature``,
    ``not_yet_valid``, ``expired``) and a message; ``claims`` once the signature checked out."""

    valid: bool
    reason: str | None
    message: str
    claims: dict[str, Any] | None = None
    kid: str | None = None

    def __bool__(self) -> bool:
        return self.valid


class PublicKeys:
    """The Ed25519 keys of a JWKS by ``kid`` (other key types are ignored, private members never read)."""

    def __init__(self, jwks: Mapping[str, Any] | str) -> None:
        data = json.loads(jwks) if isinstance(jwks, str) else jwks
        if not isinstance(data, Mapping) or not isinstance(data.get("keys"), list):
            raise ValueError('a JWKS is a JSON object with a "keys" list')
        self.keys: dict[str, Ed25519PublicKey] = {}
        for item in data["keys"]:
            if not isinstance(item, Mapping) or item.get("kty") != "OKP" or item.get("crv") != CURVE:
                continue
            raw = _b64decode(str(item.get("x", "")))
            kid = item.get("kid")
            if raw is None or len(raw) != 32 or not isinstance(kid, str):
                continue
            self.keys[kid] = Ed25519PublicKey.from_public_bytes(raw)

    @classmethod
    def from_file(cls, path: str | Path) -> PublicKeys:
        """The keys of a JWKS saved as a file (``/.well-known/jwks.json``)."""
        return cls(Path(path).read_text(encoding="utf-8"))


def _b64decode(segment: str) -> bytes | None:
    """The bytes of a canonical, unpadded base64url segment, else None."""
    if not segment or not _SEGMENT.match(segment) or len(segment) % 4 == 1:
        return None
    try:
        data = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        return None
    if base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii") != segment:
        return None  # unused trailing bits set: not the canonical encoding
    return data


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate member")
    return result


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _json_object(raw: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _claims_problem(claims: dict[str, Any]) -> str | None:
    for name, kind in _REQUIRED_CLAIMS.items():
        if type(claims.get(name)) is not kind:
            return f"claim {name!r} is missing or has the wrong type"
    if "exp" in claims and type(claims["exp"]) is not int:
        return "claim 'exp' has the wrong type"
    if claims["sub"] != claims["jti"]:
        return "claims 'sub' and 'jti' differ"
    return None


def _header(segment: str) -> tuple[str, None] | tuple[None, Verification]:
    raw = _b64decode(segment)
    header = _json_object(raw) if raw is not None else None
    if header is None:
        return None, Verification(False, "malformed", "the header is not a base64url JSON object")
    if header.get("alg") != ALGORITHM or header.get("typ") != CERTIFICATE_TYPE or not set(header) <= _HEADER_MEMBERS:
        message = f"the header must hold only alg {ALGORITHM}, typ {CERTIFICATE_TYPE} and kid"
        return None, Verification(False, "malformed", message)
    kid = header.get("kid")
    if not isinstance(kid, str):
        return None, Verification(False, "malformed", "the header has no kid")
    return kid, None


def verify_certificate(
    token: str, keys: PublicKeys | Mapping[str, Any] | str, *, now: datetime | None = None, leeway: int = 0
) -> Verification:
    """Verify ``token`` against the JWKS ``keys`` at ``now`` (default: the current time, UTC), tolerating
    ``leeway`` seconds of clock skew on ``nbf``/``exp``. Never raises for a bad token: the result says why."""
    public = keys if isinstance(keys, PublicKeys) else PublicKeys(keys)
    at = int((now or datetime.now(UTC)).timestamp())
    token = token.strip()
    parts = token.split(".")
    if len(parts) != 3 or not token.isascii():
        return Verification(False, "malformed", "a certificate has three dot-separated base64url parts")
    kid, failure = _header(parts[0])
    if failure is not None or kid is None:
        return failure or Verification(False, "malformed", "the header has no kid")
    payload, signature = _b64decode(parts[1]), _b64decode(parts[2])
    if payload is None or signature is None:
        return Verification(False, "malformed", "a part is not canonical base64url", kid=kid)
    key = public.keys.get(kid)
    if key is None:
        return Verification(False, "unknown_key", f"no key {kid!r} in the JWKS", kid=kid)
    try:
        key.verify(signature, f"{parts[0]}.{parts[1]}".encode("ascii"))
    except InvalidSignature:
        return Verification(False, "bad_signature", "the signature does not match", kid=kid)
    claims = _json_object(payload)
    if claims is None:
        return Verification(False, "malformed", "the payload is not a JSON object", kid=kid)
    problem = _claims_problem(claims)
    if problem is not None:
        return Verification(False, "malformed", problem, kid=kid)
    if at + leeway < claims["nbf"]:
        return Verification(False, "not_yet_valid", "the certificate is not valid yet", claims, kid)
    if "exp" in claims and at - leeway >= claims["exp"]:
        return Verification(False, "expired", "the certificate has expired", claims, kid)
    return Verification(True, None, "valid", claims, kid)


def read_certificate_file(path: str | Path) -> str:
    """The token in a certificate file: the compact JWS as text, or the JSON the API returns
    (``{"certificate": ...}``)."""
    text = Path(path).read_text(encoding="utf-8").strip()
    if text.startswith("{"):
        data = json.loads(text)
        if isinstance(data, dict) and isinstance(data.get("certificate"), str):
            return str(data["certificate"])
        raise ValueError(f'{path}: a JSON certificate file holds a "certificate" member')
    return text
