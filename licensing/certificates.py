"""License certificates: a grant signed by the platform as a compact JWS (Ed25519, ``alg: EdDSA``).

The header is ``{"alg": "EdDSA", "kid": <RFC 7638 thumbprint>, "typ": "license-certificate+jwt"}``.
The payload is a JWT claim set, so any JOSE library (PyJWT included) can verify it with the public
JWKS alone::

    iss, sub (= grant id), jti (= grant id), iat, nbf, exp (absent for perpetual grants),
    license_id, licensor, licensee, dataset {id, slug}, versions, all_versions,
    manifest_digest, terms_hash,
    agreement {id, version, sha256}   (only when a data-use agreement bound the licensee)
    contract {id, deliveries: [{version, manifest_digest}, ...]}   (only for a custom-data contract's license)

:func:`verify_certificate` checks a token strictly: every segment must be canonical base64url and the
header may hold only ``alg``, ``kid`` and ``typ``, so changing any single character or byte of the
token makes verification fail with a reason code. Signing and verification call ``cryptography``'s Ed25519
directly and keep the rest cheap (see :mod:`licensing._jws`): the claims' JSON is written out in sorted order, the
header segment of each key and the parsed JWKS documents are remembered, so both cost little more than the Ed25519
operation itself (``bench/bench_licensing.py`` measures the ratio). A token shaped as this module signs them is
verified in line, every check included; any other token takes the general path, which gives the same outcome (the
tests compare both on certificates and near misses). Tokens are byte for byte what joserfc signs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from json.encoder import encode_basestring_ascii as _quote
from operator import itemgetter
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from joserfc.errors import JoseError, UnsupportedAlgorithmError
from joserfc.jwk import OKPKey
from joserfc.jws import JWSRegistry

from ._jws import DECODE, PADDING, UNUSED_BITS, URL_CHARS, VALUE, b64decode, b64encode, header_segment, json_object
from .duration import require_utc
from .errors import CertificateError
from .grants import Grant, GrantStatus
from .keys import ALGORITHM, CURVE, KeyRing

CERTIFICATE_TYPE = "license-certificate+jwt"
_HEADER_MEMBERS = frozenset({"alg", "kid", "typ"})
#: Claim -> its JSON type (claims come from the JSON parser, so their types are exact: a bool is not an int).
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
_CLAIM_NAMES = tuple(_REQUIRED_CLAIMS)
_CLAIM_KINDS = tuple(_REQUIRED_CLAIMS.values())
#: The values of the required claims, in :data:`_CLAIM_NAMES` order (KeyError when one is missing).
_CLAIM_VALUES = itemgetter(*_CLAIM_NAMES)
#: The base64url length of an Ed25519 signature (64 bytes).
_SIGNATURE_CHARS = 86
_loads, _dumps, _SORT_KEYS = orjson.loads, orjson.dumps, orjson.OPT_SORT_KEYS


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
        """Return ``jwks`` as PublicKeys (a KeyRing gives all its keys, retired or not).

        A JWKS seen recently is not parsed again: the result is looked up by the members the keys are built from
        (``kty``, ``crv``, ``x`` and ``kid`` of each key, or the JSON text), so verifying many certificates against
        the same JWKS document costs one parse.
        """
        if isinstance(jwks, PublicKeys):
            return jwks
        if isinstance(jwks, KeyRing):
            keys = object.__new__(cls)
            keys._keys = dict(jwks.verification_keys())
            return keys
        cache_key = _jwks_cache_key(jwks)
        if cache_key is None:
            return cls(jwks)
        cached = _PARSED_JWKS.get(cache_key)
        if cached is None:
            cached = cls(jwks)
            if len(_PARSED_JWKS) >= _PARSED_JWKS_SIZE:
                _PARSED_JWKS.clear()
            _PARSED_JWKS[cache_key] = cached
        return cached

    def get(self, kid: str) -> Ed25519PublicKey | None:
        """Return the key with id ``kid``, or None."""
        return self._keys.get(kid)

    def kids(self) -> list[str]:
        """Return the known key ids."""
        return list(self._keys)


_PARSED_JWKS: dict[object, PublicKeys] = {}
_PARSED_JWKS_SIZE = 64


def _jwks_cache_key(jwks: Mapping[str, Any] | str) -> object | None:
    """What the keys parsed from ``jwks`` depend on, as a hashable value (None: do not cache)."""
    if isinstance(jwks, str):
        return jwks
    items = jwks.get("keys") if isinstance(jwks, Mapping) else None
    if not isinstance(items, list):
        return None
    key: list[tuple[object, ...]] = []
    for item in items:
        if not isinstance(item, Mapping):
            continue
        members = (item.get("kty"), item.get("crv"), item.get("x"), item.get("kid"))
        if not all(m is None or isinstance(m, str) for m in members):
            return None
        key.append(members)
    return tuple(key)


@dataclass(frozen=True)
class ContractClaim:
    """The ``contract`` claim of a custom-data license: the contract's id and, for each version the buyer
    accepted, its label and manifest digest (in the order accepted)."""

    contract_id: str
    deliveries: tuple[tuple[str, str], ...]

    def __post_init__(self) -> None:
        if not isinstance(self.contract_id, str) or not self.contract_id:
            raise CertificateError("a contract id is required", "contract")
        deliveries = tuple(self.deliveries)
        if not deliveries:
            raise CertificateError("a contract license covers at least one accepted version", "contract")
        for label, digest in deliveries:
            if not isinstance(label, str) or not label or not isinstance(digest, str) or not digest:
                raise CertificateError("each delivery needs a version label and a manifest digest", "contract")
        object.__setattr__(self, "deliveries", deliveries)

    def to_claim(self) -> dict[str, Any]:
        return {
            "id": self.contract_id,
            "deliveries": [{"version": label, "manifest_digest": digest} for label, digest in self.deliveries],
        }


def _contract_problem(value: Any) -> str | None:
    """Why an optional ``contract`` claim is malformed (None when it is well-formed)."""
    if not isinstance(value, dict) or not isinstance(value.get("id"), str):
        return "claim 'contract' has the wrong type"
    deliveries = value.get("deliveries")
    if not isinstance(deliveries, list) or not deliveries:
        return "claim 'contract' has no deliveries"
    for item in deliveries:
        if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in ("version", "manifest_digest")):
            return "claim 'contract' has a malformed delivery"
    return None


def _ts(value: datetime) -> int:
    if value.__class__ is datetime and value.tzinfo is UTC:  # the usual case: skip the conversion
        return int(value.timestamp())
    return int(require_utc(value, "datetime").timestamp())


def certificate_claims(
    grant: Grant, issuer: str, issued_at: datetime | None = None, *, contract: ContractClaim | None = None
) -> dict[str, Any]:
    """Return the JWT claims for ``grant`` (see the module docstring). ``iat`` defaults to the grant's issue time;
    ``contract`` adds the claim of a custom-data contract's license."""
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
    if contract is not None:
        claims["contract"] = contract.to_claim()
    return claims


