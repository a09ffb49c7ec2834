"""What one license shares, in the protocol's terms: one share, one schema, a table per tabular file.

* **share** = the license: ``license_<license id in lower case>``; a recipient token sees its own share only.
* **schema** = the licensed dataset, named by its slug.
* **table** = one tabular file (CSV, JSON Lines or Parquet) of a version the license covers, in Parquet form:
  ``<path without extension>_v<version>`` with every character other than a letter or digit written ``_``
  (``data/calls.csv`` of version ``1.2.0`` is ``data_calls_v1_2_0``), so the ``profile#share.schema.table``
  address has no stray dots. A table exists once its file has its Parquet form (:mod:`.conversion`).

A table is an immutable published file, so its Delta table version is always ``0``. Ids are stable UUIDs derived
from the license and the file, so a client that caches them sees the same ids on every request.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from sqlmodel import Session, col, select

import licensing
from marketplace.catalog.models import Dataset, DatasetVersion
from marketplace.delivery.downloads import covered_versions
from marketplace.licenses.models import Grant
from marketplace.sharing.models import ParquetTable

__all__ = ["TABLE_VERSION", "SharedTable", "schema_name", "share_id", "share_name", "shared_tables", "table_name"]

TABLE_VERSION = 0
_NAMESPACE = uuid.UUID("6f1c2a9e-3b57-4d0e-9a52-2a7d3c1b8e40")
_UNSAFE = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class SharedTable:
    """One table of a share: its names, stable id and the Parquet file behind it."""

    share: str
    schema: str
    name: str
    id: str
    share_id: str
    version: DatasetVersion
    table: ParquetTable


def share_name(grant: Grant) -> str:
    return f"license_{grant.id.lower()}"


def share_id(grant: Grant) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"share:{grant.id}"))


def schema_name(dataset: Dataset) -> str:
    return dataset.slug


def _safe(text: str) -> str:
    return _UNSAFE.sub("_", text.lower()).strip("_")


def table_name(path: str, version_label: str) -> str:
    """``data/calls.csv`` of ``1.2.0`` → ``data_calls_v1_2_0`` (see the module documentation)."""
    stem = path.rsplit(".", 1)[0] if "." in path.rsplit("/", 1)[-1] else path
    return f"{_safe(stem) or 'table'}_v{_safe(version_label)}"


def shared_tables(session: Session, grant: Grant, value: licensing.Grant, dataset: Dataset) -> list[SharedTable]:
    """Every table of the license's share, by version (oldest first) then path; names are unique."""
    versions = covered_versions(session, grant, value)
    by_id = {v.id: v for v in versions}
    rows = session.exec(
        select(ParquetTable)
        .where(col(ParquetTable.version_id).in_(list(by_id)))
        .order_by(col(ParquetTable.version_id), col(ParquetTable.path))
    ).all()
    order = {v.id: i for i, v in enumerate(versions)}
    result: list[SharedTable] = []
    taken: set[str] = set()
    for row in sorted(rows, key=lambda r: (order[r.version_id], r.path)):
        version = by_id[row.version_id]
        name = table_name(row.path, version.version)
        if name in taken:  # two paths that differ only in punctuation
            name = f"{name}_{row.source_file_id}"
        taken.add(name)
        result.append(
            SharedTable(
                share=share_name(grant),
                schema=schema_name(dataset),
                name=name,
                id=str(uuid.uuid5(_NAMESPACE, f"table:{grant.id}:{row.source_file_id}")),
                share_id=share_id(grant),
                version=version,
                table=row,
            )
        )
    return result
