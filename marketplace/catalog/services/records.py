"""Listing records: the fields of a listing as a record, how a record is stored, slugs, the event log, and the
checks every listing command shares."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from marketplace.accounts.models import Organisation, OrgKind, User
from marketplace.catalog import search_index, vocab
from marketplace.catalog.errors import CatalogErrorCode
from marketplace.catalog.models import (
    Dataset,
    DatasetEvent,
    DatasetTerm,
    TermScheme,
)
from marketplace.catalog.schemas import SECTION_FIELDS
from marketplace.catalog.services.rows import delete_rows, write_rows
from marketplace.catalog.vocab import DatasetStatus
from marketplace.db import UnitOfWork, any_of
from marketplace.errors import Conflict, FieldProblem, PermissionDenied, ValidationFailed
from marketplace.labels import describe_problems
from marketplace.permissions import Action, require
from marketplace.text import slugify

#: Record fields kept as rows of :class:`DatasetTerm`, with their scheme.
TERM_FIELDS: dict[str, TermScheme] = {
    "tags": TermScheme.TAG,
    "tasks": TermScheme.TASK,
    "industries": TermScheme.INDUSTRY,
    "languages": TermScheme.LANGUAGE,
    "countries": TermScheme.COUNTRY,
    "formats": TermScheme.MEDIA_TYPE,
    "collection_methods": TermScheme.COLLECTION_METHOD,
    "annotation_methods": TermScheme.ANNOTATION_METHOD,
    "special_categories": TermScheme.SPECIAL_CATEGORY,
    "deidentification": TermScheme.DEIDENTIFICATION,
    "service_modalities": TermScheme.SERVICE_MODALITY,
    "deidentification_offered": TermScheme.DEIDENTIFICATION_OFFERED,
}
_SCHEME_FIELD: dict[str, str] = {scheme.value: name for name, scheme in TERM_FIELDS.items()}

#: Record fields kept as columns of :class:`Dataset` (JSON documents included).
COLUMN_FIELDS: tuple[str, ...] = tuple(
    dict.fromkeys(name for names in SECTION_FIELDS.values() for name in names if name not in TERM_FIELDS)
)
_ENUM_COLUMNS = {
    "offering_type": vocab.OfferingType,
    "modality": vocab.Modality,
    "agreement_metric": vocab.AgreementMetric,
    "personal_data": vocab.PersonalData,
    "lawful_basis": vocab.LawfulBasis,
    "storage_region": vocab.StorageRegion,
    "update_frequency": vocab.UpdateFrequency,
}

EDITABLE_STATUSES = (DatasetStatus.DRAFT, DatasetStatus.PUBLISHED, DatasetStatus.DEPRECATED)
SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$")
RESERVED_SLUGS = frozenset({"new", "import", "mine", "review", "reviews", "search", "feed", "api", "admin"})


def terms_of(session: Session, dataset_ids: Sequence[int]) -> dict[int, dict[str, list[str]]]:
    """For each dataset id, its list-valued fields (``{"tasks": [...], "languages": [...], ...}``) in entry order."""
    out: dict[int, dict[str, list[str]]] = {i: {name: [] for name in TERM_FIELDS} for i in dataset_ids}
    table = DatasetTerm.__table__  # type: ignore[attr-defined]
    for condition in any_of(session.connection().dialect, table.c.dataset_id, dataset_ids):
        rows = session.exec(
            select(DatasetTerm.dataset_id, DatasetTerm.scheme, DatasetTerm.value)
            .where(condition)
            .order_by(col(DatasetTerm.dataset_id), col(DatasetTerm.scheme), col(DatasetTerm.position))
        ).all()
        for dataset_id, scheme, value in rows:
            out[dataset_id][_SCHEME_FIELD[scheme]].append(value)
    return out


def dataset_record(session: Session, dataset: Dataset, terms: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """The listing as a record (the shape :class:`~marketplace.catalog.schemas.DatasetRecordSchema` loads)."""
    assert dataset.id is not None
    record: dict[str, Any] = {"slug": dataset.slug}
    # The loaded values are in the instance's __dict__ (read there, without the attribute machinery: this runs for
    # every row of an import); one not loaded yet is read as an attribute, which loads it.
    loaded = dataset.__dict__
    for name in COLUMN_FIELDS:
        value = loaded[name] if name in loaded else getattr(dataset, name)
        if isinstance(value, vocab.Vocabulary):
            value = value.value
        record[name] = value
    record["ai_act"] = dataset.ai_act_record()
    record.update(terms if terms is not None else terms_of(session, [dataset.id])[dataset.id])
    return record


# --- helpers for the commands -----------------------------------------------------------------------------


def event_row(uow: UnitOfWork, dataset: Dataset, actor: User | None, action: str, note: str = "") -> dict[str, Any]:
    """The row of the listing's event log :func:`record_event` writes (for callers writing many at once)."""
    assert dataset.id is not None
    actor_id = actor.id if actor else None
    return {"dataset_id": dataset.id, "at": uow.now(), "actor_id": actor_id, "action": action, "note": note}


