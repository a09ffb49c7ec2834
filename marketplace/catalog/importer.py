"""Catalog import: many listings at once from CSV or JSON Lines, or one from a Croissant JSON-LD file.

Two passes. The first reads and validates every row and collects every problem, each with its row (CSV;
the header is row 1, as in a spreadsheet) or line (JSON Lines), its field and a message; if there is any
problem, nothing is written. The second applies the rows in the request's transaction. Rows are keyed by the
provider's own ``external_id``: importing a row again updates that listing in place, and a row that matches
what is stored changes nothing at all (no new event, no new ``updated_at``).

A Croissant document (:mod:`marketplace.catalog.croissant`) brings more than a record: its declared files, record
sets and own properties, kept beside the listing. It is keyed by its ``identifier`` (else ``@id``, else ``url``)
and also found by its ``url``; into an existing listing it writes only the fields Croissant can say.

CSV columns are the record's dotted field names (``ai_act.bias_examination``, ``sources.0.license``,
``modality_details.audio.hours``); list fields hold values separated by ``|``. JSON Lines objects are records.
"""

from __future__ import annotations

import csv
import gc
import io
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from marshmallow import ValidationError
from sqlmodel import col, select

from marketplace import boundedjson
from marketplace.accounts.models import Organisation, User
from marketplace.catalog import services, vocab
from marketplace.catalog.croissant import CroissantImport, listing_properties, read_document
from marketplace.catalog.croissant import store as croissant_store
from marketplace.catalog.croissant.document import keep_what_still_holds
from marketplace.catalog.croissant.reading import READ_FIELDS, croissant_problems
from marketplace.catalog.flat_records import unflatten
from marketplace.catalog.models import Dataset, DatasetEvent, DatasetVersion
from marketplace.catalog.schemas import SECTION_FIELDS, load_record, record_fields
from marketplace.catalog.services import bulk
from marketplace.catalog.services.records import RecordChanges
from marketplace.db import UnitOfWork, any_of
from marketplace.errors import FieldProblem, ValidationFailed
from marketplace.forms import field_problems

FORMATS = ("csv", "jsonl", "croissant")
LIST_SEPARATOR = "|"
ALL_FIELDS = tuple(name for names in SECTION_FIELDS.values() for name in names)
#: The listing fields a Croissant document can say: importing one into an existing listing leaves the others (tasks,
#: industries, storage region…, which the provider completes on the website) as they are.
CROISSANT_FIELDS = READ_FIELDS

#: Called as ``progress(done, total)``; an import does two passes over its rows, so ``total`` is twice the rows.
Progress = Callable[[int, int], None]


@dataclass
class ImportRow:
    location: str  # "row 12", "line 3", "dataset"
    record: dict[str, Any]
    # What a Croissant document brings beyond the listing record: declared files, record sets, its properties.
    croissant: CroissantImport | None = None


