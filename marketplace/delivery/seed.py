"""A demo listing whose files really exist in storage, so the demo can be bought and downloaded end to end.

The other demo listings declare realistic manifests (gigabytes to terabytes) without shipping the bytes; this
one is a small "starter pack" of generated instruction pairs whose every file is written to the configured
storage before the version is published, with its true size and SHA-256. Idempotent.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import io
import json
import random
import tempfile
from pathlib import Path
from typing import Any

import duckdb
from sqlmodel import select

from marketplace.accounts.models import User
from marketplace.catalog import importer, services
from marketplace.catalog.models import Dataset, DatasetFile, DatasetVersion
from marketplace.catalog.seed import ADMIN_EMAIL, DEMO_DATASETS, PROVIDER_EMAIL
from marketplace.catalog.vocab import DatasetStatus
from marketplace.db import UnitOfWork
from marketplace.delivery import services as delivery

SLUG = "instruction-pairs-starter"
TEMPLATE_SLUG = "multilingual-instruction-pairs"
LANGS = ("en", "de", "fr", "es")
TOPICS = ("ferry timetables", "invoice disputes", "warranty claims", "museum opening hours", "bike repairs",
          "tax deadlines", "recipe scaling", "train delays")  # fmt: skip


def _pairs(lang: str, count: int) -> bytes:
    rng = random.Random(f"{SLUG}:{lang}")
    lines = []
    for i in range(count):
        topic = rng.choice(TOPICS)
        record = {
            "id": f"{lang}-{i:05d}",
            "language": lang,
            "instruction": f"Explain {topic} to a customer in two sentences ({lang}).",
            "response": f"A clear, polite answer about {topic}, written by a trained annotator (item {i}).",
            "annotator": f"ann-{rng.randint(1, 40):02d}",
            "quality": rng.choice(["gold", "silver"]),
        }
        lines.append(json.dumps(record, ensure_ascii=False))
    return ("\n".join(lines) + "\n").encode()


def _table(pairs: bytes) -> bytes:
    """The pairs as CSV with a column per field and the instruction's length in words (for the data viewer)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", "language", "annotator", "quality", "instruction_words"])
    for line in pairs.decode().splitlines():
        pair = json.loads(line)
        writer.writerow(
            [pair["id"], pair["language"], pair["annotator"], pair["quality"], len(pair["instruction"].split())]
        )
    return out.getvalue().encode()


def _parquet(pairs: bytes) -> bytes:
    """The pairs as one Parquet file, written by DuckDB (the data viewer's engine)."""
    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / "pairs.jsonl", Path(tmp) / "pairs.parquet"
        source.write_bytes(pairs)
        con = duckdb.connect(":memory:")
        try:
            con.execute(
                f"COPY (SELECT * FROM read_json('{source}', format = 'newline_delimited')) "  # noqa: S608 - own temp paths
                f"TO '{target}' (FORMAT parquet)"
            )
        finally:
            con.close()
        return target.read_bytes()


def samples() -> list[tuple[str, bytes, str, str]]:
    """The starter pack's samples: the first 200 English pairs as Parquet and as CSV (name, bytes, type, note)."""
    head = b"".join(_pairs("en", 1500).splitlines(keepends=True)[:200])
    return [
        ("starter-sample.parquet", _parquet(head), "application/vnd.apache.parquet", "200 English pairs (Parquet)."),
        ("starter-sample.csv", _table(head), "text/csv", "The same 200 pairs' fields as CSV."),
    ]


def _files() -> dict[str, tuple[bytes, str]]:
    files = {f"data/{lang}.jsonl": (_pairs(lang, 1500), "application/jsonl") for lang in LANGS}
    every = b"".join(_pairs(lang, 1500) for lang in LANGS)
    # The same pairs as tables, so the data viewer has CSV and Parquet to show a licensee.
    files["tables/pairs.parquet"] = (_parquet(every), "application/vnd.apache.parquet")
    files["tables/pairs.csv"] = (_table(every), "text/csv")
    readme = (
        b"# Instruction pairs starter pack\n\n"
        b"A small, fully downloadable excerpt of the multilingual instruction pairs: 1,500 pairs per language.\n"
    )
    files["README.md"] = (readme, "text/markdown")
    return files


def _record(files: dict[str, tuple[bytes, str]]) -> dict[str, Any]:
    template = next(copy.deepcopy(r) for _, _, r, _ in DEMO_DATASETS if r["slug"] == TEMPLATE_SLUG)
    template.update(
        external_id=SLUG.upper(),
        slug=SLUG,
        title="Instruction pairs starter pack",
        summary="6,000 human-written instruction/response pairs in four languages, ready to download.",
        record_count=6000,
        file_count=len(files),
        total_bytes=sum(len(content) for content, _ in files.values()),
    )
    details = dict(template.get("modality_details") or {})
    words = sum(len(content.split()) for content, _ in files.values())
    details["text"] = {**details.get("text", {}), "documents": 6000, "tokens": words}
    template["modality_details"] = details
    template["versions"] = [first_version(files, "First release of the starter pack.")]
    return template


def first_version(files: dict[str, tuple[bytes, str]], changelog: str) -> dict[str, Any]:
    """A demo listing's version 1.0.0 as the catalog importer reads it: the manifest of ``files`` (path → content and
    media type), by path, each with its size and SHA-256."""
    return {
        "version": "1.0.0",
        "changelog": changelog,
        "files": [
            {
                "path": path,
                "size_bytes": len(content),
                "sha256": hashlib.sha256(content).hexdigest(),
                "media_type": media_type,
            }
            for path, (content, media_type) in sorted(files.items())
        ],
    }


def seed_downloadable(uow: UnitOfWork) -> list[str]:
    """Create, store and publish the starter pack if it is not there yet; return what was done."""
    session = uow.session
    if session.exec(select(Dataset).where(Dataset.slug == SLUG)).first() is not None:
        return []
    provider = session.exec(select(User).where(User.email == PROVIDER_EMAIL)).one()
    admin = session.exec(select(User).where(User.email == ADMIN_EMAIL)).one()
    files = _files()
    data = json.dumps(_record(files), ensure_ascii=False).encode()
    importer.import_catalog(uow, provider, organisation="northwind-data", data=data, fmt="jsonl")
    dataset = session.exec(select(Dataset).where(Dataset.slug == SLUG)).one()
    version = session.exec(select(DatasetVersion).where(DatasetVersion.dataset_id == dataset.id)).one()
    store = delivery.dataset_storage(uow, dataset)
    for row in session.exec(select(DatasetFile).where(DatasetFile.version_id == version.id)).all():
        content, media_type = files[row.path]
        # The same path as a provider's upload: a session, the bytes at its key, then server-side verification.
        upload = delivery.start_upload(uow, None, dataset, version, path=row.path, size=len(content),
                                       media_type=media_type, sha256=row.sha256, operator=True)  # fmt: skip
        store.put(upload.storage_key, io.BytesIO(content), content_type=media_type)
        verified = delivery.complete_upload(uow, upload)
        if verified.error:
            raise RuntimeError(f"demo file {row.path} failed verification: {verified.error}")
    session.flush()
    for name, content, media_type, note in samples():
        services.add_sample(uow, provider, dataset, filename=name, content=content, media_type=media_type,
                            description=note)  # fmt: skip
    services.submit_for_review(uow, provider, dataset)
    services.approve(uow, admin, dataset)
    assert dataset.status is DatasetStatus.PUBLISHED
    return [f"published {SLUG} with {len(files)} files in storage"]
