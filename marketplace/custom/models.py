"""Tables of the custom-data exchange: requests for data (with their revisions and invitations), quotes (with
their revisions and milestone schedules), contracts and their milestones, private threads, attachments, and the
log of every state transition.

Money is integer minor units with an ISO 4217 currency. States are enums (:mod:`marketplace.custom.states`)
stored as text columns; they change only through :func:`marketplace.custom.transitions.move`, which also writes
the :class:`Transition` row. A request has at most one contract (unique ``contract.request_id``): together with
the row lock taken on the request when a quote is accepted, two acceptances at once give exactly one contract.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from marketplace.catalog.vocab import Modality
from marketplace.custom.states import ContractState, Machine, MilestoneState, QuoteState, RequestState
from marketplace.db import enum_column, utc_column, utcnow


class Visibility(enum.StrEnum):
    """Who may see a request: every provider (on the public board) or only the invited ones."""

    OPEN = "open"
    INVITED = "invited"


class PaymentPlan(enum.StrEnum):
    """How the buyer pays: the whole price before work starts, or each milestone in turn."""

    UPFRONT = "upfront"
    PER_MILESTONE = "per_milestone"


class VolumeUnit(enum.StrEnum):
    """The unit a request's volume is counted in."""

    RECORDS = "records"
    ITEMS = "items"
    DOCUMENTS = "documents"
    TOKENS = "tokens"
    WORDS = "words"
    IMAGES = "images"
    HOURS = "hours"
    CLIPS = "clips"
    FRAMES = "frames"
    SPEAKERS = "speakers"
    ROWS = "rows"


def _json(default: type) -> Any:
    return sa.Column(sa.JSON(), nullable=False, default=default)


def _money(*, nullable: bool = False, default: int | None = None) -> Any:
    return sa.Column(sa.BigInteger(), nullable=nullable, default=default)


def _text() -> Any:
    return sa.Column(sa.Text(), nullable=False, default="")


