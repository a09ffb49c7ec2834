"""Benchmark: download-link issuance (grant checks + presign + audit row + commit), through the service and over HTTP.

The service figures call :func:`marketplace.delivery.services.issue_download_link` in its own unit of work per link,
as a request would. The HTTP figures run the application under gunicorn as production does (``-c
infra/gunicorn.conf.py marketplace.wsgi:app``: its worker class and count, read from that file at run time; only
the address, the access log and ``--workers`` when given are set here) on a free loopback port and POST the
licensee's download form, counting a 303 to the presigned link as success; first one client, then several in
parallel. Each HTTP phase also prints the server's CPU time per request, gunicorn's workers and the database's
backends apart (from ``/proc``): on a shared machine it moves far less than the latencies do. Loops are bounded;
everything lives in a temporary folder and is removed afterwards.

Run with ``python bench/bench_delivery.py [service_iterations] [http_iterations] [--postgres URL] [--clients 8]
[--quick] [--json] [--profile N] [--workers N]``; ``--postgres`` (or ``BENCH_DATABASE_URL``) names an empty
PostgreSQL database to measure on instead of SQLite (its public schema is dropped first). ``--profile N`` also runs
N requests in process and prints the SQL statements one request makes (count and time each) and a cProfile
summary. Not part of the tests.
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


RESULTS: list[dict[str, Any]] = []
QUIET = False


def _report(name: str, latencies_ms: list[float], elapsed: float, **extra: Any) -> None:
    latencies_ms.sort()
    figures = {
        "name": name,
        "n": len(latencies_ms),
        "per_second": round(len(latencies_ms) / elapsed, 1),
        "p50_ms": round(_percentile(latencies_ms, 0.5), 2),
        "p95_ms": round(_percentile(latencies_ms, 0.95), 2),
        "p99_ms": round(_percentile(latencies_ms, 0.99), 2),
        "mean_ms": round(statistics.fmean(latencies_ms), 2),
        **extra,
    }
    RESULTS.append(figures)
    _say(
        f"{name:<34} {figures['per_second']:>8,.0f} links/s   p50 {figures['p50_ms']:6.2f} ms   "
        f"p95 {figures['p95_ms']:6.2f} ms   p99 {figures['p99_ms']:6.2f} ms   "
        f"mean {figures['mean_ms']:6.2f} ms   (n={len(latencies_ms)})"
    )


def _say(text: str) -> None:
    if not QUIET:
        print(text, flush=True)


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


def bench_service_parallel(app: Any, grant_id: str, file_ids: list[int], iterations: int, clients: int) -> None:
    """The service in ``clients`` threads (own unit of work each), and how long the audit chains' locking read
    took: the time concurrent downloads of one licensee spend waiting for each other's chain heads."""
    from sqlalchemy import event
    from sqlmodel import select

    from marketplace.accounts.models import User
    from marketplace.db import unit_of_work
    from marketplace.delivery import services as delivery
    from marketplace.licenses.models import Grant

    database = app.extensions["marketplace.db"]
    context = app.extensions["marketplace.context"]
    lock_waits: list[float] = []
    started: dict[int, float] = {}

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "FOR UPDATE" in statement:
            started[id(cursor)] = time.perf_counter()

    def after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if id(cursor) in started:
            lock_waits.append((time.perf_counter() - started.pop(id(cursor))) * 1000)

    def issue(i: int) -> None:
        with unit_of_work(database, context) as uow:
            grant = uow.session.get(Grant, grant_id)
            assert grant is not None
            user = uow.session.exec(select(User).where(User.email == "buyer@bench.example")).one()
            who = delivery.Requester(user=user, ip="127.0.0.1", user_agent="bench")
            delivery.issue_download_link(uow, grant=grant, file_id=file_ids[i % len(file_ids)], requester=who)

    latencies: list[float] = []

    def loop(offset: int) -> None:
        with app.app_context():
            for i in range(offset, iterations, clients):
                t0 = time.perf_counter()
                issue(i)
                latencies.append((time.perf_counter() - t0) * 1000)

    event.listen(database.engine, "before_cursor_execute", before)
    event.listen(database.engine, "after_cursor_execute", after)
    try:
        threads = [threading.Thread(target=loop, args=(k,)) for k in range(clients)]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - start
    finally:
        event.remove(database.engine, "before_cursor_execute", before)
        event.remove(database.engine, "after_cursor_execute", after)
    lock_waits.sort()
    _report(f"service ({clients} threads)", latencies, elapsed, clients=clients,
            chain_lock_p50_ms=round(_percentile(lock_waits, 0.5), 2) if lock_waits else None,
            chain_lock_p95_ms=round(_percentile(lock_waits, 0.95), 2) if lock_waits else None)  # fmt: skip
    if lock_waits:
        _say(f"  audit chain heads' locking read: p50 {_percentile(lock_waits, 0.5):.2f} ms, "
             f"p95 {_percentile(lock_waits, 0.95):.2f} ms, mean {statistics.fmean(lock_waits):.2f} ms")  # fmt: skip


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


