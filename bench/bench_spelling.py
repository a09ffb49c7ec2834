"""Spelling correction benchmark: how long correcting a misspelt search takes at 100k and 1M published listings.

Builds a database of ``n`` published listings whose titles are drawn (Zipf-like) from a vocabulary of made-up but
pronounceable words (about n / 5 distinct title words, at most 250,000, like a real catalog's long tail of names
and terms), through the migrated schema, so the title-word index of migration ``0024_title_trigrams`` is built by
its own triggers (SQLite) or by its backfill statement (PostgreSQL, where the trigger is switched off for the bulk
load and the backfill is timed). Then it misspells title words (a letter dropped, doubled, swapped or replaced)
and times:

- ``lookup``: :func:`marketplace.catalog.spelling.closest_title_word` for one misspelt word;
- ``correct``: :func:`marketplace.catalog.spelling.correct` for a two-word search with both words misspelt (the
  known-word check and two lookups: everything the search adds before running the corrected search);

and how often the correction gives back the word that was misspelt. Medians and p95 in milliseconds.

    .venv/bin/python bench/bench_spelling.py --quick
    .venv/bin/python bench/bench_spelling.py --sizes 100000 --postgres postgresql://postgres@127.0.0.1:5432/bench
    .venv/bin/python bench/bench_spelling.py --sizes 1000000 --postgres ... --json
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlmodel import Session

from marketplace import migrate
from marketplace.catalog import search, spelling
from marketplace.catalog.models import Dataset
from marketplace.config import normalise_database_url
from marketplace.db import make_engine

ONSETS = ["b", "c", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "z", "br", "ch", "cl"]
ONSETS += ["cr", "dr", "fl", "gr", "pl", "pr", "sc", "sh", "sl", "sp", "st", "th", "tr"]
VOWELS = ["a", "e", "i", "o", "u", "ai", "ea", "ee", "io", "ou"]
CODAS = ["", "", "", "n", "r", "s", "t", "l", "m", "nd", "ng", "st", "ct", "rt"]


def vocabulary(size: int, rng: random.Random) -> list[str]:
    """``size`` distinct pronounceable words of 2 to 4 syllables (5 to 14 letters)."""
    words: dict[str, None] = {}
    while len(words) < size:
        syllables = rng.choice((2, 2, 3, 3, 3, 4))
        word = "".join(rng.choice(ONSETS) + rng.choice(VOWELS) for _ in range(syllables)) + rng.choice(CODAS)
        if 5 <= len(word) <= 14:
            words[word] = None
    return list(words)


def misspell(word: str, rng: random.Random) -> str:
    """One typo: a letter dropped, doubled, swapped with the next one, or replaced."""
    i = rng.randrange(1, len(word) - 1)  # not the first letter: buyers rarely get that wrong
    kind = rng.choice(("drop", "double", "swap", "replace"))
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return word[:i] + rng.choice("abcdefghijklmnopqrstuvwxyz".replace(word[i], "")) + word[i + 1 :]


def populate(url: str, n: int, rng: random.Random) -> tuple[list[str], float]:
    """Migrate and fill a fresh database; return the vocabulary and the seconds the inserts took (SQLite: with every
    trigger, the title words' included) or the title-word backfill took (PostgreSQL)."""
    migrate.upgrade(url)
    engine = make_engine(url)
    words = vocabulary(min(250_000, max(1_000, n // 5)), rng)
    cumulative = list(itertools.accumulate(1 / (rank + 10) for rank in range(len(words))))  # a long tail
    now = datetime(2025, 1, 1, tzinfo=UTC)
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO organisation (id, slug, name, kind, description, website, created_at)"
                " VALUES (1, 'provider', 'Provider', 'provider', '', '', :at)"
            ),
            {"at": now},
        )
        if postgres:  # bulk load without the per-row trigger; the backfill below is what the migration runs
            conn.exec_driver_sql("ALTER TABLE dataset DISABLE TRIGGER dataset_title_word_insert")
    table = Dataset.__table__  # type: ignore[attr-defined]
    index_seconds = 0.0
    batch: list[dict[str, Any]] = []
    for i in range(1, n + 1):
        title = " ".join(rng.choices(words, cum_weights=cumulative, k=rng.randint(3, 6))).capitalize()
        batch.append(_row(i, title, now - timedelta(minutes=i)))
        if len(batch) == 10_000 or i == n:
            started = time.perf_counter()
            with engine.begin() as conn:
                conn.execute(sa.insert(table), batch)
            index_seconds += time.perf_counter() - started if not postgres else 0.0
            batch.clear()
            print(f"  inserted {i:,} / {n:,}", end="\r", file=sys.stderr, flush=True)
    if postgres:
        started = time.perf_counter()
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO title_word (word, listings) "
                "SELECT w, count(DISTINCT id) FROM dataset, "
                "LATERAL regexp_split_to_table(lower(title), '[^[:alnum:]]+') AS w "
                "WHERE status = 'published' AND length(w) BETWEEN 3 AND 64 AND w !~ '^[0-9]+$' GROUP BY w"
            )
            conn.exec_driver_sql("ALTER TABLE dataset ENABLE TRIGGER dataset_title_word_insert")
        index_seconds = time.perf_counter() - started
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE title_word")  # the only table the lookups read
    engine.dispose()
    return words, index_seconds


def _row(i: int, title: str, published: datetime) -> dict[str, Any]:
    return {
        "id": i,
        "slug": f"bench-{i}",
        "organisation_id": 1,
        "title": title,
        "summary": "",
        "description": "",
        "status": "published",
        "offering_type": "off_the_shelf",
        "modality": "text",
        "modality_details": {},
        "annotator_qualifications": "",
        "synthetic_share_pct": 0,
        "personal_data": "no",
        "personal_data_notes": "",
        "sources": [],
        "parent_datasets": [],
        "ai_act": {},
        "storage_region": "eu",
        "tags_text": "",
        "status_note": "",
        "created_at": published,
        "updated_at": published,
        "published_at": published,
    }


def _timed(run: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = run()
    return (time.perf_counter() - started) * 1000, result


def _summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 2),
        "max_ms": round(ordered[-1], 2),
    }


