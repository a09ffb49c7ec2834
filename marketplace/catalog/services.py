"""Catalog services: every rule about listings, versions, samples and the review workflow lives here.

Each command takes the request's :class:`UnitOfWork`, checks permission (members of the owning provider
organisation edit; platform admins review), validates, stages its changes and records an event. None commits.

Lifecycle of a listing: ``draft → in_review → published → deprecated | withdrawn`` (``published → withdrawn``
too). A rejected or retracted submission goes back to ``draft``. A version is a draft until published, and a
published version is immutable: its label, changelog and manifest never change again.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from marketplace.accounts.models import Membership, Organisation, OrgKind, User
from marketplace.catalog import vocab
from marketplace.catalog.manifest import compute_manifest_digest
from marketplace.catalog.models import (
    Dataset,
    DatasetEvent,
    DatasetFile,
    DatasetTerm,
    DatasetVersion,
    SampleFile,
    TermScheme,
)
from marketplace.catalog.schemas import SECTION_FIELDS, SERVICE_SECTION
from marketplace.catalog.vocab import DatasetStatus, VersionStatus
from marketplace.db import UnitOfWork
from marketplace.errors import Conflict, FieldProblem, NotFound, PermissionDenied, ValidationFailed
from marketplace.permissions import Action, can, require

__all__ = [
    "Dataset",
    "DatasetFile",
    "DatasetVersion",
    "Organisation",
    "SampleFile",
    "add_sample",
    "add_version",
    "apply_record",
    "approve",
    "completeness",
    "compute_manifest_digest",
    "create_dataset",
    "dataset_page",
    "dataset_record",
    "datasets_of_user",
    "delete_sample",
    "delete_version",
    "deprecate",
    "get_any_version",
    "get_dataset",
    "get_published_dataset",
    "get_sample",
    "get_version",
    "manage_page",
    "organisation_of",
    "public_datasets_of",
    "publish_version",
    "reject",
    "retract_submission",
    "review_queue",
    "samples_of",
    "search_hits",
    "submit_for_review",
    "terms_of",
    "update_section",
    "update_version",
    "version_files",
    "versions_of",
    "withdraw",
]

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
_SCHEME_FIELD = {scheme: name for name, scheme in TERM_FIELDS.items()}

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

# --- reading -------------------------------------------------------------------------------------------------


def get_dataset(session: Session, slug: str) -> Dataset:
    """The dataset with ``slug`` whatever its status (callers check who may see it)."""
    dataset = session.exec(select(Dataset).where(Dataset.slug == slug)).first()
    if dataset is None:
        raise NotFound(message=f"No dataset called {slug!r}.")
    return dataset


def get_published_dataset(session: Session, slug: str) -> Dataset:
    """A publicly listed dataset: approved and not withdrawn (``published`` or ``deprecated``).

    Deprecated datasets stay readable (buyers of older licenses rely on them); check ``dataset.status`` before
    offering something new on one. Anything else raises :class:`NotFound`, so drafts stay private.
    """
    dataset = session.exec(
        select(Dataset).where(Dataset.slug == slug, col(Dataset.status).in_(vocab.PUBLIC_STATUSES))
    ).first()
    if dataset is None:
        raise NotFound(message=f"No published dataset called {slug!r}.")
    return dataset


def versions_of(session: Session, dataset: Dataset, *, include_drafts: bool = False) -> list[DatasetVersion]:
    """The dataset's versions, newest (by Semantic Versioning precedence) first."""
    statement = select(DatasetVersion).where(DatasetVersion.dataset_id == dataset.id)
    if not include_drafts:
        statement = statement.where(DatasetVersion.status == VersionStatus.PUBLISHED)
    versions = list(session.exec(statement).all())
    versions.sort(key=lambda v: vocab.semver_key(v.version), reverse=True)
    return versions


def get_version(session: Session, dataset: Dataset, version_label: str | None = None) -> DatasetVersion:
    """A published version of ``dataset``: the one labelled ``version_label``, or the latest when None."""
    if version_label is None:
        published = versions_of(session, dataset)
        if not published:
            raise NotFound(message=f"{dataset.title} has no published version yet.")
        return published[0]
    version = session.exec(
        select(DatasetVersion).where(
            DatasetVersion.dataset_id == dataset.id,
            DatasetVersion.version == version_label,
            DatasetVersion.status == VersionStatus.PUBLISHED,
        )
    ).first()
    if version is None:
        raise NotFound(message=f"{dataset.title} has no published version {version_label!r}.")
    return version


