"""The ``contract`` claim of a custom-data contract's license certificate: carried, verified, optional."""

from __future__ import annotations

import json

import pytest
from licensing_testkit import ISSUER, T0, make_grant
from test_licensing_certificates import _sign

from licensing import (
    CERTIFICATE_TYPE,
    CertificateError,
    ContractClaim,
    KeyRing,
    VerificationReason,
    certificate_claims,
    issue_certificate,
    verify_certificate,
)

DIGEST_1 = "sha256:" + "1" * 64
DIGEST_2 = "sha256:" + "2" * 64


def test_the_claim_names_the_contract_and_each_accepted_version(keyring: KeyRing) -> None:
    claim = ContractClaim("42", (("1.0.0", DIGEST_1), ("2.1.0", DIGEST_2)))
    token = issue_certificate(make_grant(), keyring, ISSUER, contract=claim)
    result = verify_certificate(token, keyring.public_jwks(T0), T0)
    assert result.valid, result.message
    assert result.claims is not None and result.claims["contract"] == {
        "id": "42",
        "deliveries": [
            {"version": "1.0.0", "manifest_digest": DIGEST_1},
            {"version": "2.1.0", "manifest_digest": DIGEST_2},
        ],
    }


def test_a_certificate_without_the_claim_still_verifies(keyring: KeyRing) -> None:
    token = issue_certificate(make_grant(), keyring, ISSUER)
    result = verify_certificate(token, keyring, T0)
    assert result.valid and result.claims is not None and "contract" not in result.claims
    assert "contract" not in certificate_claims(make_grant(), ISSUER)


@pytest.mark.parametrize(
    "contract",
    [
        "42",
        {"id": 42, "deliveries": [{"version": "1.0.0", "manifest_digest": DIGEST_1}]},
        {"id": "42", "deliveries": []},
        {"id": "42", "deliveries": [{"version": "1.0.0"}]},
    ],
)
def test_a_malformed_claim_is_refused(keyring: KeyRing, contract: object) -> None:
    claims = certificate_claims(make_grant(), ISSUER) | {"contract": contract}
    header = {"alg": "EdDSA", "kid": keyring.signer_kid, "typ": CERTIFICATE_TYPE}
    token = _sign(keyring, header, json.dumps(claims).encode())
    result = verify_certificate(token, keyring, T0)
    assert result.reason is VerificationReason.MALFORMED and "contract" in result.message


def test_a_claim_needs_an_id_and_at_least_one_delivery() -> None:
    with pytest.raises(CertificateError):
        ContractClaim("", (("1.0.0", DIGEST_1),))
    with pytest.raises(CertificateError):
        ContractClaim("42", ())
    with pytest.raises(CertificateError):
        ContractClaim("42", (("1.0.0", ""),))
