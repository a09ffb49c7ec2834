"""Offers, grants (licenses held), their event log, and recorded acceptances of terms.

The licensing engine (``licensing/``) owns the rules; these tables persist its values. A grant's ``record`` is the
engine's own serialisation (``Grant.to_dict``), checked against its terms hash whenever it is loaded; the other
columns are copies for querying and must be written only together with ``record``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from licensing import GrantStatus
from marketplace.db import enum_column, utc_column, utcnow


def _json(default: type) -> Any:
    return sa.Column(sa.JSON(), nullable=False, default=default)


class Offer(SQLModel, table=True):
    """What a provider sells for one dataset: a license template, term overrides, a price and an audience.

    Offers are never edited once created (buyers may hold grants issued from them); a provider retires an
    offer and creates a new one instead.
    """

    __tablename__ = "offer"

    id: int | None = Field(default=None, primary_key=True)
    dataset_id: int = Field(foreign_key="dataset.id", index=True, ondelete="CASCADE")
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    title: str = Field(max_length=120)
    license_id: str = Field(max_length=120)
    license_family: str = Field(max_length=40, index=True)
    overrides: dict[str, Any] = Field(default_factory=dict, sa_column=_json(dict))
    terms: dict[str, Any] = Field(default_factory=dict, sa_column=_json(dict))
    terms_hash: str = Field(max_length=64)
    training_permitted: bool = Field(default=False, index=True)
    price_amount: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False))
    currency: str = Field(max_length=3)
    # None: every version published during the grant's term; otherwise this one version label.
    version_label: str | None = Field(default=None, max_length=64)
    audience_org_id: int | None = Field(default=None, foreign_key="organisation.id", index=True)
    is_active: bool = Field(default=True, index=True)
    # After this moment the offer can no longer be bought (set for private offers; None: until retired).
    expires_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    retired_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))

    @property
    def is_free(self) -> bool:
        return self.price_amount == 0

    @property
    def is_private(self) -> bool:
        """Offered to one named buyer organisation only."""
        return self.audience_org_id is not None

    def is_expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    def on_sale(self, now: datetime) -> bool:
        """Active and not expired: what a buyer may still put in a cart and pay for."""
        return self.is_active and not self.is_expired(now)


class Grant(SQLModel, table=True):
    """A license a licensee holds: the engine's signed record plus columns to find it by."""

    __tablename__ = "license_grant"

    id: str = Field(primary_key=True, max_length=26)
    offer_id: int = Field(foreign_key="offer.id", index=True)
    dataset_id: int = Field(foreign_key="dataset.id", index=True)
    licensor_org_id: int = Field(foreign_key="organisation.id", index=True)
    licensee_org_id: int = Field(foreign_key="organisation.id", index=True)
    acquired_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    license_id: str = Field(max_length=120)
    versions: list[str] = Field(default_factory=list, sa_column=_json(list))
    all_versions: bool = Field(default=False)
    manifest_digest: str = Field(max_length=80)
    terms_hash: str = Field(max_length=64)
    price_amount: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False))
    currency: str = Field(max_length=3)
    payment_reference: str | None = Field(default=None, max_length=200)
    status: GrantStatus = Field(sa_column=enum_column(GrantStatus, index=True))
    issued_at: datetime = Field(sa_column=utc_column())
    valid_from: datetime = Field(sa_column=utc_column())
    valid_until: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    certificate: str | None = Field(default=None, sa_column=sa.Column(sa.Text(), nullable=True))
    certificate_kid: str | None = Field(default=None, max_length=64)
    record: dict[str, Any] = Field(default_factory=dict, sa_column=_json(dict))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class GrantEvent(SQLModel, table=True):
    """One status change of a grant; rows are only ever inserted."""

    __tablename__ = "license_grant_event"

    id: int | None = Field(default=None, primary_key=True)
    grant_id: str = Field(foreign_key="license_grant.id", index=True, max_length=26)
    at: datetime = Field(sa_column=utc_column())
    from_status: GrantStatus | None = Field(
        default=None, sa_column=enum_column(GrantStatus, nullable=True, name="from_status")
    )
    to_status: GrantStatus = Field(sa_column=enum_column(GrantStatus, name="to_status"))
    reason: str = Field(default="", max_length=1000)
    actor: str | None = Field(default=None, max_length=200)


class TermsAcceptance(SQLModel, table=True):
    """Who accepted which terms (by hash) for which organisation, and when: kept even for free licenses."""

    __tablename__ = "terms_acceptance"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    offer_id: int = Field(foreign_key="offer.id", index=True)
    terms_hash: str = Field(max_length=64)
    accepted_at: datetime = Field(sa_column=utc_column())
    ip_address: str = Field(default="", max_length=64)
    grant_id: str | None = Field(default=None, foreign_key="license_grant.id", max_length=26)
