"""Over HTTP against peers: our search page and API next to a bare Flask app and Datasette, on the same listings.

Builds one generated catalog (``bench/bench_search.py``'s generator, see :func:`build_catalog`) in SQLite or
PostgreSQL, adds an API key, and copies the listings into a second SQLite file for Datasette (one flat table, FTS5
over title, summary, tags and description, indexes on the sort and facet columns). Then it starts three servers on
free loopback ports:

* **ours**: the application under gunicorn with ``infra/gunicorn.conf.py`` and two workers, as deployed (access
  log and all; only the rate limits are raised, as ``bench/bench_api.py`` does);
* **bare**: a bare Flask app (:func:`bare_app`) under gunicorn with the same worker count and class, running only
  the top-20 query (same WHERE and ORDER BY as our search page sorted by newest) and returning it as JSON;
* **datasette**: Datasette serving the SQLite copy (immutable), with faceted table search:
  ``/catalog/listings.json?_search=...&_facet=modality&...``.

Each query (rare, medium and common word, browsing, three facet filters) is run against each target (our page
``/datasets``, our ``/api/v1/datasets``, bare, Datasette) for a bounded time per cell by ``--clients`` threads with
keep-alive ``http.client`` connections (no request starts after ``--seconds``; one in flight may run up to 60 s);
cells are interleaved round-robin across targets (the order rotating each round) so that machine noise hits all
alike. Text queries are sorted by newest on every target, so all run the same WHERE and ORDER BY. It prints
requests per second and p50/p95/p99 per target and query, and the ratios ours/bare and ours/Datasette (requests
per second) for the page and the API. Rate limits are raised for the run (``bench/bench_api.py``'s settings).

    .venv/bin/python bench/compare_peers.py --quick                     # 5,000 listings, ~1 min
    .venv/bin/python bench/compare_peers.py --size 100000 --keep /tmp/peers
    .venv/bin/python bench/compare_peers.py --postgres postgresql://postgres@127.0.0.1:5432/bench_peers

Our app keeps the engine's answers to recent searches while the index is unchanged (``SEARCH_CACHE_ENTRIES``,
:mod:`marketplace.catalog.search_cache`): as every cell repeats one query, all but a worker's first request of it
are answered from that cache. ``--no-search-cache`` runs our app with it off (every request runs the search);
the report says which. Run both to see the search's own cost.

``--postgres`` puts our app and the bare app on PostgreSQL (database ``<name>_<size>``, dropped and rebuilt unless
``--keep`` finds it full); Datasette always reads the SQLite copy. Only loopback is used; nothing is downloaded.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(ROOT), str(BENCH)]

#: (name, search text, facet selections): the same rows are asked of every target.
QUERIES: list[tuple[str, str, dict[str, str]]] = [
    ("rare word", "rareword", {}),
    ("medium word", "mediumword", {}),
    ("common word", "commonword", {}),
    ("browse", "", {}),
    ("3 facet filters", "", {"modality": "text", "industry": "bfsi", "personal_data": "no"}),
]
TARGETS = ("ours page", "ours api", "bare flask", "datasette")
DATASETTE_FACETS = ("modality", "offering_type", "industry", "personal_data", "synthetic_share_pct", "storage_region")
DATASETTE_ARRAY_FACETS = ("tasks", "languages")


# --- the data ---------------------------------------------------------------------------------------------------


def build_catalog(url: str, size: int) -> None:
    """Fill the fresh database at ``url`` (migrated by the call) with ``size`` generated published listings.

    The only coupling to ``bench/bench_search.py``: its ``populate(url, n)``, whose listings carry the marker words
    ``rareword`` (~0.1 %), ``mediumword`` (~2 %) and ``commonword`` (~50 %) and facet values from the vocabularies.
    """
    import bench_search

    with contextlib.redirect_stdout(sys.stderr):  # its progress lines; stdout stays the report (``--json``)
        bench_search.populate(url, size)


def listing_count(url: str) -> int:
    """How many listings the database at ``url`` holds (0 when it has no catalog yet)."""
    import sqlalchemy as sa

    from marketplace.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT count(*) FROM dataset")).scalar_one())
    except sa.exc.DBAPIError:
        return 0
    finally:
        engine.dispose()


def fresh_postgres(base: str, size: int, keep: bool) -> tuple[str, bool]:
    """The URL of the PostgreSQL database ``<name>_<size>``, and whether it must be built (it is then empty)."""
    import sqlalchemy as sa

    from marketplace.config import normalise_database_url

    url = sa.engine.make_url(normalise_database_url(base))
    name = f"{url.database}_{size}"
    target = url.set(database=name).render_as_string(hide_password=False)
    if keep and listing_count(target) == size:
        return target, False
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return target, True


def make_api_key(url: str, instance: Path) -> str:
    """A user with a ``catalog:read`` API key in the database at ``url`` (pepper from ``instance``); the key."""
    import bench_api

    from marketplace import create_app
    from marketplace.accounts.models import User
    from marketplace.apikeys import services as keys
    from marketplace.db import unit_of_work, utcnow

    app = create_app(bench_api.settings(url, instance))
    database, context = app.extensions["marketplace.db"], app.extensions["marketplace.context"]
    with app.app_context(), unit_of_work(database, context) as uow:
        user = User(email=f"bench-{time.time_ns()}@example.org", display_name="Bench", password_hash="-")
        user.email_verified_at = utcnow()
        uow.session.add(user)
        uow.session.flush()
        _row, secret = keys.create_key(uow, user, name="peers", scopes=["catalog:read"])
    database.dispose()
    return secret


def datasette_copy(url: str, path: Path) -> int:
    """Copy the published listings at ``url`` into one flat, full-text-indexed table ``listings`` at ``path``."""
    import sqlalchemy as sa

    from marketplace.db import make_engine

    path.unlink(missing_ok=True)
    target = sqlite3.connect(path)
    target.executescript(
        """
        PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;
        CREATE TABLE listings (id INTEGER PRIMARY KEY, slug TEXT, title TEXT, summary TEXT, tags TEXT,
            description TEXT, provider TEXT, modality TEXT, offering_type TEXT, industry TEXT, personal_data TEXT,
            synthetic_share_pct INTEGER, storage_region TEXT, tasks TEXT, languages TEXT, published_at TEXT);
        """
    )
    engine = make_engine(url)
    terms: dict[int, dict[str, list[str]]] = {}
    with engine.connect() as conn:
        for dataset_id, scheme, value in conn.execute(
            sa.text("SELECT dataset_id, scheme, value FROM dataset_term ORDER BY dataset_id, scheme, position")
        ):
            terms.setdefault(dataset_id, {}).setdefault(str(scheme), []).append(value)
        rows = conn.execution_options(stream_results=True, yield_per=5000).execute(
            sa.text(
                "SELECT d.id, d.slug, d.title, d.summary, d.tags_text, d.description, o.name, d.modality,"
                " d.offering_type, d.personal_data, d.synthetic_share_pct, d.storage_region, d.published_at"
                " FROM dataset d JOIN organisation o ON o.id = d.organisation_id WHERE d.status = 'published'"
            )
        )
        count = 0
        for chunk in rows.partitions(5000):
            batch = []
            for r in chunk:
                own = terms.get(r[0], {})
                industry = (own.get("industry") or [None])[0]
                batch.append(
                    (*r[:8], r[8], industry, r[9], r[10], r[11],
                     json.dumps(own.get("task", [])), json.dumps(own.get("language", [])), str(r[12]))
                )  # fmt: skip
            target.executemany(f"INSERT INTO listings VALUES ({', '.join('?' * 16)})", batch)
            count += len(batch)
    engine.dispose()
    target.executescript(
        """
        CREATE VIRTUAL TABLE listings_fts USING fts5(title, summary, tags, description,
            content="listings", content_rowid="id");
        INSERT INTO listings_fts(listings_fts) VALUES ('rebuild');
        CREATE INDEX listings_published ON listings(published_at);
        CREATE INDEX listings_modality ON listings(modality);
        CREATE INDEX listings_industry ON listings(industry);
        CREATE INDEX listings_personal ON listings(personal_data);
        CREATE INDEX listings_region ON listings(storage_region);
        ANALYZE;
        """
    )
    target.commit()
    target.close()
    return count


# --- the bare Flask app -------------------------------------------------------------------------------------------


def bare_app() -> Any:
    """A bare Flask app: only the top-20 query of a search sorted by newest, as JSON (``DATABASE_URL``)."""
    import sqlalchemy as sa
    from flask import Flask, jsonify, request

    engine = sa.create_engine(os.environ["DATABASE_URL"], pool_size=2)
    postgres = engine.dialect.name == "postgresql"
    app = Flask("bare")

    @app.get("/search")
    def search() -> Any:
        where, params = ["d.status = 'published'"], {}
        words = request.args.get("q", "").split()
        if words and postgres:
            # The indexed vector (the search index's GIN), as the marketplace's own search reads it.
            where.append(
                "d.id IN (SELECT dataset_id FROM search_document WHERE text_vector @@ plainto_tsquery('english', :q))"
            )
            params["q"] = " ".join(words)
        elif words:
            where.append("d.id IN (SELECT rowid FROM dataset_fts WHERE dataset_fts MATCH :q)")
            params["q"] = " ".join(f'"{w}"' for w in words if w.isalnum())
        for column in ("modality", "personal_data"):
            if column in request.args:
                where.append(f"d.{column} = :{column}")
                params[column] = request.args[column]
        if "industry" in request.args:
            where.append(
                "d.id IN (SELECT dataset_id FROM dataset_term WHERE scheme = 'industry' AND value = :industry)"
            )
            params["industry"] = request.args["industry"]
        sql = (
            "SELECT d.id, d.slug, d.title, d.summary, d.published_at FROM dataset d WHERE "
            + " AND ".join(where)
            + " ORDER BY d.published_at DESC, d.id DESC LIMIT 20"
        )
        with engine.connect() as conn:
            rows = conn.execute(sa.text(sql), params).mappings().all()
        return jsonify([{**row, "published_at": str(row["published_at"])} for row in rows])

    return app


# --- the servers --------------------------------------------------------------------------------------------------


def start(
    name: str, command: list[str], env: dict[str, str], port: int, probe: str, log: Path
) -> subprocess.Popen[Any]:
    """Start a server and wait (up to 60 s) until ``probe`` answers 200."""
    out = log.open("wb")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", probe)
            if connection.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit(f"{name} did not start:\n" + log.read_text()[-3000:])


def stop(process: subprocess.Popen[Any]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def gunicorn_command(app: str, port: int, workers: int, config: str) -> list[str]:
    command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
    if config:  # ours: everything else as infra/gunicorn.conf.py says (worker class, recycling, access log)
        command[3:3] = ["-c", config]
    else:  # bare: the same worker class and count, nothing else
        command += ["--worker-class", "sync", "--pythonpath", str(BENCH)]
    return [*command, app]


def paths_for(target: str, text: str, filters: dict[str, str]) -> str:
    """The request path asking ``target`` for one query."""
    if target in ("ours page", "ours api"):
        args = ([("q", text)] if text else []) + [*filters.items(), ("sort", "newest")]
        return ("/datasets?" if target == "ours page" else "/api/v1/datasets?") + urlencode(args)
    if target == "bare flask":
        return "/search?" + urlencode(([("q", text)] if text else []) + [*filters.items()])
    args = [("_search", text)] if text else []
    args += [*filters.items(), ("_sort_desc", "published_at"), ("_size", "20")]
    args += [("_facet", f) for f in DATASETTE_FACETS] + [("_facet_array", f) for f in DATASETTE_ARRAY_FACETS]
    return "/catalog/listings.json?" + urlencode(args)


# --- the load -----------------------------------------------------------------------------------------------------


def run_cell(port: int, path: str, headers: dict[str, str], clients: int, seconds: float) -> dict[str, Any]:
    """``clients`` threads request ``path`` with keep-alive connections for ``seconds``; latencies and errors."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)
    deadline = [0.0]

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine: list[float] = []
        barrier.wait()
        while time.perf_counter() < deadline[0]:
            started = time.perf_counter()
            try:
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                body = response.read()
            except (OSError, http.client.HTTPException) as error:
                connection.close()
                with lock:
                    errors.append(repr(error))
                continue
            mine.append(time.perf_counter() - started)
            if response.status != 200:
                with lock:
                    errors.append(f"{response.status} {body[:200]!r}")
        connection.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    deadline[0] = started + seconds
    barrier.wait()
    for thread in threads:
        thread.join()
    return {"latencies": latencies, "errors": errors, "elapsed": time.perf_counter() - started}