def _payload_json(grant: Grant, issuer: str, iat: int, contract: ContractClaim | None) -> bytes:
    """The claims :func:`certificate_claims` returns, as the bytes of ``json.dumps(claims, separators=(",", ":"),
    sort_keys=True)``: members in sorted order, compact, non-ASCII escaped.

    Written out directly because the claim set is fixed and a general encoder costs as much as a fifth of an
    Ed25519 signature; the tests check that both give the same bytes. Values a :class:`Grant` has validated to
    need no escaping (its ULID, the hex digests, version labels) are written without the escaping function.
    """
    q = _quote
    out: list[str] = []
    if grant.agreement is not None:
        agreement = grant.agreement
        out.append(
            f'"agreement":{{"id":{q(agreement.id)},"sha256":"{agreement.sha256}","version":{q(agreement.version)}}}'
        )
    out.append('"all_versions":true' if grant.all_versions else '"all_versions":false')
    if contract is not None:
        deliveries = ",".join(
            f'{{"manifest_digest":{q(digest)},"version":{q(label)}}}' for label, digest in contract.deliveries
        )
        out.append(f'"contract":{{"deliveries":[{deliveries}],"id":{q(contract.contract_id)}}}')
    slug = "null" if grant.dataset_slug is None else q(grant.dataset_slug)
    out.append(f'"dataset":{{"id":{q(grant.dataset_id)},"slug":{slug}}}')
    if grant.valid_until is not None:
        out.append(f'"exp":{int(grant.valid_until.timestamp())}')  # the grant's datetimes are aware, in UTC
    grant_id, versions = grant.id, '","'.join(grant.versions)
    out.append(
        f'"iat":{iat},"iss":{q(issuer)},"jti":"{grant_id}","license_id":{q(grant.license_id)},'
        f'"licensee":{q(grant.licensee)},"licensor":{q(grant.licensor)},'
        f'"manifest_digest":"{grant.manifest_digest}","nbf":{int(grant.valid_from.timestamp())},"sub":"{grant_id}",'
        f'"terms_hash":"{grant.terms_hash}","versions":["{versions}"]'
    )
    return ("{" + ",".join(out) + "}").encode("ascii")


