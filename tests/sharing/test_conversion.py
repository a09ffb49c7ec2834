"""The conversion job: CSV and JSON Lines files become Parquet with their types and their own SHA-256 (stored and
listed), Parquet files are served as they are, a file PyArrow cannot read is left out, and running it again
converts nothing twice. Publishing a version with tabular files asks for the job, once."""

from __future__ import annotations

import hashlib
import io
import json

import pyarrow.parquet as pq
from sqlmodel import col, select

from marketplace.catalog.models import DatasetFile, DatasetVersion
from marketplace.catalog.vocab import VersionStatus
from marketplace.db import UnitOfWork
from marketplace.jobs.models import BackgroundJob, JobKind
from marketplace.sharing.conversion import convert_version, request_conversion, tables_of_version
from tests.sharing.world import build, parquet_bytes


def _uow(app, db_session) -> UnitOfWork:  # type: ignore[no-untyped-def]
    return UnitOfWork(db_session, app.extensions["marketplace.context"])


def test_conversion_types_and_sha256(app, db_session) -> None:  # type: ignore[no-untyped-def]
    uow = _uow(app, db_session)
    world = build(uow)
    made = convert_version(uow, world.version_id)
    by_path = {t.path: t for t in made}
    assert sorted(by_path) == ["data/calls.parquet", "data/speakers.parquet", "data/transcripts.parquet"]
    store = app.extensions["marketplace.context"].storage.default

    transcripts = by_path["data/transcripts.parquet"]
    content = store.read_bytes(transcripts.storage_key)
    assert transcripts.converted and hashlib.sha256(content).hexdigest() == transcripts.sha256
    assert transcripts.size_bytes == len(content) and transcripts.num_rows == 3
    table = pq.read_table(io.BytesIO(content))
    assert [str(t) for t in table.schema.types] == ["int64", "string", "double", "bool"]
    assert table.column("name").to_pylist() == ["Ada", "Grace", "Linus"]
    fields = json.loads(transcripts.schema_string)["fields"]
    assert [f["type"] for f in fields] == ["long", "string", "double", "boolean"]

    speakers = by_path["data/speakers.parquet"]
    assert [f["type"] for f in json.loads(speakers.schema_string)["fields"]] == ["long", "string", "long"]

    calls = by_path["data/calls.parquet"]  # the provider's own Parquet: served as uploaded
    source = db_session.get(DatasetFile, calls.source_file_id)
    assert not calls.converted and calls.storage_key == source.storage_key
    assert calls.sha256 == hashlib.sha256(parquet_bytes()).hexdigest() == source.sha256
    types = [f["type"] for f in json.loads(calls.schema_string)["fields"]]
    assert types == ["integer", "string", "double", "timestamp"]

    # Idempotent: nothing converted twice.
    assert convert_version(uow, world.version_id) == []
    assert len(tables_of_version(db_session, world.version_id)) == 3


def test_a_file_pyarrow_cannot_read_is_left_out(app, db_session) -> None:  # type: ignore[no-untyped-def]
    uow = _uow(app, db_session)
    world = build(uow)
    store = app.extensions["marketplace.context"].storage.default
    broken = db_session.exec(select(DatasetFile).where(DatasetFile.path == "data/speakers.jsonl")).one()
    store.put(broken.storage_key, io.BytesIO(b'{"id": 1}\n{not json\n'))
    made = convert_version(uow, world.version_id)
    assert sorted(t.path for t in made) == ["data/calls.parquet", "data/transcripts.parquet"]


def test_publishing_asks_for_the_job_once(app, db_session) -> None:  # type: ignore[no-untyped-def]
    uow = _uow(app, db_session)
    world = build(uow)
    version = db_session.get(DatasetVersion, world.version_id)
    assert request_conversion(uow, version) is True
    db_session.flush()
    request_conversion(uow, version)  # a second request for the same version: the same job
    db_session.flush()
    jobs = db_session.exec(select(BackgroundJob).where(BackgroundJob.kind == JobKind.PARQUET_CONVERSION)).all()
    assert [j.payload for j in jobs] == [{"version_id": world.version_id}]
    convert_version(uow, world.version_id)
    version.status = VersionStatus.DRAFT
    assert request_conversion(uow, version) is False  # only published versions are shared
    version.status = VersionStatus.PUBLISHED
    assert request_conversion(uow, version) is False  # nothing left to convert
    assert db_session.exec(select(BackgroundJob).where(col(BackgroundJob.id).is_not(None))).all() == jobs