@dataclass
class ImportReport:
    """What an import did, by slug."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.created) + len(self.updated) + len(self.unchanged)

    def summary(self) -> str:
        return f"{len(self.created)} created, {len(self.updated)} updated, {len(self.unchanged)} unchanged"


class _Throttled:
    """``progress(done, total)`` called about every 1 % and at the end of each pass: a progress bar redrawn per
    row would cost more than the rows."""

    def __init__(self, progress: Progress | None, total: int) -> None:
        self.progress, self.total = progress, total
        self.step = max(1, total // 100)
        self.last = 0

    def __call__(self, done: int, *, end_of_pass: bool = False) -> None:
        if self.progress is not None and (end_of_pass or done >= self.total or done - self.last >= self.step):
            self.last = done
            self.progress(done, self.total)


def detect_format(filename: str, data: bytes) -> str:
    """``csv``, ``jsonl`` or ``croissant`` from the file name, or else from the first character."""
    name = filename.lower()
    if name.endswith(".csv"):
        return "csv"
    if name.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if name.endswith((".json", ".jsonld")):
        head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
        return "croissant" if head == b"{" and b"\n{" not in data.strip() else "jsonl"
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return "jsonl" if head == b"{" else "csv"


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationFailed(
            message="The file is not UTF-8 text.",
            details=[FieldProblem("file", f"not UTF-8 (byte {exc.start})", "file")],
        ) from exc


def _problems_of(error: ValidationError, location: str) -> list[FieldProblem]:
    # Every reader's input is (part of) a record, so its errors are named by the record's dotted paths.
    return field_problems(error, record_fields(), location=location)


def _csv_rows(text: str) -> tuple[list[tuple[str, Any]], list[FieldProblem]]:
    """CSV rows as nested records; a row the parser cannot read (a cell over its limit) is that row's problem."""
    raw: list[tuple[str, Any]] = []
    problems: list[FieldProblem] = []
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = reader.fieldnames or []
    except csv.Error as error:
        raise ValidationFailed(
            message="The CSV header cannot be read.", details=[FieldProblem("file", _csv_problem(error), "row 1")]
        ) from None
    if not header:
        raise ValidationFailed(
            message="The CSV file is empty.", details=[FieldProblem("file", "no header row", "row 1")]
        )
    duplicates = sorted({h for h in header if header.count(h) > 1})
    if duplicates:
        raise ValidationFailed(
            message="The CSV header repeats a column.",
            details=[FieldProblem(h, "this column appears more than once", "row 1") for h in duplicates],
        )
    index = 1
    while True:
        index += 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            # The parser cannot resynchronise after such an error: report this row and stop reading.
            problems.append(FieldProblem("row", _csv_problem(error), f"row {index}"))
            break
        if None in row:
            problems.append(FieldProblem("row", "has more cells than the header has columns", f"row {index}"))
            continue
        if not any((v or "").strip() for v in row.values()):
            continue  # blank line
        try:
            raw.append((f"row {index}", unflatten(row, split=lambda v: v.split(LIST_SEPARATOR))))
        except ValidationError as error:
            problems.extend(_problems_of(error, f"row {index}"))
    return raw, problems


def _csv_problem(error: csv.Error) -> str:
    if "field larger than field limit" in str(error):
        return f"a cell is longer than {csv.field_size_limit():,} characters, the most one cell may hold"
    return f"cannot be read as CSV: {error}"


def _jsonl_rows(text: str) -> tuple[list[tuple[str, Any]], list[FieldProblem]]:
    """JSON Lines objects; a line that is not one bounded JSON object is that line's problem."""
    raw: list[tuple[str, Any]] = []
    problems: list[FieldProblem] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = boundedjson.loads(line)
        except boundedjson.JsonTooComplex as error:
            problems.append(FieldProblem("line", f"the object is {error.message}", f"line {number}"))
            continue
        except json.JSONDecodeError as exc:
            problems.append(FieldProblem("line", f"not valid JSON: {exc.msg}", f"line {number}"))
            continue
        if not isinstance(item, dict):
            problems.append(FieldProblem("line", "each line must be one JSON object", f"line {number}"))
            continue
        raw.append((f"line {number}", item))
    return raw, problems


def _croissant_rows(text: str) -> tuple[list[tuple[str, Any]], list[FieldProblem]]:
    """The one dataset of a Croissant document, or every problem of it named by its JSON path."""
    try:
        document = boundedjson.loads(text)
    except boundedjson.JsonTooComplex as error:
        raise ValidationFailed(
            message=f"The Croissant file is {error.message}.", details=[FieldProblem("file", error.message, "file")]
        ) from None
    except json.JSONDecodeError as exc:
        raise ValidationFailed(
            message="The Croissant file is not valid JSON.",
            details=[FieldProblem("file", f"{exc.msg} (line {exc.lineno})", f"line {exc.lineno}")],
        ) from exc
    parts, problems = read_document(document)
    if parts is None:
        return [], [FieldProblem(p.path, p.message, "dataset") for p in problems]
    return [("dataset", parts)], []


