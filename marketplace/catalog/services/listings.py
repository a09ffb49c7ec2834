"""Listing commands: create a draft, save a section, and the review workflow (submit, retract, approve, reject,
deprecate, withdraw); and the JSON API's whole-record commands."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from marketplace.accounts.models import Organisation, User
from marketplace.catalog import vocab
from marketplace.catalog.models import (
    Dataset,
)
from marketplace.catalog.schemas import SECTION_FIELDS, SERVICE_SECTION
from marketplace.catalog.services.reading import completeness, versions_of
from marketplace.catalog.services.records import (
    _require_edit,
    _require_editable,
    apply_record,
    choose_slug,
    provider_organisation,
    record_event,
)
from marketplace.catalog.services.versions import _publish
from marketplace.catalog.vocab import DatasetStatus
from marketplace.db import UnitOfWork
from marketplace.errors import Conflict, NotFound, ValidationFailed
from marketplace.events import emit
from marketplace.permissions import Action, can, require

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
    _announce(uow, "listing.submitted", dataset)
    return dataset


def _announce(uow: UnitOfWork, event_type: str, dataset: Dataset, **extra: str) -> None:
    """Emit a review event of ``dataset`` to its provider organisation, in the unit of work."""
    org = uow.session.get(Organisation, dataset.organisation_id)
    data = {"dataset": dataset.slug, "title": dataset.title, "organisation": org.slug if org else None, **extra}
    emit(uow, event_type, data, audience=[dataset.organisation_id])


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
    _announce(uow, "listing.approved", dataset)
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
    _announce(uow, "listing.rejected", dataset, reason=reason)
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
