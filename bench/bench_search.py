"""Catalog search benchmark: ranked full-text search with facet counts at 10k, 100k and 1M listings.

Builds a fresh database per size with bulk inserts (a migrated schema, so the real full-text index and its
triggers or generated column are in place), then times typical searches: browsing, a rare, a medium and a common
word, words plus facet filters, and a deep page. Each figure is the median of several runs, split into the page
of results, the total count, and the facet counts.

    .venv/bin/python bench/bench_search.py                                   # SQLite, 10k and 100k
    .venv/bin/python bench/bench_search.py --sizes 10000,100000,1000000      # and 1M (a few minutes)
    .venv/bin/python bench/bench_search.py --postgres postgresql://postgres@127.0.0.1:5432/bench

PostgreSQL runs need a database the benchmark may drop and create (it uses ``<name>_bench_<size>``).
"""

from __future__ import annotations

import argparse
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

from marketplace import migrate
from marketplace.catalog import search
from marketplace.catalog.models import Dataset, DatasetTerm, TermScheme
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
QUERIES: list[tuple[str, dict[str, list[str]]]] = [
    ("browse newest, no text", {}),
    ("rare word (~0.1% of rows)", {"q": ["rareword"]}),
    ("medium word (~2%)", {"q": ["mediumword"]}),
    ("common word (~50%)", {"q": ["commonword"]}),
    ("two words + 2 facets", {"q": ["speech transcripts"], "modality": ["audio"], "language": ["en"]}),
    ("facets only (3 filters)", {"modality": ["text"], "industry": ["bfsi"], "personal_data": ["no"]}),
    ("deep page 400, newest", {"page": ["400"]}),
]


def _rows(n: int, orgs: int, rng: random.Random) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
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
        dataset = {
            "id": i,
            "slug": f"bench-{i}",
            "organisation_id": 1 + i % orgs,
            "title": title,
            "summary": " ".join(words[4:10]),
            "description": " ".join(words + marker + rng.choices(WORDS, k=40)),
            "status": "published",
            "offering_type": "off_the_shelf",
            "modality": rng.choice(modalities),
            "modality_details": {},
            "annotator_qualifications": "",
            "synthetic_share_pct": rng.choice([0, 0, 0, 10, 60, 100]),
            "personal_data": rng.choice(["yes", "no", "no"]),
            "personal_data_notes": "",
            "sources": [],
            "parent_datasets": [],
            "ai_act": {},
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
        yield dataset, terms


def populate(url: str, n: int) -> float:
    """Migrate and fill a fresh database with ``n`` published listings; return the seconds it took."""
    started = time.perf_counter()
    migrate.upgrade(url)
    engine = make_engine(url)
    if engine.dialect.name == "sqlite":
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
    datasets: list[dict[str, Any]] = []
    terms: list[dict[str, Any]] = []
    dataset_table, term_table = Dataset.__table__, DatasetTerm.__table__  # type: ignore[attr-defined]

    def flush() -> None:
        with engine.begin() as conn:
            conn.execute(sa.insert(dataset_table), datasets)
            conn.execute(sa.insert(term_table), terms)
        datasets.clear()
        terms.clear()

    for dataset, dataset_terms in _rows(n, orgs, rng):
        datasets.append(dataset)
        terms.extend(dataset_terms)
        if len(datasets) >= 20_000:
            flush()
            print(f"  inserted {dataset['id']:,} / {n:,}", end="\r", flush=True)
    if datasets:
        flush()
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql(
                "SELECT setval(pg_get_serial_sequence('organisation', 'id'), (SELECT max(id) FROM organisation))"
            )
            conn.exec_driver_sql(
                "SELECT setval(pg_get_serial_sequence('dataset', 'id'), (SELECT max(id) FROM dataset))"
            )
            conn.exec_driver_sql("ANALYZE")
        else:
            conn.exec_driver_sql("INSERT INTO dataset_fts(dataset_fts) VALUES ('optimize')")
            conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    return time.perf_counter() - started


def _timed(run: Callable[[], Any], repeat: int) -> float:
    run()  # warm the cache
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def measure(url: str, repeat: int) -> list[tuple[str, int, float, float, float]]:
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        # What autovacuum does soon after a bulk load: statistics, and the visibility map index-only scans need.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    results = []
    with Session(engine) as session:
        dialect = engine.dialect.name
        for label, args in QUERIES:
            query = search.parse_search(args)
            page = _timed(lambda q=query: search._page_ids(session, dialect, q), repeat)
            count = _timed(lambda q=query: search._count(session, dialect, q), repeat)
            total = search._count(session, dialect, query)
            facets = _timed(lambda q=query, n=total: search.facet_results(session, q, matches=n), repeat)
            results.append((label, total, page, count, facets))
        # Browsing with CATALOG_FACET_CACHE_SECONDS > 0: the whole-catalog counts come from the process's cache.
        browse = search.parse_search({})
        cached = _timed(lambda: search.facet_results(session, browse, cache_seconds=3600), repeat)
        search._BROWSE_CACHE.clear()
        label, total, page, count, _ = results[0]
        results.append(("browse, facet cache warm", total, page, count, cached))
    engine.dispose()
    return results


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


def _has_rows(url: str, n: int) -> bool:
    """Whether ``url`` already holds this benchmark's ``n`` listings (for ``--reuse``)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT count(*) FROM dataset")).scalar_one() == n
    except sa.exc.DBAPIError:
        return False
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated listing counts")
    parser.add_argument("--postgres", default="", help="PostgreSQL URL (default: SQLite in a temporary folder)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--reuse",
        metavar="DIR",
        default="",
        help="keep the databases (SQLite files in DIR; PostgreSQL databases stay) and reuse them on the next run",
    )
    args = parser.parse_args()
    engine_name = "PostgreSQL" if args.postgres else "SQLite"
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(args.reuse or scratch)
        folder.mkdir(parents=True, exist_ok=True)
        for n in (int(s) for s in args.sizes.split(",")):
            if args.postgres:
                url = _postgres_url(args.postgres, n, fresh=not args.reuse)
            else:
                url = f"sqlite:///{folder / f'bench_{n}.db'}"
            if args.reuse and _has_rows(url, n):
                built = "reused"
            else:  # start from an empty database (a reused one may hold an interrupted build)
                if args.postgres:
                    url = _postgres_url(args.postgres, n, fresh=True)
                else:
                    (folder / f"bench_{n}.db").unlink(missing_ok=True)
                built = f"built in {populate(url, n):.0f} s"
            print(f"\n{engine_name}, {n:,} published listings ({built}), median ms:")
            print(f"  {'query':<28} {'matches':>9} {'page':>8} {'count':>8} {'facets':>8} {'total':>8}")
            for label, total, page, count, facets in measure(url, args.repeat):
                print(
                    f"  {label:<28} {total:>9,} {page:>8.1f} {count:>8.1f} {facets:>8.1f} {page + count + facets:>8.1f}"
                )


if __name__ == "__main__":
    main()
