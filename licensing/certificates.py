"""License certificates: a grant signed by the platform as a compact JWS (Ed25519, ``alg: EdDSA``).

The header is ``{"alg": "EdDSA", "kid": <RFC 7638 thumbprint>, "typ": "license-certificate+jwt"}``.
The payload is a JWT claim set, so any JOSE library (PyJWT included) can verify it with the public
JWKS alone::

    iss, sub (= grant id), jti (= grant id), iat, nbf, exp (absent for perpetual grants),
    license_id, licensor, licensee, dataset {id, slug}, versions, all_versions,
    manifest_digest, terms_hash,
    agreement {id, version, sha256}   (only when a data-use agreement bound the licensee)

:func:`verify_certificate` checks a token strictly: every segment must be canonical base64url and the
header may hold only ``alg``, ``kid`` and ``typ``, so changing any single character or byte of the
token makes verification fail with a reason code. Tokens are signed with joserfc; verification
parses the token itself (to tell the failure reasons apart) and checks the Ed25519 signature with
``cryptography``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from joserfc import jws
from joserfc.errors import JoseError, UnsupportedAlgorithmError
from joserfc.jwk import OKPKey
from joserfc.jws import JWSRegistry

from .duration import require_utc
from .errors import CertificateError
from .grants import Grant, GrantStatus
from .keys import ALGORITHM, CURVE, KeyRing

CERTIFICATE_TYPE = "license-certificate+jwt"
_B64URL = re.compile(r"^[A-Za-z0-9_-]+$")
_HEADER_MEMBERS = frozenset({"alg", "kid", "typ"})
_REQUIRED_CLAIMS: dict[str, type | tuple[type, ...]] = {
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


class _EdDSAOnly(JWSRegistry):
    """A JWS registry that allows only EdDSA, without joserfc's RFC 9864 deprecation warning.

    RFC 9864 deprecates the polymorphic ``EdDSA`` name in favour of ``Ed25519``; we keep ``EdDSA``
    because PyJWT and most verifiers in the field only understand that name.
    """

    def get_alg(self, name: str) -> Any:
        if name != ALGORITHM:
            raise UnsupportedAlgorithmError(f"Algorithm of '{name}' is not allowed")
        return self.algorithms[name]


_REGISTRY = _EdDSAOnly(algorithms=[ALGORITHM])


class VerificationReason(StrEnum):
    """Why a certificate failed verification."""

    BAD_SIGNATURE = "bad_signature"
    UNKNOWN_KEY = "unknown_key"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    MALFORMED = "malformed"


@dataclass(frozen=True)
class VerificationResult:
    """Outcome of :func:`verify_certificate`: ``valid``, a ``reason`` code when not, a message, and the claims."""

    valid: bool
    reason: VerificationReason | None
    message: str
    claims: Mapping[str, Any] | None = None
    kid: str | None = None
    header: Mapping[str, Any] | None = field(default=None, compare=False)

    def __bool__(self) -> bool:
        return self.valid


class PublicKeys:
    """Ed25519 verification keys indexed by kid, parsed once from a JWKS.

    Keys of other types or curves are ignored; private members, if present, are dropped.
    """

    def __init__(self, jwks: Mapping[str, Any] | str) -> None:
        data = json.loads(jwks) if isinstance(jwks, str) else jwks
        if not isinstance(data, Mapping) or not isinstance(data.get("keys"), list):
            raise CertificateError('a JWKS must be an object with a "keys" list', "jwks")
        self._keys: dict[str, Ed25519PublicKey] = {}
        for item in data["keys"]:
            if not isinstance(item, Mapping) or item.get("kty") != "OKP" or item.get("crv") != CURVE:
                continue
            public = {k: v for k, v in item.items() if k in ("kty", "crv", "x")}
            try:
                key = OKPKey.import_key(public)
            except (JoseError, ValueError, TypeError):
                continue
            public_key = key.public_key
            if not isinstance(public_key, Ed25519PublicKey):  # pragma: no cover - guaranteed by crv
                continue
            kid = item.get("kid")
            self._keys[kid if isinstance(kid, str) else key.thumbprint()] = public_key

    @classmethod
    def coerce(cls, jwks: Mapping[str, Any] | str | PublicKeys | KeyRing) -> PublicKeys:
        """Return ``jwks`` as PublicKeys (a KeyRing gives all its keys, retired or not)."""
        if isinstance(jwks, PublicKeys):
            return jwks
        if isinstance(jwks, KeyRing):
            return cls({"keys": [{**k.key.as_dict(private=False), "kid": k.kid} for k in jwks]})
        return cls(jwks)

    def get(self, kid: str) -> Ed25519PublicKey | None:
        """Return the key with id ``kid``, or None."""
        return self._keys.get(kid)

    def kids(self) -> list[str]:
        """Return the known key ids."""
        return list(self._keys)


def _ts(value: datetime) -> int:
    return int(require_utc(value, "datetime").timestamp())


def certificate_claims(grant: Grant, issuer: str, issued_at: datetime | None = None) -> dict[str, Any]:
    """Return the JWT claims for ``grant`` (see the module docstring). ``iat`` defaults to the grant's issue time."""
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": grant.id,
        "jti": grant.id,
        "iat": _ts(grant.issued_at if issued_at is None else issued_at),
        "nbf": _ts(grant.valid_from),
        "license_id": grant.license_id,
        "licensor": grant.licensor,
        "licensee": grant.licensee,
        "dataset": {"id": grant.dataset_id, "slug": grant.dataset_slug},
        "versions": list(grant.versions),
        "all_versions": grant.all_versions,
        "manifest_digest": grant.manifest_digest,
        "terms_hash": grant.terms_hash,
    }
    if grant.valid_until is not None:
        claims["exp"] = _ts(grant.valid_until)
    if grant.agreement is not None:
        claims["agreement"] = grant.agreement.to_dict()
    return claims


