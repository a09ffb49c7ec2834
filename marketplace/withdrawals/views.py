"""Withdrawal pages: the provider files one and follows each licensee; a licensee reads its notice and signs the
confirmation of deletion. Views parse, call one service and render."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, render_template, request
from sqlmodel import Session, col, select
from werkzeug.wrappers import Response as WerkzeugResponse

from marketplace.accounts.models import Organisation
from marketplace.catalog import services as catalog
from marketplace.catalog.models import Dataset
from marketplace.errors import PermissionDenied, ValidationFailed
from marketplace.permissions import Action, can
from marketplace.web import discard_changes, form_data, login_required, parse, redirect_to, require_user, uow
from marketplace.withdrawals import services
from marketplace.withdrawals.forms import ConfirmationFormSchema, FilingFormSchema
from marketplace.withdrawals.states import NoticeState, WithdrawalReason, WithdrawalState

bp = Blueprint("withdrawals", __name__)

ViewResult = str | WerkzeugResponse | tuple[str, int]


def _org_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {o.id: o.name for o in session.exec(select(Organisation).where(col(Organisation.id).in_(ids))).all()}  # type: ignore[misc]


@bp.get("/withdrawals")
@login_required
def index() -> str:
    """Withdrawals filed by the user's providers, and notices received by the user's organisations."""
    return render_template("withdrawals/index.html", **services.overview(uow(), require_user()))


def _filing_context(dataset: Dataset) -> dict[str, Any]:
    files = services.filing_options(uow().session, dataset)
    return {
        "dataset": dataset,
        "versions": list(files),
        "files": files,
        "reasons": [(r.value, r.label) for r in WithdrawalReason],
        "form": {},
    }


@bp.route("/datasets/<slug>/withdrawals/new", methods=["GET", "POST"])
@login_required
def new(slug: str) -> ViewResult:
    """The provider's form: which published version, why, which files and record ids, how long to delete."""
    session = uow().session
    user = require_user()
    dataset = catalog.get_dataset(session, slug)
    if not can(session, user, Action.WITHDRAWAL_FILE, dataset):
        raise PermissionDenied(message="Only the provider's members (or a platform admin) can withdraw data.")
    context = _filing_context(dataset)
    if request.method == "GET":
        return render_template("withdrawals/new.html", **context)
    data = {**form_data(), "files": request.form.getlist("files")}
    try:
        fields = parse(FilingFormSchema(), data)
        filing = services.Filing(
            **{**fields, "files": tuple(fields["files"]), "record_ids": tuple(fields["record_ids"])}
        )
        withdrawal = services.file_withdrawal(uow(), user, dataset, filing)
    except ValidationFailed as error:
        discard_changes()
        return render_template(
            "withdrawals/new.html",
            **{**context, "form": data},
            error=error.message,
            field_errors=error.field_messages(),
        ), 422
    flash("Withdrawal filed: the version no longer serves downloads. Publish the patched version to notify licensees.",
          "success")  # fmt: skip
    return redirect_to("withdrawals.show", withdrawal_id=withdrawal.id)


@bp.get("/withdrawals/<int:withdrawal_id>")
@login_required
def show(withdrawal_id: int) -> str:
    """The provider's (and platform admins') page: the withdrawal, its patched version, each licensee's status."""
    session = uow().session
    withdrawal = services.get_withdrawal(uow(), require_user(), withdrawal_id)
    notices = services.notices_of(session, withdrawal)
    return render_template(
        "withdrawals/show.html",
        withdrawal=withdrawal,
        dataset=session.get(Dataset, withdrawal.dataset_id),
        patched=services.patched_version(session, withdrawal),
        notices=notices,
        counts=services.status_counts(notices),
        licensees=_org_names(session, {n.licensee_org_id for n in notices}),
        can_publish=withdrawal.state is WithdrawalState.FILED,
    )


@bp.post("/withdrawals/<int:withdrawal_id>/publish")
@login_required
def publish(withdrawal_id: int) -> WerkzeugResponse:
    """Publish the patched version and notify every licensee."""
    user = require_user()
    withdrawal = services.get_withdrawal(uow(), user, withdrawal_id)
    notices = services.publish_patched_version(uow(), user, withdrawal)
    flash(f"Patched version published; {len(notices)} licensee(s) notified.", "success")
    return redirect_to("withdrawals.show", withdrawal_id=withdrawal_id)


@bp.route("/withdrawal-notices/<int:notice_id>", methods=["GET", "POST"])
@login_required
def notice(notice_id: int) -> ViewResult:
    """A licensee's notice, with the signed confirmation of deletion (the form, for the licensee's members)."""
    session = uow().session
    user = require_user()
    row, withdrawal = services.get_notice(uow(), user, notice_id)
    context: dict[str, Any] = {
        "notice": row,
        "withdrawal": withdrawal,
        "dataset": session.get(Dataset, withdrawal.dataset_id),
        "patched": services.patched_version(session, withdrawal),
        "licensee": session.get(Organisation, row.licensee_org_id),
        "may_confirm": can(session, user, Action.WITHDRAWAL_CONFIRM, row) and row.state is not NoticeState.CONFIRMED,
        "form": {},
        "today": uow().now().date().isoformat(),
    }
    if request.method == "GET":
        return render_template("withdrawals/notice.html", **context)
    data = form_data()
    try:
        fields = parse(ConfirmationFormSchema(), data)
        services.confirm_deletion(uow(), user, row, services.Confirmation(**fields))
    except ValidationFailed as error:
        discard_changes()
        return render_template(
            "withdrawals/notice.html", **{**context, "form": data}, error=error.message,
            field_errors=error.field_messages(),
        ), 422  # fmt: skip
    flash("Deletion confirmed. The provider can see your signed confirmation.", "success")
    return redirect_to("withdrawals.notice", notice_id=notice_id)