class DataRequest(SQLModel, table=True):
    """A buyer organisation's request for a dataset that no catalog holds, with its structured specification.

    The columns hold the current version of the specification; each earlier version is kept as a
    :class:`RequestRevision` (``revision`` counts them, starting at 1).
    """

    __tablename__ = "custom_request"
    __table_args__ = (
        sa.CheckConstraint("budget_min >= 0 AND budget_max >= budget_min", name="budget_range"),
        sa.CheckConstraint("volume_amount > 0", name="volume_positive"),
        sa.Index("ix_custom_request_state_visibility", "state", "visibility"),
    )

    id: int | None = Field(default=None, primary_key=True)
    buyer_org_id: int = Field(foreign_key="organisation.id", index=True)
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    # The custom listing the request started from ("Request a quote"), whose provider is invited.
    source_dataset_id: int | None = Field(default=None, foreign_key="dataset.id", ondelete="SET NULL")
    state: RequestState = Field(default=RequestState.DRAFT, sa_column=enum_column(RequestState))
    revision: int = Field(default=1)

    title: str = Field(max_length=200)
    description: str = Field(default="", sa_column=_text())
    modality: Modality = Field(sa_column=enum_column(Modality))
    tasks: list[str] = Field(default_factory=list, sa_column=_json(list))
    volume_amount: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False))
    volume_unit: VolumeUnit = Field(sa_column=enum_column(VolumeUnit))
    languages: list[str] = Field(default_factory=list, sa_column=_json(list))
    regions: list[str] = Field(default_factory=list, sa_column=_json(list))
    # {"annotation_method", "annotations_per_item", "agreement_metric", "agreement_min"} (schemas.QualityBarSchema)
    quality: dict[str, Any] = Field(default_factory=dict, sa_column=_json(dict))
    # {"personal_data", "special_categories", "deidentification", "notes"} (schemas.PersonalDataNeedsSchema)
    personal_data: dict[str, Any] = Field(default_factory=dict, sa_column=_json(dict))
    ai_act_documentation: bool = Field(default=False)
    # The license terms wanted: a template id plus overrides the licensing engine accepted.
    license_id: str = Field(max_length=120)
    license_overrides: dict[str, Any] = Field(default_factory=dict, sa_column=_json(dict))
    budget_min: int = Field(sa_column=_money())
    budget_max: int = Field(sa_column=_money())
    currency: str = Field(max_length=3)
    deadline: date
    visibility: Visibility = Field(default=Visibility.OPEN, sa_column=enum_column(Visibility))
    show_buyer_name: bool = Field(default=False)

    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    published_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class RequestRevision(SQLModel, table=True):
    """An earlier version of a request's specification, kept when the buyer edits it after the first quote."""

    __tablename__ = "custom_request_revision"
    __table_args__ = (sa.UniqueConstraint("request_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="custom_request.id", index=True, ondelete="CASCADE")
    number: int
    spec: dict[str, Any] = Field(default_factory=dict, sa_column=_json(dict))
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class RequestInvitation(SQLModel, table=True):
    """A provider organisation invited to quote on a request (the only way to see an invited-only request)."""

    __tablename__ = "custom_request_invitation"
    __table_args__ = (sa.UniqueConstraint("request_id", "provider_org_id"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="custom_request.id", index=True, ondelete="CASCADE")
    provider_org_id: int = Field(foreign_key="organisation.id", index=True)
    invited_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class Quote(SQLModel, table=True):
    """A provider organisation's answer to a request. Its terms live in :class:`QuoteRevision` rows (one per
    version, ``revision`` being the current one); price, currency and validity are copied here to sort by."""

    __tablename__ = "custom_quote"
    __table_args__ = (sa.Index("ix_custom_quote_request_provider", "request_id", "provider_org_id"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="custom_request.id", index=True, ondelete="CASCADE")
    provider_org_id: int = Field(foreign_key="organisation.id", index=True)
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    state: QuoteState = Field(default=QuoteState.SUBMITTED, sa_column=enum_column(QuoteState, index=True))
    revision: int = Field(default=1)
    price_amount: int = Field(sa_column=_money())
    currency: str = Field(max_length=3)
    valid_until: datetime = Field(sa_column=utc_column(index=True))
    decline_reason: str = Field(default="", max_length=2000)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class QuoteRevision(SQLModel, table=True):
    """One version of a quote's terms; never changed once written (a revision writes a new row)."""

    __tablename__ = "custom_quote_revision"
    __table_args__ = (sa.UniqueConstraint("quote_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    quote_id: int = Field(foreign_key="custom_quote.id", index=True, ondelete="CASCADE")
    number: int
    price_amount: int = Field(sa_column=_money())
    currency: str = Field(max_length=3)
    payment_plan: PaymentPlan = Field(sa_column=enum_column(PaymentPlan))
    license_id: str = Field(max_length=120)
    license_overrides: dict[str, Any] = Field(default_factory=dict, sa_column=_json(dict))
    # The effective terms the engine computed (template + overrides) and their canonical hash.
    terms: dict[str, Any] = Field(default_factory=dict, sa_column=_json(dict))
    terms_hash: str = Field(max_length=64)
    valid_until: datetime = Field(sa_column=utc_column())
    message: str = Field(default="", sa_column=_text())
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class QuoteMilestone(SQLModel, table=True):
    """One milestone of a quote revision's schedule; accepted quotes copy these into :class:`Milestone` rows."""

    __tablename__ = "custom_quote_milestone"
    __table_args__ = (sa.UniqueConstraint("revision_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    revision_id: int = Field(foreign_key="custom_quote_revision.id", index=True, ondelete="CASCADE")
    position: int
    title: str = Field(max_length=200)
    deliverable: str = Field(default="", max_length=4000)
    quantity: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False))
    due_date: date
    amount: int = Field(sa_column=_money())


class Contract(SQLModel, table=True):
    """The agreement made by accepting a quote: a private dataset, a private offer holding the terms snapshot
    and its hash, and the milestone schedule. At most one per request (the unique ``request_id``).

    Payment (filled in by the payment flow): ``transfer_group`` ties the buyer's charge to the transfers to the
    provider; ``amount_held`` is what the platform holds, ``amount_paid_out`` what was transferred to the
    provider, ``amount_refunded`` what went back to the buyer, ``fees_amount`` the platform's fees taken.
    """

    __tablename__ = "custom_contract"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="custom_request.id", sa_column_kwargs={"unique": True}, nullable=False)
    quote_id: int = Field(foreign_key="custom_quote.id", sa_column_kwargs={"unique": True}, nullable=False)
    quote_revision_id: int = Field(foreign_key="custom_quote_revision.id")
    buyer_org_id: int = Field(foreign_key="organisation.id", index=True)
    provider_org_id: int = Field(foreign_key="organisation.id", index=True)
    dataset_id: int = Field(foreign_key="dataset.id", index=True)
    offer_id: int = Field(foreign_key="offer.id", index=True)
    state: ContractState = Field(default=ContractState.AWAITING_PAYMENT, sa_column=enum_column(ContractState))
    price_amount: int = Field(sa_column=_money())
    currency: str = Field(max_length=3)
    payment_plan: PaymentPlan = Field(sa_column=enum_column(PaymentPlan))
    terms_hash: str = Field(max_length=64)
    max_redeliveries: int = Field(default=2)
    transfer_group: str | None = Field(default=None, max_length=120, sa_column_kwargs={"unique": True})
    payment_reference: str | None = Field(default=None, max_length=200)
    amount_held: int = Field(default=0, sa_column=_money(default=0))
    amount_paid_out: int = Field(default=0, sa_column=_money(default=0))
    amount_refunded: int = Field(default=0, sa_column=_money(default=0))
    fees_amount: int = Field(default=0, sa_column=_money(default=0))
    # The buyer's license grant (issued once payment arrives), extended with every accepted version.
    grant_id: str | None = Field(default=None, foreign_key="license_grant.id", max_length=26)
    accepted_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    activated_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    closed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class Milestone(SQLModel, table=True):
    """One milestone of a contract: delivered as a version of the private dataset, paid on acceptance."""

    __tablename__ = "custom_milestone"
    __table_args__ = (sa.UniqueConstraint("contract_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    contract_id: int = Field(foreign_key="custom_contract.id", index=True, ondelete="CASCADE")
    position: int
    title: str = Field(max_length=200)
    deliverable: str = Field(default="", max_length=4000)
    quantity: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False))
    due_date: date
    amount: int = Field(sa_column=_money())
    currency: str = Field(max_length=3)
    state: MilestoneState = Field(default=MilestoneState.PENDING, sa_column=enum_column(MilestoneState, index=True))
    delivered_version_id: int | None = Field(default=None, foreign_key="dataset_version.id", ondelete="SET NULL")
    delivered_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    review_deadline: datetime | None = Field(default=None, sa_column=utc_column(nullable=True, index=True))
    redelivery_count: int = Field(default=0)
    rejection_reason: str = Field(default="", max_length=4000)
    decided_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    # Payment references and, for an admin settlement, how the amount was split (minor units).
    transfer_reference: str | None = Field(default=None, max_length=200)
    refund_reference: str | None = Field(default=None, max_length=200)
    settled_payout_amount: int | None = Field(default=None, sa_column=_money(nullable=True))
    settled_refund_amount: int | None = Field(default=None, sa_column=_money(nullable=True))


class Thread(SQLModel, table=True):
    """The private conversation between a request's buyer and one provider (one per request × provider)."""

    __tablename__ = "custom_thread"
    __table_args__ = (sa.UniqueConstraint("request_id", "provider_org_id"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="custom_request.id", index=True, ondelete="CASCADE")
    provider_org_id: int = Field(foreign_key="organisation.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class Message(SQLModel, table=True):
    """One message of a thread, written by a member of the buyer or of the provider organisation."""

    __tablename__ = "custom_message"

    id: int | None = Field(default=None, primary_key=True)
    thread_id: int = Field(foreign_key="custom_thread.id", index=True, ondelete="CASCADE")
    author_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    author_org_id: int = Field(foreign_key="organisation.id")
    body: str = Field(sa_column=_text())
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class Attachment(SQLModel, table=True):
    """A file attached to a request (spec documents, examples) or to a message, kept in object storage.

    ``message_id`` is set for a message's attachment; otherwise it belongs to the request itself.
    """

    __tablename__ = "custom_attachment"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="custom_request.id", index=True, ondelete="CASCADE")
    message_id: int | None = Field(default=None, foreign_key="custom_message.id", index=True, ondelete="CASCADE")
    filename: str = Field(max_length=255)
    media_type: str = Field(max_length=255)
    size_bytes: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False))
    sha256: str = Field(max_length=64)
    storage_key: str = Field(max_length=1024)
    uploaded_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class Transition(SQLModel, table=True):
    """One state change of a request, quote, contract or milestone: the timeline both parties see.

    Rows are only ever inserted. ``from_state`` is None for the first state a subject takes.
    """

    __tablename__ = "custom_transition"
    __table_args__ = (sa.Index("ix_custom_transition_subject", "machine", "subject_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    machine: Machine = Field(sa_column=enum_column(Machine))
    subject_id: int
    from_state: str | None = Field(default=None, max_length=32)
    to_state: str = Field(max_length=32)
    actor_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    reason: str = Field(default="", max_length=2000)
