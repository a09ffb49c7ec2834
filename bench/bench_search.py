"""Catalog search benchmark: the whole search call (page, count and every facet's counts) at 10k to 1M listings.

Builds a fresh database per size (a migrated schema; rows by multi-row INSERT on SQLite and COPY on PostgreSQL,
then the search index's set-based rebuild), then times each query type: browsing (newest, price, with 1 and 3
facet filters), a rare, a medium and a common word (by relevance, newest and price), a prefix, two words with two
facets, and deep pages (50 and 400). For each: the median and p95 of the whole :func:`search.search` call, and
the medians of its parts (the page of ids, ordered from the matches the counts read when they read them all; the
total alone; the facet counts beyond the total: these parts time the SQL counting of
:mod:`marketplace.catalog.search_counts`, while the whole call of a search without text but with facet filters
counts from the facet bitmaps). Before the queries it builds the facet bitmaps from scratch and prints the time
and the process's resident memory they added.

    .venv/bin/python bench/bench_search.py                                   # SQLite, 10k and 100k
    .venv/bin/python bench/bench_search.py --quick                           # SQLite, 10k (well under a minute)
    .venv/bin/python bench/bench_search.py --postgres postgresql://postgres@127.0.0.1:5432/bench --sizes 1000000
    .venv/bin/python bench/bench_search.py --json                            # one JSON object per line and query

PostgreSQL runs need a database the benchmark may drop and create (it uses ``<name>_bench_<size>``); ``--reuse``
keeps the databases for the next run (a 1M build takes several minutes on two cores).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlmodel import Session

from licensing import LicenseFamily
from marketplace import migrate, register_catalog_facets
from marketplace.catalog import search, search_bitmaps, search_counts, search_engine, search_index
from marketplace.catalog.models import TermScheme
from marketplace.catalog.vocab import Industry, Modality, StorageRegion, Task
from marketplace.config import normalise_database_url
from marketplace.db import make_engine

WORDS = [f"w{n}" for n in range(5000)]
REAL_WORDS = [
    "speech",
    "audio",
    "transcripts",
    "clinical",
    "notes",
    "images",
    "video",
    "sensor",
    "vibration",
    "retail",
    "product",
    "reviews",
    "street",
    "scenes",
    "driving",
    "legal",
    "contracts",
    "finance",
    "fraud",
    "synthetic",
    "multilingual",
    "instruction",
    "preference",
    "benchmark",
    "evaluation",
    "radio",
    "call",
    "centre",
    "medical",
    "radiology",
    "lidar",
    "warehouse",
    "satellite",
    "weather",
    "energy",
    "telecom",
    "customer",
    "support",
    "chat",
]
LANGUAGES = ["en", "de", "fr", "es", "ja", "zh", "pt-BR", "nl", "it", "ar", "hi", "ko"]
FAMILIES = [f.value for f in LicenseFamily]
QUERIES: list[tuple[str, dict[str, str]]] = [
    ("browse, newest", {}),
    ("browse, price", {"sort": "price"}),
    ("browse + 1 facet", {"modality": "text"}),
    ("browse + 3 facets", {"modality": "text", "industry": "bfsi", "personal_data": "no"}),
    ("rare word (0.1%)", {"q": "rareword"}),
    ("medium word (2%)", {"q": "mediumword"}),
    ("medium word, price", {"q": "mediumword", "sort": "price"}),
    ("common word (50%)", {"q": "commonword"}),
    ("common word, newest", {"q": "commonword", "sort": "newest"}),
    ("common word, price", {"q": "commonword", "sort": "price"}),
    ("prefix 'radi' (~15%)", {"q": "radi"}),
    ("two words + 2 facets", {"q": "speech transcripts", "modality": "audio", "language": "en"}),
    ("deep page 50, newest", {"page": "50"}),
    ("deep page 400, newest", {"page": "400"}),
    ("deep page 400, price", {"sort": "price", "page": "400"}),
    ("page 400, common word", {"q": "commonword", "page": "400"}),
]
# The title-word table's triggers on ``dataset`` (PostgreSQL), and the statement its migration backfills it with.
TITLE_WORD_TRIGGERS = ("dataset_title_word_insert", "dataset_title_word_delete", "dataset_title_word_update")
TITLE_WORD_BACKFILL = (
    "INSERT INTO title_word (word, listings) "
    "SELECT w, count(DISTINCT id) FROM dataset, "
    "LATERAL regexp_split_to_table(lower(title), '[^[:alnum:]]+') AS w "
    "WHERE status = 'published' AND length(w) BETWEEN 3 AND 64 AND w !~ '^[0-9]+$' GROUP BY w"
)


def _rows(
    n: int, orgs: int, rng: random.Random
) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]]:
    """Each listing with its terms and its public offers (none for a fifth of them, to sort last by price)."""
    now = datetime(2025, 1, 1, tzinfo=UTC)
    modalities, regions = [m.value for m in Modality], [r.value for r in StorageRegion]
    tasks, industries = [t.value for t in Task], [i.value for i in Industry]
    for i in range(1, n + 1):
        words = rng.choices(WORDS, k=12) + rng.sample(REAL_WORDS, 3)
        marker = []
        if rng.random() < 0.001:
            marker.append("rareword")
        if rng.random() < 0.02:
            marker.append("mediumword")
        if rng.random() < 0.5:
            marker.append("commonword")
        title = " ".join(words[:4] + marker[:1]).capitalize()
        organisation = 1 + i % orgs
        dataset = {
            "id": i,
            "slug": f"bench-{i}",
            "organisation_id": organisation,
            "title": title,
            "summary": " ".join(words[4:10]),
            "description": " ".join(words + marker + rng.choices(WORDS, k=40)),
            "status": "published",
            "offering_type": "off_the_shelf",
            "modality": rng.choice(modalities),
            "modality_details": "{}",
            "annotator_qualifications": "",
            "synthetic_share_pct": rng.choice([0, 0, 0, 10, 60, 100]),
            "personal_data": rng.choice(["yes", "no", "no"]),
            "personal_data_notes": "",
            "sources": "[]",
            "parent_datasets": "[]",
            "ai_act": "{}",
            "storage_region": rng.choice(regions),
            "tags_text": " ".join(rng.sample(REAL_WORDS, 2)),
            "status_note": "",
            "created_at": now,
            "updated_at": now,
            "published_at": now - timedelta(minutes=i),
        }
        terms = [
            {"dataset_id": i, "scheme": TermScheme.TASK.value, "value": t, "position": p}
            for p, t in enumerate(rng.sample(tasks, 2))
        ]
        terms.append(
            {"dataset_id": i, "scheme": TermScheme.INDUSTRY.value, "value": rng.choice(industries), "position": 0}
        )
        terms += [
            {"dataset_id": i, "scheme": TermScheme.LANGUAGE.value, "value": lang, "position": p}
            for p, lang in enumerate(rng.sample(LANGUAGES, rng.randint(1, 3)))
        ]
        offers = [
            {
                "dataset_id": i,
                "organisation_id": organisation,
                "title": "Standard",
                "license_id": "bench",
                "license_family": rng.choice(FAMILIES),
                "overrides": "{}",
                "terms": "{}",
                "terms_hash": "0" * 64,
                "training_permitted": rng.random() < 0.6,
                "price_amount": rng.randrange(0, 500_000, 100),
                "currency": "EUR",
                "is_active": True,
                "created_at": now,
            }
            for _ in range(rng.choice([0, 1, 1, 1, 2]))
        ]
        yield dataset, terms, offers


def _copy(raw: Any, table: str, rows: list[dict[str, Any]]) -> None:
    """COPY ``rows`` into ``table`` (PostgreSQL): the fastest way in, ten times a multi-row INSERT."""
    if not rows:
        return
    columns = list(rows[0])
    with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])


def _insert(conn: Any, table: str, rows: list[dict[str, Any]]) -> None:
    if rows:
        columns = list(rows[0])
        statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})"
        conn.execute(sa.text(statement), rows)


def populate(url: str, n: int) -> float:
    """Migrate and fill a fresh database with ``n`` published listings, then rebuild the search index; return the
    seconds it took."""
    started = time.perf_counter()
    migrate.upgrade(url)
    engine = make_engine(url)
    postgres = engine.dialect.name == "postgresql"
    if not postgres:
        # Bulk loading only: a large page cache keeps the growing indexes in memory; no fsync per batch.
        @sa.event.listens_for(engine, "connect")
        def _bulk_pragmas(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute("PRAGMA cache_size=-1000000")
            dbapi_connection.execute("PRAGMA synchronous=OFF")

    rng = random.Random(20251123)
    orgs = max(10, n // 2000)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO organisation (id, slug, name, kind, description, website, created_at)"
                " VALUES (:id, :slug, :name, 'provider', '', '', :at)"
            ),
            [
                {"id": o, "slug": f"provider-{o}", "name": f"Provider {o}", "at": datetime(2024, 1, 1)}
                for o in range(1, orgs + 1)
            ],
        )
        if postgres:  # COPY fires row triggers: the title words are filled once, after the load, as the migration does
            for name in TITLE_WORD_TRIGGERS:
                conn.exec_driver_sql(f"ALTER TABLE dataset DISABLE TRIGGER {name}")
    batch: dict[str, list[dict[str, Any]]] = {"dataset": [], "dataset_term": [], "offer": []}

    def flush() -> None:
        with engine.begin() as conn:
            if postgres:
                raw = conn.connection.dbapi_connection
                for table, rows in batch.items():
                    _copy(raw, table, rows)
            else:
                for table, rows in batch.items():
                    _insert(conn, table, rows)
        for rows in batch.values():
            rows.clear()

    for dataset, terms, offers in _rows(n, orgs, rng):
        batch["dataset"].append(dataset)
        batch["dataset_term"].extend(terms)
        batch["offer"].extend(offers)
        if len(batch["dataset"]) >= 20_000:
            flush()
            print(f"  inserted {dataset['id']:,} / {n:,}", end="\r", file=sys.stderr, flush=True)
    flush()
    loaded = time.perf_counter() - started
    register_catalog_facets()
    with engine.begin() as conn:
        if postgres:
            for table in ("organisation", "dataset", "offer", "dataset_term"):
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
                )
            conn.exec_driver_sql(TITLE_WORD_BACKFILL)
            for name in TITLE_WORD_TRIGGERS:
                conn.exec_driver_sql(f"ALTER TABLE dataset ENABLE TRIGGER {name}")
            conn.exec_driver_sql("ANALYZE")
        else:
            conn.exec_driver_sql("INSERT INTO dataset_fts(dataset_fts) VALUES ('optimize')")
            conn.exec_driver_sql("ANALYZE")
        indexed = time.perf_counter()
        search_index.rebuild(conn)
        print(f"  loaded in {loaded:.0f} s, index rebuilt in {time.perf_counter() - indexed:.0f} s", file=sys.stderr)
        if not postgres:
            conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    return time.perf_counter() - started


def _samples(run: Callable[[], Any], repeat: int) -> list[float]:
    run()  # warm the cache
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        run()
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]


def measure(url: str, repeat: int) -> list[dict[str, Any]]:
    """Each query type's figures (milliseconds): the whole call's median and p95, and its parts' medians."""
    engine = make_engine(url)
    dialect = engine.dialect.name
    if dialect == "postgresql":
        # What autovacuum does soon after a bulk load: statistics, and the visibility map index-only scans need.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    register_catalog_facets()
    results = []
    with Session(engine) as session:
        results.append(_bitmaps_built(session))
        session.rollback()
        for label, args in QUERIES:
            query = search.parse_search(args)
            request = search._request(query, search.DEFAULT_EXACT_COUNT_LIMIT)
            whole = _samples(lambda q=query: search.search(session, q), repeat)
            words = search_engine.read_dictionary(session)
            read = search_counts.count(session, dialect, request, words, with_facets=True)
            page = _samples(
                lambda r=request, w=words, c=read: search_engine.page_ids(session, dialect, r, w, c.total, c.matches),
                repeat,
            )
            count = _samples(
                lambda r=request, w=words: search_counts.count(session, dialect, r, w, with_facets=False), repeat
            )
            counts = _samples(
                lambda r=request, w=words: search_counts.count(session, dialect, r, w, with_facets=True), repeat
            )
            shown = search.search(session, query)
            results.append(
                {
                    "query": label,
                    "matches": shown.total,
                    "estimated": shown.total_is_estimate,
                    "median_ms": round(statistics.median(whole), 2),
                    "p95_ms": round(_p95(whole), 2),
                    "page_ms": round(statistics.median(page), 2),
                    "count_ms": round(statistics.median(count), 2),
                    "facets_ms": round(max(0.0, statistics.median(counts) - statistics.median(count)), 2),
                }
            )
            session.rollback()
    engine.dispose()
    return results


