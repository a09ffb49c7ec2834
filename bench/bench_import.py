"""Catalog import throughput: 10,000-row JSON Lines and CSV files through ``import_catalog``, as the app runs it.

For each database (SQLite in a temporary folder; PostgreSQL with ``--postgres``, in databases named
``bench_imports_<format>``, or ``<--db-prefix>_<format>``, that it drops and creates) and each format, it migrates
a fresh database, adds one provider organisation and its owner, generates a realistic catalog (every field the
importer accepts: several languages and countries, tasks, tags, sources, the AI Act record, the training summary,
one version with its manifest) and times, each in one unit of work committed as the app commits it:

- the first import (every listing created),
- a re-import of the same file with every title changed (every listing updated in place),
- a file whose last row is bad: nothing may be written; the time is how long the rejection took.

    .venv/bin/python bench/bench_import.py                      # SQLite, 10,000 rows
    .venv/bin/python bench/bench_import.py --quick              # SQLite, 1,000 rows (seconds)
    .venv/bin/python bench/bench_import.py --postgres postgresql://postgres@127.0.0.1:5432/postgres --json
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


from flask import Flask

from marketplace import create_app, migrate
from marketplace.accounts.models import Membership, Organisation, OrgKind, Role, User
from marketplace.catalog.flat_records import flatten
from marketplace.catalog.importer import import_catalog
from marketplace.catalog.models import Dataset, DatasetEvent, DatasetTerm, DatasetVersion
from marketplace.config import normalise_database_url
from marketplace.db import unit_of_work
from marketplace.errors import ValidationFailed

ORG = "bench-provider"
CPU: dict[str, float] = {}
LANGUAGES = ["en", "de", "fr", "es", "ja", "zh", "pt-BR", "nl", "it", "ar", "hi", "ko", "de-CH", "sv"]
COUNTRIES = ["DE", "FR", "NL", "US", "JP", "BR", "IN", "ES", "IT", "SE"]
TASKS = ["classification", "translation", "asr", "summarisation", "question_answering", "ner"]
INDUSTRIES = ["general", "healthcare_life_sciences", "bfsi", "retail_ecommerce", "automotive_mobility"]
WORDS = [
    "speech",
    "audio",
    "transcripts",
    "clinical",
    "notes",
    "images",
    "video",
    "sensor",
    "retail",
    "product",
    "reviews",
    "legal",
    "contracts",
]


def catalog_records(n: int, *, seed: int = 20251130, revision: int = 0) -> list[dict[str, Any]]:
    """``n`` complete, valid listing records; ``revision`` changes every title (for a re-import that updates)."""
    rng = random.Random(seed)
    records = []
    for i in range(n):
        words = rng.sample(WORDS, 4)
        title = f"{' '.join(words).capitalize()} corpus {i}" + (f" (revision {revision})" if revision else "")
        records.append(
            {
                "external_id": f"BENCH-{i:06d}",
                "slug": f"bench-corpus-{i}" if i % 2 == 0 else None,
                "title": title,
                "summary": f"{rng.choice(WORDS)} data for {rng.choice(WORDS)} models, item {i}.",
                "description": " ".join(rng.choices(WORDS, k=60)),
                "offering_type": "off_the_shelf",
                "tags": rng.sample(WORDS, 3),
                "modality": "text",
                "modality_details": {"text": {"documents": 1000 + i, "tokens": 50_000 + i}},
                "tasks": rng.sample(TASKS, 2),
                "industries": rng.sample(INDUSTRIES, 1),
                "languages": rng.sample(LANGUAGES, rng.randint(1, 4)),
                "countries": rng.sample(COUNTRIES, 2),
                "collection_start": "2024-01-01",
                "collection_end": "2024-06-30",
                "record_count": 10_000 + i,
                "total_bytes": 2001,
                "file_count": 2,
                "formats": ["text/csv", "application/json"],
                "collection_methods": ["manual_curation"],
                "annotation_methods": ["expert"],
                "annotator_qualifications": "Linguists.",
                "annotations_per_item": 2,
                "agreement_metric": "cohen_kappa",
                "agreement_value": 0.8,
                "synthetic_share_pct": rng.choice([0, 10, 60]),
                "personal_data": "no",
                "deidentification": [],
                "lawful_basis": "not_applicable",
                "consent_obtained": None,
                "personal_data_notes": "",
                "sources": [{"name": "Our own writers", "license": "CC-BY-4.0", "url": "https://example.org/src"}],
                "ai_act": {
                    "design_choices": "Balanced classes.",
                    "collection_processes": "Written by staff.",
                    "data_origin": "Original writing.",
                    "bias_examination": "Class balance checked.",
                    "known_gaps": "Some languages only.",
                    "preparation": {"cleaning": "Deduplicated."},
                },
                "training_summary": {"rights_basis": "rights_holder", "crawled": False},
                "storage_region": "eu",
                "update_frequency": "one_off",
                "versions": [
                    {
                        "version": "1.0.0",
                        "changelog": "First release.",
                        "files": [
                            {
                                "path": f"data/part-{k}.csv",
                                "size_bytes": 1000 + k,
                                "sha256": f"{i:032x}{k:032x}",
                                "media_type": "text/csv",
                            }
                            for k in range(2)
                        ],
                    }
                ],
            }
        )
    return records


def as_jsonl(records: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps({k: v for k, v in r.items() if v is not None}) + "\n" for r in records).encode()


def as_csv(records: list[dict[str, Any]]) -> bytes:
    rows = [flatten(r) for r in records]
    columns = sorted({key for row in rows for key in row})
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {k: "|".join(map(str, v)) if isinstance(v, list) else ("" if v is None else v) for k, v in row.items()}
        )
    return out.getvalue().encode()


def _postgres_url(base: str, name: str) -> str:
    url = sa.engine.make_url(normalise_database_url(base))
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def fresh_app(url: str, instance: Path) -> Flask:
    """A migrated database with one provider organisation and its owner; the app on it."""
    logging.disable(logging.INFO)  # the migrations' progress
    migrate.upgrade(url)
    app = create_app(
        {
            "MARKETPLACE_ENV": "development",
            "INSTANCE_PATH": str(instance),
            "DATABASE_URL": url,
            "SECRET_KEY": "bench-secret-key-0123456789abcdef0123456789",
            "PASSWORD_HASHER_PROFILE": "CHEAPEST",
            "WEBHOOK_WORKER": "off",
        }
    )
    with app.app_context(), _uow(app) as uow:
        org = Organisation(slug=ORG, name="Bench Provider", kind=OrgKind.PROVIDER)
        user = User(email="owner@bench.example", password_hash="x")
        uow.session.add_all([org, user])
        uow.session.flush()
        assert org.id is not None and user.id is not None
        uow.session.add(Membership(organisation_id=org.id, user_id=user.id, role=Role.OWNER))
    return app


def _uow(app: Flask) -> Any:
    return unit_of_work(app.extensions["marketplace.db"], app.extensions["marketplace.context"])


def run_import(app: Flask, data: bytes, fmt: str) -> tuple[float, Any]:
    """Import ``data`` in one unit of work (committed); the seconds it took and the report or the error.

    The CPU seconds it used are kept in :data:`CPU` under ``fmt``: this process's, plus, on PostgreSQL, those of the
    server process serving the connection (read from ``/proc`` when the server runs on this machine). On a shared
    machine CPU time says more than the clock, which counts the time spent waiting for a core."""
    started, cpu = time.perf_counter(), time.process_time()
    server = 0.0
    with app.app_context():
        try:
            with _uow(app) as uow:
                backend = _backend_pid(uow.session)
                server -= _cpu_of(backend)
                user = uow.session.exec(sa.select(User)).scalars().first()
                result: Any = import_catalog(uow, user, organisation=ORG, data=data, fmt=fmt)
        except ValidationFailed as error:
            result = error
        server += _cpu_of(backend)
    CPU[fmt] = time.process_time() - cpu + server
    return time.perf_counter() - started, result


def _backend_pid(session: Any) -> int | None:
    if session.connection().dialect.name != "postgresql":
        return None
    return int(session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar_one())


def _cpu_of(pid: int | None) -> float:
    """User and system CPU seconds of process ``pid`` so far (0 when unknown)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def counts(app: Flask) -> dict[str, int]:
    with app.app_context(), _uow(app) as uow:
        return {
            model.__tablename__: uow.session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()  # type: ignore[attr-defined]
            for model in (Dataset, DatasetTerm, DatasetVersion, DatasetEvent)
        }


