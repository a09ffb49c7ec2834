"""Pages of the custom-data exchange: the requests board, posting and editing a request, quoting, comparing and
deciding on quotes, the private conversations, and the contract.

Each view parses its form (:mod:`marketplace.custom.forms`), calls one service, and renders or redirects; a
refused form is rendered again with each problem next to its field, after the unit of work was rolled back.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

import licensing
from licensing.terms import FIELD_NAMES as TERM_NAMES
from marketplace.catalog import vocab
from marketplace.custom import access, contracts, forms, pages, quotes, requests, threads
from marketplace.custom.models import PaymentPlan, Visibility, VolumeUnit
from marketplace.errors import DomainError, NotFound, ValidationFailed
from marketplace.labels import describe_problems
from marketplace.web import current_user, discard_changes, form_data, login_required, parse, require_user, uow

bp = Blueprint("custom", __name__)

ViewResult = str | WerkzeugResponse | tuple[str, int]


def _errors(error: DomainError) -> dict[str, Any]:
    if not isinstance(error, ValidationFailed):
        return {"error": error.message, "field_errors": {}}
    fields: dict[str, str] = {}
    for name, message in error.field_messages().items():
        term = name.removeprefix("license_overrides.")
        fields[f"terms.{term}" if term.split(".")[0] in TERM_NAMES else name] = message
    summary = "Please correct the form: " + describe_problems(error.details) if error.details else error.message
    return {"error": summary, "field_errors": fields}


def _posted(checkbox_fields: tuple[str, ...] = ()) -> dict[str, Any]:
    data = form_data()
    for name in (*checkbox_fields, "terms.permitted_uses"):
        data[name] = request.form.getlist(name)
    return data


def _vocabularies() -> dict[str, Any]:
    return {
        "vocab": vocab,
        "volume_units": [(u.value, u.value) for u in VolumeUnit],
        "license_choices": pages.license_choices(),
        "payment_plans": [
            (PaymentPlan.UPFRONT.value, "All up front"),
            (PaymentPlan.PER_MILESTONE.value, "Per milestone, as each is due"),
        ],
        "visibilities": [
            (Visibility.OPEN.value, "Open: on the public requests board"),
            (Visibility.INVITED.value, "Invited providers only"),
        ],
        "max_rows": forms.MAX_MILESTONE_ROWS,
    }


# --- the board --------------------------------------------------------------------------------------------------------


@bp.get("/requests")
def board() -> ViewResult:
    args = request.args.to_dict()
    try:
        loaded = parse(forms.BoardFilterSchema(), args)
        filters = pages.BoardFilters(
            modality=loaded["modality"],
            language=loaded["language"],
            currency=(loaded["currency"] or "").upper() or None,
            budget_amount=(
                licensing.Money.parse(loaded["budget"], (loaded["currency"] or "EUR").upper()).amount
                if loaded["budget"]
                else None
            ),
        )
    except (DomainError, licensing.LicensingError) as error:
        return render_template(
            "custom/board.html",
            error=f"The filters could not be read: {error.message}",
            form=args,
            **pages.board(uow().session, current_user(), "board", pages.BoardFilters()),
        ), 400
    page = pages.board(uow().session, current_user(), loaded["tab"], filters)
    return render_template("custom/board.html", error=None, form=args, **page)


# --- posting and editing a request ------------------------------------------------------------------------------------


@bp.route("/requests/new", methods=["GET", "POST"])
@login_required
def new_request() -> ViewResult:
    user = require_user()
    session = uow().session
    provider_slug = request.values.get("provider") or None
    listing_slug = request.values.get("listing") or request.values.get("source_dataset") or None
    context = {**_vocabularies(), **pages.new_request_context(session, user, provider_slug, listing_slug)}
    if request.method == "GET":
        form: dict[str, Any] = {"currency": "EUR", "visibility": "open", "personal_data.personal_data": "unknown"}
        if context["listing"] is not None:
            form["modality"] = context["listing"].modality.value if context["listing"].modality else ""
        if context["provider"] is not None:
            form["invite"] = context["provider"].slug
        return render_template("custom/request_form.html", form=form, editing=None, **context)
    data = _posted(forms.REQUEST_CHECKBOX_FIELDS)
    try:
        spec = parse(forms.RequestFormSchema(), data)
        extras = forms.request_extras(data)
        if context["listing"] is not None:
            extras["source_dataset_slug"] = context["listing"].slug
        created = requests.create_request(uow(), user, spec, **extras)
        for upload in request.files.getlist("attachments"):
            if upload and upload.filename:
                requests.attach_to_request(
                    uow(), user, created, filename=upload.filename, media_type=upload.mimetype or "",
                    content=upload.read(),
                )  # fmt: skip
    except DomainError as error:
        discard_changes()
        return render_template("custom/request_form.html", form=data, editing=None, **context, **_errors(error)), 422
    flash("Your request is posted. Providers can now quote on it.", "success")
    return redirect(url_for("custom.show_request", request_id=created.id))


@bp.route("/requests/<int:request_id>/edit", methods=["GET", "POST"])
@login_required
def edit_request(request_id: int) -> ViewResult:
    user = require_user()
    data_request = pages.editable_request(uow().session, user, request_id)
    context = {
        **_vocabularies(),
        "editing": data_request,
        "has_quotes": bool(requests.quoting_provider_ids(uow().session, data_request)),
        "revisions": requests.request_revisions(uow().session, user, data_request),
        "buyer_orgs": [],
        "listing": None,
        "provider": None,
    }
    if request.method == "GET":
        return render_template("custom/request_form.html", form=pages.request_form_values(data_request), **context)
    data = _posted(forms.REQUEST_CHECKBOX_FIELDS)
    try:
        spec = parse(forms.RequestFormSchema(), data)
        requests.update_request(uow(), user, data_request, spec)
    except DomainError as error:
        discard_changes()
        return render_template("custom/request_form.html", form=data, **context, **_errors(error)), 422
    flash(
        "Request updated. The providers who quoted are told of the change."
        if context["has_quotes"]
        else "Request updated.",
        "success",
    )
    return redirect(url_for("custom.show_request", request_id=request_id))


# --- the request page -------------------------------------------------------------------------------------------------


def _render_request(request_id: int, status: int = 200, **extra: Any) -> ViewResult:
    page = pages.request_page(uow().session, current_user(), request_id)
    extra.setdefault("error", None)
    extra.setdefault("field_errors", {})
    body = render_template("custom/request.html", **page, **_vocabularies(), **extra)
    return (body, status) if status != 200 else body


@bp.get("/requests/<int:request_id>")
def show_request(request_id: int) -> ViewResult:
    return _render_request(request_id)


@bp.post("/requests/<int:request_id>/attachments")
@login_required
def attach(request_id: int) -> ViewResult:
    user = require_user()
    data_request = pages.editable_request(uow().session, user, request_id)
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise ValidationFailed.for_field("file", "choose a file to attach")
        requests.attach_to_request(
            uow(), user, data_request, filename=upload.filename, media_type=upload.mimetype or "", content=upload.read()
        )
    except DomainError as error:
        discard_changes()
        return _render_request(request_id, 422, **_errors(error))
    flash(f"{upload.filename} attached.", "success")
    return redirect(url_for("custom.show_request", request_id=request_id))


@bp.get("/requests/<int:request_id>/files/<int:attachment_id>/<filename>")
def attachment(request_id: int, attachment_id: int, filename: str) -> Response:
    found, content = pages.attachment_content(uow(), current_user(), request_id, attachment_id)
    if found.filename != filename:
        raise NotFound(message="No such file.")
    response = Response(content, content_type=found.media_type or "application/octet-stream")
    response.headers["Content-Disposition"] = f'attachment; filename="{found.filename}"'
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.post("/requests/<int:request_id>/invite")
@login_required
def invite(request_id: int) -> ViewResult:
    user = require_user()
    data_request = pages.editable_request(uow().session, user, request_id)
    try:
        loaded = parse(forms.InviteFormSchema(), form_data())
        requests.invite_provider(uow(), user, data_request, loaded["provider"].strip())
    except DomainError as error:
        discard_changes()
        return _render_request(request_id, 422, **_errors(error))
    flash(f"{loaded['provider']} is invited to quote.", "success")
    return redirect(url_for("custom.show_request", request_id=request_id))


@bp.post("/requests/<int:request_id>/close")
@login_required
def close(request_id: int) -> ViewResult:
    user = require_user()
    data_request = pages.editable_request(uow().session, user, request_id)
    try:
        loaded = parse(forms.ReasonFormSchema(), form_data())
        requests.close_request(uow(), user, data_request, reason=loaded["reason"])
    except DomainError as error:
        discard_changes()
        return _render_request(request_id, 409 if not isinstance(error, ValidationFailed) else 422, **_errors(error))
    flash("The request is closed; standing quotes were declined.", "success")
    return redirect(url_for("custom.show_request", request_id=request_id))


# --- quotes -----------------------------------------------------------------------------------------------------------


@bp.route("/requests/<int:request_id>/quote", methods=["GET", "POST"])
@login_required
def quote_form(request_id: int) -> ViewResult:
    user = require_user()
    context = {**_vocabularies(), **pages.quote_form_context(uow().session, user, request_id)}
    standing = context["quote"]
    if request.method == "GET":
        form = (
            pages.quote_form_values(uow().session, standing) if standing else {"currency": context["request"].currency}
        )
        return render_template("custom/quote_form.html", form=form, rows=_row_count(form), **context)
    data = forms.compact_quote_form(_posted())
    try:
        loaded = parse(forms.QuoteFormSchema(), data)
        if standing is None:
            quotes.submit_quote(
                uow(), user, context["request"], loaded, organisation_slug=data.get("organisation") or None
            )
        else:
            quotes.revise_quote(uow(), user, standing, loaded)
    except DomainError as error:
        discard_changes()
        return render_template(
            "custom/quote_form.html", form=data, rows=_row_count(data), **context, **_errors(error)
        ), 422
    flash("Your revised quote is sent to the buyer." if standing else "Your quote is sent to the buyer.", "success")
    return redirect(url_for("custom.show_request", request_id=request_id))


def _row_count(form: dict[str, Any]) -> int:
    filled = len(forms.milestone_rows(form))
    return min(forms.MAX_MILESTONE_ROWS, max(filled + 1, 3))


def _quote_action(quote_id: int) -> Any:
    return access.get_quote(uow().session, current_user(), quote_id)


@bp.post("/quotes/<int:quote_id>/withdraw")
@login_required
def withdraw(quote_id: int) -> ViewResult:
    quote = _quote_action(quote_id)
    try:
        loaded = parse(forms.ReasonFormSchema(), form_data())
        quotes.withdraw_quote(uow(), require_user(), quote, reason=loaded["reason"])
    except DomainError as error:
        discard_changes()
        return _render_request(quote.request_id, 409, **_errors(error))
    flash("Your quote is withdrawn.", "success")
    return redirect(url_for("custom.show_request", request_id=quote.request_id))


@bp.post("/quotes/<int:quote_id>/decline")
@login_required
def decline(quote_id: int) -> ViewResult:
    quote = _quote_action(quote_id)
    try:
        loaded = parse(forms.ReasonFormSchema(), form_data())
        quotes.decline_quote(uow(), require_user(), quote, reason=loaded["reason"])
    except DomainError as error:
        discard_changes()
        errors = _errors(error)
        if "reason" in errors["field_errors"]:
            errors["field_errors"][f"decline-{quote_id}"] = errors["field_errors"].pop("reason")
        return _render_request(quote.request_id, 422 if isinstance(error, ValidationFailed) else 409, **errors)
    flash("The quote is declined; the provider is told why.", "success")
    return redirect(url_for("custom.show_request", request_id=quote.request_id))


@bp.post("/quotes/<int:quote_id>/accept")
@login_required
def accept(quote_id: int) -> ViewResult:
    quote = _quote_action(quote_id)
    try:
        contract = contracts.accept_quote(uow(), require_user(), quote)
    except DomainError as error:
        discard_changes()
        return _render_request(quote.request_id, 409, **_errors(error))
    flash("Quote accepted: the contract is made. Pay to start the work.", "success")
    return redirect(url_for("contracts.show_contract", contract_id=contract.id))


# --- conversations ----------------------------------------------------------------------------------------------------


@bp.route("/requests/<int:request_id>/messages", methods=["GET", "POST"])
@login_required
def conversation(request_id: int) -> ViewResult:
    user = require_user()
    provider_slug = request.values.get("provider") or None
    try:
        context = pages.thread_page(uow(), user, request_id, provider_slug)
    except ValidationFailed as error:
        raise NotFound(message="No such conversation.") from error
    if request.method == "GET":
        return render_template("custom/thread.html", form={}, error=None, field_errors={}, **context)
    data = form_data()
    try:
        loaded = parse(forms.MessageFormSchema(), data)
        files = [(f.filename, f.mimetype or "", f.read()) for f in request.files.getlist("files") if f and f.filename]
        threads.post_message(uow(), user, context["thread"], loaded["body"], files=files)
    except DomainError as error:
        discard_changes()
        context = pages.thread_page(uow(), user, request_id, provider_slug)
        return render_template("custom/thread.html", form=data, **context, **_errors(error)), 422
    return redirect(url_for("custom.conversation", request_id=request_id, provider=context["provider"].slug))
