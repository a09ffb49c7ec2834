"""``marketplace custom …``: the review-window sweep, reconciling contract payments, and the admin's decision on
an escalated milestone (the only way to take it: an API credential never carries platform-admin powers)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import timedelta

import click
from flask.cli import AppGroup
from sqlmodel import select

from marketplace.accounts.models import User
from marketplace.db import UnitOfWork
from marketplace.errors import DomainError


@click.group("custom", cls=AppGroup)
def custom_group() -> None:
    """Custom-data requests, quotes and contracts."""


def _uow() -> AbstractContextManager[UnitOfWork]:
    from marketplace.cli import _uow as unit

    return unit()


@custom_group.command("sweep")
def sweep_command() -> None:
    """Accept every delivered milestone whose review period (CUSTOM_REVIEW_DAYS) ended in silence."""
    from marketplace.custom.milestones import sweep

    with _uow() as uow:
        lines = sweep(uow)
    for line in lines or ["no milestone is past its review deadline"]:
        click.echo(line)


@custom_group.command("reconcile")
@click.option("--older-than", default=5, show_default=True, help="Only payments waiting at least this many minutes.")
def reconcile_command(older_than: int) -> None:
    """Ask the payment provider about contract payments still pending, and retry transfers that failed."""
    from marketplace.custom.contracts import reconcile

    with _uow() as uow:
        lines = reconcile(uow, older_than=timedelta(minutes=older_than))
    for line in lines or ["no contract payment or transfer is waiting"]:
        click.echo(line)


@custom_group.command("decide")
@click.argument("contract_id", type=int)
@click.argument("position", type=int)
@click.option("--admin", "admin_email", required=True, help="E-mail of the platform admin deciding.")
@click.option("--decision", type=click.Choice(["refund", "pay", "split"]), required=True)
@click.option("--payout", type=int, default=None, help="With split: minor units paid to the provider.")
@click.option("--reason", required=True, help="Why; recorded in both parties' timeline.")
def decide_command(
    contract_id: int, position: int, admin_email: str, decision: str, payout: int | None, reason: str
) -> None:
    """Settle an escalated rejection of milestone POSITION of contract CONTRACT_ID."""
    from marketplace.custom import settlement
    from marketplace.custom.contracts import get_contract
    from marketplace.custom.milestones import get_milestone
    from marketplace.custom.models import Contract

    try:
        with _uow() as uow:
            admin = uow.session.exec(select(User).where(User.email == admin_email.strip().lower())).first()
            if admin is None or not admin.is_platform_admin:
                raise click.ClickException(f"{admin_email} is not a platform admin")
            contract = uow.session.get(Contract, contract_id) or get_contract(uow.session, admin, contract_id)
            milestone = get_milestone(uow, contract, position)
            settlement.decide_escalation(
                uow, admin, contract, milestone, decision=settlement.Decision(decision), reason=reason,
                payout_amount=payout,
            )  # fmt: skip
            click.echo(
                f"contract {contract.id} milestone {position}: {milestone.state.value}; contract {contract.state.value}"
            )
    except DomainError as error:
        raise click.ClickException(error.message) from error