def measure(url: str, words: list[str], queries: int, rng: random.Random) -> dict[str, Any]:
    engine = make_engine(url)
    # Words that are in titles (the index holds only those), misspelt so that the typo is no title word itself.
    with Session(engine) as session:
        stored = {str(w) for (w,) in session.execute(sa.text("SELECT word FROM title_word"))}
        vocabulary_size = len(stored)
        picks = [w for w in rng.sample(words, min(len(words), queries * 6)) if w in stored]
        typos = [(w, t) for w in picks if (t := misspell(w, rng)) not in stored][: queries * 2]
        spelling.closest_title_word(session, typos[0][1])  # warm the cache
        lookups, right = [], 0
        for word, typo in typos[:queries]:
            ms, found = _timed(lambda typo=typo: spelling.closest_title_word(session, typo))
            lookups.append(ms)
            right += found == word
        corrections = []
        for (_, first), (_, second) in zip(typos[0::2], typos[1::2], strict=False):
            query = search.build_query(text=f"{first} {second}")
            ms, _ = _timed(lambda query=query: spelling.correct(session, query))
            corrections.append(ms)
    engine.dispose()
    return {
        "title_words": vocabulary_size,
        "lookup": _summary(lookups),
        "correct": _summary(corrections),
        "corrected_back": round(right / len(lookups), 3),
        "queries": len(lookups),
    }


TITLE_WORD_TRIGGERS = {
    "postgresql": [f"DROP TRIGGER dataset_title_word_{name} ON dataset" for name in ("insert", "delete", "update")],
    "sqlite": [f"DROP TRIGGER dataset_title_word_{name}" for name in ("insert", "delete", "unpublish", "publish")],
}