def percentile(ordered: list[float], pct: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))] * 1000


def measure(
    targets: dict[str, tuple[int, dict[str, str]]],
    queries: list[tuple[str, str, dict[str, str]]],
    clients: int,
    seconds: float,
    rounds: int,
) -> dict[str, dict[str, dict[str, Any]]]:
    """Every target × query, ``rounds`` times, interleaved; per cell: rps, p50/p95/p99, requests, errors.

    ``targets`` maps each target to its port and request headers. The order of the targets rotates each round.
    """
    names = list(targets)
    cells: dict[tuple[str, str], dict[str, Any]] = {}
    for _label, text, filters in queries:  # warm-up: connections, caches, each worker's first request
        for target, (port, headers) in targets.items():
            run_cell(port, paths_for(target, text, filters), headers, clients, min(0.5, seconds))
    for round_ in range(rounds):
        for label, text, filters in queries:
            for target in names[round_ % len(names) :] + names[: round_ % len(names)]:
                port, headers = targets[target]
                result = run_cell(port, paths_for(target, text, filters), headers, clients, seconds)
                cell = cells.setdefault((target, label), {"latencies": [], "errors": [], "elapsed": 0.0})
                for key in ("latencies", "errors"):
                    cell[key] += result[key]
                cell["elapsed"] += result["elapsed"]
    figures: dict[str, dict[str, dict[str, Any]]] = {}
    for (target, label), cell in sorted(cells.items(), key=lambda item: names.index(item[0][0])):
        ordered = sorted(cell["latencies"])
        figures.setdefault(target, {})[label] = {
            "requests": len(ordered),
            "rps": round(len(ordered) / cell["elapsed"], 1),
            "p50_ms": round(percentile(ordered, 50), 1),
            "p95_ms": round(percentile(ordered, 95), 1),
            "p99_ms": round(percentile(ordered, 99), 1),
            "max_ms": round(ordered[-1] * 1000, 1) if ordered else None,
            "errors": len(cell["errors"]),
            "first_error": cell["errors"][0] if cell["errors"] else None,
        }
    return figures