_HEADER_PREFIXES: dict[str, bytes] = {}


def _header_prefix(kid: str) -> bytes:
    """The encoded header of a certificate signed by ``kid`` and the dot after it (computed once per key)."""
    prefix = _HEADER_PREFIXES.get(kid)
    if prefix is None:
        if len(_HEADER_PREFIXES) >= 64:
            _HEADER_PREFIXES.clear()
        prefix = header_segment({"alg": ALGORITHM, "kid": kid, "typ": CERTIFICATE_TYPE}) + b"."
        _HEADER_PREFIXES[kid] = prefix
    return prefix


def issue_certificate(
    grant: Grant,
    keyring: KeyRing,
    issuer: str,
    *,
    issued_at: datetime | None = None,
    contract: ContractClaim | None = None,
) -> str:
    """Sign ``grant`` with the key ring's signer and return the compact JWS (with the ``contract`` claim when
    given).

    Only an active grant can be certified (raises :class:`CertificateError` otherwise). The key ring
    records the certificate's expiry so that rotation knows how long to keep the key.
    """
    if not isinstance(issuer, str) or not issuer:
        raise CertificateError("an issuer is required", "issuer")
    if grant.status is not GrantStatus.ACTIVE:
        raise CertificateError(f"only an active grant can be certified (this one is {grant.status.value})", "status")
    kid, private_key = keyring.signing_key()
    iat = grant.issued_at if issued_at is None else issued_at
    signing_input = _header_prefix(kid) + b64encode(_payload_json(grant, issuer, _ts(iat), contract))
    token = signing_input + b"." + b64encode(private_key.sign(signing_input))
    keyring.record_signature(kid, grant.valid_until)
    return token.decode("ascii")


def _fail(reason: VerificationReason, message: str, **extra: Any) -> VerificationResult:
    return VerificationResult(False, reason, message, **extra)


def _claims_problem(claims: Mapping[str, Any]) -> str | None:
    """Why parsed claims are not a certificate's (None when they are); their types are checked exactly."""
    get = claims.get
    for name, kind in _REQUIRED_CLAIMS.items():
        if get(name).__class__ is not kind:
            return f"claim {name!r} is missing or has the wrong type"
    if "exp" in claims and claims["exp"].__class__ is not int:
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
    if "contract" in claims:
        return _contract_problem(claims["contract"])
    return None


