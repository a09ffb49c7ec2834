"""Benchmark: license certificates signed and verified per second, against raw Ed25519 with ``cryptography``.

What is measured, on one core, in the same run and interleaved round by round (so that the machine's load hits
every figure alike):

* **raw sign / raw verify**: ``Ed25519PrivateKey.sign`` and ``Ed25519PublicKey.verify`` from ``cryptography`` on
  distinct random messages as long as a certificate's signing input (its header and payload segments), nothing else;
* **sign** (*certificate signing*): :func:`licensing.issue_certificate` on a grant that already exists, which is
  everything from the grant to the compact JWS: the claims, their JSON and base64url, the Ed25519 signature, and the
  key ring's record of the certificate's expiry. Every round signs fresh grants with later expiries, so that record
  changes on every call, as it does in production;
* **issue + sign**: :func:`licensing.issue_grant` (terms snapshot, ULID, validation) followed by the above;
* **verify**: :func:`licensing.verify_certificate` with every check it makes (strict base64url and JSON, header
  members, algorithm pinning, kid lookup, signature, claim types, ``nbf``/``exp``) against a parsed
  :class:`~licensing.PublicKeys`; **verify (JWKS dict)** passes the JWKS document instead, as the web app does.

The targets are sign ≥ 0.8 × raw sign and verify ≥ 0.9 × raw verify. Times are the process's CPU time (the machine
may be shared: CPU time is not inflated by waiting for a core, wall time is), measured in alternating batches of 50
operations. Each figure is the median over the rounds; the ratios are medians of the per-round ratios.

Run with ``python bench/bench_licensing.py [--iterations N] [--rounds R] [--quick] [--json]``. Not part of the tests.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from licensing import (
    Grant,
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
NOW = datetime(2025, 3, 1, tzinfo=UTC)
OFFER = Offer(
    get_template("LicenseRef-standard-commercial-1.0"),
    Money(125000, "EUR"),
    overrides={"territory": ["DE", "FR"], "seats": 10},
)


def _grant(i: int) -> Grant:
    return issue_grant(
        OFFER,
        licensor="org-provider",
        licensee=f"org-{i}",
        dataset_id="ds-123",
        dataset_slug="speech-de",
        versions="1.0.0",
        manifest_digest="ab" * 32,
        issued_at=NOW + timedelta(milliseconds=i),
        payment_reference=f"pi_{i}",
    )


BATCH = 50


def _interleaved(n: int, work: dict[str, Callable[[int, int], object]]) -> dict[str, float]:
    """Operations per second of each ``work(start, stop)``, run in alternating batches of :data:`BATCH` operations
    so that a burst of load on the machine hits every measurement alike."""
    spent = dict.fromkeys(work, 0.0)
    for start in range(0, n, BATCH):
        stop = min(n, start + BATCH)
        for name, run in work.items():
            began = time.process_time()
            run(start, stop)
            spent[name] += time.process_time() - began
    return {name: n / seconds for name, seconds in spent.items()}


def _round(n: int, offset: int, keyring: KeyRing, message_size: int) -> dict[str, float]:
    """One round of every measurement, ``n`` operations each; returns operations per second."""
    raw_key = Ed25519PrivateKey.generate()
    raw_public = raw_key.public_key()
    # Distinct messages and signatures, as the certificates are: verification is variable-time, and repeating one
    # signature would let the branch predictor learn it.
    messages = [os.urandom(message_size) for _ in range(n)]
    signatures = [raw_key.sign(m) for m in messages]
    grants = [_grant(offset + i) for i in range(n)]
    later = offset + n
    jwks_document = keyring.public_jwks(NOW)
    keys = PublicKeys(jwks_document)
    at = NOW + timedelta(days=1)
    tokens: list[str] = []
    rates = _interleaved(
        n,
        {
            "raw_sign": lambda a, b: [raw_key.sign(m) for m in messages[a:b]],
            "sign": lambda a, b: tokens.extend([issue_certificate(g, keyring, ISSUER) for g in grants[a:b]]),
            "issue_and_sign": lambda a, b: [issue_certificate(_grant(later + i), keyring, ISSUER) for i in range(a, b)],
        },
    )
    valid = [0]  # count the valid results rather than keep them: thousands of live dicts would slow the GC down
    rates |= _interleaved(
        n,
        {
            "raw_verify": lambda a, b: [
                raw_public.verify(s, m) for s, m in zip(signatures[a:b], messages[a:b], strict=True)
            ],
            "verify": lambda a, b: valid.append(sum([verify_certificate(t, keys, at).valid for t in tokens[a:b]])),
            "verify_jwks_dict": lambda a, b: valid.append(
                sum([verify_certificate(t, jwks_document, at).valid for t in tokens[a:b]])
            ),
        },
    )
    if sum(valid) != 2 * n:
        raise SystemExit("verification failed")
    return rates


def run(iterations: int, rounds: int) -> dict[str, Any]:
    """Warm up, run ``rounds`` rounds of ``iterations`` operations and return the medians and ratios."""
    keyring = KeyRing.generate(NOW)
    sample = issue_certificate(_grant(0), keyring, ISSUER)
    signing_input = sample[: sample.rindex(".")].encode("ascii")
    _round(min(iterations, 200), 1, keyring, len(signing_input))  # warm-up
    start = 1 + 2 * min(iterations, 200)  # later grants expire later, as in production
    per_round = [_round(iterations, start + 2 * iterations * r, keyring, len(signing_input)) for r in range(rounds)]

    def median(name: str) -> float:
        return statistics.median(r[name] for r in per_round)

    def ratio(ours: str, raw: str) -> float:
        return statistics.median(r[ours] / r[raw] for r in per_round)

    names = ("raw_sign", "sign", "issue_and_sign", "raw_verify", "verify", "verify_jwks_dict")
    return {
        "benchmark": "licensing",
        "iterations": iterations,
        "rounds": rounds,
        "certificate_bytes": len(sample),
        "signing_input_bytes": len(signing_input),
        "per_second": {name: round(median(name)) for name in names},
        "microseconds": {name: round(1e6 / median(name), 1) for name in names},
        "ratios": {
            "sign_vs_raw_sign": round(ratio("sign", "raw_sign"), 3),
            "issue_and_sign_vs_raw_sign": round(ratio("issue_and_sign", "raw_sign"), 3),
            "verify_vs_raw_verify": round(ratio("verify", "raw_verify"), 3),
            "verify_jwks_dict_vs_raw_verify": round(ratio("verify_jwks_dict", "raw_verify"), 3),
        },
        "targets": {"sign_vs_raw_sign": 0.8, "verify_vs_raw_verify": 0.9},
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def _print(report: dict[str, Any]) -> None:
    rates, micro, ratios = report["per_second"], report["microseconds"], report["ratios"]
    print(f"iterations x rounds:        {report['iterations']} x {report['rounds']} (medians of rounds)")
    print(f"certificate size:           {report['certificate_bytes']} bytes "
          f"(signing input {report['signing_input_bytes']} bytes)")  # fmt: skip
    labels = {
        "raw_sign": "raw Ed25519 sign",
        "sign": "certificate sign (grant->JWS)",
        "issue_and_sign": "issue grant + sign",
        "raw_verify": "raw Ed25519 verify",
        "verify": "verify (strict, PublicKeys)",
        "verify_jwks_dict": "verify (strict, JWKS dict)",
    }
    for name, label in labels.items():
        print(f"{label:31s} {rates[name]:8d} per second ({micro[name]:6.1f} µs each)")
    print(f"sign / raw sign:            {ratios['sign_vs_raw_sign']:.3f}   (target >= 0.8)")
    print(f"issue+sign / raw sign:      {ratios['issue_and_sign_vs_raw_sign']:.3f}")
    print(f"verify / raw verify:        {ratios['verify_vs_raw_verify']:.3f}   (target >= 0.9)")
    print(f"verify(JWKS) / raw verify:  {ratios['verify_jwks_dict_vs_raw_verify']:.3f}")
    print(f"load average:               {report['load_average']}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("iterations_arg", nargs="?", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--iterations", type=int, default=None, help="operations per round (default 2000)")
    parser.add_argument("--rounds", type=int, default=None, help="rounds; figures are medians (default 7)")
    parser.add_argument("--quick", action="store_true", help="small sizes (300 x 3), a few seconds")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    args = parser.parse_args(argv)
    iterations = args.iterations or args.iterations_arg or (300 if args.quick else 2000)
    rounds = args.rounds or (3 if args.quick else 7)
    report = run(iterations, rounds)
    if args.json:
        print(json.dumps(report))
    else:
        _print(report)


if __name__ == "__main__":
    main()
