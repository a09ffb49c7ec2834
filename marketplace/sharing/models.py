"""The tables behind Delta Sharing: recipient profiles of a license, and the Parquet form of tabular files.

A :class:`SharingRecipient` is one profile minted for one grant: only the SHA-256 of its bearer token is kept, so
a leaked database does not leak working tokens. A :class:`ParquetTable` is one tabular file of a published
version as the protocol serves it: a Parquet file uploaded by the provider (served as it is), or the Parquet file
the conversion job wrote for a CSV or JSON Lines file, with its own size and SHA-256.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from marketplace.db import utc_column, utcnow


class SharingRecipient(SQLModel, table=True):
    """A recipient profile of one grant: who minted it, when, and whether it was revoked."""

    __tablename__ = "sharing_recipient"

    id: int | None = Field(default=None, primary_key=True)
    grant_id: str = Field(foreign_key="license_grant.id", index=True, max_length=26)
    # Hex SHA-256 of the bearer token; the token itself is shown once, in the profile file.
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    # The person the profile acts for: the token reads what this member of the licensee may download.
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    expires_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class ParquetTable(SQLModel, table=True):
    """One tabular file of a published version in Parquet form, with what the protocol says about it."""

    __tablename__ = "parquet_table"

    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="dataset_version.id", index=True, ondelete="CASCADE")
    source_file_id: int = Field(foreign_key="dataset_file.id", ondelete="CASCADE", sa_column_kwargs={"unique": True})
    # False: the provider's own Parquet file, served as it is (``storage_key`` is the source file's).
    converted: bool = Field(default=False)
    path: str = Field(max_length=1024)
    storage_key: str = Field(max_length=1024)
    size_bytes: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False))
    sha256: str = Field(max_length=64)
    num_rows: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False))
    # The table's schema as the protocol's Spark schema JSON string.
    schema_string: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
