"""Dataset listings, their immutable versions with file manifests, public sample files and the review log.

Facetable single values are typed columns on :class:`Dataset`; multi-valued controlled vocabularies (tasks,
industries, languages, countries, formats, collection and annotation methods, special categories,
de-identification methods, tags) are rows of :class:`DatasetTerm`, so every facet is an indexed lookup; the
free-form groups (per-modality details, provenance sources and parents, the AI Act Article 10 record) are JSON
documents validated by :mod:`marketplace.catalog.schemas` before they are stored.

The full-text index is not modelled here: it is dialect-specific (a generated ``tsvector`` column with a GIN
index on PostgreSQL, an FTS5 table kept in step by triggers on SQLite) and created by the migration.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from marketplace.access.states import AccessMode
from marketplace.catalog.vocab import (
    AgreementMetric,
    DatasetStatus,
    LawfulBasis,
    Modality,
    OfferingType,
    PersonalData,
    StorageRegion,
    UpdateFrequency,
    VersionStatus,
)
from marketplace.db import utc_column, utcnow


def _enum_column(enum_cls: type[enum.StrEnum], *, nullable: bool = False, index: bool = False) -> Any:
    # Text with a CHECK constraint: portable across SQLite and PostgreSQL, readable in SQL.
    return sa.Column(
        sa.Enum(enum_cls, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e]),
        nullable=nullable,
        index=index,
    )


def _json_column(default: Any) -> Any:
    return sa.Column(sa.JSON(), nullable=False, default=default)


class TermScheme(enum.StrEnum):
    """Which list a :class:`DatasetTerm` belongs to."""

    TAG = "tag"
    TASK = "task"
    INDUSTRY = "industry"
    LANGUAGE = "language"
    COUNTRY = "country"
    MEDIA_TYPE = "media_type"
    COLLECTION_METHOD = "collection_method"
    ANNOTATION_METHOD = "annotation_method"
    SPECIAL_CATEGORY = "special_category"
    DEIDENTIFICATION = "deidentification"
    # A custom-collection service (offering type ``custom``): what it can collect and how it can de-identify.
    SERVICE_MODALITY = "service_modality"
    DEIDENTIFICATION_OFFERED = "deidentification_offered"


class Dataset(SQLModel, table=True):
    """A listing: what a provider offers and everything a buyer needs to judge it."""

    __tablename__ = "dataset"
    __table_args__ = (
        sa.UniqueConstraint("organisation_id", "external_id"),
        sa.Index("ix_dataset_status_published_at", "status", "published_at"),
        sa.CheckConstraint(
            "synthetic_share_pct IS NULL OR (synthetic_share_pct >= 0 AND synthetic_share_pct <= 100)",
            name="synthetic_share_range",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=80, sa_column_kwargs={"unique": True}, nullable=False)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    external_id: str | None = Field(default=None, max_length=200)
    title: str = Field(max_length=200)
    summary: str = Field(default="", max_length=300)
    description: str = Field(default="", sa_column=sa.Column(sa.Text(), nullable=False, default=""))
    status: DatasetStatus = Field(default=DatasetStatus.DRAFT, sa_column=_enum_column(DatasetStatus))
    offering_type: OfferingType = Field(default=OfferingType.OFF_THE_SHELF, sa_column=_enum_column(OfferingType))
    # Governed access (marketplace.access): open, or acquired only after approval; set by the provider.
    access_mode: AccessMode = Field(default=AccessMode.OPEN, sa_column=_enum_column(AccessMode, index=True))

    modality: Modality | None = Field(default=None, sa_column=_enum_column(Modality, nullable=True, index=True))
    # {"text": {...}, "audio": {...}, ...}: one object per detailed modality (see schemas.ModalityDetailsSchema).
    modality_details: dict[str, Any] = Field(default_factory=dict, sa_column=_json_column(dict))

    collection_start: date | None = Field(default=None)
    collection_end: date | None = Field(default=None)

    record_count: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger(), nullable=True))
    total_bytes: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger(), nullable=True))
    file_count: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger(), nullable=True))

    annotator_qualifications: str = Field(default="", max_length=2000)
    annotations_per_item: float | None = Field(default=None)
    agreement_metric: AgreementMetric | None = Field(
        default=None, sa_column=_enum_column(AgreementMetric, nullable=True)
    )
    agreement_value: float | None = Field(default=None)
    synthetic_share_pct: int | None = Field(default=None, index=True)

    personal_data: PersonalData = Field(default=PersonalData.UNKNOWN, sa_column=_enum_column(PersonalData, index=True))
    lawful_basis: LawfulBasis | None = Field(default=None, sa_column=_enum_column(LawfulBasis, nullable=True))
    consent_obtained: bool | None = Field(default=None)
    opt_out_honoured: bool | None = Field(default=None)
    personal_data_notes: str = Field(default="", max_length=4000)

    # [{"name", "url", "license"}]: where the data came from, each source with its own SPDX expression.
    sources: list[dict[str, Any]] = Field(default_factory=list, sa_column=_json_column(list))
    # [{"title", "url", "slug"}]: the datasets this one is derived from (slug when listed here).
    parent_datasets: list[dict[str, Any]] = Field(default_factory=list, sa_column=_json_column(list))
    # The EU AI Act Article 10 record (see schemas.AiActRecordSchema), but for its one date: JSON keeps no dates,
    # so the bias-review date lives in its own column and ai_act_record() puts it back in the record.
    ai_act: dict[str, Any] = Field(default_factory=dict, sa_column=_json_column(dict))
    bias_reviewed_on: date | None = Field(default=None)
    # What the training-content summary of EU AI Act Article 53(1)(d) needs from the provider (see
    # schemas.TrainingSummarySchema); its own group, apart from the Article 10 record.
    training_summary: dict[str, Any] = Field(
        default_factory=dict,
        sa_column=sa.Column(sa.JSON(), nullable=False, default=dict, server_default=sa.text("'{}'")),
    )

    storage_region: StorageRegion | None = Field(
        default=None, sa_column=_enum_column(StorageRegion, nullable=True, index=True)
    )
    update_frequency: UpdateFrequency | None = Field(
        default=None, sa_column=_enum_column(UpdateFrequency, nullable=True)
    )

    # A custom-collection service (offering type ``custom``): how long a collection typically takes, what it
    # typically costs (integer minor units of ``service_price_currency``), and whether the provider writes the
    # EU AI Act Article 10 documentation for what it collects. Empty for off-the-shelf listings.
    lead_time_days: int | None = Field(default=None)
    service_price_min: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger(), nullable=True))
    service_price_max: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger(), nullable=True))
    service_price_currency: str | None = Field(default=None, max_length=3)
    ai_act_documentation: bool | None = Field(default=None)

    # The tags again as one string, so the full-text index (built from this row alone) can weigh them.
    tags_text: str = Field(default="", max_length=4000)
    # Why the listing was last rejected, deprecated or withdrawn; shown to the provider and on the page.
    status_note: str = Field(default="", max_length=2000)

    created_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    submitted_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    published_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    deprecated_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    withdrawn_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))

    def ai_act_record(self) -> dict[str, Any]:
        """The AI Act record as :class:`~marketplace.catalog.schemas.AiActRecordSchema` loads it (with its date)."""
        return {**(self.ai_act or {}), "bias_reviewed_on": self.bias_reviewed_on}

    def set_ai_act_record(self, record: dict[str, Any] | None) -> None:
        """Store a loaded AI Act record: the bias-review date in its DATE column, the rest as the JSON document."""
        document = dict(record or {})
        self.bias_reviewed_on = document.pop("bias_reviewed_on", None)
        self.ai_act = document

    @property
    def is_public(self) -> bool:
        return self.status in (DatasetStatus.PUBLISHED, DatasetStatus.DEPRECATED)

    @property
    def is_custom(self) -> bool:
        """A custom-collection service: buyers ask it for a quote instead of buying an offer."""
        return self.offering_type is OfferingType.CUSTOM


class DatasetTerm(SQLModel, table=True):
    """One value of one multi-valued vocabulary of a dataset (a task, a language, a tag, …), in entry order."""

    __tablename__ = "dataset_term"
    __table_args__ = (
        sa.UniqueConstraint("dataset_id", "scheme", "value"),
        sa.Index("ix_dataset_term_scheme_value", "scheme", "value", "dataset_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    dataset_id: int = Field(foreign_key="dataset.id", ondelete="CASCADE")
    scheme: TermScheme = Field(sa_column=_enum_column(TermScheme))
    value: str = Field(max_length=100)
    position: int = Field(default=0)


class DatasetVersion(SQLModel, table=True):
    """A snapshot of a dataset's files. Drafts may change; a published version never does."""

    __tablename__ = "dataset_version"
    __table_args__ = (sa.UniqueConstraint("dataset_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    dataset_id: int = Field(foreign_key="dataset.id", index=True, ondelete="CASCADE")
    version: str = Field(max_length=64)
    changelog: str = Field(default="", sa_column=sa.Column(sa.Text(), nullable=False, default=""))
    status: VersionStatus = Field(default=VersionStatus.DRAFT, sa_column=_enum_column(VersionStatus))
    # Hex SHA-256 of the canonical manifest (see manifest.canonical_manifest); set whenever the files change.
    manifest_digest: str | None = Field(default=None, max_length=64)
    file_count: int = Field(default=0)
    total_bytes: int = Field(default=0, sa_column=sa.Column(sa.BigInteger(), nullable=False, default=0))
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    published_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    published_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")

    @property
    def is_published(self) -> bool:
        return self.status is VersionStatus.PUBLISHED


class DatasetFile(SQLModel, table=True):
    """One file of a version's manifest: path, size, SHA-256 and media type (and, once uploaded, where it is)."""

    __tablename__ = "dataset_file"
    __table_args__ = (sa.UniqueConstraint("version_id", "path"),)

    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="dataset_version.id", index=True, ondelete="CASCADE")
    path: str = Field(max_length=1024)
    size_bytes: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False))
    sha256: str = Field(max_length=64)
    media_type: str = Field(max_length=255)
    storage_key: str | None = Field(default=None, max_length=1024)