def record_event(uow: UnitOfWork, dataset: Dataset, actor: User | None, action: str, note: str = "") -> None:
    # A plain INSERT: the log is append-only and nothing reads its rows back in the same unit of work.
    row = event_row(uow, dataset, actor, action, note)
    uow.session.connection().execute(sa.insert(DatasetEvent.__table__), row)  # type: ignore[attr-defined]


def _require_edit(uow: UnitOfWork, user: User | None, dataset: Dataset) -> User:
    return require(uow.session, user, Action.DATASET_EDIT, dataset)


def _slug_taken(session: Session, slug: str) -> bool:
    return session.exec(select(Dataset.id).where(Dataset.slug == slug)).first() is not None


def choose_slug(session: Session, wanted: str | None, title: str) -> str:
    """A free slug: ``wanted`` exactly (refused when taken), or one derived from the title (numbered if needed)."""
    if wanted:
        slug = wanted.strip().lower()
        if not SLUG_RE.match(slug):
            raise ValidationFailed.for_field("slug", "use lower-case letters, digits and hyphens (at most 80)")
        if slug in RESERVED_SLUGS:
            raise ValidationFailed.for_field("slug", f"{slug!r} is reserved")
        if _slug_taken(session, slug):
            raise ValidationFailed.for_field("slug", f"{slug!r} is already taken")
        return slug
    base = slugify(title, 80) or "dataset"
    if base in RESERVED_SLUGS:
        base = f"{base}-dataset"
    slug, n = base, 1
    while _slug_taken(session, slug):
        n += 1
        suffix = f"-{n}"
        slug = base[: 80 - len(suffix)].rstrip("-") + suffix
    return slug


def provider_organisation(uow: UnitOfWork, user: User | None, organisation_slug: str) -> Organisation:
    org = uow.session.exec(select(Organisation).where(Organisation.slug == organisation_slug)).first()
    if org is None:
        raise ValidationFailed.for_field("organisation", f"no organisation called {organisation_slug!r}")
    require(uow.session, user, Action.DATASET_EDIT, org)
    if org.kind is not OrgKind.PROVIDER:
        raise PermissionDenied(message=f"{org.name} is a buyer organisation; only providers publish datasets.")
    return org


def _column_value(name: str, value: Any) -> Any:
    enum_cls = _ENUM_COLUMNS.get(name)
    if enum_cls is not None and value is not None:
        return enum_cls(value)
    return value


def _normalised(name: str, value: Any) -> Any:
    """Values as stored, for comparing a record with what is there (JSON keeps no dates or None-less dicts)."""
    if isinstance(value, vocab.Vocabulary):
        return value.value
    if name in ("sources", "parent_datasets"):
        return [{k: v for k, v in item.items() if v is not None} for item in value or []]
    return value


def _check_references(uow: UnitOfWork, dataset: Dataset, record: dict[str, Any]) -> None:
    problems: list[FieldProblem] = []
    for index, parent in enumerate(record.get("parent_datasets") or []):
        slug = parent.get("slug")
        if not slug:
            continue
        if slug == dataset.slug:
            problems.append(FieldProblem(f"parent_datasets.{index}.slug", "a dataset cannot be its own parent"))
            continue
        found = uow.session.exec(
            select(Dataset.id).where(Dataset.slug == slug, col(Dataset.status).in_(vocab.PUBLIC_STATUSES))
        ).first()
        if found is None:
            problems.append(FieldProblem(f"parent_datasets.{index}.slug", f"no published dataset called {slug!r}"))
    external_id = record.get("external_id")
    if external_id:
        clash = uow.session.exec(
            select(Dataset.id).where(
                Dataset.organisation_id == dataset.organisation_id,
                Dataset.external_id == external_id,
                Dataset.id != dataset.id,
            )
        ).first()
        if clash is not None:
            problems.append(FieldProblem("external_id", f"another of your datasets already has the id {external_id!r}"))
    if problems:
        raise ValidationFailed(message=describe_problems(problems), details=problems)