REPOSITORY = Path(__file__).resolve().parents[1]
GUNICORN_CONFIG = REPOSITORY / "infra" / "gunicorn.conf.py"


def _gunicorn_workers(env: dict[str, str], workers: int | None) -> str:
    """What the production configuration starts (worker class, count and threads), as it reads the environment."""
    import runpy

    saved = {name: os.environ.get(name) for name in ("WEB_CONCURRENCY", "GUNICORN_WORKERS")}
    os.environ.update({name: env[name] for name in saved if name in env})
    try:
        config = runpy.run_path(str(GUNICORN_CONFIG))
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    count = workers if workers is not None else config.get("workers", 1)
    return f"{count} {config.get('worker_class', 'sync')} workers x {config.get('threads', 1)} threads"


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (Linux ``/proc``), 0 when it is gone or unreadable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _server_pids(master: int, database_url: str) -> tuple[list[int], list[int]]:
    """The gunicorn master's workers, and the database's server processes (PostgreSQL on this machine)."""
    try:
        workers = [int(p) for p in Path(f"/proc/{master}/task/{master}/children").read_text().split()]
    except OSError:
        workers = []
    backends: list[int] = []
    if database_url.startswith("postgresql"):
        from sqlalchemy import text

        from marketplace.db import make_engine

        engine = make_engine(database_url)
        with engine.connect() as conn:
            query = "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            backends = [int(pid) for pid in conn.execute(text(query)).scalars()]
        engine.dispose()
    return workers, backends


class _ServerCpu:
    """CPU time the server side spent over a phase: gunicorn's workers and the database's backends, per request
    (steadier than latencies on a shared machine: it does not count time spent waiting for a core)."""

    def __init__(self, master: int, database_url: str) -> None:
        self.master, self.database_url = master, database_url
        self.before: dict[int, float] = {}
        self.workers: list[int] = []

    def start(self) -> None:
        self.workers, backends = _server_pids(self.master, self.database_url)
        self.before = {pid: _cpu_seconds(pid) for pid in [*self.workers, *backends]}

    def per_request_ms(self, requests_: int) -> dict[str, float]:
        _, backends = _server_pids(self.master, self.database_url)
        worker_s = sum(_cpu_seconds(pid) - self.before.get(pid, 0.0) for pid in self.workers)
        # A backend that started during the phase counts whole; one gone since is lost (pooled: rare).
        database_s = sum(_cpu_seconds(pid) - self.before.get(pid, 0.0) for pid in backends)
        return {
            "worker_cpu_ms_per_request": round(worker_s * 1000 / requests_, 2),
            "database_cpu_ms_per_request": round(database_s * 1000 / requests_, 2),
        }