def issue_certificate(grant: Grant, keyring: KeyRing, issuer: str, *, issued_at: datetime | None = None) -> str:
    """Sign ``grant`` with the key ring's signer and return the compact JWS.

    Only an active grant can be certified (raises :class:`CertificateError` otherwise). The key ring
    records the certificate's expiry so that rotation knows how long to keep the key.
    """
    if not isinstance(issuer, str) or not issuer:
        raise CertificateError("an issuer is required", "issuer")
    if grant.status is not GrantStatus.ACTIVE:
        raise CertificateError(f"only an active grant can be certified (this one is {grant.status.value})", "status")
    signer = keyring.signer
    header = {"alg": ALGORITHM, "kid": signer.kid, "typ": CERTIFICATE_TYPE}
    payload = json.dumps(certificate_claims(grant, issuer, issued_at), separators=(",", ":"), sort_keys=True)
    token = jws.serialize_compact(header, payload, signer.key, algorithms=[ALGORITHM], registry=_REGISTRY)
    keyring.record_signature(signer.kid, grant.valid_until)
    return token


def _b64decode(segment: str) -> bytes | None:
    """Strict base64url: alphabet only, no padding, and the canonical encoding of its bytes."""
    if not _B64URL.match(segment):
        return None
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        return None
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") != segment:
        return None
    return raw


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate member {key!r}")
        result[key] = value
    return result


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _json_object(raw: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _fail(reason: VerificationReason, message: str, **extra: Any) -> VerificationResult:
    return VerificationResult(False, reason, message, **extra)


def _claims_problem(claims: Mapping[str, Any]) -> str | None:
    for name, kind in _REQUIRED_CLAIMS.items():
        value = claims.get(name)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            return f"claim {name!r} is missing or has the wrong type"
    exp = claims.get("exp")
    if "exp" in claims and (isinstance(exp, bool) or not isinstance(exp, int)):
        return "claim 'exp' has the wrong type"
    if claims["sub"] != claims["jti"]:
        return "claims 'sub' and 'jti' differ"
    if "agreement" in claims:
        agreement = claims["agreement"]
        if (
            not isinstance(agreement, dict)
            or set(agreement) != {"id", "version", "sha256"}
            or not all(isinstance(v, str) for v in agreement.values())
        ):
            return "claim 'agreement' must hold exactly id, version and sha256 as strings"
    return None


def verify_certificate(
    token: str,
    jwks: Mapping[str, Any] | str | PublicKeys | KeyRing,
    now: datetime,
    *,
    leeway: int = 0,
) -> VerificationResult:
    """Verify a certificate offline against a public JWKS at time ``now``.

    Returns a :class:`VerificationResult`: ``valid`` with the claims, or a ``reason`` among
    ``malformed`` (not a well-formed certificate of ours), ``unknown_key`` (its ``kid`` is not in the
    JWKS), ``bad_signature``, ``not_yet_valid`` (``now < nbf``) and ``expired`` (``now >= exp``),
    with a message. ``leeway`` seconds of clock skew are tolerated on ``nbf``/``exp``. Revocation is
    not visible offline: ask the platform's online endpoint for that. A naive ``now`` raises
    :class:`~licensing.errors.LicensingError`; a malformed JWKS raises :class:`CertificateError`.
    """
    at = _ts(now)
    keys = PublicKeys.coerce(jwks)
    if not isinstance(token, str) or not token.isascii():
        return _fail(VerificationReason.MALFORMED, "a certificate is an ASCII string")
    parts = token.split(".")
    if len(parts) != 3:
        return _fail(VerificationReason.MALFORMED, "a certificate has three dot-separated parts")
    decoded = [_b64decode(p) for p in parts]
    if any(d is None for d in decoded):
        return _fail(VerificationReason.MALFORMED, "a part is not canonical base64url")
    header = _json_object(decoded[0] or b"")
    if header is None:
        return _fail(VerificationReason.MALFORMED, "the header is not a JSON object")
    if header.get("alg") != ALGORITHM or header.get("typ") != CERTIFICATE_TYPE or not set(header) <= _HEADER_MEMBERS:
        return _fail(
            VerificationReason.MALFORMED,
            f"the header must hold only alg {ALGORITHM}, typ {CERTIFICATE_TYPE} and kid",
        )
    kid = header.get("kid")
    if not isinstance(kid, str):
        return _fail(VerificationReason.MALFORMED, "the header has no kid")
    key = keys.get(kid)
    if key is None:
        return _fail(VerificationReason.UNKNOWN_KEY, f"no key {kid!r} in the JWKS", kid=kid, header=header)
    signing_input = token[: token.rindex(".")].encode("ascii")
    try:
        key.verify(decoded[2] or b"", signing_input)
    except InvalidSignature:
        return _fail(VerificationReason.BAD_SIGNATURE, "the signature does not match", kid=kid, header=header)
    claims = _json_object(decoded[1] or b"")
    if claims is None:
        return _fail(VerificationReason.MALFORMED, "the payload is not a JSON object", kid=kid, header=header)
    problem = _claims_problem(claims)
    if problem is not None:
        return _fail(VerificationReason.MALFORMED, problem, kid=kid, header=header)
    if at + leeway < claims["nbf"]:
        return _fail(VerificationReason.NOT_YET_VALID, "the certificate is not valid yet", kid=kid, header=header)
    if "exp" in claims and at - leeway >= claims["exp"]:
        return _fail(VerificationReason.EXPIRED, "the certificate has expired", kid=kid, header=header)
    return VerificationResult(True, None, "valid", claims=claims, kid=kid, header=header)
