"""Providers' payout accounts (onboarding with the payment provider) and their sales ledger."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

from marketplace.accounts.models import Organisation, OrgKind, User
from marketplace.catalog.models import Dataset
from marketplace.db import UnitOfWork
from marketplace.errors import ValidationFailed
from marketplace.orders.base import backend, payment_failure, provider_account
from marketplace.orders.models import (
    Order,
    OrderLine,
    OrderStatus,
    ProviderAccount,
)
from marketplace.orders.payments import (
    PaymentError,
)
from marketplace.permissions import Action, require

log = logging.getLogger(__name__)


# --- provider payouts and ledger ------------------------------------------------------------------------------------


def payout_account(session: Session, org: Organisation) -> ProviderAccount | None:
    return provider_account(session, org.id)  # type: ignore[arg-type]


def start_onboarding(uow: UnitOfWork, actor: User, org: Organisation, *, country: str, return_url: str,
                     refresh_url: str) -> str:  # fmt: skip
    """Create the provider's connected account if needed and return the onboarding link to send them to."""
    require(uow.session, actor, Action.ORG_UPDATE, org)
    if org.kind is not OrgKind.PROVIDER:
        raise ValidationFailed.for_field("organisation", "only provider organisations receive payouts")
    pay = backend(uow)
    account = provider_account(uow.session, org.id)  # type: ignore[arg-type]
    try:
        if account is None:
            created = pay.create_express_account(actor.email, country, idempotency_key=f"account:{org.id}")
            account = ProviderAccount(
                organisation_id=org.id,  # type: ignore[arg-type]
                account_id=created.id,
                backend=pay.name,
                charges_enabled=created.charges_enabled,
                payouts_enabled=created.payouts_enabled,
                requirements_due=list(created.requirements_due),
                updated_at=uow.now(),
            )
            uow.session.add(account)
            uow.session.flush()
        return pay.account_onboarding_link(account.account_id, refresh_url, return_url)
    except PaymentError as error:
        raise payment_failure(error) from error


def refresh_account(uow: UnitOfWork, actor: User, org: Organisation) -> ProviderAccount | None:
    """Ask the provider for the account's state (on return from onboarding; the redirect itself proves nothing)."""
    require(uow.session, actor, Action.ORG_VIEW, org)
    account = provider_account(uow.session, org.id)  # type: ignore[arg-type]
    if account is None:
        return None
    try:
        facts = backend(uow).retrieve_account(account.account_id)
    except PaymentError as error:
        raise payment_failure(error) from error
    account.charges_enabled, account.payouts_enabled = facts.charges_enabled, facts.payouts_enabled
    account.requirements_due = list(facts.requirements_due)
    account.updated_at = uow.now()
    uow.session.add(account)
    return account


@dataclass
class Ledger:
    rows: list[tuple[OrderLine, Order, Dataset | None]]
    totals: dict[str, dict[str, int]]  # currency -> gross/fee/net/refunded
    daily: dict[str, list[tuple[date, int]]]  # currency -> [(day, net)]


def sales_ledger(session: Session, actor: User, org: Organisation, *, days: int = 90, now: datetime) -> Ledger:
    """A provider's sales: every paid line of its datasets with gross, platform fee, net and payout status."""
    require(session, actor, Action.ORG_VIEW, org)
    rows = session.exec(
        select(OrderLine, Order)
        .join(Order, col(Order.id) == OrderLine.order_id)
        .where(OrderLine.provider_org_id == org.id, col(Order.paid_at).is_not(None))
        .order_by(col(Order.paid_at).desc())
    ).all()
    totals: dict[str, dict[str, int]] = defaultdict(lambda: {"gross": 0, "fee": 0, "net": 0, "refunded": 0})
    by_day: dict[str, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    start = (now - timedelta(days=days - 1)).date()
    out = []
    for line, order in rows:
        t = totals[line.currency]
        refunded = order.status is OrderStatus.REFUNDED
        t["gross"] += line.amount
        t["fee"] += line.platform_fee_amount
        t["net"] += 0 if refunded else line.net_amount
        t["refunded"] += line.amount if refunded else 0
        assert order.paid_at is not None
        if order.paid_at.date() >= start and not refunded:
            by_day[line.currency][order.paid_at.date()] += line.net_amount
        out.append((line, order, session.get(Dataset, line.dataset_id)))
    daily = {
        cur: [(start + timedelta(days=i), days_map.get(start + timedelta(days=i), 0)) for i in range(days)]
        for cur, days_map in by_day.items()
    }
    return Ledger(rows=out, totals=dict(totals), daily=daily)
