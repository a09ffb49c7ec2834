"""The Parquet form of a published version's tabular files, made by a background job.

Delta Sharing serves Parquet. A provider's own Parquet files are served as they are (the job reads their footer
for the schema and row count); CSV and JSON Lines files are converted with PyArrow, and the converted file is
stored next to the dataset's files with its own size and SHA-256, listed in :class:`ParquetTable` rows that the
version page shows beside the manifest. The job is idempotent: a file that already has its row is skipped, so
running it again (a retry, a second request) converts nothing twice. A file PyArrow cannot parse is left out
(logged), so one bad file does not keep the others from being shared.
"""

from __future__ import annotations

import logging
import posixpath
import shutil
import tempfile
from typing import IO

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.json as pa_json
import pyarrow.parquet as pq
from sqlmodel import Session, col, select

import storage
from marketplace.catalog.models import Dataset, DatasetFile, DatasetVersion
from marketplace.catalog.vocab import VersionStatus
from marketplace.db import UnitOfWork
from marketplace.delivery.stores import dataset_storage
from marketplace.jobs.models import JobKind
from marketplace.sharing.models import ParquetTable
from marketplace.sharing.schema import UnsupportedType, schema_string

__all__ = ["PARQUET_MEDIA_TYPE", "convert_version", "request_conversion", "tables_of_version", "tabular_format"]

log = logging.getLogger(__name__)

PARQUET_MEDIA_TYPE = "application/vnd.apache.parquet"
_FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}


def tabular_format(path: str) -> str | None:
    """``csv``, ``jsonl`` or ``parquet`` for a file Delta Sharing can serve as a table; ``None`` otherwise."""
    return _FORMATS.get(posixpath.splitext(path.lower())[1])


def _tabular_files(session: Session, version: DatasetVersion) -> list[DatasetFile]:
    files = session.exec(
        select(DatasetFile)
        .where(DatasetFile.version_id == version.id, col(DatasetFile.storage_key).is_not(None))
        .order_by(col(DatasetFile.path))
    ).all()
    return [f for f in files if tabular_format(f.path) is not None]


def tables_of_version(session: Session, version_id: int) -> list[ParquetTable]:
    """The version's tables in Parquet form, by source path."""
    return list(
        session.exec(
            select(ParquetTable).where(ParquetTable.version_id == version_id).order_by(col(ParquetTable.path))
        ).all()
    )


def request_conversion(uow: UnitOfWork, version: DatasetVersion) -> bool:
    """Enqueue the conversion job of a published version that has tabular files without their Parquet form.

    Returns whether a job was asked for. At most one job per version is ever created (its dedupe key), so calling
    this on every publish and every profile minted costs one query when there is nothing to do.
    """
    if version.status is not VersionStatus.PUBLISHED or uow.context.queue is None:
        return False
    done = {t.source_file_id for t in tables_of_version(uow.session, version.id)}  # type: ignore[arg-type]
    if all(f.id in done for f in _tabular_files(uow.session, version)):
        return False
    from marketplace.jobs.queue import enqueue

    enqueue(uow, JobKind.PARQUET_CONVERSION, {"version_id": version.id}, dedupe_key=f"parquet:{version.id}")
    return True


def convert_version(uow: UnitOfWork, version_id: int) -> list[ParquetTable]:
    """Give every tabular file of a published version its :class:`ParquetTable` row; returns the new rows."""
    session = uow.session
    version = session.get(DatasetVersion, version_id)
    if version is None or version.status is not VersionStatus.PUBLISHED:
        return []
    dataset = session.get(Dataset, version.dataset_id)
    assert dataset is not None
    store = dataset_storage(uow, dataset)
    done = {t.source_file_id for t in tables_of_version(session, version_id)}
    made = []
    for file in _tabular_files(session, version):
        if file.id in done:
            continue
        try:
            table = _table_for(store, dataset, version, file)
        except (pa.ArrowException, UnsupportedType) as error:
            log.warning("parquet conversion skipped %s of version %s: %s", file.path, version_id, error)
            continue
        session.add(table)
        made.append(table)
    session.flush()
    return made


def _copy_to(store: storage.Storage, key: str, target: IO[bytes]) -> None:
    with store.open(key) as stream:
        shutil.copyfileobj(stream, target, 1024 * 1024)
    target.flush()


def _table_for(store: storage.Storage, dataset: Dataset, version: DatasetVersion, file: DatasetFile) -> ParquetTable:
    kind = tabular_format(file.path)
    assert file.storage_key is not None and file.id is not None and version.id is not None
    with tempfile.NamedTemporaryFile(suffix=f".{kind}") as source:
        _copy_to(store, file.storage_key, source)
        if kind == "parquet":
            parquet = pq.ParquetFile(source.name)
            return ParquetTable(
                version_id=version.id,
                source_file_id=file.id,
                converted=False,
                path=file.path,
                storage_key=file.storage_key,
                size_bytes=file.size_bytes,
                sha256=file.sha256,
                num_rows=parquet.metadata.num_rows,
                schema_string=schema_string(parquet.schema_arrow),
            )
        data = pa_csv.read_csv(source.name) if kind == "csv" else pa_json.read_json(source.name)
    data = _plain(data)
    key = storage.validate_key(f"datasets/{dataset.id}/parquet/{version.id}/{file.id}.parquet")
    with tempfile.TemporaryFile() as converted:
        pq.write_table(data, converted, compression="snappy")
        converted.seek(0)
        info = store.put(key, converted, content_type=PARQUET_MEDIA_TYPE)
    assert info.sha256 is not None
    return ParquetTable(
        version_id=version.id,
        source_file_id=file.id,
        converted=True,
        path=posixpath.splitext(file.path)[0] + ".parquet",
        storage_key=key,
        size_bytes=info.size,
        sha256=info.sha256,
        num_rows=data.num_rows,
        schema_string=schema_string(data.schema),
    )


def _plain(data: pa.Table) -> pa.Table:
    """Columns that held only nulls (no type to infer) become strings, which every client reads."""
    for index, field in enumerate(data.schema):
        if pa.types.is_null(field.type):
            data = data.set_column(index, pa.field(field.name, pa.string()), data.column(index).cast(pa.string()))
    return data
