"""Upload sessions (a provider's file on its way into storage) and download events (the audit of every link).

An :class:`UploadSession` row keeps the storage backend's serialised upload session, so a browser that reloads
the page, or a CLI that is restarted, can ask which parts are already stored and go on from there. A
:class:`DownloadEvent` row is written for every download link that is handed out, in the same transaction;
counting them enforces a license's download limit and feeds the provider's download statistics.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from marketplace.db import enum_column, utc_column, utcnow


class UploadStatus(enum.StrEnum):
    """Where an upload stands: parts going up, assembled and being hashed, stored and checked, or given up."""

    UPLOADING = "uploading"
    # Assembled and of the right size; its SHA-256 is being computed by a background job (S3 storage).
    VERIFYING = "verifying"
    VERIFIED = "verified"
    FAILED = "failed"
    ABORTED = "aborted"


class FileUpload(SQLModel, table=True):
    """One file of a draft version being uploaded by a browser or the CLI, with what was promised about it."""

    __tablename__ = "upload_session"
    __table_args__ = (sa.UniqueConstraint("version_id", "path"),)

    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="dataset_version.id", index=True, ondelete="CASCADE")
    path: str = Field(max_length=1024)
    size_bytes: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False))
    media_type: str = Field(default="application/octet-stream", max_length=255)
    # What the uploader said the file hashes to (hex SHA-256), when it computed one; checked on completion.
    expected_sha256: str | None = Field(default=None, max_length=64)
    storage_region: str | None = Field(default=None, max_length=64)
    storage_key: str = Field(max_length=1024)
    # storage.UploadSession.to_dict(): what the backend needs to presign parts and complete the upload.
    storage_session: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(sa.JSON(), nullable=False))
    # Part numbers the uploader reported as stored (the backend's own list is the truth on completion).
    parts_done: list[int] = Field(default_factory=list, sa_column=sa.Column(sa.JSON(), nullable=False))
    status: UploadStatus = Field(
        default=UploadStatus.UPLOADING,
        sa_column=sa.Column(
            sa.Enum(UploadStatus, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]),
            nullable=False,
            index=True,
        ),
    )
    # The SHA-256 the server computed from the stored bytes once the upload was completed.
    sha256: str | None = Field(default=None, max_length=64)
    error: str = Field(default="", max_length=1000)
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    completed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class DownloadChannel(enum.StrEnum):
    """How the file behind a download link is handed out: to the licensee's browser or client, as a Delta Sharing
    file URL, or copied by the marketplace into the licensee's own bucket."""

    DOWNLOAD = "download"
    DELTA_SHARING = "delta-sharing"
    BUCKET_EXPORT = "bucket-export"


class DownloadEvent(SQLModel, table=True):
    """One download link handed out: for which grant and file, to whom, from where, valid until when.

    Rows are only ever inserted. ``dataset_id`` and ``licensee_org_id`` are copies from the grant so the
    provider's statistics are one indexed query.
    """

    __tablename__ = "download_event"
    __table_args__ = (sa.Index("ix_download_event_dataset_id_issued_at", "dataset_id", "issued_at"),)

    id: int | None = Field(default=None, primary_key=True)
    grant_id: str = Field(foreign_key="license_grant.id", index=True, max_length=26)
    file_id: int = Field(foreign_key="dataset_file.id", index=True)
    dataset_id: int = Field(foreign_key="dataset.id")
    licensee_org_id: int = Field(foreign_key="organisation.id", index=True)
    user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True, ondelete="SET NULL")
    # An API key's id when the link was requested through the API (no foreign key: keys may be deleted).
    api_key_id: int | None = Field(default=None)
    ip_address: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=512)
    issued_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    expires_at: datetime = Field(sa_column=utc_column())
    # How the link was handed out: ``download`` (the site and the API) or ``delta-sharing`` (a Delta Sharing query).
    channel: str = Field(
        default=DownloadChannel.DOWNLOAD, max_length=16, sa_column_kwargs={"server_default": "download"}
    )


class ViewKind(enum.StrEnum):
    """What a look at a licensed file through the data viewer showed."""

    ROWS = "rows"
    SEARCH = "search"
    STATISTICS = "statistics"
    MEDIA = "media"  # a player's link to an image, audio or video file


class ViewEvent(SQLModel, table=True):
    """One look at a licensed file through the data viewer (rows, a search, statistics or a media player).

    A view is not a download: it hands out no file, and it never counts toward a license's download limit.
    Rows are only ever inserted, in the same transaction as the view's permission check.
    """

    __tablename__ = "view_event"
    __table_args__ = (sa.Index("ix_view_event_dataset_id_viewed_at", "dataset_id", "viewed_at"),)

    id: int | None = Field(default=None, primary_key=True)
    grant_id: str = Field(foreign_key="license_grant.id", index=True, max_length=26)
    file_id: int = Field(foreign_key="dataset_file.id", index=True)
    dataset_id: int = Field(foreign_key="dataset.id")
    licensee_org_id: int = Field(foreign_key="organisation.id", index=True)
    user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True, ondelete="SET NULL")
    api_key_id: int | None = Field(default=None)
    what: ViewKind = Field(sa_column=enum_column(ViewKind))
    ip_address: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=512)
    viewed_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