def ratios(figures: dict[str, dict[str, dict[str, Any]]]) -> dict[str, dict[str, float | None]]:
    """Requests per second of our page and API over the bare app's and Datasette's, per query (those measured)."""
    table: dict[str, dict[str, float | None]] = {}
    for ours in ("ours page", "ours api"):
        for peer in ("bare flask", "datasette"):
            if ours not in figures or peer not in figures:
                continue
            for label, row in figures[ours].items():
                theirs = figures[peer][label]["rps"]
                column = f"{ours.split()[1]}/{peer.split()[0]}"
                table.setdefault(label, {})[column] = round(row["rps"] / theirs, 2) if theirs else None
    return table


def search_cache_entries(env: list[str]) -> int:
    """Our app's ``SEARCH_CACHE_ENTRIES`` in this run: the last ``--env`` giving it, else the environment's or the
    default."""
    from marketplace.config import SETTINGS

    given = [item.split("=", 1)[1] for item in env if item.startswith("SEARCH_CACHE_ENTRIES=")]
    if given:
        return int(given[-1])
    default = next(s.default for s in SETTINGS if s.name == "SEARCH_CACHE_ENTRIES")
    return int(os.environ.get("SEARCH_CACHE_ENTRIES", default))


def print_report(result: dict[str, Any]) -> None:
    entries = result["search_cache_entries"]
    cache = (
        f"ON ({entries:,} answers per worker: each cell repeats one query, so nearly every request of ours is a hit)"
        if entries
        else "OFF (every request of ours runs the search)"
    )
    print(
        f"\n{result['listings']:,} listings on {result['database']}; {result['clients']} client threads; "
        f"{result['seconds']} s per cell × {result['rounds']} rounds; {result['cpus']} CPUs; "
        f"load average {result['load_average']}\nour search cache: {cache}"
    )
    heads = ("req/s", "p50 ms", "p95 ms", "p99 ms", "max ms")
    print(f"\n{'target':<12} {'query':<16} " + " ".join(f"{h:>8}" for h in heads) + f" {'n':>6}")
    for target, rows in result["figures"].items():
        for label, row in rows.items():
            print(
                f"{target:<12} {label:<16} {row['rps']:>8.1f} {row['p50_ms']:>8.1f} {row['p95_ms']:>8.1f} "
                f"{row['p99_ms']:>8.1f} {row['max_ms'] or 0:>8.1f} {row['requests']:>6}"
                + (f"  {row['errors']} errors, first: {row['first_error'][:120]}" if row["errors"] else "")
            )
    if not result["ratios"]:
        return
    columns = list(next(iter(result["ratios"].values())))
    print("\nrequests/s ratios (targets: page and api ≥ 0.5× bare flask, ≥ 10× datasette)")
    print(f"{'query':<16} " + " ".join(f"{c:>16}" for c in columns))
    for label, row in result["ratios"].items():
        print(f"{label:<16} " + " ".join(f"{row[c] if row[c] is not None else '-':>16}" for c in columns))


