"""The signed head: the marketplace's signature over an export's last entry, so a wholesale rewrite is detected.

Hash links show that no entry was changed, removed or reordered *relative to the others*; someone who rewrites
the whole file (or drops its newest entries) can recompute every hash. The export therefore ends with one more line,
``{"signed_head": "<compact JWS>"}``: a JWS (``alg: EdDSA``, ``typ: audit-head+jwt``) by the marketplace's
license-signing key (:mod:`licensing.keys`) whose payload names the organisation, the number of entries and the
hash of the last one. It verifies against the public JWKS (``/.well-known/jwks.json``), offline.

Pure Python like :mod:`marketplace.audit.chain`: no Flask, no database. Signing uses joserfc; verification parses
the token strictly and checks the Ed25519 signature with ``cryptography``, as :mod:`licensing.certificates` does.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from joserfc import jws
from joserfc.errors import UnsupportedAlgorithmError
from joserfc.jws import JWSRegistry

from licensing.canonical import canonical_json
from licensing.certificates import PublicKeys
from licensing.errors import CertificateError
from licensing.keys import ALGORITHM, KeyRing
from marketplace.audit.chain import Verdict, verify_lines

HEAD_TYPE = "audit-head+jwt"
_PAYLOAD = {"iss": str, "iat": int, "organisation": int, "seq": int, "hash": str}


class _EdDSAOnly(JWSRegistry):
    """Only EdDSA, without joserfc's RFC 9864 deprecation warning (as in :mod:`licensing.certificates`)."""

    def get_alg(self, name: str) -> Any:
        if name != ALGORITHM:
            raise UnsupportedAlgorithmError(f"Algorithm of '{name}' is not allowed")
        return self.algorithms[name]


_REGISTRY = _EdDSAOnly(algorithms=[ALGORITHM])


def sign_head(keyring: KeyRing, *, issuer: str, organisation_id: int, seq: int, head: str, at: datetime) -> str:
    """The compact JWS over the chain's head (``seq`` entries, the last hashing to ``head``), by the signer."""
    signer = keyring.signer
    header = {"alg": ALGORITHM, "kid": signer.kid, "typ": HEAD_TYPE}
    payload = {"iss": issuer, "iat": int(at.timestamp()), "organisation": organisation_id, "seq": seq, "hash": head}
    return jws.serialize_compact(header, canonical_json(payload), signer.key, algorithms=[ALGORITHM],
                                 registry=_REGISTRY)  # fmt: skip


def head_line(token: str) -> str:
    """The export's last line carrying ``token`` (no newline)."""
    return canonical_json({"signed_head": token}).decode("utf-8")


def _b64(segment: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError) as error:
        raise ValueError("not base64url") from error


def _parse(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    """Header, payload, signing input and signature of ``token``; ValueError says what is malformed."""
    parts = token.split(".")
    if len(parts) != 3:
        raise ValueError("not a compact JWS")
    header, payload = json.loads(_b64(parts[0])), json.loads(_b64(parts[1]))
    if not isinstance(header, dict) or header.get("alg") != ALGORITHM or header.get("typ") != HEAD_TYPE:
        raise ValueError(f"not an EdDSA {HEAD_TYPE} token")
    if not isinstance(header.get("kid"), str):
        raise ValueError("no key id")
    if not isinstance(payload, dict) or any(
        not isinstance(payload.get(name), kind) or isinstance(payload.get(name), bool)
        for name, kind in _PAYLOAD.items()
    ):
        raise ValueError("the payload lacks " + ", ".join(_PAYLOAD))
    return header, payload, f"{parts[0]}.{parts[1]}".encode("ascii"), _b64(parts[2])


def _signed_head_of(raw: str | bytes) -> str | None:
    """The token when ``raw`` is a signed-head line, else None (an entry, or something unreadable)."""
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    if isinstance(value, dict) and set(value) == {"signed_head"} and isinstance(value["signed_head"], str):
        return value["signed_head"]
    return None


def _held_back(lines: Iterable[str | bytes], found: list[tuple[int, str]]) -> Iterator[str | bytes]:
    """``lines`` without a signed-head last line, which goes into ``found`` with its line number."""
    held: str | bytes | None = None
    number = 0
    for raw in lines:
        if held is not None:
            yield held
        held, number = raw, number + 1
    if held is None:
        return
    token = _signed_head_of(held)
    if token is None:
        yield held
    else:
        found.append((number, token))


def _failed(verdict: Verdict, line: int, problem: str) -> Verdict:
    return Verdict(False, verdict.count, verdict.head, line, problem, verdict.organisation)


def verify_export(lines: Iterable[str | bytes], jwks: Mapping[str, Any] | str | None = None) -> Verdict:
    """Verify an export (:func:`~marketplace.audit.chain.verify_lines`) and its signed head, if it ends with one.

    The signed head must name the chain's organisation, its number of entries and its last hash. With ``jwks`` (the
    marketplace's public keys) its signature is checked too, and an export without a signed head fails; without
    ``jwks`` the verdict's note says the signature was not checked.
    """
    found: list[tuple[int, str]] = []
    verdict = verify_lines(_held_back(lines, found))
    if not verdict.ok:
        return verdict
    if not found:
        if jwks is not None:
            return Verdict(
                False, verdict.count, verdict.head, verdict.count + 1, "no signed head (the export has none)"
            )
        return replace(verdict, note="no signed head")
    number, token = found[0]
    try:
        header, payload, signing_input, signature = _parse(token)
    except ValueError as error:
        return _failed(verdict, number, f"unreadable signed head ({error})")
    if (payload["seq"], payload["hash"]) != (verdict.count, verdict.head) or (
        verdict.organisation is not None and payload["organisation"] != verdict.organisation
    ):
        problem = (f"signed head does not match the chain (it signs organisation {payload['organisation']}, seq "
                   f"{payload['seq']}, hash {payload['hash']}; the chain ends at seq {verdict.count}, hash "
                   f"{verdict.head})")  # fmt: skip
        return _failed(verdict, number, problem)
    signed_at = datetime.fromtimestamp(payload["iat"], UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if jwks is None:
        return replace(verdict, note=f"head signed by {payload['iss']} at {signed_at} (signature not checked: no JWKS)")
    try:
        key = PublicKeys.coerce(jwks).get(header["kid"])
    except CertificateError as error:
        return _failed(verdict, number, f"the JWKS cannot be used ({error})")
    if key is None:
        return Verdict(
            False, verdict.count, verdict.head, number, f"signed head: key {header['kid']} is not in the JWKS"
        )
    try:
        key.verify(signature, signing_input)
    except InvalidSignature:
        return _failed(verdict, number, "signed head: bad signature")
    return replace(
        verdict, note=f"head signed by {payload['iss']} at {signed_at}, key {header['kid']}: signature valid"
    )