def get_any_version(session: Session, dataset: Dataset, version_label: str) -> DatasetVersion:
    """A version of ``dataset`` whatever its status (for the provider's own pages)."""
    version = session.exec(
        select(DatasetVersion).where(DatasetVersion.dataset_id == dataset.id, DatasetVersion.version == version_label)
    ).first()
    if version is None:
        raise NotFound(message=f"{dataset.title} has no version {version_label!r}.")
    return version


def version_files(session: Session, version: DatasetVersion) -> list[DatasetFile]:
    """The files of ``version``'s manifest, by path."""
    return list(
        session.exec(select(DatasetFile).where(DatasetFile.version_id == version.id).order_by(col(DatasetFile.path)))
    )


def terms_of(session: Session, dataset_ids: Sequence[int]) -> dict[int, dict[str, list[str]]]:
    """For each dataset id, its list-valued fields (``{"tasks": [...], "languages": [...], ...}``) in entry order."""
    out: dict[int, dict[str, list[str]]] = {i: {name: [] for name in TERM_FIELDS} for i in dataset_ids}
    ids = list(dataset_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = session.exec(
            select(DatasetTerm)
            .where(col(DatasetTerm.dataset_id).in_(chunk))
            .order_by(col(DatasetTerm.dataset_id), col(DatasetTerm.scheme), col(DatasetTerm.position))
        ).all()
        for term in rows:
            out[term.dataset_id][_SCHEME_FIELD[term.scheme]].append(term.value)
    return out


def dataset_record(session: Session, dataset: Dataset, terms: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """The listing as a record (the shape :class:`~marketplace.catalog.schemas.DatasetRecordSchema` loads)."""
    assert dataset.id is not None
    record: dict[str, Any] = {"slug": dataset.slug}
    for name in COLUMN_FIELDS:
        value = getattr(dataset, name)
        if isinstance(value, vocab.Vocabulary):
            value = value.value
        record[name] = value
    record["ai_act"] = dataset.ai_act_record()
    record.update(terms if terms is not None else terms_of(session, [dataset.id])[dataset.id])
    return record


def samples_of(session: Session, dataset: Dataset) -> list[SampleFile]:
    return list(
        session.exec(select(SampleFile).where(SampleFile.dataset_id == dataset.id).order_by(col(SampleFile.id)))
    )


def get_sample(session: Session, dataset: Dataset, sample_id: int) -> SampleFile:
    sample = session.get(SampleFile, sample_id)
    if sample is None or sample.dataset_id != dataset.id:
        raise NotFound(message="No such sample file.")
    return sample


def events_of(session: Session, dataset: Dataset) -> list[tuple[DatasetEvent, User | None]]:
    rows = session.exec(
        select(DatasetEvent, User)
        .join(User, col(User.id) == DatasetEvent.actor_id, isouter=True)
        .where(DatasetEvent.dataset_id == dataset.id)
        .order_by(col(DatasetEvent.at).desc(), col(DatasetEvent.id).desc())
    ).all()
    return [(event, user) for event, user in rows]


def organisation_of(session: Session, dataset: Dataset) -> Organisation:
    org = session.get(Organisation, dataset.organisation_id)
    assert org is not None
    return org


def public_datasets_of(session: Session, org: Organisation) -> list[Dataset]:
    """A provider's public catalog, newest first."""
    return list(
        session.exec(
            select(Dataset)
            .where(Dataset.organisation_id == org.id, col(Dataset.status).in_(vocab.PUBLIC_STATUSES))
            .order_by(col(Dataset.published_at).desc(), col(Dataset.id).desc())
        )
    )


def provider_organisations(session: Session, user: User) -> list[Organisation]:
    """The provider organisations ``user`` may publish for, by name."""
    return list(
        session.exec(
            select(Organisation)
            .join(Membership, col(Membership.organisation_id) == Organisation.id)
            .where(Membership.user_id == user.id, Organisation.kind == OrgKind.PROVIDER)
            .order_by(col(Organisation.name))
        )
    )


def datasets_of_user(session: Session, user: User) -> list[tuple[Dataset, Organisation]]:
    """Every dataset of every organisation ``user`` belongs to, most recently changed first."""
    rows = session.exec(
        select(Dataset, Organisation)
        .join(Organisation, col(Organisation.id) == Dataset.organisation_id)
        .join(Membership, col(Membership.organisation_id) == Organisation.id)
        .where(Membership.user_id == user.id)
        .order_by(col(Dataset.updated_at).desc(), col(Dataset.id).desc())
    ).all()
    return [(dataset, org) for dataset, org in rows]


def review_queue(session: Session, user: User | None) -> list[tuple[Dataset, Organisation]]:
    """Listings waiting for review, oldest submission first (platform admins only)."""
    require(session, user, Action.DATASET_REVIEW)
    rows = session.exec(
        select(Dataset, Organisation)
        .join(Organisation, col(Organisation.id) == Dataset.organisation_id)
        .where(Dataset.status == DatasetStatus.IN_REVIEW)
        .order_by(col(Dataset.submitted_at), col(Dataset.id))
    ).all()
    return [(dataset, org) for dataset, org in rows]


def completeness(session: Session, dataset: Dataset) -> list[FieldProblem]:
    """What still has to be filled in before the listing can be submitted; empty when it is complete."""
    assert dataset.id is not None
    terms = terms_of(session, [dataset.id])[dataset.id]
    missing: list[FieldProblem] = []

    def need(condition: object, field: str, message: str) -> None:
        if not condition:
            missing.append(FieldProblem(field, message))

    need(dataset.summary.strip(), "summary", "add a one-line summary")
    need(dataset.description.strip(), "description", "add a description")
    if dataset.is_custom:
        # A collection service has no files yet: what a buyer needs is what it can collect, how fast, at what cost.
        return missing + _service_completeness(dataset, terms)
    need(dataset.modality, "modality", "choose the modality")
    need(terms["tasks"], "tasks", "name at least one task the data is for")
    need(terms["industries"], "industries", "name at least one industry (or general)")
    if dataset.modality in (vocab.Modality.TEXT, vocab.Modality.AUDIO, vocab.Modality.MULTIMODAL):
        need(terms["languages"], "languages", "list the languages (BCP 47 tags)")
    need(dataset.collection_start, "collection_start", "give the start of the collection period")
    need(dataset.record_count is not None, "record_count", "give the number of records")
    need(terms["formats"], "formats", "list the file formats (media types)")
    need(terms["collection_methods"], "collection_methods", "say how the data was collected")
    need(terms["annotation_methods"], "annotation_methods", "say how it was annotated (or none)")
    need(dataset.synthetic_share_pct is not None, "synthetic_share_pct", "give the synthetic share (0–100 %)")
    need(dataset.personal_data is not vocab.PersonalData.UNKNOWN, "personal_data", "say whether it has personal data")
    if dataset.personal_data is vocab.PersonalData.YES:
        need(terms["deidentification"], "deidentification", "say how personal data was de-identified (or none)")
        need(dataset.lawful_basis, "lawful_basis", "give the lawful basis for processing personal data")
    need(dataset.sources, "sources", "list at least one source with its license")
    ai_act = dataset.ai_act or {}
    for key, label in (
        ("design_choices", "design choices"),
        ("collection_processes", "collection processes"),
        ("data_origin", "origin of the data"),
        ("bias_examination", "bias examination"),
        ("known_gaps", "known gaps and shortcomings"),
    ):
        need(str(ai_act.get(key) or "").strip(), f"ai_act.{key}", f"describe the {label}")
    need(dataset.storage_region, "storage_region", "choose the storage region")
    need(dataset.update_frequency, "update_frequency", "choose the update frequency")
    versions = versions_of(session, dataset, include_drafts=True)
    need(any(v.file_count > 0 for v in versions), "versions", "add a version with its file manifest")
    return missing


def _service_completeness(dataset: Dataset, terms: dict[str, list[str]]) -> list[FieldProblem]:
    """What a custom-collection service must say before review: its modalities, tasks, industries, lead time
    and price range."""
    checks = (
        (terms["service_modalities"], "service_modalities", "name at least one modality you collect"),
        (terms["tasks"], "tasks", "name at least one task you collect data for"),
        (terms["industries"], "industries", "name at least one industry (or general)"),
        (dataset.lead_time_days, "lead_time_days", "give the typical lead time in days"),
        (dataset.service_price_min is not None, "service_price_min", "give the lowest price of a typical project"),
        (dataset.service_price_max is not None, "service_price_max", "give the highest price of a typical project"),
        (dataset.service_price_currency, "service_price_currency", "name the currency of the price range"),
    )
    return [FieldProblem(field, message) for condition, field, message in checks if not condition]


# --- helpers -------------------------------------------------------------------------------------------------


def record_event(uow: UnitOfWork, dataset: Dataset, actor: User | None, action: str, note: str = "") -> None:
    assert dataset.id is not None
    # A plain INSERT: the log is append-only and nothing reads its rows back in the same unit of work.
    row = {"dataset_id": dataset.id, "at": uow.now(), "actor_id": actor.id if actor else None, "action": action}
    uow.session.connection().execute(sa.insert(DatasetEvent.__table__), {**row, "note": note})  # type: ignore[attr-defined]


def _require_edit(uow: UnitOfWork, user: User | None, dataset: Dataset) -> User:
    return require(uow.session, user, Action.DATASET_EDIT, dataset)


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:80].strip("-")


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
    base = slugify(title) or "dataset"
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
        raise ValidationFailed(message="; ".join(f"{p.field}: {p.message}" for p in problems), details=problems)


def apply_record(
    uow: UnitOfWork,
    dataset: Dataset,
    record: dict[str, Any],
    names: Iterable[str],
    *,
    current: dict[str, Any] | None = None,
) -> bool:
    """Store the ``names`` fields of a validated ``record`` on ``dataset``; return whether anything changed.

    Only fields that differ are written, and ``updated_at`` moves only when something did: importing the same
    file twice changes nothing the second time. ``current`` is the stored record when the caller has it.
    """
    session = uow.session
    # dict.fromkeys: a field may sit in two sections (the service section repeats tasks, languages…).
    names = [n for n in dict.fromkeys(names) if n not in ("slug", "versions")]
    _check_references(uow, dataset, record)
    if current is None:
        current = dataset_record(session, dataset) if dataset.id is not None else {}
    changed = False
    for name in names:
        value = record.get(name)
        if name in TERM_FIELDS:
            value = list(value or [])
            if current.get(name, []) == value:
                continue
            changed = True
            assert dataset.id is not None, "flush a new dataset before applying a record to it"
            if current.get(name):
                session.execute(
                    sa.delete(DatasetTerm).where(
                        col(DatasetTerm.dataset_id) == dataset.id, col(DatasetTerm.scheme) == TERM_FIELDS[name]
                    )
                )
            if value:
                session.connection().execute(
                    sa.insert(DatasetTerm.__table__),  # type: ignore[attr-defined]
                    [
                        {"dataset_id": dataset.id, "scheme": TERM_FIELDS[name], "value": item, "position": position}
                        for position, item in enumerate(value)
                    ],
                )
            if name == "tags":
                dataset.tags_text = " ".join(value)
        else:
            if name in ("sources", "parent_datasets"):
                value = _normalised(name, value)
            if _normalised(name, current.get(name)) == _normalised(name, value):
                continue
            changed = True
            if name == "ai_act":
                dataset.set_ai_act_record(value)
            else:
                setattr(dataset, name, _column_value(name, value))
    if changed:
        dataset.updated_at = uow.now()
        session.add(dataset)
    return changed


# --- listing commands ------------------------------------------------------------------------------------------


def create_dataset(
    uow: UnitOfWork,
    user: User | None,
    *,
    organisation: str,
    title: str,
    slug: str | None = None,
    modality: str | None = None,
) -> Dataset:
    """Start a draft listing for a provider organisation the user belongs to."""
    org = provider_organisation(uow, user, organisation)
    return new_dataset(uow, user, org, title=title, slug=slug, modality=modality)


def new_dataset(
    uow: UnitOfWork,
    user: User | None,
    org: Organisation,
    *,
    title: str,
    slug: str | None = None,
    modality: str | None = None,
) -> Dataset:
    """Create the draft row; the caller has checked with :func:`provider_organisation` that ``user`` may."""
    title = title.strip()
    if len(title) < 3:
        raise ValidationFailed.for_field("title", "give a title of at least 3 characters")
    now = uow.now()
    dataset = Dataset(
        slug=choose_slug(uow.session, slug, title),
        organisation_id=org.id,  # type: ignore[arg-type]
        title=title,
        modality=vocab.Modality(modality) if modality else None,
        created_by_id=user.id if user else None,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(dataset)
    uow.session.flush()
    record_event(uow, dataset, user, "created")
    return dataset


def update_section(uow: UnitOfWork, user: User | None, dataset: Dataset, section: str, record: dict[str, Any]) -> bool:
    """Save one section of the listing form (``record`` validated with that section's fields)."""
    _require_edit(uow, user, dataset)
    if section not in SECTION_FIELDS:
        raise NotFound(message=f"No section {section!r}.")
    _require_editable(dataset)
    if section == SERVICE_SECTION and not dataset.is_custom:
        raise ValidationFailed.for_field(
            "offering_type", "the custom collection service section is for listings of offering type custom"
        )
    changed = apply_record(uow, dataset, record, SECTION_FIELDS[section])
    if changed:
        record_event(uow, dataset, user, "updated", section)
    return changed


def _require_editable(dataset: Dataset) -> None:
    if dataset.status is DatasetStatus.IN_REVIEW:
        raise Conflict(
            message="The listing is in review: retract the submission to change it.", code="dataset_in_review"
        )
    if dataset.status is DatasetStatus.WITHDRAWN:
        raise Conflict(message="The listing is withdrawn and can no longer change.", code="dataset_withdrawn")


def submit_for_review(uow: UnitOfWork, user: User | None, dataset: Dataset) -> Dataset:
    """Send a complete draft to the platform admins; every missing item is named when it is not complete."""
    _require_edit(uow, user, dataset)
    if dataset.status is not DatasetStatus.DRAFT:
        raise Conflict(message=f"Only a draft can be submitted; this listing is {dataset.status.label.lower()}.")
    missing = completeness(uow.session, dataset)
    if missing:
        raise ValidationFailed(
            message="The listing is not complete yet: " + "; ".join(f"{p.field}: {p.message}" for p in missing),
            details=missing,
        )
    dataset.status = DatasetStatus.IN_REVIEW
    dataset.submitted_at = uow.now()
    dataset.status_note = ""
    uow.session.add(dataset)
    record_event(uow, dataset, user, "submitted")
    return dataset


def retract_submission(uow: UnitOfWork, user: User | None, dataset: Dataset) -> Dataset:
    """Take a listing back out of review to change it."""
    _require_edit(uow, user, dataset)
    if dataset.status is not DatasetStatus.IN_REVIEW:
        raise Conflict(message="The listing is not in review.")
    dataset.status = DatasetStatus.DRAFT
    uow.session.add(dataset)
    record_event(uow, dataset, user, "retracted")
    return dataset


def approve(uow: UnitOfWork, admin: User | None, dataset: Dataset) -> Dataset:
    """Publish a listing in review, with every draft version that has a manifest (oldest label first)."""
    require(uow.session, admin, Action.DATASET_REVIEW, dataset)
    if dataset.status is not DatasetStatus.IN_REVIEW:
        raise Conflict(message="Only a listing in review can be approved.")
    now = uow.now()
    dataset.status = DatasetStatus.PUBLISHED
    dataset.published_at = dataset.published_at or now
    dataset.status_note = ""
    uow.session.add(dataset)
    drafts = [v for v in versions_of(uow.session, dataset, include_drafts=True) if not v.is_published]
    for version in sorted(drafts, key=lambda v: vocab.semver_key(v.version)):
        if version.file_count > 0:
            _publish(uow, admin, dataset, version)
    record_event(uow, dataset, admin, "approved")
    return dataset


def reject(uow: UnitOfWork, admin: User | None, dataset: Dataset, reason: str) -> Dataset:
    """Send a listing back to its provider as a draft, with the reason shown to them."""
    require(uow.session, admin, Action.DATASET_REVIEW, dataset)
    if dataset.status is not DatasetStatus.IN_REVIEW:
        raise Conflict(message="Only a listing in review can be rejected.")
    reason = reason.strip()
    if len(reason) < 3:
        raise ValidationFailed.for_field("reason", "say why the listing is rejected")
    dataset.status = DatasetStatus.DRAFT
    dataset.status_note = reason
    uow.session.add(dataset)
    record_event(uow, dataset, admin, "rejected", reason)
    return dataset


def _may_retire(uow: UnitOfWork, user: User | None, dataset: Dataset) -> None:
    """The provider retires its own listings; a platform admin may too (takedowns)."""
    if not can(uow.session, user, Action.DATASET_REVIEW, dataset):
        require(uow.session, user, Action.DATASET_EDIT, dataset)


def deprecate(uow: UnitOfWork, user: User | None, dataset: Dataset, reason: str = "") -> Dataset:
    """Mark a published listing as deprecated: still readable, flagged as superseded or unmaintained."""
    _may_retire(uow, user, dataset)
    if dataset.status is not DatasetStatus.PUBLISHED:
        raise Conflict(message="Only a published listing can be deprecated.")
    dataset.status = DatasetStatus.DEPRECATED
    dataset.deprecated_at = uow.now()
    dataset.status_note = reason.strip()
    uow.session.add(dataset)
    record_event(uow, dataset, user, "deprecated", reason.strip())
    return dataset


def withdraw(uow: UnitOfWork, user: User | None, dataset: Dataset, reason: str) -> Dataset:
    """Take a published or deprecated listing off the catalog for good (the reason is required and kept)."""
    _may_retire(uow, user, dataset)
    if dataset.status not in vocab.PUBLIC_STATUSES:
        raise Conflict(message="Only a published or deprecated listing can be withdrawn.")
    reason = reason.strip()
    if len(reason) < 3:
        raise ValidationFailed.for_field("reason", "say why the listing is withdrawn")
    dataset.status = DatasetStatus.WITHDRAWN
    dataset.withdrawn_at = uow.now()
    dataset.status_note = reason
    uow.session.add(dataset)
    record_event(uow, dataset, user, "withdrawn", reason)
    return dataset


# --- versions --------------------------------------------------------------------------------------------------


def _latest_published_label(session: Session, dataset: Dataset) -> str | None:
    published = versions_of(session, dataset)
    return published[0].version if published else None


def _check_label_order(session: Session, dataset: Dataset, label: str) -> None:
    latest = _latest_published_label(session, dataset)
    if latest is not None and vocab.semver_key(label) <= vocab.semver_key(latest):
        raise ValidationFailed.for_field("version", f"must be greater than the latest published version {latest}")


def add_version(
    uow: UnitOfWork,
    user: User | None,
    dataset: Dataset,
    *,
    version: str,
    changelog: str = "",
    files: list[dict[str, Any]] | None = None,
) -> DatasetVersion:
    """Add a draft version, optionally with its manifest (until uploads exist, entered as metadata)."""
    _require_edit(uow, user, dataset)
    _require_editable(dataset)
    session = uow.session
    label = vocab.semantic_version(version)
    if session.exec(
        select(DatasetVersion.id).where(DatasetVersion.dataset_id == dataset.id, DatasetVersion.version == label)
    ).first():
        raise ValidationFailed.for_field("version", f"{dataset.title} already has a version {label}")
    _check_label_order(session, dataset, label)
    row = DatasetVersion(dataset_id=dataset.id, version=label, changelog=changelog.strip(), created_at=uow.now())  # type: ignore[arg-type]
    session.add(row)
    session.flush()
    if files:
        _replace_files(uow, row, files)
    record_event(uow, dataset, user, "version_added", label)
    return row


def _require_draft(version: DatasetVersion) -> None:
    if version.is_published:
        raise Conflict(
            message=f"Version {version.version} is published and can no longer change; add a new version instead.",
            code="version_immutable",
        )


def _replace_files(uow: UnitOfWork, version: DatasetVersion, files: list[dict[str, Any]]) -> None:
    session = uow.session
    session.execute(sa.delete(DatasetFile).where(col(DatasetFile.version_id) == version.id))
    session.flush()
    if files:
        rows = [
            {
                "version_id": version.id,
                "path": f["path"],
                "size_bytes": int(f["size_bytes"]),
                "sha256": f["sha256"],
                "media_type": f["media_type"],
                "storage_key": None,
            }
            for f in files
        ]
        session.execute(sa.insert(DatasetFile), rows)
    version.file_count = len(files)
    version.total_bytes = sum(int(f["size_bytes"]) for f in files)
    version.manifest_digest = compute_manifest_digest(files) if files else None
    session.add(version)


def manifest_matches(version: DatasetVersion, files: list[dict[str, Any]]) -> bool:
    """Whether ``files`` is exactly the manifest ``version`` has (compared by digest)."""
    return version.manifest_digest == (compute_manifest_digest(files) if files else None)


def update_version(
    uow: UnitOfWork,
    user: User | None,
    dataset: Dataset,
    version: DatasetVersion,
    *,
    changelog: str | None = None,
    files: list[dict[str, Any]] | None = None,
) -> bool:
    """Change a draft version's changelog and/or manifest; a published version is refused. Returns changed."""
    _require_edit(uow, user, dataset)
    _require_editable(dataset)
    changed = False
    if changelog is not None and changelog.strip() != version.changelog:
        _require_draft(version)
        version.changelog = changelog.strip()
        uow.session.add(version)
        changed = True
    if files is not None and not manifest_matches(version, files):
        _require_draft(version)
        _replace_files(uow, version, files)
        changed = True
    if changed:
        record_event(uow, dataset, user, "version_updated", version.version)
    return changed


def _publish(uow: UnitOfWork, actor: User | None, dataset: Dataset, version: DatasetVersion) -> None:
    _check_label_order(uow.session, dataset, version.version)
    files = version_files(uow.session, version)
    version.manifest_digest = compute_manifest_digest(files)
    version.status = VersionStatus.PUBLISHED
    version.published_at = uow.now()
    version.published_by_id = actor.id if actor else None
    uow.session.add(version)
    uow.session.flush()
    record_event(uow, dataset, actor, "version_published", version.version)


def publish_version(uow: UnitOfWork, user: User | None, dataset: Dataset, version: DatasetVersion) -> DatasetVersion:
    """Freeze a draft version of a published listing; it must list files and be newer than every published one."""
    _require_edit(uow, user, dataset)
    _require_draft(version)
    if dataset.status is not DatasetStatus.PUBLISHED:
        raise Conflict(
            message="Versions of a listing are published when the listing is approved; "
            "after that, new versions of a published listing can be published here."
        )
    if version.file_count == 0:
        raise ValidationFailed.for_field("manifest", "a version needs at least one file before it is published")
    _publish(uow, user, dataset, version)
    return version


def delete_version(uow: UnitOfWork, user: User | None, dataset: Dataset, version: DatasetVersion) -> None:
    """Delete a draft version (a published one is refused)."""
    _require_edit(uow, user, dataset)
    _require_draft(version)
    uow.session.delete(version)
    record_event(uow, dataset, user, "version_deleted", version.version)


# --- samples -----------------------------------------------------------------------------------------------------

#: Media types a sample may have: the page can show each of them safely (no HTML, SVG or script).
SAMPLE_MEDIA_TYPES = {
    "text/plain": "text",
    "text/csv": "text",
    "text/tab-separated-values": "text",
    "text/markdown": "text",
    "application/json": "text",
    "application/jsonl": "text",
    "application/x-ndjson": "text",
    "image/png": "image",
    "image/jpeg": "image",
    "image/webp": "image",
    "image/gif": "image",
    "audio/wav": "audio",
    "audio/x-wav": "audio",
    "audio/mpeg": "audio",
    "audio/ogg": "audio",
    "audio/flac": "audio",
    "video/mp4": "video",
    "video/webm": "video",
}
_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "audio/flac": (b"fLaC",),
    "audio/ogg": (b"OggS",),
}
SAMPLES_PER_DATASET = 10
_FILENAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._ -]{0,199}$")


