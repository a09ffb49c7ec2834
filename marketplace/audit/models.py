"""The tamper-evident audit log: append-only entries chained by hash per organisation, and each chain's head.

:class:`AuditEntry` rows are only ever inserted (by :func:`marketplace.audit.service.append`). :class:`AuditChainHead`
holds the last ``seq`` and hash of one organisation's chain: appending locks that row, which serialises appends to
one chain without blocking other organisations (see :mod:`marketplace.audit.service`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from marketplace.audit.chain import format_time
from marketplace.db import utc_column


class AuditEntry(SQLModel, table=True):
    """One event in one organisation's chain; ``hash`` covers every other field and ``prev_hash``."""

    __tablename__ = "audit_entry"
    __table_args__ = (sa.UniqueConstraint("organisation_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id")
    seq: int
    at: datetime = Field(sa_column=utc_column())
    kind: str = Field(max_length=64, index=True)
    subject_type: str = Field(max_length=40)
    subject_id: str = Field(max_length=64)
    actor: str = Field(max_length=200)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(sa.JSON(), nullable=False, default=dict))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)

    def as_chain_entry(self) -> dict[str, Any]:
        """The entry as :mod:`marketplace.audit.chain` hashes and exports it."""
        return {
            "organisation": self.organisation_id,
            "seq": self.seq,
            "at": format_time(self.at),
            "kind": self.kind,
            "subject": {"type": self.subject_type, "id": self.subject_id},
            "actor": self.actor,
            "data": self.data,
            "prev": self.prev_hash,
            "hash": self.hash,
        }


class AuditChainHead(SQLModel, table=True):
    """The newest entry of one organisation's chain: its ``seq`` and ``hash`` (the next entry's ``prev``)."""

    __tablename__ = "audit_chain_head"

    organisation_id: int = Field(foreign_key="organisation.id", primary_key=True)
    seq: int = Field(default=0)
    hash: str = Field(max_length=64)
