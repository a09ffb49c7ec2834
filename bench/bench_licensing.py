"""Benchmark: license certificates issued-and-signed per second, and verified per second, on one core.

Run with ``python bench/bench_licensing.py [iterations]``. Not part of the tests.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from licensing import (
    KeyRing,
    Money,
    Offer,
    PublicKeys,
    get_template,
    issue_certificate,
    issue_grant,
    verify_certificate,
)

ISSUER = "https://market.example"


def main(iterations: int = 3000) -> None:
    """Issue, sign and verify ``iterations`` certificates and print the rates."""
    now = datetime(2025, 3, 1, tzinfo=UTC)
    keyring = KeyRing.generate(now)
    offer = Offer(
        get_template("LicenseRef-standard-commercial-1.0"),
        Money(125000, "EUR"),
        overrides={"territory": ["DE", "FR"], "seats": 10},
    )
    jwks = PublicKeys(keyring.public_jwks(now))

    def issue(i: int) -> str:
        grant = issue_grant(
            offer,
            licensor="org-provider",
            licensee=f"org-{i}",
            dataset_id="ds-123",
            dataset_slug="speech-de",
            versions="1.0.0",
            manifest_digest="ab" * 32,
            issued_at=now + timedelta(milliseconds=i),
            payment_reference=f"pi_{i}",
        )
        return issue_certificate(grant, keyring, ISSUER)

    for i in range(100):  # warm-up
        verify_certificate(issue(i), jwks, now + timedelta(days=1))

    start = time.perf_counter()
    tokens = [issue(i) for i in range(iterations)]
    issue_seconds = time.perf_counter() - start

    at = now + timedelta(days=1)
    start = time.perf_counter()
    results = [verify_certificate(token, jwks, at) for token in tokens]
    verify_seconds = time.perf_counter() - start
    if not all(r.valid for r in results):
        raise SystemExit("verification failed")

    print(f"iterations:                       {iterations}")
    print(f"certificate size:                 {len(tokens[0])} bytes")
    print(
        f"issued and signed (grant + JWS):  {iterations / issue_seconds:8.0f} per second "
        f"({issue_seconds / iterations * 1e6:.0f} µs each)"
    )
    print(
        f"verified (strict, Ed25519):       {iterations / verify_seconds:8.0f} per second "
        f"({verify_seconds / iterations * 1e6:.0f} µs each)"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3000)
