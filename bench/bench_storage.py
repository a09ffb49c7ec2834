"""Benchmark: presigned download links issued per second, and p50/p95/p99 latency, per storage backend.

Presigning is local for both backends (an HMAC for LocalStorage, a SigV4 signature for S3Storage), so no
server is needed: the S3 client only gets static fake credentials. Each link carries a file name (so the
Content-Disposition is built) and a content type, as the download service would issue them.

Run with ``python bench/bench_storage.py [iterations]`` (``--quick``: 2,000 links per backend). Not part of the
tests.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from storage import LocalStorage, S3Storage, Storage


def _measure(issue: Callable[[int], str], iterations: int) -> tuple[float, list[float]]:
    """Return links per second over the whole run and the sorted per-call latencies in microseconds."""
    for i in range(min(200, iterations)):  # warm-up: caches, lazy imports
        issue(i)
    latencies = []
    start = time.perf_counter()
    for i in range(iterations):
        t0 = time.perf_counter_ns()
        issue(i)
        latencies.append((time.perf_counter_ns() - t0) / 1000)
    elapsed = time.perf_counter() - start
    latencies.sort()
    return iterations / elapsed, latencies


def _percentile(sorted_values: list[float], fraction: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


def _bench(name: str, storage: Storage, iterations: int) -> None:
    expiry = timedelta(minutes=15)

    def issue(i: int) -> str:
        return storage.presign_download(
            f"datasets/{i % 1000}/versions/3/files/part-{i:05d}.parquet",
            expires_in=expiry,
            filename=f"Données part {i}.parquet",
            content_type="application/vnd.apache.parquet",
        )

    rate, latencies = _measure(issue, iterations)
    print(
        f"{name:<28} {rate:>10,.0f} links/s   p50 {_percentile(latencies, 0.50):7.1f} µs   "
        f"p95 {_percentile(latencies, 0.95):7.1f} µs   p99 {_percentile(latencies, 0.99):7.1f} µs   "
        f"mean {statistics.fmean(latencies):7.1f} µs"
    )


def main(iterations: int = 20_000) -> None:
    """Issue ``iterations`` download links with each backend and print throughput and latency."""
    print(f"presign_download, {iterations:,} links per backend, one thread")
    with tempfile.TemporaryDirectory() as root:
        local = LocalStorage(Path(root), "https://market.example/storage", b"bench-secret-0123456789abcdef")
        _bench("LocalStorage (HMAC-SHA256)", local, iterations)
    aws = S3Storage("bench-datasets", region="eu-central-1", access_key="AKIABENCH", secret_key="bench-secret")
    _bench("S3Storage AWS (SigV4)", aws, iterations)
    compatible = S3Storage(
        "bench-datasets",
        region="us-east-1",
        endpoint_url="http://127.0.0.1:9000",
        access_key="bench",
        secret_key="bench-secret",
    )
    _bench("S3Storage endpoint (SigV4)", compatible, iterations)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("iterations", type=int, nargs="?", default=20_000, help="links per backend (20,000)")
    parser.add_argument("--quick", action="store_true", help="2,000 links per backend")
    arguments = parser.parse_args()
    main(min(arguments.iterations, 2_000) if arguments.quick else arguments.iterations)
