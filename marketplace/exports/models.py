"""A licensee organisation's bucket destinations and the exports of licensed versions into them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from marketplace.db import enum_column, utc_column, utcnow
from marketplace.exports.states import ExportState


class BucketDestination(SQLModel, table=True):
    """An S3-compatible bucket an organisation delivers licensed data into. The secret access key is stored sealed
    with the key ring (purpose ``bucket-destination``); the access key id is shown, the secret never again."""

    __tablename__ = "bucket_destination"
    __table_args__ = (sa.UniqueConstraint("organisation_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=100)
    # Empty: Amazon S3 itself (the region's endpoint); otherwise an https URL of an S3-compatible service.
    endpoint_url: str = Field(default="", max_length=500)
    region: str = Field(default="", max_length=64)
    bucket: str = Field(max_length=63)
    prefix: str = Field(default="", max_length=500)
    access_key_id: str = Field(max_length=128)
    secret_ciphertext: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())

    @property
    def location(self) -> str:
        """Where objects go, as people write it: ``s3://bucket/prefix/`` (and the endpoint's host when not AWS)."""
        where = f"s3://{self.bucket}/{self.prefix.strip('/') + '/' if self.prefix.strip('/') else ''}"
        return f"{where} at {self.endpoint_url}" if self.endpoint_url else where


class BucketExport(SQLModel, table=True):
    """One delivery of a licensed version's files into a destination, with its progress and, per object, the
    SHA-256 read back from the destination. ``licensee_org_id`` is a copy from the grant so the permission table
    needs no join; ``destination_location`` keeps where it went if the destination is later removed."""

    __tablename__ = "bucket_export"

    id: int | None = Field(default=None, primary_key=True)
    grant_id: str = Field(foreign_key="license_grant.id", index=True, max_length=26)
    licensee_org_id: int = Field(foreign_key="organisation.id", index=True)
    destination_id: int | None = Field(default=None, foreign_key="bucket_destination.id", ondelete="SET NULL")
    destination_location: str = Field(max_length=700)
    version_label: str = Field(max_length=64)
    state: ExportState = Field(default=ExportState.QUEUED, sa_column=enum_column(ExportState, index=True))
    files_total: int = Field(default=0)
    files_done: int = Field(default=0)
    bytes_total: int = Field(default=0, sa_column=sa.Column(sa.BigInteger(), nullable=False, default=0))
    bytes_done: int = Field(default=0, sa_column=sa.Column(sa.BigInteger(), nullable=False, default=0))
    # One entry per object delivered and verified: {"path", "key", "size", "sha256"}.
    objects: list[dict[str, Any]] = Field(default_factory=list, sa_column=sa.Column(sa.JSON(), nullable=False))
    error: str = Field(default="", max_length=1000)
    requested_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    started_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    finished_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))

    @property
    def percent(self) -> int:
        """Bytes copied, in whole percent (100 once every file is verified)."""
        if self.state is ExportState.SUCCEEDED:
            return 100
        return int(100 * self.bytes_done / self.bytes_total) if self.bytes_total else 0
