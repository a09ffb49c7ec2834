"""The reviewers' pages: the queue with filters, batch approve/reject with a reason and an expiry per approval,
reset or revoke, grant without a request, the access report as CSV, and the reviewer's notification choice."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from marketplace.access import audit, pages
from marketplace.access import requests as reqs
from marketplace.access import web_schemas as forms
from marketplace.access.states import RequestState, ReviewerNotice
from marketplace.accounts.models import Organisation
from marketplace.accounts.services import user_by_email
from marketplace.catalog.models import Dataset
from marketplace.errors import Conflict, NotFound, ValidationFailed
from marketplace.web import discard_changes, form_data, login_required, parse, require_user, uow

bp = Blueprint("access_review", __name__)

ViewResult = str | WerkzeugResponse | tuple[str, int]


def _provider(slug: str | None) -> tuple[Organisation, list[Organisation]]:
    """The provider whose queue to show (``slug``, or the first the person reviews for); 403 for non-reviewers."""
    providers = pages.reviewable_providers(uow().session, require_user())
    if not providers:
        abort(403)
    if not slug:
        return providers[0], providers
    for provider in providers:
        if provider.slug == slug:
            return provider, providers
    raise NotFound(message="No such provider.")


def _queue_page(args: dict[str, Any], **extra: Any) -> str:
    session, user = uow().session, require_user()
    data = parse(
        forms.QueueFilterForm(),
        forms.blank_to_none(args, "provider", "dataset", "submitted_from", "submitted_to"),
    )
    provider, providers = _provider(data["provider"])
    filters = reqs.QueueFilter(
        state=RequestState(data["state"]) if data["state"] else None,
        dataset_id=data["dataset"],
        submitted_from=data["submitted_from"],
        submitted_to=data["submitted_to"],
    )
    rows = pages.queue_rows(session, reqs.review_queue(session, user, provider, filters))
    return render_template(
        "access/review.html",
        provider=provider,
        providers=providers,
        datasets=pages.datasets_of(session, provider),
        rows=rows,
        filters=data,
        states=RequestState,
        notice=pages.own_notice(session, user, provider),
        notices=ReviewerNotice,
        error=extra.pop("error", None),
        field_errors=extra.pop("field_errors", {}),
        form=extra.pop("form", {}),
    )


@bp.get("/access/review")
@login_required
def queue() -> ViewResult:
    return _queue_page(request.args.to_dict())


@bp.post("/access/review")
@login_required
def decide() -> ViewResult:
    user = require_user()
    provider_slug = request.form.get("provider") or ""
    raw = {**form_data(), "request_ids": request.form.getlist("request_ids")}
    try:
        data = parse(forms.BatchForm(), raw)
        if data["action"] == "approve":
            try:
                expiries = forms.posted_expiries(request.form, data["request_ids"])
            except ValueError as bad:
                raise ValidationFailed.for_field("Expiry", "must be a date (YYYY-MM-DD)") from bad
            if not expiries:
                raise ValidationFailed.for_field("Requests", "choose at least one request")
            done = len(pages.approve_batch(uow(), user, expiries, reason=data["reason"]))
        else:
            done = len(reqs.reject_requests(uow(), user, data["request_ids"], reason=data["reason"]))
    except (ValidationFailed, Conflict) as error:
        discard_changes()
        status = 422 if isinstance(error, ValidationFailed) else 409
        return _queue_page({"provider": provider_slug}, error=error.message, form=form_data()), status
    verb = "approved" if data["action"] == "approve" else "rejected"
    flash(f"{done} request(s) {verb}.", "success")
    return redirect(url_for("access_review.queue", provider=provider_slug or None))


@bp.post("/access/approvals/<int:approval_id>/end")
@login_required
def end_approval(approval_id: int) -> ViewResult:
    user = require_user()
    approval = reqs.get_approval(uow().session, user, approval_id)
    try:
        data = parse(forms.ResetForm(), form_data())
        if data["action"] == "revoke":
            reqs.revoke_approval(uow(), user, approval, reason=data["reason"])
        else:
            reqs.reset_approval(uow(), user, approval, reason=data["reason"])
    except (ValidationFailed, Conflict) as error:
        discard_changes()
        flash(f"Access could not be ended: {error.message}", "error")
    else:
        flash("Access ended: the person must request it again." if data["action"] == "reset" else "Access revoked.",
              "success")  # fmt: skip
    if approval.request_id:
        return redirect(url_for("access.request_status", request_id=approval.request_id))
    return redirect(url_for("access_review.queue"))


def _grant_page(provider: Organisation, providers: list[Organisation], **extra: Any) -> str:
    return render_template(
        "access/grant.html",
        provider=provider,
        providers=providers,
        datasets=pages.datasets_of(uow().session, provider),
        form=extra.pop("form", {}),
        field_errors=extra.pop("field_errors", {}),
        error=extra.pop("error", None),
    )


@bp.get("/access/review/grant")
@login_required
def grant_form() -> ViewResult:
    provider, providers = _provider(request.args.get("provider"))
    return _grant_page(provider, providers)


@bp.post("/access/review/grant")
@login_required
def grant() -> ViewResult:
    session, user = uow().session, require_user()
    provider, providers = _provider(request.form.get("provider"))
    try:
        data = parse(forms.GrantForm(), forms.blank_to_none(form_data(), "expires_on", "dataset"))
        dataset = session.get(Dataset, data["dataset"])
        if dataset is None or dataset.organisation_id != provider.id:
            raise ValidationFailed.for_field("dataset", "choose one of your governed datasets")
        person = user_by_email(session, data["email"])
        if person is None:
            raise ValidationFailed.for_field("email", "no account uses this e-mail address")
        reqs.grant_access(
            uow(), user, dataset, person=person, organisation_slug=data["organisation"],
            expires_at=pages.end_of_day(data["expires_on"]) if data["expires_on"] else None, reason=data["reason"],
        )  # fmt: skip
    except (ValidationFailed, Conflict) as error:
        discard_changes()
        problems = error.details if isinstance(error, ValidationFailed) else []
        labels = {"Organisation": "organisation", "Expiry": "expires_on"}
        field_errors = {labels.get(p.field, p.field): p.message for p in problems}
        context = {"error": error.message if not field_errors else "Please correct the fields marked below."}
        return _grant_page(provider, providers, form=form_data(), field_errors=field_errors, **context), 422
    flash(f"Access granted to {data['email']}.", "success")
    return redirect(url_for("access_review.queue", provider=provider.slug))


@bp.get("/access/review/report.csv")
@login_required
def report() -> Response:
    provider, _ = _provider(request.args.get("provider"))
    text = audit.export_csv(uow().session, require_user(), provider)
    response = Response(text, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="access-report-{provider.slug}.csv"'
    return response


@bp.post("/access/review/notifications")
@login_required
def notifications() -> ViewResult:
    provider, _ = _provider(request.form.get("provider"))
    try:
        notice = ReviewerNotice(request.form.get("notice", ""))
    except ValueError:
        flash("Choose real time or a daily digest.", "error")
        return redirect(url_for("access_review.queue", provider=provider.slug))
    pages.set_own_notice(uow(), require_user(), provider, notice)
    words = "at once" if notice is ReviewerNotice.REALTIME else "in a daily digest"
    flash(f"You will hear of new requests to {provider.name} {words}.", "success")
    return redirect(url_for("access_review.queue", provider=provider.slug))
