"""Creating many draft listings at once: what :func:`~.listings.new_dataset`, :func:`~.records.apply_record`,
:func:`~.versions.add_version` and :func:`~.records.record_event` do for one new listing, done for thousands with a
few multi-row statements.

The rows written are the same, value for value: the listing row (its slug chosen as :func:`~.records.choose_slug`
chooses it), its term rows, its versions with their manifests, and its events (``created``, one
``version_added`` per version, then the caller's own event). The caller has already checked everything the
one-by-one commands check (permission on the organisation, slugs free and well formed, parent datasets published,
external ids unused): these functions validate nothing but the title, and raise nothing else.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, select

from marketplace.accounts.models import Organisation, User
from marketplace.catalog import search_index, vocab
from marketplace.catalog.manifest import compute_manifest_digest
from marketplace.catalog.models import Dataset, DatasetEvent, DatasetFile, DatasetTerm, DatasetVersion
from marketplace.catalog.services.records import (
    RESERVED_SLUGS,
    TERM_FIELDS,
    RecordChanges,
    _column_value,
    _normalised,
    _slug_taken,
    write_terms,
)
from marketplace.catalog.services.rows import update_rows, write_rows
from marketplace.db import UnitOfWork, any_of
from marketplace.errors import ValidationFailed
from marketplace.text import slugify

#: Rows per multi-row statement batch (the drivers page these further; this bounds memory).
CHUNK = 1000


@dataclass(frozen=True)
class NewListing:
    """A validated record for a listing to create, and the note of the event that closes its creation."""

    record: dict[str, Any]
    note: str


def _table(model: Any) -> sa.Table:
    table: sa.Table = model.__table__
    return table


@functools.cache
def _defaults(model: Any) -> dict[str, Any]:
    """The values a new ``model`` row gets when nothing is said (what the ORM would insert), without its id."""
    probe: Dataset | DatasetVersion = (
        Dataset(slug="x", organisation_id=0, title="xxx")
        if model is Dataset
        else DatasetVersion(dataset_id=0, version="0.0.0")
    )
    return {c.key: getattr(probe, c.key) for c in _table(model).columns if c.key != "id"}


def create_listings(
    uow: UnitOfWork,
    user: User | None,
    org: Organisation,
    listings: Sequence[NewListing],
    names: Sequence[str],
    *,
    progress: Callable[[int], None] | None = None,
) -> list[str]:
    """Create a draft listing from each record (its ``names`` fields and its versions); return their slugs, in order.
    ``progress(done)`` is called after each batch of :data:`CHUNK` listings.

    Raises :class:`ValidationFailed` (field ``title``) when a title is under 3 characters once stripped, before
    anything is written.
    """
    for listing in listings:
        if len(listing.record["title"].strip()) < 3:
            raise ValidationFailed.for_field("title", "give a title of at least 3 characters")
    uow.session.flush()  # anything the session holds goes first, as it would with one flush per listing
    slugs = choose_slugs(uow.session, [(x.record.get("slug") or None, x.record["title"].strip()) for x in listings])
    now = uow.now()
    for start in range(0, len(listings), CHUNK):
        chunk = range(start, min(start + CHUNK, len(listings)))
        _insert_chunk(uow, user, org, [listings[i] for i in chunk], [slugs[i] for i in chunk], names, now)
        if progress is not None:
            progress(chunk.stop)
    return slugs


def _insert_chunk(
    uow: UnitOfWork,
    user: User | None,
    org: Organisation,
    listings: list[NewListing],
    slugs: list[str],
    names: Sequence[str],
    now: datetime,
) -> None:
    connection = uow.session.connection()
    actor = user.id if user else None
    fields = [n for n in dict.fromkeys(names) if n not in ("slug", "versions")]
    write_rows(
        connection,
        _table(Dataset),
        [_dataset_values(x.record, slug, org, actor, fields, now) for x, slug in zip(listings, slugs, strict=True)],
    )
    ids = _ids_by_slug(connection, slugs)
    terms: list[dict[str, Any]] = []
    versions: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for slug, listing in zip(slugs, listings, strict=True):
        record, dataset_id = listing.record, ids[slug]
        event = {"dataset_id": dataset_id, "at": now, "actor_id": actor}
        events.append({**event, "action": "created", "note": ""})
        for name in fields:
            if name in TERM_FIELDS:
                scheme = TERM_FIELDS[name]
                terms.extend(
                    {"dataset_id": dataset_id, "scheme": scheme, "value": item, "position": position}
                    for position, item in enumerate(record.get(name) or [])
                )
        for version in record["versions"]:
            label = vocab.semantic_version(version["version"])
            versions.append(_version_values(dataset_id, label, version, now))
            events.append({**event, "action": "version_added", "note": label})
        events.append({**event, "action": "imported", "note": listing.note})
    write_rows(connection, _table(DatasetTerm), terms)
    if versions:
        write_rows(connection, _table(DatasetVersion), versions)
        version_ids = _version_ids(connection, sorted(set(ids.values())))
        files = [
            {
                "version_id": version_ids[(dataset_id, label)],
                "path": f["path"],
                "size_bytes": int(f["size_bytes"]),
                "sha256": f["sha256"],
                "media_type": f["media_type"],
                "storage_key": None,
            }
            for listing, slug in zip(listings, slugs, strict=True)
            for dataset_id in [ids[slug]]
            for version in listing.record["versions"]
            for label in [vocab.semantic_version(version["version"])]
            for f in version["files"] or []
        ]
        write_rows(connection, _table(DatasetFile), files)
    write_rows(connection, _table(DatasetEvent), events)


def update_listings(uow: UnitOfWork, changed: Sequence[tuple[Dataset, RecordChanges, dict[str, Any]]]) -> None:
    """Store the changes of many listings at once: for each ``(listing, its changes, its stored record)``, what
    :func:`~.records.apply_record` would store, with one ``UPDATE`` per set of changed columns (on PostgreSQL one
    statement for all its listings, the values as arrays; elsewhere one batch) and the list-valued fields rewritten
    together; ``updated_at`` moves on each changed listing.

    The listings' objects in the session are given the stored values as their committed state (nothing is left
    for the ORM to flush), and the search index is told which listings changed.
    """
    if not any(changes for _, changes, _ in changed):
        return
    uow.session.flush()  # what the session holds goes first, as it would with one flush per listing
    connection, table, now = uow.session.connection(), _table(Dataset), uow.now()
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    terms: list[tuple[int, dict[str, list[str]], dict[str, Any]]] = []
    ids: list[int] = []
    for dataset, changes, current in changed:
        if not changes:
            continue
        assert dataset.id is not None
        ids.append(dataset.id)
        values = {**changes.columns, "updated_at": now}
        by_columns.setdefault(tuple(values), []).append({"id": dataset.id, **values})
        for key, value in values.items():
            set_committed_value(dataset, key, value)
        if changes.terms:
            terms.append((dataset.id, changes.terms, current))
    for rows in by_columns.values():
        update_rows(connection, table, "id", rows)
    write_terms(connection, terms)
    search_index.touch(uow.session, ids)


def _ids_by_slug(connection: sa.Connection, slugs: list[str]) -> dict[str, int]:
    table = _table(Dataset)
    found: dict[str, int] = {}
    for condition in any_of(connection.dialect, table.c.slug, slugs):
        found.update(
            {slug: id_ for slug, id_ in connection.execute(sa.select(table.c.slug, table.c.id).where(condition))}
        )
    return found


def _version_ids(connection: sa.Connection, dataset_ids: list[int]) -> dict[tuple[int, str], int]:
    table = _table(DatasetVersion)
    found: dict[tuple[int, str], int] = {}
    for condition in any_of(connection.dialect, table.c.dataset_id, dataset_ids):
        statement = sa.select(table.c.dataset_id, table.c.version, table.c.id).where(condition)
        found.update({(dataset_id, label): id_ for dataset_id, label, id_ in connection.execute(statement)})
    return found


def _dataset_values(
    record: dict[str, Any], slug: str, org: Organisation, actor: int | None, fields: list[str], now: datetime
) -> dict[str, Any]:
    """The listing row :func:`new_dataset` then :func:`apply_record` (onto an empty record) would write."""
    # The defaults' JSON documents are shared between rows: nothing changes them, they are only serialised.
    values = dict(_defaults(Dataset))
    values.update(
        slug=slug,
        organisation_id=org.id,
        title=record["title"].strip(),
        modality=None,
        created_by_id=actor,
        created_at=now,
        updated_at=now,
    )
    for name in fields:
        value = record.get(name)
        if name in TERM_FIELDS:
            if name == "tags" and value:
                values["tags_text"] = " ".join(value)
            continue
        if name in ("sources", "parent_datasets"):
            # What apply_record compares with an empty record: a list of objects without their None values.
            value = _normalised(name, value)
            if not value:
                continue
        elif value is None:  # the same as an empty record's: apply_record leaves the column as it is
            continue
        if name == "ai_act":
            document = dict(value)
            values["bias_reviewed_on"] = document.pop("bias_reviewed_on", None)
            values["ai_act"] = document
        else:
            values[name] = _column_value(name, value)
    return values


def _version_values(dataset_id: int, label: str, version: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The version row :func:`add_version` writes: a draft, with its manifest's count, size and digest."""
    values = {**_defaults(DatasetVersion), "dataset_id": dataset_id, "version": label, "created_at": now}
    values["changelog"] = (version.get("changelog") or "").strip()
    files = version["files"] or []
    if files:
        values["file_count"] = len(files)
        values["total_bytes"] = sum(int(f["size_bytes"]) for f in files)
        values["manifest_digest"] = compute_manifest_digest(files)
    return values


