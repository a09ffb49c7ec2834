"""Governed access: per-dataset policies, data-use agreements and signatures, requests, approvals and their seats,
training credentials, reviewers, and the audit log of every decision.

A dataset's access mode is a column on the dataset itself (``dataset.access_mode``); everything else about how
access is governed lives in :class:`AccessPolicy`, one row per governed dataset.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from marketplace.access.states import (
    ApprovalState,
    CredentialState,
    HolderKind,
    RequestState,
    ResignPolicy,
    ReviewerNotice,
)
from marketplace.db import utc_column, utcnow


def _enum_column(enum_cls: type[enum.StrEnum], *, nullable: bool = False, index: bool = False) -> Any:
    # Text with a CHECK-free string type: portable across SQLite and PostgreSQL, readable in SQL.
    return sa.Column(
        sa.Enum(enum_cls, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e]),
        nullable=nullable,
        index=index,
    )


def _json(default: type) -> Any:
    return sa.Column(sa.JSON(), nullable=False, default=default)


class AccessPolicy(SQLModel, table=True):
    """How access to one governed dataset works: who holds it, the agreement to sign, the request form's extra
    fields, the default length of an approval and whether samples stay public."""

    __tablename__ = "access_policy"

    id: int | None = Field(default=None, primary_key=True)
    dataset_id: int = Field(foreign_key="dataset.id", ondelete="CASCADE", sa_column_kwargs={"unique": True})
    holder: HolderKind = Field(default=HolderKind.PERSON, sa_column=_enum_column(HolderKind))
    samples_public: bool = Field(default=True)
    # Days an approval lasts unless the reviewer sets another expiry; None: until reset or revoked.
    default_expiry_days: int | None = Field(default=None)
    agreement_id: int | None = Field(default=None, foreign_key="access_agreement.id", ondelete="SET NULL")
    # [{"key", "label", "kind", "required", "options", "checkbox_text", "help"}]: see services/forms.py.
    form_fields: list[dict[str, Any]] = Field(default_factory=list, sa_column=_json(list))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class Agreement(SQLModel, table=True):
    """A provider's data-use agreement; its text lives in numbered, immutable :class:`AgreementVersion` rows."""

    __tablename__ = "access_agreement"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    title: str = Field(max_length=200)
    resign_policy: ResignPolicy = Field(default=ResignPolicy.IMMEDIATELY, sa_column=_enum_column(ResignPolicy))
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class AgreementVersion(SQLModel, table=True):
    """One exact text of an agreement (Markdown) and its SHA-256; never changed once written."""

    __tablename__ = "access_agreement_version"
    __table_args__ = (sa.UniqueConstraint("agreement_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    agreement_id: int = Field(foreign_key="access_agreement.id", index=True, ondelete="CASCADE")
    version: int = Field(default=1)
    body: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    sha256: str = Field(max_length=64)
    # How long a signature of this version binds (days from signing); None: until the approval ends.
    term_days: int | None = Field(default=None)
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class Signature(SQLModel, table=True):
    """A person's signature of one exact agreement version: typed name, time, address, user agent and the hash of
    the text they were shown."""

    __tablename__ = "access_signature"

    id: int | None = Field(default=None, primary_key=True)
    agreement_version_id: int = Field(foreign_key="access_agreement_version.id", index=True)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    full_name: str = Field(max_length=200)
    signed_at: datetime = Field(sa_column=utc_column())
    ip_address: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=512)
    sha256: str = Field(max_length=64)


class AccessRequest(SQLModel, table=True):
    """A person's request for access to a governed dataset, with the fixed fields and the provider's extra ones."""

    __tablename__ = "access_request"
    __table_args__ = (sa.Index("ix_access_request_provider_state", "provider_org_id", "state", "submitted_at"),)

    id: int | None = Field(default=None, primary_key=True)
    dataset_id: int = Field(foreign_key="dataset.id", index=True, ondelete="CASCADE")
    provider_org_id: int = Field(foreign_key="organisation.id", index=True)
    requester_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    # The buyer organisation the person acts for (the licensee of any license acquired under the approval).
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    full_name: str = Field(max_length=200)
    intended_uses: list[str] = Field(default_factory=list, sa_column=_json(list))
    intended_use_text: str = Field(default="", max_length=4000)
    country: str = Field(max_length=2)
    answers: dict[str, Any] = Field(default_factory=dict, sa_column=_json(dict))
    state: RequestState = Field(default=RequestState.SUBMITTED, sa_column=_enum_column(RequestState, index=True))
    # The agreement version the person must sign (None when the dataset has no agreement), and their signature.
    agreement_version_id: int | None = Field(default=None, foreign_key="access_agreement_version.id")
    signature_id: int | None = Field(default=None, foreign_key="access_signature.id")
    decision_reason: str = Field(default="", max_length=1000)
    decided_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    decided_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    submitted_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class Approval(SQLModel, table=True):
    """Access held to a dataset: by one person, or by an organisation for its named seats, until ``expires_at``.

    At most one approval per request (unique ``request_id``): two reviewers approving at once give one approval.
    """

    __tablename__ = "access_approval"

    id: int | None = Field(default=None, primary_key=True)
    dataset_id: int = Field(foreign_key="dataset.id", index=True, ondelete="CASCADE")
    provider_org_id: int = Field(foreign_key="organisation.id", index=True)
    request_id: int | None = Field(
        default=None, foreign_key="access_request.id", ondelete="SET NULL", sa_column_kwargs={"unique": True}
    )
    holder: HolderKind = Field(sa_column=_enum_column(HolderKind))
    # The person (holder=person) and the buyer organisation they act for; for holder=organisation, the
    # organisation, with user_id the person who asked (or null for a grant without request).
    user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True, ondelete="CASCADE")
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    state: ApprovalState = Field(default=ApprovalState.ACTIVE, sa_column=_enum_column(ApprovalState, index=True))
    signature_id: int | None = Field(default=None, foreign_key="access_signature.id")
    granted_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    granted_at: datetime = Field(sa_column=utc_column())
    expires_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True, index=True))
    reason: str = Field(default="", max_length=1000)
    ended_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    expiry_notice_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class Seat(SQLModel, table=True):
    """A named person using an organisation's approval; the licence terms' seat count bounds how many."""

    __tablename__ = "access_seat"
    __table_args__ = (sa.UniqueConstraint("approval_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    approval_id: int = Field(foreign_key="access_approval.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    added_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    added_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class Credential(SQLModel, table=True):
    """Proof of training a person uploaded (the file is in object storage), verified or refused once."""

    __tablename__ = "access_credential"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    issuer: str = Field(max_length=200)
    course: str = Field(max_length=300)
    completed_on: date
    expires_on: date | None = Field(default=None)
    filename: str = Field(max_length=255)
    media_type: str = Field(max_length=255)
    size_bytes: int = Field(default=0)
    sha256: str = Field(max_length=64)
    storage_key: str = Field(max_length=1024)
    state: CredentialState = Field(default=CredentialState.SUBMITTED, sa_column=_enum_column(CredentialState))
    decided_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    decided_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    decision_reason: str = Field(default="", max_length=1000)
    submitted_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    expiry_notice_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class Reviewer(SQLModel, table=True):
    """A member of a provider organisation who reviews its access requests (a flag on the membership); with
    ``verifies_credentials`` the provider also trusts them to verify training credentials."""

    __tablename__ = "access_reviewer"

    id: int | None = Field(default=None, primary_key=True)
    membership_id: int = Field(foreign_key="membership.id", ondelete="CASCADE", sa_column_kwargs={"unique": True})
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    verifies_credentials: bool = Field(default=False)
    notice: ReviewerNotice = Field(default=ReviewerNotice.REALTIME, sa_column=_enum_column(ReviewerNotice))
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class AccessEvent(SQLModel, table=True):
    """The audit log: every decision and state change (who, when, why); rows are only ever inserted."""

    __tablename__ = "access_event"
    __table_args__ = (sa.Index("ix_access_event_provider_at", "provider_org_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=utc_column())
    actor_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    # What changed: "request", "approval", "credential", "agreement", "policy", "seat".
    subject: str = Field(max_length=20)
    subject_id: int
    action: str = Field(max_length=32)
    from_state: str | None = Field(default=None, max_length=32)
    to_state: str | None = Field(default=None, max_length=32)
    reason: str = Field(default="", max_length=1000)
    dataset_id: int | None = Field(default=None, foreign_key="dataset.id", index=True, ondelete="CASCADE")
    provider_org_id: int | None = Field(default=None, foreign_key="organisation.id", ondelete="CASCADE")
    # The person the decision is about (the requester, the credential's owner), so they can read their history.
    person_id: int | None = Field(default=None, foreign_key="user_account.id", index=True, ondelete="CASCADE")