def _resident_mb() -> float:
    """This process's resident memory (Linux; 0 elsewhere)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _bitmaps_built(session: Session) -> dict[str, Any]:
    """Build the facet bitmaps from scratch once: seconds, and the resident memory they added (MB)."""
    search_bitmaps.STORE.clear()
    before = _resident_mb()
    started = time.perf_counter()
    built = search_bitmaps.STORE.current(session.connection(), search.database_key(session))
    seconds = time.perf_counter() - started
    listings = len(built.everything) if built is not None else 0
    return {
        "query": "facet bitmaps, built",
        "bitmaps": listings,
        "build_s": round(seconds, 2),
        "rss_mb": round(_resident_mb() - before, 1),
    }


def _postgres_url(base: str, n: int, *, fresh: bool) -> str:
    url = sa.engine.make_url(normalise_database_url(base))
    name = f"{url.database}_bench_{n}"
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
        if fresh or not exists:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def _has_rows(url: str, n: int) -> str:
    """What ``url`` already holds of this benchmark's ``n`` listings (for ``--reuse``): ``indexed``, ``loaded``
    (the listings, not the index: an interrupted rebuild) or nothing."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            if conn.execute(sa.text("SELECT count(*) FROM search_document")).scalar_one() == n:
                return "indexed"
            return "loaded" if conn.execute(sa.text("SELECT count(*) FROM dataset")).scalar_one() == n else ""
    except sa.exc.DBAPIError:
        return ""
    finally:
        engine.dispose()