_READERS: dict[str, Callable[[str], tuple[list[tuple[str, Any]], list[FieldProblem]]]] = {
    "csv": _csv_rows,
    "jsonl": _jsonl_rows,
    "croissant": _croissant_rows,
}


def read_rows(
    data: bytes, fmt: str, *, max_rows: int, progress: Progress | None = None
) -> tuple[list[ImportRow], list[FieldProblem]]:
    """Parse and validate every row of the file; return the good rows and every problem found."""
    reader = _READERS.get(fmt)
    if reader is None:
        raise ValidationFailed.for_field("format", f"use one of {', '.join(FORMATS)}")
    raw, problems = reader(_decode(data))
    if len(raw) + len(problems) > max_rows:
        raise ValidationFailed(
            message=f"The file has more than {max_rows:,} listings; split it into smaller files.",
            details=[FieldProblem("file", f"at most {max_rows:,} listings per import", "file")],
        )
    rows: list[ImportRow] = []
    step = _Throttled(progress, 2 * len(raw))
    for done, (location, item) in enumerate(raw, start=1):
        step(done, end_of_pass=done == len(raw))
        parts = item if isinstance(item, CroissantImport) else None
        try:
            record = load_record(parts.record if parts else item)
        except ValidationError as error:
            found = _problems_of(error, location)
            problems.extend(croissant_problems(found) if parts else found)
            continue
        if not record.get("external_id"):
            problems.append(
                FieldProblem("external_id", "is required to import (your own id for the dataset)", location)
            )
            continue
        rows.append(ImportRow(location, record, parts))
    if not raw and not problems:
        problems.append(FieldProblem("file", "the file holds no listing", "file"))
    return rows, problems


def _existing_datasets(uow: UnitOfWork, org_id: int, rows: list[ImportRow]) -> dict[str, Dataset]:
    """The organisation's listings the rows name by ``external_id`` (a Croissant document also by its ``url``:
    one of our own pages, or the ``url`` an earlier import kept)."""
    ids = [row.record["external_id"] for row in rows]
    existing: dict[str, Dataset] = {}
    for condition in any_of(_dialect(uow), _DATASET.c.external_id, ids):
        for dataset in uow.session.exec(select(Dataset).where(Dataset.organisation_id == org_id, condition)):
            assert dataset.external_id is not None
            existing[dataset.external_id] = dataset
    for row in rows:
        if row.croissant is not None and row.record["external_id"] not in existing:
            found = croissant_store.find_listing(uow.session, org_id, row.croissant.url, _page_prefix(uow))
            if found is not None:
                existing[row.record["external_id"]] = found
    return existing


def _table(model: Any) -> sa.Table:
    table: sa.Table = model.__table__
    return table


_DATASET = _table(Dataset)


def _dialect(uow: UnitOfWork) -> sa.Dialect:
    return uow.session.connection().dialect


def _page_prefix(uow: UnitOfWork) -> str:
    return str(uow.settings.get("BASE_URL") or "").rstrip("/") + "/datasets/"


def _public_parents(uow: UnitOfWork, rows: list[ImportRow]) -> set[str]:
    """The parent slugs the rows name that are published listings."""
    parent_slugs = {p["slug"] for row in rows for p in row.record["parent_datasets"] if p.get("slug")}
    if not parent_slugs:
        return set()
    public: set[str] = set()
    for condition in any_of(_dialect(uow), _DATASET.c.slug, sorted(parent_slugs)):
        public.update(
            uow.session.exec(select(Dataset.slug).where(condition, col(Dataset.status).in_(vocab.PUBLIC_STATUSES)))
        )
    return public


def _taken_slugs(uow: UnitOfWork, rows: list[ImportRow]) -> set[str]:
    """Which of the slugs the rows give already name a listing (one query; per 500 slugs on SQLite)."""
    slugs = sorted({row.record["slug"] for row in rows if row.record.get("slug")})
    taken: set[str] = set()
    for condition in any_of(_dialect(uow), _DATASET.c.slug, slugs):
        taken.update(uow.session.exec(select(Dataset.slug).where(condition)))
    return taken


