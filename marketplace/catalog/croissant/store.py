"""Keeping what a Croissant import brings next to the listing, and reading it back for pages and exports."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from marketplace.catalog.croissant.document import jsonable, listing_snapshot
from marketplace.catalog.croissant.model import CroissantProfile, DeclaredDistribution, DistributionKind
from marketplace.catalog.croissant.reading import CroissantImport
from marketplace.catalog.croissant.structure import Distribution, as_list, ref_ids, text
from marketplace.catalog.models import Dataset, DatasetFile, DatasetVersion
from marketplace.catalog.services.records import dataset_record


def profile_of(session: Session, dataset: Dataset) -> CroissantProfile | None:
    return session.get(CroissantProfile, dataset.id)


def declared_of(session: Session, dataset: Dataset) -> list[DeclaredDistribution]:
    """The dataset's declared distribution entries, in document order."""
    return list(
        session.exec(
            select(DeclaredDistribution)
            .where(DeclaredDistribution.dataset_id == dataset.id)
            .order_by(col(DeclaredDistribution.position))
        )
    )


def find_listing(session: Session, organisation_id: int, url: str, own_page_prefix: str) -> Dataset | None:
    """The organisation's listing a document's ``url`` names: one of our own pages, or the ``url`` an earlier
    import of the organisation kept. Another organisation's listing is never found."""
    if not url:
        return None
    if url.startswith(own_page_prefix):
        slug = url[len(own_page_prefix) :].strip("/")
        return session.exec(
            select(Dataset).where(Dataset.slug == slug, Dataset.organisation_id == organisation_id)
        ).first()
    return session.exec(
        select(Dataset)
        .join(CroissantProfile, col(CroissantProfile.dataset_id) == Dataset.id)
        .where(CroissantProfile.url == url, Dataset.organisation_id == organisation_id)
        .order_by(col(Dataset.id))
    ).first()


def save_import(
    session: Session,
    dataset: Dataset,
    parts: CroissantImport,
    *,
    version_label: str,
    page_url: str,
) -> bool:
    """Keep ``parts`` for ``dataset`` (once its listing fields are written; ``version_label`` is the version the
    import made); True when anything changed. The listing's own page is no ``url`` to keep: a document exported
    from it names it."""
    assert dataset.id is not None
    properties = dict(parts.properties)
    url = parts.url
    if url == page_url:
        properties.pop("url", None)
        url = ""
    wanted = {
        "url": url,
        "properties": jsonable(properties),
        "record_sets": jsonable(parts.record_sets),
        "listing_snapshot": listing_snapshot(dataset_record(session, dataset)),
        "version_label": version_label,
    }
    profile = profile_of(session, dataset)
    changed = profile is None
    if profile is None:
        profile = CroissantProfile(dataset_id=dataset.id)
    for name, value in wanted.items():
        if getattr(profile, name) != value:
            setattr(profile, name, value)
            changed = True
    session.add(profile)
    return _save_distribution(session, dataset, parts.distribution) or changed


def _save_distribution(session: Session, dataset: Dataset, entries: list[Distribution]) -> bool:
    stored = declared_of(session, dataset)
    rows = [{**entry.as_row(), "kind": entry.kind} for entry in entries]
    if [_row_of(s) for s in stored] == [jsonable(r) for r in rows]:
        return False
    for old in stored:
        session.delete(old)
    session.flush()
    assert dataset.id is not None
    for position, row in enumerate(rows):
        session.add(DeclaredDistribution(dataset_id=dataset.id, position=position, **row))
    return True


def _row_of(entry: DeclaredDistribution) -> dict[str, Any]:
    names = Distribution.__dataclass_fields__
    row: dict[str, Any] = jsonable({name: getattr(entry, name) for name in names})
    return row


# --- what pages show ---------------------------------------------------------------------------------------------


@dataclass
class DeclaredFile:
    """A declared distribution entry and whether the provider's uploads fulfil it."""

    entry: DeclaredDistribution
    uploaded: list[str]

    @property
    def fulfilled(self) -> bool:
        return bool(self.uploaded)

    @property
    def status(self) -> str:
        if self.entry.contained_in:
            return "uploaded" if self.uploaded else "inside " + ", ".join(self.entry.contained_in)
        return "uploaded" if self.uploaded else "to be uploaded"


