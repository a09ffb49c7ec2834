"""API throughput under gunicorn: ``GET /api/v1/datasets`` (search) and ``GET /api/v1/licenses/{id}/verify``.

Builds a fresh database (SQLite in a temporary folder, or the PostgreSQL database given, which it empties), migrates
it, loads the demo catalog plus ``--extra`` generated listings, a license and an API key; starts gunicorn on a free
loopback port (``infra/gunicorn.conf.py`` settings, ``--workers`` workers); then, for each endpoint, runs
``--threads`` client threads each making ``--requests`` keep-alive requests with ``http.client`` (loopback only) and
prints requests per second and latency percentiles. Rate limits are raised for the run.

    .venv/bin/python bench/bench_api.py
    .venv/bin/python bench/bench_api.py --workers 4 --threads 16 --requests 300
    .venv/bin/python bench/bench_api.py --postgres postgresql://postgres@127.0.0.1:5432/bench_api
    .venv/bin/python bench/bench_api.py --quick                 # 500 extra listings, 4 threads × 30 requests
"""

from __future__ import annotations

import argparse
import http.client
import os
import signal
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

QUERIES = ["speech", "clinical notes", "driving video", "sensor", "retail product", "w17", "w230 w231"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare(url: str, instance: Path, extra: int) -> dict[str, str]:
    """Migrate and seed the database; return the API key and a license id."""
    import sqlalchemy as sa

    from marketplace import create_app, migrate
    from marketplace.accounts.models import Organisation
    from marketplace.apikeys import services as keys
    from marketplace.catalog.models import Dataset, DatasetTerm, TermScheme
    from marketplace.catalog.vocab import DatasetStatus
    from marketplace.db import unit_of_work, utcnow
    from marketplace.licenses import services as licenses
    from marketplace.seed import seed_demo

    if url.startswith("postgresql"):
        parsed = sa.engine.make_url(url)
        admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            if not conn.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": parsed.database}
            ).first():
                conn.execute(sa.text(f'CREATE DATABASE "{parsed.database}"'))
        admin.dispose()
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
        engine.dispose()
    migrate.upgrade(url)
    app = create_app(settings(url, instance))
    database, context = app.extensions["marketplace.db"], app.extensions["marketplace.context"]
    with app.app_context(), unit_of_work(database, context) as uow:
        seed_demo(uow)
    with app.app_context(), unit_of_work(database, context) as uow:
        session = uow.session
        provider = session.exec(sa.select(Organisation).where(Organisation.kind == "provider")).scalars().first()
        buyer = session.exec(sa.select(Organisation).where(Organisation.kind == "buyer")).scalars().first()
        assert provider is not None and buyer is not None
        now = utcnow()
        for start in range(0, extra, 1000):
            rows = [
                {
                    "slug": f"bench-{n}",
                    "organisation_id": provider.id,
                    "title": f"Bench dataset {n} w{n % 500} speech" if n % 7 == 0 else f"Bench dataset {n} w{n % 500}",
                    "summary": f"Generated listing w{(n * 7) % 500} w{(n * 13) % 500}",
                    "description": "",
                    "status": DatasetStatus.PUBLISHED.value,
                    "offering_type": "off_the_shelf",
                    "modality": ["text", "audio", "image", "video", "sensor"][n % 5],
                    "personal_data": "unknown",
                    "tags_text": f"w{n % 50}",
                    "created_at": now,
                    "updated_at": now,
                    "published_at": now,
                }
                for n in range(start, min(extra, start + 1000))
            ]
            session.execute(sa.insert(Dataset), rows)
        if extra:
            ids = session.execute(sa.select(Dataset.id).where(Dataset.slug.like("bench-%"))).scalars().all()  # type: ignore[attr-defined]
            session.execute(
                sa.insert(DatasetTerm),
                [{"dataset_id": i, "scheme": TermScheme.TASK, "value": "classification", "position": 0} for i in ids],
            )
        dataset = (
            session.execute(
                sa.select(Dataset).where(Dataset.organisation_id == provider.id, Dataset.status == "published")
            )
            .scalars()
            .first()
        )
        assert dataset is not None
        owner = provider.created_by_id
        from marketplace.accounts.models import User

        seller = session.get(User, owner)
        buyer_owner = session.get(User, buyer.created_by_id)
        offer = licenses.create_offer(
            uow, seller, dataset, title="Bench", license_id="CC-BY-4.0", price_amount=0, currency="EUR"
        )
        grant = licenses.issue_grant(uow, offer, licensee=buyer, acquired_by=None)
        _row, secret = keys.create_key(uow, buyer_owner, name="bench", scopes=["catalog:read", "licenses:read"])
        count = session.execute(sa.select(sa.func.count()).select_from(Dataset)).scalar_one()
    app.extensions["marketplace.db"].dispose()
    return {"key": secret, "license": grant.id, "datasets": str(count)}