def trigger_cost(make_url: Callable[[str], str], rows: int, rng: random.Random) -> dict[str, float]:
    """Published listings inserted per second (in batches of 1,000) with and without the title-word triggers."""
    words = vocabulary(max(1_000, rows // 5), rng)
    titles = [" ".join(rng.choices(words, k=rng.randint(3, 6))).capitalize() for _ in range(rows)]
    rates = {}
    for label in ("with", "without"):
        url = make_url(label)
        migrate.upgrade(url)
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO organisation (id, slug, name, kind, description, website, created_at)"
                    " VALUES (1, 'provider', 'Provider', 'provider', '', '', :at)"
                ),
                {"at": datetime(2025, 1, 1, tzinfo=UTC)},
            )
            if label == "without":
                for statement in TITLE_WORD_TRIGGERS[engine.dialect.name]:
                    conn.exec_driver_sql(statement)
        now = datetime(2025, 1, 1, tzinfo=UTC)
        table = Dataset.__table__  # type: ignore[attr-defined]
        started = time.perf_counter()
        for start in range(0, rows, 1_000):
            with engine.begin() as conn:
                batch = [_row(i + 1, titles[i], now) for i in range(start, min(rows, start + 1_000))]
                conn.execute(sa.insert(table), batch)
        rates[label] = rows / (time.perf_counter() - started)
        engine.dispose()
    return {"inserts_per_s_with_title_words": round(rates["with"]), "inserts_per_s_without": round(rates["without"])}


def _postgres_url(base: str, n: int | str) -> str:
    url = sa.engine.make_url(normalise_database_url(base))
    name = f"{url.database}_spelling_{n}"
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def _print(figures: dict[str, Any]) -> None:
    backfill = "title-word backfill" if figures["engine"] == "postgresql" else "inserts with triggers"
    print(
        f"\n{figures['engine']}, {figures['listings']:,} published listings, {figures['title_words']:,} distinct "
        f"title words (built in {figures['build_s']:.0f} s; {backfill} {figures['index_build_s']:.1f} s of it):"
    )
    for name in ("lookup", "correct"):
        f = figures[name]
        print(f"  {name:<8} median {f['median_ms']:>7.2f} ms   p95 {f['p95_ms']:>7.2f} ms   max {f['max_ms']:.2f} ms")
    print(f"  the misspelt word came back in {figures['corrected_back']:.0%} of {figures['queries']} lookups")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000", help="comma-separated listing counts")
    parser.add_argument("--postgres", default="", help="PostgreSQL URL (default: SQLite in a temporary folder)")
    parser.add_argument("--queries", type=int, default=200, help="misspelt words timed per size")
    parser.add_argument("--quick", action="store_true", help="5,000 listings and 50 words (well under a minute)")
    parser.add_argument("--json", action="store_true", help="one JSON object per engine and size")
    args = parser.parse_args()
    sizes = [5_000] if args.quick else [int(s) for s in args.sizes.split(",")]
    queries = 50 if args.quick else args.queries
    engine_name = "postgresql" if args.postgres else "sqlite"
    with tempfile.TemporaryDirectory() as scratch:

        def url_for(label: int | str) -> str:
            if args.postgres:
                return _postgres_url(args.postgres, label)
            return f"sqlite:///{Path(scratch) / f'spelling_{label}.db'}"

        for n in sizes:
            rng = random.Random(20261130 + n)
            url = url_for(n)
            started = time.perf_counter()
            words, index_seconds = populate(url, n, rng)
            figures = {"engine": engine_name, "listings": n, **measure(url, words, queries, rng)}
            figures |= {"build_s": round(time.perf_counter() - started, 1), "index_build_s": round(index_seconds, 1)}
            if args.json:
                print(json.dumps(figures))
            else:
                _print(figures)
        rows = 2_000 if args.quick else 10_000
        cost = trigger_cost(lambda label: url_for(f"inserts_{label}"), rows, random.Random(20261130))
        if args.json:
            print(json.dumps({"engine": engine_name, "inserted": rows, **cost}))
        else:
            with_, without = cost["inserts_per_s_with_title_words"], cost["inserts_per_s_without"]
            print(f"\n{engine_name}: {rows:,} published listings inserted at {with_:,.0f}/s with the title-word")
            print(f"  triggers, {without:,.0f}/s without them")


if __name__ == "__main__":
    main()