def _usual_claims(claims: dict[str, Any]) -> bool:
    """Whether ``claims`` are plainly a certificate's: every required claim of its exact type, ``sub`` equal to
    ``jti``, an integer ``exp`` if any, and no ``agreement`` nor ``contract`` claim. Only a quick test: claims for
    which it is false go through :func:`_claims_problem`, which says whether and why they are not."""
    try:
        kinds = tuple(map(type, _CLAIM_VALUES(claims)))
    except KeyError:
        return False
    return (
        kinds == _CLAIM_KINDS
        and claims["sub"] == claims["jti"]
        and claims.get("exp", 0).__class__ is int
        and "agreement" not in claims
        and "contract" not in claims
    )


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

    A token shaped as this module signs them (a remembered header, base64url without ``+``, ``/`` or ``=``, a
    signature segment of 86 characters, a payload that orjson writes back byte for byte, the usual claims) is
    checked here in line, as :func:`_verify_parts` would check it; any other token is left to that function.
    """
    at = int(now.timestamp()) if now.__class__ is datetime and now.tzinfo is UTC else _ts(now)
    keys = jwks if jwks.__class__ is PublicKeys else PublicKeys.coerce(jwks)
    try:
        data = token.encode("ascii")
    except (AttributeError, UnicodeEncodeError):
        data = None
    if data is None or not isinstance(token, str):
        return _fail(VerificationReason.MALFORMED, "a certificate is an ASCII string")
    parts = data.split(b".")
    known = _HEADERS.get(parts[0])
    if known is None or len(parts) != 3 or b"+" in data or b"/" in data or b"=" in data:
        return _verify_parts(parts, data, keys, at, leeway)
    head, body, tail = parts
    remainder = len(body) & 3
    if (
        len(tail) != _SIGNATURE_CHARS
        or VALUE[tail[-1]] & 0x0F
        or not body
        or (remainder and VALUE[body[-1]] & UNUSED_BITS[remainder])
    ):
        return _verify_parts(parts, data, keys, at, leeway)
    try:
        payload = DECODE(body + PADDING[remainder], URL_CHARS, True)
        signature = DECODE(tail + b"==", URL_CHARS, True)
    except ValueError:
        return _verify_parts(parts, data, keys, at, leeway)
    kid = known[0]
    key = keys._keys.get(kid)
    if key is None:
        return _fail(VerificationReason.UNKNOWN_KEY, f"no key {kid!r} in the JWKS", kid=kid, header=dict(known[1]))
    try:
        key.verify(signature, data[: len(head) + 1 + len(body)])
    except InvalidSignature:
        return _fail(VerificationReason.BAD_SIGNATURE, "the signature does not match", kid=kid, header=dict(known[1]))
    try:
        claims = _loads(payload)
    except ValueError:
        claims = None
    if (
        claims.__class__ is not dict
        or _dumps(claims, option=_SORT_KEYS) != payload
        or not _usual_claims(claims)
        or at + leeway < claims["nbf"]
        or ("exp" in claims and at - leeway >= claims["exp"])
    ):
        return _checked_claims(payload, kid, dict(known[1]), at, leeway)
    result = object.__new__(VerificationResult)
    result.__dict__.update(valid=True, reason=None, message="valid", claims=claims, kid=kid, header=dict(known[1]))
    return result


def _verify_parts(parts: list[bytes], data: bytes, keys: PublicKeys, at: int, leeway: int) -> VerificationResult:
    """:func:`verify_certificate` for any token: ``parts`` are its dot-separated segments, ``data`` its bytes."""
    if len(parts) != 3:
        return _fail(VerificationReason.MALFORMED, "a certificate has three dot-separated parts")
    head, body, tail = parts
    known = _HEADERS.get(head)
    raw_header = None if known is not None else b64decode(head)
    payload, signature = b64decode(body), b64decode(tail)
    if payload is None or signature is None or (known is None and raw_header is None):
        return _fail(VerificationReason.MALFORMED, "a part is not canonical base64url")
    if known is None:
        checked = _checked_header(head, raw_header or b"")
        if isinstance(checked, VerificationResult):
            return checked
        known = checked
    kid, header = known[0], dict(known[1])
    key = keys._keys.get(kid)
    if key is None:
        return _fail(VerificationReason.UNKNOWN_KEY, f"no key {kid!r} in the JWKS", kid=kid, header=header)
    try:
        key.verify(signature, data[: len(head) + 1 + len(body)])
    except InvalidSignature:
        return _fail(VerificationReason.BAD_SIGNATURE, "the signature does not match", kid=kid, header=header)
    return _checked_claims(payload, kid, header, at, leeway)


def _checked_claims(payload: bytes, kid: str, header: dict[str, Any], at: int, leeway: int) -> VerificationResult:
    """The outcome for a signed ``payload``: its claims if they are a certificate's and valid at ``at``."""
    claims = json_object(payload)
    if claims is None:
        return _fail(VerificationReason.MALFORMED, "the payload is not a JSON object", kid=kid, header=header)
    problem = _claims_problem(claims)
    if problem is not None:
        return _fail(VerificationReason.MALFORMED, problem, kid=kid, header=header)
    if at + leeway < claims["nbf"]:
        return _fail(VerificationReason.NOT_YET_VALID, "the certificate is not valid yet", kid=kid, header=header)
    if "exp" in claims and at - leeway >= claims["exp"]:
        return _fail(VerificationReason.EXPIRED, "the certificate has expired", kid=kid, header=header)
    return _valid(claims, kid, header)


def _valid(claims: dict[str, Any], kid: str, header: dict[str, Any]) -> VerificationResult:
    """``VerificationResult(True, None, "valid", claims, kid, header)``, built without the frozen dataclass's
    field-by-field ``__init__`` (this is on the hot path of verification)."""
    result = object.__new__(VerificationResult)
    result.__dict__.update(valid=True, reason=None, message="valid", claims=claims, kid=kid, header=header)
    return result


#: Header segments found well-formed -> (kid, header): a key's certificates share one.
_HEADERS: dict[bytes, tuple[str, dict[str, Any]]] = {}


def _checked_header(segment: bytes, raw: bytes) -> tuple[str, dict[str, Any]] | VerificationResult:
    """The kid and header of a decoded header segment, or the failure (a well-formed one is remembered)."""
    header = json_object(raw)
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
    if len(_HEADERS) >= 256:
        _HEADERS.clear()
    _HEADERS[segment] = (kid, header)
    return kid, header