def declared_files(session: Session, dataset: Dataset) -> list[DeclaredFile]:
    """Every declared entry with the uploaded files that fulfil it: a FileObject by its path, a FileSet by its
    globs; a file inside an archive counts as fulfilled once its archive is."""
    entries = declared_of(session, dataset)
    if not entries:
        return []
    paths = list(
        session.exec(
            select(DatasetFile.path)
            .join(DatasetVersion, col(DatasetVersion.id) == DatasetFile.version_id)
            .where(DatasetVersion.dataset_id == dataset.id, col(DatasetFile.storage_key).is_not(None))
            .distinct()
        )
    )
    out: list[DeclaredFile] = []
    by_id: dict[str, DeclaredFile] = {}
    for entry in entries:
        if entry.kind is DistributionKind.FILE_OBJECT:
            matched = [p for p in paths if p == entry.path] if entry.path else []
        else:
            matched = [
                p
                for p in paths
                if any(fnmatch.fnmatch(p, g) for g in entry.includes)
                and not any(fnmatch.fnmatch(p, g) for g in entry.excludes)
            ]
        item = DeclaredFile(entry, sorted(set(matched)))
        by_id[entry.resource_id] = item
        out.append(item)
    for item in out:  # inside an uploaded archive: fulfilled with it
        if not item.uploaded and any(by_id.get(i) and by_id[i].uploaded for i in item.entry.contained_in):
            item.uploaded = [f"inside {', '.join(item.entry.contained_in)}"]
    return out


#: How many enumerated values a record set's table shows.
SCHEMA_VALUES = 20


@dataclass
class SchemaRow:
    """One field of a record set, as the listing page shows it."""

    name: str
    data_type: str
    description: str
    source: str
    depth: int = 0
    notes: str = ""


@dataclass
class SchemaTable:
    """One record set, as the listing page shows it: its fields, and its enumerated values if it lists them."""

    name: str
    description: str
    key: str
    rows: list[SchemaRow]
    #: The enumerated values it lists (``data``), each record's values joined, the first ``SCHEMA_VALUES`` only.
    values: list[str]
    value_count: int


def schema_tables(record_sets: Sequence[dict[str, Any]]) -> list[SchemaTable]:
    """Readable tables of the record sets: field, type, description, where its values come from."""
    tables = []
    for record_set in record_sets:
        name = text(record_set.get("name")) or text(record_set.get("@id"))
        rows: list[SchemaRow] = []
        for item in as_list(record_set.get("field")):
            _rows(item, 0, rows)
        given = record_set.get("data")
        data: list[Any] = given if isinstance(given, list) else []
        tables.append(
            SchemaTable(
                name=name,
                description=text(record_set.get("description")),
                key=", ".join(ref_ids(record_set.get("key"))),
                rows=rows,
                values=[
                    " · ".join(text(v) for v in row.values()) if isinstance(row, dict) else text(row)
                    for row in data[:SCHEMA_VALUES]
                ],
                value_count=len(data),
            )
        )
    return tables


def _rows(item: Any, depth: int, rows: list[SchemaRow]) -> None:
    if not isinstance(item, dict):
        return
    notes = []
    if item.get("repeated") is True:
        notes.append("repeated")
    for ident in ref_ids(
        (item.get("references") or {}).get("field") if isinstance(item.get("references"), dict) else None
    ):
        notes.append(f"references {ident}")
    rows.append(
        SchemaRow(
            name=text(item.get("name")) or text(item.get("@id")).rsplit("/", 1)[-1],
            data_type=", ".join(_type_label(t) for t in as_list(item.get("dataType")) if isinstance(t, str)),
            description=text(item.get("description")),
            source=describe_source(item.get("source")),
            depth=depth,
            notes="; ".join(notes),
        )
    )
    for sub in as_list(item.get("subField")):
        _rows(sub, depth + 1, rows)


def _type_label(data_type: str) -> str:
    """``sc:Text`` → ``Text``; ``https://schema.org/ImageObject`` → ``ImageObject``; ``cr:Split`` → ``Split``."""
    return data_type.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]


def describe_source(source: Any) -> str:
    """Where a field's values come from, in words: ``column "text" of parquet-files (regex …)``."""
    if isinstance(source, str):
        return source
    if not isinstance(source, dict):
        return ""
    origin = ""
    for key, label in (("fileObject", "file"), ("fileSet", "files"), ("field", "field"), ("recordSet", "records")):
        ids = ref_ids(source.get(key))
        if ids:
            origin = f"{label} {', '.join(ids)}"
            break
    extract: dict[str, Any] = source["extract"] if isinstance(source.get("extract"), dict) else {}
    parts = []
    for key, label in (("column", "column"), ("jsonPath", "JSON path"), ("fileProperty", "file property")):
        if key in extract:
            parts.append(f"{label} {text(extract[key])!r}")
    what = " ".join(parts)
    steps: list[str] = []
    for transform in as_list(source.get("transform")):
        if isinstance(transform, dict):
            steps.extend(f"{k} {text(v)!r}" for k, v in transform.items() if not k.startswith("@"))
    words = f"{what} of {origin}" if what and origin else what or origin
    return f"{words} ({'; '.join(steps)})" if steps else words