def settings(url: str, instance: Path) -> dict[str, Any]:
    return {
        "MARKETPLACE_ENV": "development",
        "INSTANCE_PATH": str(instance),
        "DATABASE_URL": url,
        "SECRET_KEY": "bench-secret-key-0123456789abcdef0123456789",
        "PASSWORD_HASHER_PROFILE": "CHEAPEST",
        "API_RATE_LIMIT_PER_KEY": "100000000 per minute",
        "API_RATE_LIMIT_PER_ADDRESS": "100000000 per minute",
        "WEBHOOK_WORKER": "off",
    }


def start_gunicorn(url: str, instance: Path, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, **{k: str(v) for k, v in settings(url, instance).items()}}
    env.update(GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_WORKERS=str(workers), BASE_URL=f"http://127.0.0.1:{port}")
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        str(ROOT / "infra" / "gunicorn.conf.py"),
        "--access-logfile",
        "/dev/null",
        "marketplace:create_app()",
    ]
    # The log goes to a file: a pipe nobody reads fills up after ~64 KB of log lines and then blocks every worker.
    log = instance / "gunicorn.log"
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log.open("wb"))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/api/v1/status")
            if connection.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("gunicorn did not start: " + log.read_text(errors="replace")[-3000:])


def load(
    port: int, paths: Callable[[int], str], headers: dict[str, str], threads: int, per_thread: int
) -> dict[str, Any]:
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads)

    def client(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        barrier.wait()
        for n in range(per_thread):
            started = time.perf_counter()
            connection.request("GET", paths(index * per_thread + n), headers=headers)
            response = connection.getresponse()
            body = response.read()
            mine.append(time.perf_counter() - started)
            if response.status != 200:
                with lock:
                    errors.append(f"{response.status} {body[:200]!r}")
        connection.close()
        with lock:
            latencies.extend(mine)

    workers = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000

    return {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50": pct(50),
        "p90": pct(90),
        "p99": pct(99),
        "mean": statistics.fmean(latencies) * 1000,
        "errors": errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", help="PostgreSQL URL of a database the benchmark may empty")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=8, help="client threads")
    parser.add_argument("--requests", type=int, default=150, help="requests per client thread and endpoint")
    parser.add_argument("--browse", action="store_true", help="also time browsing with a facet selected")
    parser.add_argument("--extra", type=int, default=5000, help="generated listings besides the demo catalog")
    parser.add_argument("--quick", action="store_true", help="small sizes: 500 extra listings, 4 threads × 30")
    args = parser.parse_args()
    if args.quick:
        args.extra, args.threads, args.requests = min(args.extra, 500), min(args.threads, 4), min(args.requests, 30)

    from marketplace.config import normalise_database_url

    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        instance = Path(tmp) / "instance"
        instance.mkdir()
        url = normalise_database_url(args.postgres) if args.postgres else f"sqlite:///{instance / 'bench.db'}"
        print(f"database: {url.split('@')[-1]}; preparing …", flush=True)
        data = prepare(url, instance, args.extra)
        port = free_port()
        process = start_gunicorn(url, instance, port, args.workers)
        try:
            headers = {"Authorization": f"Bearer {data['key']}", "Accept": "application/json"}
            cases: list[tuple[str, Callable[[int], str]]] = [
                ("search (q + facets)", lambda n: f"/api/v1/datasets?q={QUERIES[n % len(QUERIES)].replace(' ', '+')}"),
                (
                    "search (q, facets=false)",
                    lambda n: "/api/v1/datasets?facets=false&q=" + QUERIES[n % len(QUERIES)].replace(" ", "+"),
                ),
                ("license verify", lambda n: f"/api/v1/licenses/{data['license']}/verify"),
            ]
            if args.browse:
                # Browsing with a facet selected and no text: slow on PostgreSQL with the current facet counting.
                cases.insert(1, ("search (browse, modality facet)", lambda n: "/api/v1/datasets?modality=audio"))
            print(
                f"gunicorn 127.0.0.1:{port}, {args.workers} workers; {data['datasets']} listings; "
                f"{args.threads} client threads × {args.requests} requests each\n"
            )
            print(f"{'endpoint':34} {'req/s':>8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'errors':>7}")
            for name, paths in cases:
                load(port, paths, headers, args.threads, max(5, args.requests // 10))  # warm-up
                result = load(port, paths, headers, args.threads, args.requests)
                print(
                    f"{name:34} {result['rps']:8.1f} {result['p50']:8.1f} {result['p90']:8.1f} "
                    f"{result['p99']:8.1f} {len(result['errors']):7d}"
                )
                if result["errors"]:
                    print("   first error:", result["errors"][0])
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


if __name__ == "__main__":
    main()
