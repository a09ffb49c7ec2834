"""``marketplace custom reconcile`` (contract payments and failed transfers) and ``marketplace custom decide`` (the
platform admin's decision on an escalated milestone: the only way to take it, as an API credential never carries
platform-admin powers). Both join the ``custom`` group in :mod:`marketplace.custom.cli`."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import timedelta

import click
from flask.cli import with_appcontext
from sqlmodel import select

from marketplace.accounts.models import User
from marketplace.db import UnitOfWork
from marketplace.errors import DomainError


def _uow() -> AbstractContextManager[UnitOfWork]:
    from marketplace.cli import _uow as unit

    return unit()


@click.command("reconcile")
@with_appcontext
@click.option("--older-than", default=5, show_default=True, help="Only payments waiting at least this many minutes.")
def reconcile_command(older_than: int) -> None:
    """Ask the payment provider about contract payments still pending, and retry transfers that failed."""
    from marketplace.custom.escrow import reconcile

    with _uow() as uow:
        lines = reconcile(uow, older_than=timedelta(minutes=older_than))
    for line in lines or ["no contract payment or transfer is waiting"]:
        click.echo(line)


@click.command("decide")
@with_appcontext
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
    from marketplace.custom.escrow import get_contract
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
