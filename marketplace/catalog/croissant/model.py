"""What a listing keeps of the Croissant document it was imported from.

Two tables, per dataset:

- :class:`DeclaredDistribution`: the document's ``distribution`` entries, in document order. A ``cr:FileObject``
  (one file, possibly inside an archive named by ``containedIn``) or a ``cr:FileSet`` (the files an archive or
  repository holds that match ``includes`` globs, less ``excludes``). A file need not have a SHA-256 or a size
  yet: it is *declared*, to be uploaded, and counts as fulfilled once a version holds an uploaded file at its
  :attr:`DeclaredDistribution.path`.
- :class:`CroissantProfile`: the dataset-level properties the listing's own columns do not hold (``license``,
  ``citeAs``, ``creator``, ``publisher``, ``sameAs``, every RAI property…) exactly as the document wrote them,
  the ``recordSet``\\ s (validated by :mod:`marketplace.catalog.croissant.structure`, stored as JSON-LD), and a
  snapshot of the listing fields the import derived, so that the export writes the document's own wording back
  for every property whose listing fields the provider has not edited since.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from marketplace.db import enum_column, utc_column, utcnow


class DistributionKind(enum.StrEnum):
    """Croissant's two kinds of resource."""

    FILE_OBJECT = "file_object"
    FILE_SET = "file_set"

    @property
    def croissant_type(self) -> str:
        return "cr:FileObject" if self is DistributionKind.FILE_OBJECT else "cr:FileSet"


def _json(default: Any) -> Any:
    return sa.Column(sa.JSON(), nullable=False, default=default)


def _text() -> Any:
    return sa.Column(sa.Text(), nullable=False, default="")


class DeclaredDistribution(SQLModel, table=True):
    """One ``distribution`` entry of a dataset's Croissant description, as declared (uploaded or not)."""

    __tablename__ = "dataset_distribution"
    __table_args__ = (sa.UniqueConstraint("dataset_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    dataset_id: int = Field(foreign_key="dataset.id", index=True, ondelete="CASCADE")
    position: int
    kind: DistributionKind = Field(sa_column=enum_column(DistributionKind))
    # The entry's ``@id`` (Croissant 1.0 names resources by ``@id``; older files by ``name``).
    resource_id: str = Field(sa_column=_text())
    name: str = Field(default="", sa_column=_text())
    description: str = Field(default="", sa_column=_text())
    content_url: str = Field(default="", sa_column=_text())
    encoding_format: str = Field(default="", max_length=255)
    # ``contentSize`` as written ("53.1 MB"), and in bytes when it can be read.
    content_size: str = Field(default="", max_length=64)
    size_bytes: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger(), nullable=True))
    # As written: hubs write a placeholder URL where no digest exists, and it is kept as they wrote it.
    sha256: str = Field(default="", sa_column=_text())
    md5: str = Field(default="", sa_column=_text())
    # The ``@id``s of the archives or repositories this entry is inside of.
    contained_in: list[str] = Field(default_factory=list, sa_column=_json(list))
    includes: list[str] = Field(default_factory=list, sa_column=_json(list))
    excludes: list[str] = Field(default_factory=list, sa_column=_json(list))
    # Where an uploaded file must be in a version to fulfil this entry ("" when it cannot be one: a FileSet).
    path: str = Field(default="", max_length=1024)
    # Every other property of the entry, as written (``sameAs``, ``contentSize`` units we cannot read…).
    properties: dict[str, Any] = Field(default_factory=dict, sa_column=_json(dict))


class CroissantProfile(SQLModel, table=True):
    """The dataset-level part of a listing's Croissant description that its own columns do not hold."""

    __tablename__ = "dataset_croissant"

    dataset_id: int = Field(foreign_key="dataset.id", primary_key=True, ondelete="CASCADE")
    # The document's ``url`` (its home page), by which a later import finds this listing again.
    url: str = Field(default="", max_length=2048, index=True)
    # Top-level properties as written, but ``@context``, ``conformsTo``, ``distribution`` and ``recordSet``.
    properties: dict[str, Any] = Field(default_factory=dict, sa_column=_json(dict))
    record_sets: list[dict[str, Any]] = Field(default_factory=list, sa_column=_json(list))
    # The listing fields as the import derived them from ``properties`` (JSON values: dates as ISO strings).
    listing_snapshot: dict[str, Any] = Field(default_factory=dict, sa_column=_json(dict))
    # The version the import created, whose ``version``/``datePublished``/``releaseNotes`` are the document's.
    version_label: str = Field(default="", max_length=64)
    imported_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