@dataclass
class RecordChanges:
    """What storing a record changes on a listing: its columns (as stored: enum members, the AI Act record split
    into its JSON document and its date, the tags' text) and its list-valued fields (the new lists, whole)."""

    columns: dict[str, Any] = field(default_factory=dict)
    terms: dict[str, list[str]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.columns or self.terms)


def record_changes(record: dict[str, Any], names: Iterable[str], current: dict[str, Any]) -> RecordChanges:
    """The difference between the ``names`` fields of a validated ``record`` and the stored record ``current``:
    the one rule of what an edit or an import writes. A field whose value equals the stored one is left out."""
    changes = RecordChanges()
    # dict.fromkeys: a field may sit in two sections (the service section repeats tasks, languages…).
    for name in dict.fromkeys(names):
        if name in ("slug", "versions"):
            continue
        value = record.get(name)
        if current.get(name) == value:
            continue  # equal as given is equal as stored (most fields of a re-import), without normalising
        if name in TERM_FIELDS:
            value = list(value or [])
            if current.get(name, []) == value:
                continue
            changes.terms[name] = value
            if name == "tags":
                changes.columns["tags_text"] = " ".join(value)
            continue
        if name in ("sources", "parent_datasets"):
            value = _normalised(name, value)
        if _normalised(name, current.get(name)) == _normalised(name, value):
            continue
        if name == "ai_act":
            document = dict(value or {})
            changes.columns["bias_reviewed_on"] = document.pop("bias_reviewed_on", None)
            changes.columns["ai_act"] = document
        else:
            changes.columns[name] = _column_value(name, value)
    return changes


def apply_record(
    uow: UnitOfWork,
    dataset: Dataset,
    record: dict[str, Any],
    names: Iterable[str],
    *,
    current: dict[str, Any] | None = None,
    references_checked: bool = False,
) -> bool:
    """Store the ``names`` fields of a validated ``record`` on ``dataset``; return whether anything changed.

    Only fields that differ are written (:func:`record_changes`), and ``updated_at`` moves only when something did:
    importing the same file twice changes nothing the second time. ``current`` is the stored record when the
    caller has it. ``references_checked`` says the caller has already checked, for many records at once, what this
    would check for one: parent datasets published and not the listing itself, the external id not another
    listing's.
    """
    session = uow.session
    if not references_checked:
        _check_references(uow, dataset, record)
    if current is None:
        current = dataset_record(session, dataset) if dataset.id is not None else {}
    changes = record_changes(record, names, current)
    if not changes:
        return False
    if changes.terms:
        assert dataset.id is not None, "flush a new dataset before applying a record to it"
        search_index.touch(session, [dataset.id])  # the terms are written below the ORM
        write_terms(session.connection(), [(dataset.id, changes.terms, current)])
    for key, value in changes.columns.items():
        setattr(dataset, key, value)
    dataset.updated_at = uow.now()
    session.add(dataset)
    return True


def write_terms(connection: sa.Connection, changed: Sequence[tuple[int, dict[str, list[str]], dict[str, Any]]]) -> None:
    """Replace the list-valued fields of listings: for each ``(dataset id, new lists by field, stored record)``, the
    rows of each changed field are deleted (when the stored record has any) and the new list written in order: one
    statement for the deletions and one for the new rows, whatever the number of listings (PostgreSQL; batches of
    one statement per row on SQLite)."""
    table = DatasetTerm.__table__  # type: ignore[attr-defined]
    stale = [
        {"dataset_id": dataset_id, "scheme": TERM_FIELDS[name]}
        for dataset_id, terms, current in changed
        for name in terms
        if current.get(name)
    ]
    delete_rows(connection, table, stale)
    rows = [
        {"dataset_id": dataset_id, "scheme": TERM_FIELDS[name], "value": item, "position": position}
        for dataset_id, terms, _ in changed
        for name, value in terms.items()
        for position, item in enumerate(value)
    ]
    write_rows(connection, table, rows)


def _require_editable(dataset: Dataset) -> None:
    if dataset.status is DatasetStatus.IN_REVIEW:
        raise Conflict(
            message="The listing is in review: retract the submission to change it.",
            code=CatalogErrorCode.DATASET_IN_REVIEW,
        )
    if dataset.status is DatasetStatus.WITHDRAWN:
        raise Conflict(
            message="The listing is withdrawn and can no longer change.", code=CatalogErrorCode.DATASET_WITHDRAWN
        )