def _content_matches(media_type: str, content: bytes) -> bool:
    """A cheap check that the bytes are what the media type says, so a preview cannot smuggle another format."""
    if media_type in _SIGNATURES:
        return content.startswith(_SIGNATURES[media_type])
    if media_type in ("audio/wav", "audio/x-wav"):
        return content[:4] == b"RIFF" and content[8:12] == b"WAVE"
    if media_type == "image/webp":
        return content[:4] == b"RIFF" and content[8:12] == b"WEBP"
    if media_type == "audio/mpeg":
        return content.startswith(b"ID3") or content[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2")
    if media_type == "video/mp4":
        return content[4:8] == b"ftyp"
    if media_type == "video/webm":
        return content.startswith(b"\x1a\x45\xdf\xa3")
    if SAMPLE_MEDIA_TYPES.get(media_type) == "text":
        try:
            content.decode("utf-8")
        except UnicodeDecodeError:
            return False
        return b"\x00" not in content
    return False


def add_sample(
    uow: UnitOfWork,
    user: User | None,
    dataset: Dataset,
    *,
    filename: str,
    content: bytes,
    media_type: str,
    description: str = "",
) -> SampleFile:
    """Attach a small public preview file (text, image, audio or video, checked against its media type)."""
    _require_edit(uow, user, dataset)
    _require_editable(dataset)
    session = uow.session
    name = filename.strip().rsplit("/", 1)[-1]
    if not _FILENAME_RE.match(name):
        raise ValidationFailed.for_field("file", "use a file name of letters, digits, spaces, . _ and -")
    try:
        kind = vocab.media_type(media_type)
    except ValueError as exc:
        raise ValidationFailed.for_field("file", str(exc)) from exc
    if kind not in SAMPLE_MEDIA_TYPES:
        raise ValidationFailed.for_field(
            "file",
            f"{kind} cannot be previewed; use text, CSV, JSON, PNG, JPEG, WebP, GIF, WAV, MP3, OGG, FLAC, MP4 or WebM",
        )
    limit = int(uow.settings["CATALOG_SAMPLE_MAX_BYTES"])
    if not content:
        raise ValidationFailed.for_field("file", "the file is empty")
    if len(content) > limit:
        raise ValidationFailed.for_field("file", f"a sample may have at most {limit:,} bytes")
    if not _content_matches(kind, content):
        raise ValidationFailed.for_field("file", f"the file's content is not {kind}")
    existing = samples_of(session, dataset)
    if len(existing) >= SAMPLES_PER_DATASET:
        raise ValidationFailed.for_field("file", f"a listing has at most {SAMPLES_PER_DATASET} samples")
    if any(s.filename == name for s in existing):
        raise ValidationFailed.for_field("file", f"there is already a sample called {name}")
    sample = SampleFile(
        dataset_id=dataset.id,  # type: ignore[arg-type]
        filename=name,
        media_type=kind,
        size_bytes=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        description=description.strip(),
        content=content,
        created_at=uow.now(),
    )
    session.add(sample)
    session.flush()
    record_event(uow, dataset, user, "sample_added", name)
    return sample


def delete_sample(uow: UnitOfWork, user: User | None, dataset: Dataset, sample_id: int) -> None:
    _require_edit(uow, user, dataset)
    _require_editable(dataset)
    sample = get_sample(uow.session, dataset, sample_id)
    uow.session.delete(sample)
    record_event(uow, dataset, user, "sample_deleted", sample.filename)


def sample_kind(sample: SampleFile) -> str:
    return SAMPLE_MEDIA_TYPES.get(sample.media_type, "text")


# --- page data ---------------------------------------------------------------------------------------------------

MANIFEST_PREVIEW_FILES = 50
SAMPLE_TEXT_PREVIEW_BYTES = 4096


def search_hits(session: Session, dataset_ids: Sequence[int]) -> list[dict[str, Any]]:
    """What a result card shows for each id, in the given order: dataset, provider, list fields, latest version."""
    if not dataset_ids:
        return []
    ids = list(dataset_ids)
    rows = session.exec(
        select(Dataset, Organisation)
        .join(Organisation, col(Organisation.id) == Dataset.organisation_id)
        .where(col(Dataset.id).in_(ids))
    ).all()
    by_id = {dataset.id: (dataset, org) for dataset, org in rows}
    terms = terms_of(session, ids)
    latest: dict[int, str] = {}
    for version in session.exec(
        select(DatasetVersion).where(
            col(DatasetVersion.dataset_id).in_(ids), DatasetVersion.status == VersionStatus.PUBLISHED
        )
    ):
        known = latest.get(version.dataset_id)
        if known is None or vocab.semver_key(version.version) > vocab.semver_key(known):
            latest[version.dataset_id] = version.version
    return [
        {"dataset": by_id[i][0], "org": by_id[i][1], "terms": terms[i], "latest_version": latest.get(i)}
        for i in ids
        if i in by_id
    ]


def dataset_page(session: Session, dataset: Dataset) -> dict[str, Any]:
    """Everything the public dataset page shows: the data card, published versions with manifests, samples."""
    org = organisation_of(session, dataset)
    record = dataset_record(session, dataset)
    versions = versions_of(session, dataset)
    manifests = {}
    for version in versions:
        files = session.exec(
            select(DatasetFile)
            .where(DatasetFile.version_id == version.id)
            .order_by(col(DatasetFile.path))
            .limit(MANIFEST_PREVIEW_FILES)
        ).all()
        manifests[version.id] = list(files)
    samples = samples_of(session, dataset)
    kinds = {s.id: sample_kind(s) for s in samples}
    texts = {
        s.id: s.content[:SAMPLE_TEXT_PREVIEW_BYTES].decode("utf-8", errors="replace")
        for s in samples
        if kinds[s.id] == "text"
    }
    return {
        "dataset": dataset,
        "org": org,
        "record": record,
        "versions": versions,
        "manifests": manifests,
        "samples": samples,
        "sample_kinds": kinds,
        "sample_texts": texts,
        "preview_limit": MANIFEST_PREVIEW_FILES,
    }


def manage_page(session: Session, dataset: Dataset) -> dict[str, Any]:
    """The provider's dashboard: status, what is missing, every version (drafts too), samples and history."""
    return {
        "dataset": dataset,
        "org": organisation_of(session, dataset),
        "versions": versions_of(session, dataset, include_drafts=True),
        "samples": samples_of(session, dataset),
        "events": events_of(session, dataset),
        "missing": completeness(session, dataset) if dataset.status is DatasetStatus.DRAFT else [],
    }


# --- for the JSON API ----------------------------------------------------------------------------------------------


def create_listing(uow: UnitOfWork, user: User | None, *, organisation: str, record: dict[str, Any]) -> Dataset:
    """Create a draft listing from a whole validated record (the JSON API's ``POST /provider/datasets``); its
    versions, if any, are not part of it (they are added one by one)."""
    org = provider_organisation(uow, user, organisation)
    dataset = new_dataset(uow, user, org, title=record["title"], slug=record.get("slug") or None)
    names = [name for names in SECTION_FIELDS.values() for name in names]
    apply_record(uow, dataset, record, names, current={})
    return dataset


def datasets_of_organisation(
    uow: UnitOfWork, user: User | None, organisation: str, *, before_id: int | None = None, limit: int = 20
) -> list[Dataset]:
    """Every listing of a provider organisation, drafts included, for its members: newest (highest id) first, one
    page of ``limit`` older than ``before_id``."""
    org = provider_organisation(uow, user, organisation)
    statement = select(Dataset).where(Dataset.organisation_id == org.id)
    if before_id is not None:
        statement = statement.where(col(Dataset.id) < before_id)
    return list(uow.session.exec(statement.order_by(col(Dataset.id).desc()).limit(max(1, min(limit, 101)))).all())