def choose_slugs(session: Session, wanted: Sequence[tuple[str | None, str]]) -> list[str]:
    """A free slug for each ``(slug, title)``, as :func:`~.records.choose_slug` chooses one, one after the other.

    A given slug is kept as it is (the caller has checked it is well formed and free). A slug derived from a title
    avoids the slugs already taken, the slugs the other rows give, and those chosen for the rows before it.
    """
    given = {slug for slug, _ in wanted if slug}
    bases = {title: _base(title) for slug, title in wanted if not slug}
    taken = _taken(session, sorted(set(bases.values())))
    used: set[str] = set(given)
    out: list[str] = []
    for slug, title in wanted:
        if slug:
            out.append(slug)
            continue
        base = bases[title]
        candidate, n = base, 1
        while candidate in used or candidate in taken or (candidate != base and _slug_taken(session, candidate)):
            n += 1
            suffix = f"-{n}"
            candidate = base[: 80 - len(suffix)].rstrip("-") + suffix
        used.add(candidate)
        out.append(candidate)
    return out


def _base(title: str) -> str:
    base = slugify(title, 80) or "dataset"
    return f"{base}-dataset" if base in RESERVED_SLUGS else base


def _taken(session: Session, slugs: list[str]) -> set[str]:
    """Which of ``slugs`` already name a listing."""
    found: set[str] = set()
    for condition in any_of(session.connection().dialect, _table(Dataset).c.slug, slugs):
        found.update(session.exec(select(Dataset.slug).where(condition)))
    return found