# --- the run ------------------------------------------------------------------------------------------------------


def prepare(args: argparse.Namespace, folder: Path) -> tuple[str, Path, int]:
    """The catalog's URL (built or reused), the Datasette copy's path, and the number of listings."""
    from marketplace.config import normalise_database_url

    if args.postgres:
        url, build = fresh_postgres(args.postgres, args.size, bool(args.keep))
        url = normalise_database_url(url)
    else:
        path = folder / f"catalog_{args.size}.db"
        url = f"sqlite:///{path}"
        build = not (args.keep and listing_count(url) == args.size)
        if build:
            path.unlink(missing_ok=True)
    # Datasette names the database after the file: /catalog/listings.json.
    copy = folder / f"datasette_{args.size}_{'pg' if args.postgres else 'sqlite'}" / "catalog.db"
    copy.parent.mkdir(exist_ok=True)
    if build or not copy.exists():
        if build:
            started = time.perf_counter()
            build_catalog(url, args.size)
            print(f"catalog of {args.size:,} listings built in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        started = time.perf_counter()
        datasette_copy(url, copy)
        print(f"Datasette copy made in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return url, copy, args.size


def start_servers(
    args: argparse.Namespace, url: str, copy: Path, instance: Path, logs: Path, servers: list[subprocess.Popen[Any]]
) -> dict[str, int]:
    """Start the servers the chosen targets need (appending each to ``servers``); their ports by name."""
    import bench_api

    wanted = set(args.targets)
    ports: dict[str, int] = {}
    if wanted & {"ours page", "ours api"}:
        port = ports["ours"] = bench_api.free_port()
        env = {**os.environ, **{k: str(v) for k, v in bench_api.settings(url, instance).items()}}
        env.update(dict(item.split("=", 1) for item in args.env))
        env.update(BASE_URL=f"http://127.0.0.1:{port}", PYTHONPATH=str(ROOT))
        env.pop("GUNICORN_BIND", None)
        command = gunicorn_command("marketplace.wsgi:app", port, args.workers, args.gunicorn_config)
        servers.append(start("ours", command, env, port, "/healthz", logs / "ours.log"))
    if "bare flask" in wanted:
        port = ports["bare"] = bench_api.free_port()
        env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
        command = gunicorn_command("compare_peers:bare_app()", port, args.workers, "")
        servers.append(start("bare flask", command, env, port, "/search", logs / "bare.log"))
    if "datasette" in wanted:
        port = ports["datasette"] = bench_api.free_port()
        command = [
            sys.executable, "-m", "datasette", "serve", "-i", str(copy), "--host", "127.0.0.1", "--port", str(port),
            # No suggested facets (work our page does not do); facets and counts never cut short by a time limit.
            "--setting", "suggest_facets", "off",
            "--setting", "facet_time_limit_ms", "20000", "--setting", "sql_time_limit_ms", "30000",
        ]  # fmt: skip
        servers.append(start("datasette", command, dict(os.environ), port, "/-/versions.json", logs / "datasette.log"))
    return ports


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=100_000, help="generated listings (default 100,000)")
    parser.add_argument("--postgres", default="", help="PostgreSQL URL: our app and the bare app on it")
    parser.add_argument("--seconds", type=float, default=4.0, help="seconds per target × query cell and round")
    parser.add_argument("--rounds", type=int, default=3, help="round-robin rounds (default 3)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent client threads (default 4)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers of ours and bare (default 2)")
    parser.add_argument(
        "--gunicorn-config", default=str(ROOT / "infra" / "gunicorn.conf.py"), help="our gunicorn settings file"
    )
    parser.add_argument("--targets", default=",".join(TARGETS), help=f"a subset of: {', '.join(TARGETS)}")
    parser.add_argument("--queries", default=",".join(q[0] for q in QUERIES), help="a subset of the query names")
    parser.add_argument("--keep", metavar="DIR", default="", help="keep the databases in DIR and reuse them")
    parser.add_argument("--quick", action="store_true", help="5,000 listings, 1 s per cell, one round")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    parser.add_argument(
        "--no-search-cache", action="store_true", help="our app without its search cache (SEARCH_CACHE_ENTRIES=0)"
    )
    parser.add_argument(
        "--env", action="append", default=[], metavar="NAME=VALUE", help="extra setting for our app (repeatable)"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.size, args.seconds, args.rounds = min(args.size, 5000), 1.0, 1
    if args.no_search_cache:
        args.env.append("SEARCH_CACHE_ENTRIES=0")
    args.targets = [t for t in TARGETS if t in args.targets.split(",")]
    queries = [q for q in QUERIES if q[0] in args.queries.split(",")]
    with tempfile.TemporaryDirectory(prefix="bench-peers-") as scratch:
        folder = Path(args.keep or scratch)
        folder.mkdir(parents=True, exist_ok=True)
        url, copy, size = prepare(args, folder)
        instance = folder / "instance"
        instance.mkdir(exist_ok=True)
        key = make_api_key(url, instance)
        servers: list[subprocess.Popen[Any]] = []
        try:
            ports = start_servers(args, url, copy, instance, Path(scratch), servers)
            json_headers = {"Accept": "application/json"}
            known = {
                "ours page": (ports.get("ours", 0), {"Accept": "text/html"}),
                "ours api": (ports.get("ours", 0), {**json_headers, "Authorization": f"Bearer {key}"}),
                "bare flask": (ports.get("bare", 0), json_headers),
                "datasette": (ports.get("datasette", 0), json_headers),
            }
            load_before = os.getloadavg()[0]
            targets = {name: known[name] for name in args.targets}
            figures = measure(targets, queries, args.clients, args.seconds, args.rounds)
        finally:
            for process in servers:
                stop(process)
    result = {
        "listings": size,
        "database": "PostgreSQL" if args.postgres else "SQLite",
        "clients": args.clients,
        "seconds": args.seconds,
        "rounds": args.rounds,
        "workers": args.workers,
        "cpus": os.cpu_count(),
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "search_cache_entries": search_cache_entries(args.env),
        "figures": figures,
        "ratios": ratios(figures),
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_report(result)
    failed = sum(row["errors"] for rows in figures.values() for row in rows.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