def bench_one(url_for: Callable[[str], str], engine: str, fmt: str, n: int, scratch: Path) -> dict[str, Any]:
    encode = as_jsonl if fmt == "jsonl" else as_csv
    first, revised = encode(catalog_records(n)), encode(catalog_records(n, revision=1))
    bad_records = catalog_records(n, revision=2)
    bad_records[-1]["languages"] = ["en", "xx-zz"]
    bad = encode(bad_records)
    app = fresh_app(url_for(fmt), scratch / f"instance-{engine}-{fmt}")
    app.extensions["marketplace.db"].engine.dispose()

    created_s, report = run_import(app, first, fmt)
    created_cpu = CPU[fmt]
    assert not isinstance(report, ValidationFailed), report.details[:5]
    assert len(report.created) == n, report.summary()
    after_create = counts(app)
    updated_s, report = run_import(app, revised, fmt)
    updated_cpu = CPU[fmt]
    assert len(report.updated) == n, report.summary()
    after_update = counts(app)
    rejected_s, error = run_import(app, bad, fmt)
    assert isinstance(error, ValidationFailed) and len(error.details) == 1, error
    assert counts(app) == after_update, "a rejected file wrote something"
    app.extensions["marketplace.db"].dispose()
    return {
        "database": engine,
        "format": fmt,
        "rows": n,
        "bytes": len(first),
        "create_s": round(created_s, 3),
        "create_rows_per_s": round(n / created_s),
        "create_rows_per_cpu_s": round(n / created_cpu),  # client and (PostgreSQL on this machine) server
        "update_s": round(updated_s, 3),
        "update_rows_per_s": round(n / updated_s),
        "update_rows_per_cpu_s": round(n / updated_cpu),
        "reject_bad_last_row_s": round(rejected_s, 3),
        "rows_after_create": after_create,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--postgres", default="", help="PostgreSQL server URL: also measure there")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--formats", default="jsonl,csv")
    parser.add_argument("--quick", action="store_true", help="1,000 rows, SQLite only")
    parser.add_argument("--json", action="store_true", help="one JSON object per database and format")
    parser.add_argument("--db-prefix", default="bench_imports", help="PostgreSQL databases: <prefix>_<format>")
    args = parser.parse_args()
    n = 1000 if args.quick else args.rows
    targets: list[tuple[str, Callable[[str], str]]] = []
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        if not args.no_sqlite:
            targets.append(("sqlite", lambda fmt: f"sqlite:///{scratch / f'import-{fmt}.db'}"))
        if args.postgres and not args.quick:
            targets.append(("postgresql", lambda fmt: _postgres_url(args.postgres, f"{args.db_prefix}_{fmt}")))
        for engine, url_for in targets:
            for fmt in args.formats.split(","):
                result = bench_one(url_for, engine, fmt, n, scratch)
                if args.json:
                    print(json.dumps(result), flush=True)
                else:
                    print(
                        f"{engine:<10} {fmt:<5} {n:,} rows ({result['bytes'] / 1e6:.1f} MB): "
                        f"create {result['create_rows_per_s']:,} rows/s ({result['create_s']:.2f} s; "
                        f"{result['create_rows_per_cpu_s']:,} per CPU s), "
                        f"update {result['update_rows_per_s']:,} rows/s ({result['update_s']:.2f} s; "
                        f"{result['update_rows_per_cpu_s']:,} per CPU s), "
                        f"bad last row rejected in {result['reject_bad_last_row_s']:.2f} s",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
