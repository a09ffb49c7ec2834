"""Reading listings: datasets, versions, files, samples and events, who may see or publish what, completeness."""

from __future__ import annotations

from sqlmodel import Session, col, select

from marketplace.accounts.models import Membership, Organisation, OrgKind, User
from marketplace.catalog import vocab
from marketplace.catalog.models import (
    Dataset,
    DatasetEvent,
    DatasetFile,
    DatasetVersion,
    SampleFile,
)
from marketplace.catalog.services.records import terms_of
from marketplace.catalog.vocab import DatasetStatus, VersionStatus
from marketplace.errors import FieldProblem, NotFound
from marketplace.permissions import Action, require

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