def reindex(url: str) -> float:
    """Rebuild the search index of an already loaded database; return the seconds it took."""
    started = time.perf_counter()
    engine = make_engine(url)
    register_catalog_facets()
    with engine.begin() as conn:
        search_index.rebuild(conn)
    engine.dispose()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated listing counts")
    parser.add_argument("--postgres", default="", help="PostgreSQL URL (default: SQLite in a temporary folder)")
    parser.add_argument("--repeat", type=int, default=20, help="timed runs per query (p95 needs about 20)")
    parser.add_argument("--quick", action="store_true", help="10k listings on SQLite, 5 runs: well under a minute")
    parser.add_argument("--json", action="store_true", help="print one JSON object per engine, size and query")
    parser.add_argument(
        "--reuse",
        metavar="DIR",
        default="",
        help="keep the databases (SQLite files in DIR; PostgreSQL databases stay) and reuse them on the next run",
    )
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.postgres, args.repeat = "10000", "", 5
    engine_name = "postgresql" if args.postgres else "sqlite"
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(args.reuse or scratch)
        folder.mkdir(parents=True, exist_ok=True)
        for n in (int(s) for s in args.sizes.split(",")):
            if args.postgres:
                url = _postgres_url(args.postgres, n, fresh=not args.reuse)
            else:
                url = f"sqlite:///{folder / f'bench_{n}.db'}"
            held = _has_rows(url, n) if args.reuse else ""
            if held == "indexed":
                built = "reused"
            elif held == "loaded":
                built = f"reused, index rebuilt in {reindex(url):.0f} s"
            else:  # start from an empty database (a reused one may hold an interrupted build)
                if args.postgres:
                    url = _postgres_url(args.postgres, n, fresh=True)
                else:
                    (folder / f"bench_{n}.db").unlink(missing_ok=True)
                built = f"built in {populate(url, n):.0f} s"
            results = measure(url, args.repeat)
            if args.json:
                for result in results:
                    print(json.dumps({"engine": engine_name, "size": n, **result}), flush=True)
                continue
            print(f"\n{engine_name}, {n:,} published listings ({built}), ms (whole call: median, p95; parts: median):")
            print(f"  {'query':<24} {'matches':>10} {'median':>7} {'p95':>7} {'page':>7} {'count':>7} {'facets':>7}")
            bitmaps = results.pop(0)
            print(
                f"  facet bitmaps of {bitmaps['bitmaps']:,} listings built in {bitmaps['build_s']} s,"
                f" +{bitmaps['rss_mb']} MB resident"
            )
            for r in results:
                shown = ("~" if r["estimated"] else "") + f"{r['matches']:,}"
                print(
                    f"  {r['query']:<24} {shown:>10} {r['median_ms']:>7.1f} {r['p95_ms']:>7.1f}"
                    f" {r['page_ms']:>7.1f} {r['count_ms']:>7.1f} {r['facets_ms']:>7.1f}"
                )


if __name__ == "__main__":
    main()
