"""Benchmark: download-link issuance (grant checks + presign + audit row + commit), through the service and over HTTP.

The service figures call :func:`marketplace.delivery.services.issue_download_link` in its own unit of work per link,
as a request would. The HTTP figures run the application under gunicorn (gthread workers) on a free loopback port
and POST the licensee's download form, counting a 303 to the presigned link as success; first one client, then
several in parallel. Loops are bounded; everything lives in a temporary folder and is removed afterwards.

Run with ``python bench/bench_delivery.py [service_iterations] [http_iterations]``; set ``BENCH_DATABASE_URL`` to an
empty PostgreSQL database to measure on PostgreSQL instead of SQLite. Not part of the tests.
"""

from __future__ import annotations

import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests

PASSWORD = "bench passphrase 0123"
SECRET = "bench-secret-key-that-is-long-enough-0123456789"


def _percentile(sorted_values: list[float], fraction: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


def _report(name: str, latencies_ms: list[float], elapsed: float) -> None:
    latencies_ms.sort()
    print(
        f"{name:<34} {len(latencies_ms) / elapsed:>8,.0f} links/s   p50 {_percentile(latencies_ms, 0.5):6.2f} ms   "
        f"p95 {_percentile(latencies_ms, 0.95):6.2f} ms   p99 {_percentile(latencies_ms, 0.99):6.2f} ms   "
        f"mean {statistics.fmean(latencies_ms):6.2f} ms   (n={len(latencies_ms)})"
    )


def _settings(folder: Path, database_url: str) -> dict[str, str]:
    return {
        "MARKETPLACE_ENV": "development",
        "INSTANCE_PATH": str(folder / "instance"),
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET,
        "PASSWORD_HASHER_PROFILE": "CHEAPEST",
        "MAIL_BACKEND": "console",
        "LOG_LEVEL": "WARNING",
    }


def _arrange(app: Any, files: int) -> tuple[str, list[int]]:
    """A provider, a buyer with a member, a published dataset with ``files`` stored files, and a grant."""
    import io

    from marketplace.accounts.models import Membership, Organisation, OrgKind, Role, User
    from marketplace.accounts.passwords import hasher_for
    from marketplace.catalog.manifest import compute_manifest_digest
    from marketplace.catalog.models import Dataset, DatasetFile, DatasetVersion
    from marketplace.catalog.vocab import DatasetStatus, VersionStatus
    from marketplace.db import unit_of_work, utcnow
    from marketplace.licenses import services as licenses

    database = app.extensions["marketplace.db"]
    context = app.extensions["marketplace.context"]
    store = context.storage
    with app.app_context(), unit_of_work(database, context) as uow:
        session = uow.session
        provider = Organisation(slug="bench-provider", name="Bench Provider", kind=OrgKind.PROVIDER)
        buyer = Organisation(slug="bench-buyer", name="Bench Buyer", kind=OrgKind.BUYER)
        hashed = hasher_for("CHEAPEST").hash(PASSWORD)
        seller = User(email="seller@bench.example", password_hash=hashed, email_verified_at=utcnow())
        downloader = User(email="buyer@bench.example", password_hash=hashed, email_verified_at=utcnow())
        session.add_all([provider, buyer, seller, downloader])
        session.flush()
        assert provider.id and buyer.id and seller.id and downloader.id
        session.add(Membership(organisation_id=provider.id, user_id=seller.id, role=Role.OWNER))
        session.add(Membership(organisation_id=buyer.id, user_id=downloader.id, role=Role.MEMBER))
        dataset = Dataset(
            slug="bench-data", organisation_id=provider.id, title="Bench", status=DatasetStatus.PUBLISHED,
            published_at=utcnow(),
        )  # fmt: skip
        session.add(dataset)
        session.flush()
        assert dataset.id is not None
        version = DatasetVersion(
            dataset_id=dataset.id, version="1.0.0", status=VersionStatus.PUBLISHED, published_at=utcnow()
        )
        session.add(version)
        session.flush()
        rows = []
        for index in range(files):
            path = f"shards/part-{index:05d} données.parquet"
            key = f"datasets/{dataset.id}/versions/{version.id}/{path}"
            info = store.put(key, io.BytesIO(b"x" * 64), content_type="application/octet-stream")
            rows.append(
                DatasetFile(
                    version_id=version.id,  # type: ignore[arg-type]
                    path=path,
                    size_bytes=info.size,
                    sha256=info.sha256 or "",
                    media_type="application/octet-stream",
                    storage_key=key,
                )
            )
        session.add_all(rows)
        version.file_count = files
        version.manifest_digest = compute_manifest_digest(rows)
        session.flush()
        offer = licenses.create_offer(
            uow, seller, dataset, title="Bench", license_id="CC-BY-4.0", price_amount=0, currency="EUR"
        )
        grant = licenses.issue_grant(uow, offer, licensee=buyer, acquired_by=None)
        return grant.id, [row.id for row in rows]  # type: ignore[misc]


def bench_service(app: Any, grant_id: str, file_ids: list[int], iterations: int) -> None:
    from sqlmodel import select

    from marketplace.accounts.models import User
    from marketplace.db import unit_of_work
    from marketplace.delivery import services as delivery
    from marketplace.licenses.models import Grant

    database = app.extensions["marketplace.db"]
    context = app.extensions["marketplace.context"]

    def issue(i: int) -> None:
        with unit_of_work(database, context) as uow:
            grant = uow.session.get(Grant, grant_id)
            assert grant is not None
            user = uow.session.exec(select(User).where(User.email == "buyer@bench.example")).one()
            who = delivery.Requester(user=user, ip="127.0.0.1", user_agent="bench")
            delivery.issue_download_link(uow, grant=grant, file_id=file_ids[i % len(file_ids)], requester=who)

    with app.app_context():
        for i in range(min(50, iterations)):
            issue(i)
        latencies = []
        start = time.perf_counter()
        for i in range(iterations):
            t0 = time.perf_counter()
            issue(i)
            latencies.append((time.perf_counter() - t0) * 1000)
        _report("service (1 thread, commit each)", latencies, time.perf_counter() - start)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _logged_in(base: str) -> tuple[requests.Session, str]:
    http = requests.Session()
    page = http.get(f"{base}/login", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, "no CSRF token on /login"
    answer = http.post(
        f"{base}/login",
        data={"email": "buyer@bench.example", "password": PASSWORD, "csrf_token": token.group(1)},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302, answer.status_code
    page = http.get(f"{base}/settings", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, "no CSRF token on /settings"
    return http, token.group(1)


def _http_loop(
    client: tuple[requests.Session, str], base: str, grant_id: str, file_ids: list[int], count: int, out: list[float]
) -> None:
    http, token = client
    for i in range(count):
        t0 = time.perf_counter()
        answer = http.post(
            f"{base}/licenses/{grant_id}/files/{file_ids[i % len(file_ids)]}/download",
            data={"csrf_token": token},
            allow_redirects=False,
            timeout=30,
        )
        out.append((time.perf_counter() - t0) * 1000)
        if answer.status_code != 303:
            raise RuntimeError(f"expected 303, got {answer.status_code}: {answer.text[:200]}")


def _timed(run: Callable[[], None]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def bench_http(folder: Path, settings: dict[str, str], grant_id: str, file_ids: list[int], iterations: int) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, **settings, "BASE_URL": base}
    workers, threads = 2, 4
    command = [
        sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
        "--worker-class", "gthread", "--threads", str(threads), "--log-level", "warning", "marketplace:create_app()",
    ]  # fmt: skip
    server = subprocess.Popen(command, env=env, cwd=folder)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{base}/api/v1/status", timeout=5).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("gunicorn did not start")
            time.sleep(0.2)
        print(f"gunicorn on {base}: {workers} gthread workers x {threads} threads")
        first = _logged_in(base)
        warm: list[float] = []
        _http_loop(first, base, grant_id, file_ids, 30, warm)

        one: list[float] = []
        elapsed = _timed(lambda: _http_loop(first, base, grant_id, file_ids, iterations, one))
        _report("HTTP POST → 303 (1 client)", one, elapsed)

        if settings["DATABASE_URL"].startswith("sqlite"):
            print("(parallel clients: run with BENCH_DATABASE_URL=postgresql://...; SQLite serialises writers)")
            return
        clients = 8
        sessions = [_logged_in(base) for _ in range(clients)]
        many: list[float] = []
        per_client = max(1, iterations // clients)

        def parallel() -> None:
            threads_ = [
                threading.Thread(target=_http_loop, args=(session, base, grant_id, file_ids, per_client, many))
                for session in sessions
            ]
            for thread in threads_:
                thread.start()
            for thread in threads_:
                thread.join()

        elapsed = _timed(parallel)
        _report(f"HTTP POST → 303 ({clients} clients)", many, elapsed)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


def _empty_postgres(url: str) -> None:
    """Drop everything in the (dedicated, empty) benchmark database so the run starts from nothing."""
    from marketplace.db import make_engine

    engine = make_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


def main(service_iterations: int = 2000, http_iterations: int = 1000) -> None:
    from marketplace import create_app, migrate
    from marketplace.config import normalise_database_url

    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        database_url = normalise_database_url(os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{folder / 'b.db'}")
        if os.environ.get("BENCH_DATABASE_URL"):
            _empty_postgres(database_url)
        migrate.upgrade(database_url)
        settings = _settings(folder, database_url)
        app = create_app(dict(settings))
        grant_id, file_ids = _arrange(app, files=200)
        backend = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"
        print(f"download-link issuance on {backend}, local storage, {len(file_ids)} files, one grant")
        bench_service(app, grant_id, file_ids, service_iterations)
        app.extensions["marketplace.db"].dispose()
        bench_http(folder, settings, grant_id, file_ids, http_iterations)


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    main(*args)