def bench_http(
    folder: Path,
    settings: dict[str, str],
    grant_id: str,
    file_ids: list[int],
    iterations: int,
    clients: int,
    workers: int | None = None,
) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    python_path = os.pathsep.join(filter(None, [str(REPOSITORY), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, **settings, "BASE_URL": base, "PYTHONPATH": python_path}
    command = [
        sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONFIG), "--bind", f"127.0.0.1:{port}",
        "--access-logfile", os.devnull, "--log-level", "warning",
        *(["--workers", str(workers)] if workers is not None else []), "marketplace.wsgi:app",
    ]  # fmt: skip
    server = subprocess.Popen(command, env=env, cwd=folder)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{base}/api/v1/status", timeout=5).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("gunicorn did not start")
            time.sleep(0.2)
        _say(f"gunicorn -c infra/gunicorn.conf.py on {base}: {_gunicorn_workers(env, workers)}")
        first = _logged_in(base)
        warm: list[float] = []
        _http_loop(first, base, grant_id, file_ids, 30, warm)

        cpu = _ServerCpu(server.pid, settings["DATABASE_URL"])
        one: list[float] = []
        cpu.start()
        elapsed = _timed(lambda: _http_loop(first, base, grant_id, file_ids, iterations, one))
        used = cpu.per_request_ms(len(one))
        _report("HTTP POST → 303 (1 client)", one, elapsed, clients=1, **used)
        _say_cpu(used)

        if settings["DATABASE_URL"].startswith("sqlite"):
            _say("(parallel clients: run with --postgres URL or BENCH_DATABASE_URL; SQLite serialises writers)")
            return
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

        cpu.start()
        elapsed = _timed(parallel)
        used = cpu.per_request_ms(len(many))
        _report(f"HTTP POST → 303 ({clients} clients)", many, elapsed, clients=clients, **used)
        _say_cpu(used)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


def _say_cpu(used: dict[str, float]) -> None:
    _say(f"  server CPU per request: gunicorn workers {used['worker_cpu_ms_per_request']:.2f} ms, "
         f"database {used['database_cpu_ms_per_request']:.2f} ms")  # fmt: skip


def _empty_postgres(url: str) -> None:
    """Drop everything in the (dedicated, empty) benchmark database so the run starts from nothing."""
    from marketplace.db import make_engine

    engine = make_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


def profile_requests(app: Any, grant_id: str, file_ids: list[int], requests_: int) -> None:
    """Where one download request's time goes: SQL statements (count and time, by statement) through the whole
    Flask request (session and user loading, CSRF, rate limiting, the service, the audit chain, commit)."""
    import cProfile
    import pstats
    from collections import defaultdict

    from sqlalchemy import event

    database = app.extensions["marketplace.db"]
    engine = database.engine if hasattr(database, "engine") else database
    statements: dict[str, list[float]] = defaultdict(list)
    started: dict[int, float] = {}

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        started[id(cursor)] = time.perf_counter()

    def after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements[" ".join(statement.split())[:150]].append(time.perf_counter() - started.pop(id(cursor), 0.0))

    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    client.post("/login", data={"email": "buyer@bench.example", "password": PASSWORD, "csrf_token": token.group(1)})
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/settings").get_data(as_text=True))
    assert token
    csrf = token.group(1)

    def post(i: int) -> None:
        answer = client.post(
            f"/licenses/{grant_id}/files/{file_ids[i % len(file_ids)]}/download", data={"csrf_token": csrf}
        )
        assert answer.status_code == 303, answer.status_code

    for i in range(20):
        post(i)
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    latencies: list[float] = []
    profiler = cProfile.Profile()
    start = time.perf_counter()
    for i in range(requests_):
        t0 = time.perf_counter()
        profiler.enable()
        post(i)
        profiler.disable()
        latencies.append((time.perf_counter() - t0) * 1000)
    elapsed = time.perf_counter() - start
    event.remove(engine, "before_cursor_execute", before)
    event.remove(engine, "after_cursor_execute", after)
    count = sum(len(v) for v in statements.values())
    sql_ms = sum(sum(v) for v in statements.values()) * 1000
    _report("in-process request (profiled)", latencies, elapsed, statements_per_request=round(count / requests_, 2),
            sql_ms_per_request=round(sql_ms / requests_, 3))  # fmt: skip
    _say(f"SQL per request: {count / requests_:.1f} statements, {sql_ms / requests_:.2f} ms")
    for text, times in sorted(statements.items(), key=lambda item: -sum(item[1]))[:25]:
        _say(f"  {len(times) / requests_:5.2f} x {sum(times) / len(times) * 1000:6.3f} ms  {text}")
    if not QUIET:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)


def main(argv: list[str] | None = None) -> None:
    import argparse
    import json

    from marketplace import create_app, migrate
    from marketplace.config import normalise_database_url

    parser = argparse.ArgumentParser(description="Download-link issuance: service and HTTP latency.")
    parser.add_argument("service_iterations", nargs="?", type=int, default=None)
    parser.add_argument("http_iterations", nargs="?", type=int, default=None)
    parser.add_argument(
        "--postgres",
        metavar="URL",
        default=os.environ.get("BENCH_DATABASE_URL"),
        help="an empty PostgreSQL database to use (its public schema is dropped); default SQLite",
    )
    parser.add_argument("--clients", type=int, default=8, help="parallel HTTP clients (default 8)")
    parser.add_argument("--quick", action="store_true", help="small sizes: finishes in well under a minute")
    parser.add_argument("--json", action="store_true", help="print one JSON object with every figure")
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N", help="also profile N in-process requests: SQL and Python time"
    )
    parser.add_argument("--no-http", action="store_true", help="skip the HTTP figures")
    parser.add_argument(
        "--workers", type=int, default=None, help="gunicorn workers (default: as infra/gunicorn.conf.py decides)"
    )
    args = parser.parse_args(argv)
    global QUIET
    QUIET = args.json
    service_iterations = args.service_iterations or (200 if args.quick else 2000)
    http_iterations = args.http_iterations or (200 if args.quick else 1000)

    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        database_url = normalise_database_url(args.postgres or f"sqlite:///{folder / 'b.db'}")
        if args.postgres:
            _empty_postgres(database_url)
        migrate.upgrade(database_url)
        settings = _settings(folder, database_url)
        app = create_app(dict(settings))
        grant_id, file_ids = _arrange(app, files=200)
        backend = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"
        _say(f"download-link issuance on {backend}, local storage, {len(file_ids)} files, one grant")
        bench_service(app, grant_id, file_ids, service_iterations)
        if backend == "PostgreSQL":
            bench_service_parallel(app, grant_id, file_ids, service_iterations, args.clients)
        if args.profile:
            profile_requests(app, grant_id, file_ids, args.profile)
        app.extensions["marketplace.db"].dispose()
        if not args.no_http:
            bench_http(folder, settings, grant_id, file_ids, http_iterations, args.clients, args.workers)
        if args.json:
            load = [round(x, 2) for x in os.getloadavg()]
            print(json.dumps({"benchmark": "delivery", "backend": backend, "load_average": load, "results": RESULTS}))
        else:
            _say(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