class SampleFile(SQLModel, table=True):
    """A small file anyone may preview before buying. Kept in the database: previews are capped in size."""

    __tablename__ = "sample_file"
    __table_args__ = (sa.UniqueConstraint("dataset_id", "filename"),)

    id: int | None = Field(default=None, primary_key=True)
    dataset_id: int = Field(foreign_key="dataset.id", index=True, ondelete="CASCADE")
    filename: str = Field(max_length=255)
    media_type: str = Field(max_length=255)
    size_bytes: int = Field(default=0)
    sha256: str = Field(max_length=64)
    description: str = Field(default="", max_length=500)
    content: bytes = Field(sa_column=sa.Column(sa.LargeBinary(), nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())

    @property
    def kind(self) -> str:
        """How the page previews it: ``text``, ``image``, ``audio`` or ``video``."""
        top = self.media_type.split("/", 1)[0]
        return top if top in ("image", "audio", "video") else "text"


class DatasetEvent(SQLModel, table=True):
    """The listing's history: who created, changed, submitted, approved, rejected or withdrew it, and why."""

    __tablename__ = "dataset_event"

    id: int | None = Field(default=None, primary_key=True)
    dataset_id: int = Field(foreign_key="dataset.id", index=True, ondelete="CASCADE")
    at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    actor_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    action: str = Field(max_length=32)
    note: str = Field(default="", max_length=2000)