def _stored_versions(uow: UnitOfWork, datasets: list[Dataset]) -> dict[tuple[int, str], DatasetVersion]:
    """Every version of ``datasets``, by ``(dataset id, label)`` (one query; per 500 listings on SQLite)."""
    ids = sorted({d.id for d in datasets if d.id is not None})
    found: dict[tuple[int, str], DatasetVersion] = {}
    for condition in any_of(_dialect(uow), _table(DatasetVersion).c.dataset_id, ids):
        for version in uow.session.exec(select(DatasetVersion).where(condition)):
            found[(version.dataset_id, version.version)] = version
    return found


def _slug_problems(
    row: ImportRow, current: Dataset | None, seen_slugs: dict[str, str], taken: set[str]
) -> list[FieldProblem]:
    """A row's slug: unique in the file, unchanged for an existing listing, free and well formed for a new one."""
    slug, location = row.record.get("slug"), row.location
    if not slug:
        return []
    problems: list[FieldProblem] = []
    if slug in seen_slugs:
        problems.append(FieldProblem("slug", f"{slug!r} is also used by {seen_slugs[slug]}", location))
    seen_slugs[slug] = location
    if current is not None and current.slug != slug:
        problems.append(FieldProblem("slug", f"the listing's slug is {current.slug!r} and cannot change", location))
    elif current is None:
        if not services.SLUG_RE.match(slug) or slug in services.RESERVED_SLUGS:
            problems.append(FieldProblem("slug", "use lower-case letters, digits and hyphens (at most 80)", location))
        elif slug in taken:
            problems.append(FieldProblem("slug", f"{slug!r} is already taken", location))
    return problems


def _existing_listing_problems(
    row: ImportRow, current: Dataset, stored_versions: dict[tuple[int, str], DatasetVersion]
) -> list[FieldProblem]:
    """An existing listing must be editable, is nobody's parent of itself, and its published versions cannot
    change."""
    location = row.location
    assert current.id is not None
    if current.status in (vocab.DatasetStatus.IN_REVIEW, vocab.DatasetStatus.WITHDRAWN):
        message = f"the listing {current.slug!r} is {current.status.label.lower()} and cannot be changed"
        return [FieldProblem("external_id", message, location)]
    problems = [
        FieldProblem(f"parent_datasets.{index}.slug", "a dataset cannot be its own parent", location)
        for index, parent in enumerate(row.record["parent_datasets"])
        if parent.get("slug") == current.slug
    ]
    for index, version in enumerate(row.record["versions"]):
        stored = stored_versions.get((current.id, version["version"]))
        if (
            stored is not None
            and stored.is_published
            and (
                not services.manifest_matches(stored, version["files"])
                or stored.changelog != version["changelog"].strip()
            )
        ):
            problems.append(
                FieldProblem(
                    f"versions.{index}", f"version {version['version']} is published and cannot change", location
                )
            )
    return problems


@dataclass
class _Known:
    """What the database holds that the rows name: their listings and those listings' versions."""

    datasets: dict[str, Dataset]
    versions: dict[tuple[int, str], DatasetVersion]


def _check_against_database(uow: UnitOfWork, org_id: int, rows: list[ImportRow]) -> tuple[_Known, list[FieldProblem]]:
    """Problems only the database can tell: duplicates, taken slugs, locked listings, published versions.

    A few queries for the whole file (one per kind on PostgreSQL, per 500 keys on SQLite), never one per row."""
    problems: list[FieldProblem] = []
    existing = _existing_datasets(uow, org_id, rows)
    known = _Known(existing, _stored_versions(uow, list(existing.values())))
    public_parents = _public_parents(uow, rows)
    taken = _taken_slugs(uow, rows)
    seen_ids: dict[str, str] = {}
    seen_slugs: dict[str, str] = {}
    for row in rows:
        record, location = row.record, row.location
        external_id = record["external_id"]
        if external_id in seen_ids:
            problems.append(
                FieldProblem("external_id", f"{external_id!r} is also used by {seen_ids[external_id]}", location)
            )
            continue
        seen_ids[external_id] = location
        current = existing.get(external_id)
        problems.extend(_slug_problems(row, current, seen_slugs, taken))
        for index, parent in enumerate(record["parent_datasets"]):
            if parent.get("slug") and parent["slug"] not in public_parents:
                problems.append(
                    FieldProblem(
                        f"parent_datasets.{index}.slug", f"no published dataset called {parent['slug']!r}", location
                    )
                )
        if current is not None:
            problems.extend(_existing_listing_problems(row, current, known.versions))
    return known, problems


