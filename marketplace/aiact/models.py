"""The sign-off of a published version's AI Act documentation: who signed, when, and the frozen pack content."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from marketplace.aiact.states import DocumentationState
from marketplace.catalog.models import _enum_column
from marketplace.db import utc_column, utcnow


class AiActSignOff(SQLModel, table=True):
    """A provider member's sign-off of one published version's Article 10 documentation.

    ``content`` is the pack's documented parts as they stood when signed (the listing's record may change later;
    the version's documentation does not), ``content_digest`` the SHA-256 of its canonical JSON (sorted keys, no
    spaces, UTF-8): the pack's JSON without its ``state``, ``complete``, ``missing`` and ``sign_off`` members, so
    anyone holding a pack can tell it is the one signed. ``signer_name`` is the name the signer typed (a person,
    not an account name); ``signed_by_id`` the account that signed.
    """

    __tablename__ = "ai_act_sign_off"

    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="dataset_version.id", ondelete="CASCADE", sa_column_kwargs={"unique": True})
    dataset_id: int = Field(foreign_key="dataset.id", index=True, ondelete="CASCADE")
    state: DocumentationState = Field(default=DocumentationState.SIGNED_OFF, sa_column=_enum_column(DocumentationState))
    signed_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    signer_name: str = Field(max_length=200)
    signer_role: str = Field(default="", max_length=200)
    signed_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    content: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(sa.JSON(), nullable=False))
    content_digest: str = Field(max_length=64)
