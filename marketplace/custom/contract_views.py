"""The contract page of the custom-data exchange and its actions: pay (checkout through the configured payment
backend, the sandbox by default), start a milestone's delivery (a draft version of the private dataset, filled
through the existing upload page), deliver it, review it (accept, reject with a reason), escalate a rejection,
and the platform admin's decision.

Every action parses its form, calls one service (:mod:`marketplace.custom.escrow`, :mod:`.milestones`,
:mod:`.settlement`, or the catalog's ``add_version``) and redirects to the contract page; a refused action renders
the page again with the problem next to its field.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from marketplace.catalog import services as catalog
from marketplace.catalog.models import Dataset
from marketplace.custom import escrow, forms, milestones, pages, settlement
from marketplace.custom.models import Contract, Milestone
from marketplace.errors import DomainError, NotAuthenticated, NotFound, PermissionDenied, ValidationFailed
from marketplace.money import MoneyInputError, parse_amount
from marketplace.web import current_user, discard_changes, form_data, login_required, parse, require_user, uow

bp = Blueprint("contracts", __name__)

ViewResult = str | WerkzeugResponse | tuple[str, int]


def _render(contract_id: int, status: int = 200, **extra: Any) -> ViewResult:
    page = pages.contract_page(uow().session, current_user(), contract_id)
    page.update(pages.contract_actions(uow(), page["contract"], page["milestones"]))
    extra.setdefault("error", None)
    extra.setdefault("field_errors", {})
    body = render_template("custom/contract.html", **page, **extra)
    return (body, status) if status != 200 else body


def _refused(contract_id: int, error: DomainError, position: int | None = None) -> ViewResult:
    if isinstance(error, (NotFound, NotAuthenticated, PermissionDenied)):
        raise error  # not this user's to do: the error page (403 or 404), not the contract page
    discard_changes()
    fields = error.field_messages() if isinstance(error, ValidationFailed) else {}
    if position is not None:  # each milestone has its own form: its errors carry its position
        fields = {f"{name}-{position}": message for name, message in fields.items()}
    return _render(contract_id, 422 if isinstance(error, ValidationFailed) else 409, error=error.message,
                   field_errors=fields)  # fmt: skip


def _target(contract_id: int, position: int) -> tuple[Contract, Milestone]:
    contract = pages.contract_for(uow().session, current_user(), contract_id)
    return contract, milestones.get_milestone(uow(), contract, position)


@bp.get("/contracts/<int:contract_id>")
@login_required
def show_contract(contract_id: int) -> ViewResult:
    if request.args.get("paid"):
        flash("Thank you. The contract starts as soon as the payment is confirmed.", "info")
    return _render(contract_id)


@bp.post("/contracts/<int:contract_id>/pay")
@login_required
def pay(contract_id: int) -> ViewResult:
    contract = pages.contract_for(uow().session, current_user(), contract_id)
    base = uow().settings["BASE_URL"]
    try:
        payment = escrow.start_payment(
            uow(),
            require_user(),
            contract,
            success_url=f"{base}/contracts/{{CONTRACT_ID}}?paid=1&session={{CHECKOUT_SESSION_ID}}",
            cancel_url=f"{base}/contracts/{{CONTRACT_ID}}",
        )
    except DomainError as error:
        return _refused(contract_id, error)
    if not payment.checkout_url:
        raise NotFound(message="The payment could not be started.")
    return redirect(payment.checkout_url, code=303)


@bp.post("/contracts/<int:contract_id>/milestones/<int:position>/version")
@login_required
def start_delivery(contract_id: int, position: int) -> ViewResult:
    """A new draft version of the private dataset for this milestone, then the upload page to fill it."""
    contract, milestone = _target(contract_id, position)
    dataset = uow().session.get(Dataset, contract.dataset_id)
    assert dataset is not None
    label = str(form_data().get("version") or "").strip()
    try:
        if not label:
            raise ValidationFailed.for_field("version", "give the version a number such as 1.0.0")
        catalog.add_version(
            uow(), require_user(), dataset, version=label,
            changelog=f"Milestone {milestone.position}: {milestone.title}", files=None,
        )  # fmt: skip
    except DomainError as error:
        return _refused(contract_id, error, position)
    return redirect(url_for("delivery.upload_page", slug=dataset.slug, label=label))


@bp.post("/contracts/<int:contract_id>/milestones/<int:position>/deliver")
@login_required
def deliver(contract_id: int, position: int) -> ViewResult:
    contract, milestone = _target(contract_id, position)
    try:
        label = str(form_data().get("version") or "").strip()
        milestones.deliver_milestone(uow(), require_user(), contract, milestone, version=label)
    except DomainError as error:
        return _refused(contract_id, error, position)
    flash(f"Milestone {position} delivered; the buyer is asked to review it.", "success")
    return redirect(url_for("contracts.show_contract", contract_id=contract_id))


@bp.post("/contracts/<int:contract_id>/milestones/<int:position>/accept")
@login_required
def accept(contract_id: int, position: int) -> ViewResult:
    contract, milestone = _target(contract_id, position)
    try:
        milestones.accept_milestone(uow(), require_user(), contract, milestone)
    except DomainError as error:
        return _refused(contract_id, error, position)
    flash(f"Milestone {position} accepted: the provider is paid and the version joins your license.", "success")
    return redirect(url_for("contracts.show_contract", contract_id=contract_id))


@bp.post("/contracts/<int:contract_id>/milestones/<int:position>/<any(reject, escalate, cancel):action>")
@login_required
def with_reason(contract_id: int, position: int, action: str) -> ViewResult:
    contract, milestone = _target(contract_id, position)
    try:
        reason = parse(forms.ReasonFormSchema(), form_data())["reason"]
        user = require_user()
        if action == "reject":
            milestones.reject_milestone(uow(), user, contract, milestone, reason=reason)
        elif action == "escalate":
            milestones.escalate_milestone(uow(), user, contract, milestone, reason=reason)
        else:
            settlement.cancel_milestone(uow(), user, contract, milestone, reason=reason)
    except DomainError as error:
        return _refused(contract_id, error, position)
    done = {"reject": "rejected; the provider is told why", "escalate": "escalated to the platform",
            "cancel": "cancelled; its money is refunded"}  # fmt: skip
    flash(f"Milestone {position} {done[action]}.", "success")
    return redirect(url_for("contracts.show_contract", contract_id=contract_id))


@bp.post("/contracts/<int:contract_id>/milestones/<int:position>/decide")
@login_required
def decide(contract_id: int, position: int) -> ViewResult:
    contract, milestone = _target(contract_id, position)
    data = form_data()
    try:
        decision = settlement.Decision(str(data.get("decision") or ""))
    except ValueError:
        return _refused(contract_id, ValidationFailed.for_field("decision", "choose refund, pay or split"), position)
    try:
        payout = None
        if decision is settlement.Decision.SPLIT:
            try:
                payout = parse_amount(str(data.get("payout_amount") or ""), contract.currency, "the provider's share")
            except MoneyInputError as error:
                raise ValidationFailed.for_field("payout_amount", error.message) from error
        settlement.decide_escalation(
            uow(), require_user(), contract, milestone, decision=decision,
            reason=str(data.get("reason") or ""), payout_amount=payout,
        )  # fmt: skip
    except DomainError as error:
        return _refused(contract_id, error, position)
    flash(f"Decision on milestone {position} recorded.", "success")
    return redirect(url_for("contracts.show_contract", contract_id=contract_id))
