"""The contract page both parties read (milestones, deliveries, payments, timeline), and the buyer's Pay button.

Views parse, call one service and render; whoever is not a party gets a 404 (the service's lookup decides).
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from werkzeug.wrappers import Response

from marketplace.custom import escrow
from marketplace.custom.contract_summary import contract_summary
from marketplace.permissions import Action, can
from marketplace.web import login_required, require_user, uow

bp = Blueprint("contracts", __name__)


@bp.get("/contracts/<int:contract_id>")
@login_required
def show(contract_id: int) -> str:
    """The contract as its two parties see it."""
    session = uow().session
    user = require_user()
    contract = escrow.get_contract(session, user, contract_id)
    return render_template(
        "custom/contract.html",
        contract=contract,
        summary=contract_summary(uow(), contract),
        may_pay=can(session, user, Action.CUSTOM_CONTRACT_PAY, contract),
    )


@bp.post("/contracts/<int:contract_id>/pay")
@login_required
def pay(contract_id: int) -> Response:
    """Open (or reopen) the checkout for what is due, and send the buyer there."""
    user = require_user()
    contract = escrow.get_contract(uow().session, user, contract_id)
    back = url_for("contracts.show", contract_id=contract_id, _external=True)
    payment = escrow.start_payment(
        uow(), user, contract, success_url=back + "?session_id={CHECKOUT_SESSION_ID}", cancel_url=back
    )
    return redirect(payment.checkout_url or back, code=303)