def import_catalog(
    uow: UnitOfWork,
    user: User | None,
    *,
    organisation: str,
    data: bytes,
    filename: str = "",
    fmt: str | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Import a catalog file for the provider ``organisation``: all rows or none.

    Raises :class:`ValidationFailed` whose ``details`` name every problem (``location`` is the row or line);
    ``progress(done, total)`` reports both passes (validation, then writing), so ``total`` is twice the rows.
    CSV and JSON Lines rows are written together: new listings by :func:`services.bulk.create_listings`, the
    changes of existing ones by :func:`services.bulk.update_listings`; a Croissant document's listing on its own.
    """
    with _collector_paused():
        return _import(uow, user, organisation, data, fmt or detect_format(filename, data), progress)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector for the import: the rows are plain trees that reference counting frees, and
    its passes over tens of thousands of records in memory cost a quarter of a large import's time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _import(
    uow: UnitOfWork, user: User | None, organisation: str, data: bytes, kind: str, progress: Progress | None
) -> ImportReport:
    org = services.provider_organisation(uow, user, organisation)
    assert org.id is not None
    rows, problems = read_rows(data, kind, max_rows=int(uow.settings["CATALOG_IMPORT_MAX_ROWS"]), progress=progress)
    known, more = _check_against_database(uow, org.id, rows) if not problems else (_Known({}, {}), [])
    problems.extend(more)
    if problems:
        problems.sort(key=lambda p: _location_order(p.location))
        bad_rows = len({p.location for p in problems})
        raise ValidationFailed(
            message=f"Nothing was imported: {len(problems)} problem(s) in {bad_rows} row(s).", details=problems
        )

    report = ImportReport()
    step = _Throttled(progress, 2 * len(rows))
    fresh = [row for row in rows if row.croissant is None and row.record["external_id"] not in known.datasets]
    report.created.extend(
        bulk.create_listings(
            uow,
            user,
            org,
            [bulk.NewListing(row.record, row.location) for row in fresh],
            ALL_FIELDS,
            progress=lambda done: step(len(rows) + done),
        )
    )
    done = len(rows) + len(fresh)
    events: list[dict[str, Any]] = []
    updates: list[tuple[Dataset, RecordChanges, dict[str, Any]]] = []
    current_records = services.terms_of(uow.session, [d.id for d in known.datasets.values() if d.id is not None])
    for row in rows:
        if row.croissant is None and row.record["external_id"] not in known.datasets:
            continue
        if row.croissant is None:
            _update_one(uow, user, row, known, current_records, report, events, updates)
        else:
            _import_one(uow, user, org, row, known, current_records, report, events)
        done += 1
        step(done)
    bulk.update_listings(uow, updates)
    uow.session.flush()
    bulk.write_rows(uow.session.connection(), DatasetEvent.__table__, events)  # type: ignore[attr-defined]
    return report


def _update_one(
    uow: UnitOfWork,
    user: User | None,
    row: ImportRow,
    known: _Known,
    current_records: dict[int, dict[str, list[str]]],
    report: ImportReport,
    events: list[dict[str, Any]],
    updates: list[tuple[Dataset, RecordChanges, dict[str, Any]]],
) -> None:
    """A CSV or JSON Lines row naming an existing listing: its changes go to ``updates`` (the caller stores them all
    at once), its versions are written now, and its ``imported`` event goes to ``events``. Its references were
    checked with the whole file's."""
    dataset = known.datasets[row.record["external_id"]]
    assert dataset.id is not None
    current = services.dataset_record(uow.session, dataset, current_records.get(dataset.id))
    changes = services.record_changes(row.record, ALL_FIELDS, current)
    changed = bool(changes)
    for version in row.record["versions"]:
        changed |= _import_version(uow, user, dataset, version, known.versions)
    updates.append((dataset, changes, current))
    if changed:
        events.append(services.event_row(uow, dataset, user, "imported", row.location))
        report.updated.append(dataset.slug)
    else:
        report.unchanged.append(dataset.slug)


def _import_one(
    uow: UnitOfWork,
    user: User | None,
    org: Organisation,
    row: ImportRow,
    known: _Known,
    current_records: dict[int, dict[str, list[str]]],
    report: ImportReport,
    events: list[dict[str, Any]],
) -> None:
    """Write a Croissant document's row: update its listing in place, or create it. Its ``imported`` event
    is added to ``events``, for the caller to write with the others."""
    record = row.record
    dataset = known.datasets.get(record["external_id"])
    if dataset is None:
        dataset = services.new_dataset(uow, user, org, title=record["title"], slug=record.get("slug") or None)
        services.apply_record(uow, dataset, record, ALL_FIELDS, current={})
        created = True
        changed = True
    else:
        assert dataset.id is not None
        assert row.croissant is not None  # a CSV or JSON Lines row naming a listing goes to _update_one
        current = services.dataset_record(uow.session, dataset, current_records.get(dataset.id))
        record = _settled(uow, dataset, row.croissant, record, current)
        # A Croissant listing may have been found by its url, under another external id: its references are
        # checked here.
        changed = services.apply_record(uow, dataset, record, CROISSANT_FIELDS, current=current)
        created = False
    for version in record["versions"]:
        changed |= _import_version(uow, user, dataset, version, known.versions)
    if row.croissant is not None:
        uow.session.flush()
        page_url = _page_prefix(uow) + dataset.slug
        label = record["versions"][0]["version"] if record["versions"] else ""
        changed |= croissant_store.save_import(
            uow.session, dataset, row.croissant, version_label=label, page_url=page_url
        )
    if created or changed:
        events.append(services.event_row(uow, dataset, user, "imported", row.location))
        (report.created if created else report.updated).append(dataset.slug)
    else:
        report.unchanged.append(dataset.slug)


def _settled(
    uow: UnitOfWork, dataset: Dataset, parts: CroissantImport, record: dict[str, Any], current: dict[str, Any]
) -> dict[str, Any]:
    """A Croissant record for an existing listing, keeping the listing's values wherever the document says what
    the listing's own export says (so importing our export of it changes nothing)."""
    org = services.organisation_of(uow.session, dataset)
    base = _page_prefix(uow).removesuffix("/datasets/")
    own = listing_properties(
        dataset,
        org,
        current,
        None,
        page_url=_page_prefix(uow) + dataset.slug,
        provider_url=f"{base}/providers/{org.slug}",
    )
    return keep_what_still_holds(record, parts.properties, own, current)


def _import_version(
    uow: UnitOfWork,
    user: User | None,
    dataset: Dataset,
    version: dict[str, Any],
    stored_versions: dict[tuple[int, str], DatasetVersion],
) -> bool:
    assert dataset.id is not None
    stored = stored_versions.get((dataset.id, version["version"]))
    if stored is None:
        services.add_version(
            uow, user, dataset, version=version["version"], changelog=version["changelog"], files=version["files"]
        )
        return True
    if stored.is_published:
        return False  # identical (checked in the first pass)
    if stored.changelog == version["changelog"].strip() and services.manifest_matches(stored, version["files"]):
        return False  # what update_version would find, without its permission query (and the flush it causes)
    return services.update_version(uow, user, dataset, stored, changelog=version["changelog"], files=version["files"])


_NUMBER = re.compile(r"\d+")


def _location_order(location: str | None) -> tuple[int, str]:
    match = _NUMBER.search(location or "")
    return (int(match.group()) if match else 0, location or "")
