"""Governed-access pages: the provider's access settings, agreements and extra fields; the requester's form,
signature, status, "My access" and credentials; the reviewers' queue, batch decisions, grants, the access report
and the credential verification queue. Each view parses its input, calls one service and renders."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from marketplace.access import agreements, credentials, pages, policy
from marketplace.access import requests as reqs
from marketplace.access import web_schemas as forms
from marketplace.access.models import Agreement
from marketplace.access.states import FieldKind
from marketplace.accounts.models import Organisation, User
from marketplace.accounts.services import get_organisation
from marketplace.catalog import services as catalog
from marketplace.catalog.models import Dataset
from marketplace.errors import Conflict, DomainError, NotFound, ValidationFailed
from marketplace.permissions import Action, can
from marketplace.web import client_ip, discard_changes, form_data, login_required, parse, require_user, uow

bp = Blueprint("access", __name__)

ViewResult = str | WerkzeugResponse | tuple[str, int]

#: The services' field labels → the inputs they belong to, so an error shows next to its field.
REQUEST_INPUTS = {
    "Full name": "full_name",
    "Organisation": "organisation",
    "Intended use": "intended_uses",
    "Describe your intended use": "intended_use_text",
    "Country": "country",
}
POLICY_INPUTS = {"Default expiry (days)": "default_expiry_days", "Agreement": "agreement_id"}
CREDENTIAL_INPUTS = {
    "Certificate file": "file",
    "Issuer": "issuer",
    "Course": "course",
    "Completion date": "completed_on",
    "Expiry date": "expires_on",
}


def _failure(error: DomainError, inputs: dict[str, str] | None = None) -> dict[str, Any]:
    """The page context of a failed form: the message, and each problem keyed by the input it belongs to."""
    discard_changes()
    problems = error.details if isinstance(error, ValidationFailed) else []
    field_errors = {(inputs or {}).get(p.field, p.field): p.message for p in problems}
    message = "Please correct the fields marked below." if field_errors else error.message
    return {"error": message, "field_errors": field_errors}


def _status(error: DomainError) -> int:
    return 422 if isinstance(error, ValidationFailed) else 409


# --- provider: settings, agreements, extra fields --------------------------------------------------------------------


def _managed_dataset(slug: str) -> Dataset:
    """The dataset for its provider's admins; anyone else is told it does not exist."""
    session = uow().session
    dataset = catalog.get_dataset(session, slug)
    provider = session.get(Organisation, dataset.organisation_id)
    if not can(session, require_user(), Action.ACCESS_MANAGE, provider):
        raise NotFound(message=f"No dataset called {slug!r}.")
    return dataset


def _settings_page(dataset: Dataset, **extra: Any) -> str:
    context = pages.policy_page(uow().session, dataset)
    fields_ = extra.pop("extra_fields", None)
    if fields_ is None:
        fields_ = list(context["policy"].form_fields)
    blanks = int(extra.pop("blanks", 1))
    return render_template(
        "access/settings.html",
        dataset=dataset,
        rows=fields_ + [{} for _ in range(blanks)],
        modes=pages.MODE_LABELS,
        kinds=forms.FIELD_KIND_LABELS,
        form=extra.pop("form", {}),
        field_errors=extra.pop("field_errors", {}),
        error=extra.pop("error", None),
        **context,
    )


@bp.get("/datasets/<slug>/access")
@login_required
def settings(slug: str) -> ViewResult:
    return _settings_page(_managed_dataset(slug))


@bp.post("/datasets/<slug>/access")
@login_required
def save_settings(slug: str) -> ViewResult:
    dataset = _managed_dataset(slug)
    definitions = forms.posted_field_definitions(request.form)
    if request.form.get("add_field"):
        # "Add another field" re-shows the form with one more blank fieldset; nothing is saved yet.
        return _settings_page(dataset, extra_fields=definitions, blanks=1, form=form_data())
    try:
        data = parse(forms.PolicyForm(), forms.blank_to_none(form_data(), "default_expiry_days", "agreement_id"))
        policy.configure_access(
            uow(), require_user(), dataset, mode=data["mode"], holder=data["holder"],
            samples_public=data["samples_public"], default_expiry_days=data["default_expiry_days"],
            agreement_id=data["agreement_id"], form_fields=definitions,
        )  # fmt: skip
    except (ValidationFailed, Conflict) as error:
        context = _failure(error, POLICY_INPUTS)
        return _settings_page(dataset, extra_fields=definitions, blanks=0, form=form_data(), **context), _status(error)
    flash("Access settings saved.", "success")
    return redirect(url_for("access.settings", slug=slug))


def _managed_provider(slug: str) -> Organisation:
    session = uow().session
    provider = get_organisation(session, slug)
    if not can(session, require_user(), Action.ACCESS_MANAGE, provider):
        raise NotFound(message="No such organisation.")
    return provider


@bp.get("/orgs/<slug>/agreements")
@login_required
def agreements_index(slug: str) -> ViewResult:
    provider = _managed_provider(slug)
    return _agreements_page(provider)


def _agreements_page(provider: Organisation, **extra: Any) -> str:
    return render_template(
        "access/agreements.html",
        provider=provider,
        agreements=agreements.agreements_of(uow().session, provider),
        templates=agreements.TEMPLATES,
        form=extra.pop("form", {}),
        field_errors=extra.pop("field_errors", {}),
        error=extra.pop("error", None),
        next_url=request.args.get("next") or request.form.get("next") or "",
    )


@bp.post("/orgs/<slug>/agreements")
@login_required
def create_agreement(slug: str) -> ViewResult:
    provider = _managed_provider(slug)
    try:
        data = parse(forms.NewAgreementForm(), forms.blank_to_none(form_data(), "template", "term_days"))
        agreement = agreements.create_agreement(
            uow(), require_user(), provider, title=data["title"], template=data["template"],
            resign_policy=data["resign_policy"], term_days=data["term_days"],
        )  # fmt: skip
    except (ValidationFailed, Conflict) as error:
        return _agreements_page(provider, form=form_data(), **_failure(error, {"Title": "title"})), _status(error)
    flash(f"Agreement “{agreement.title}” created (version 1).", "success")
    return redirect(url_for("access.agreement", slug=slug, agreement_id=agreement.id))


def _agreement(provider: Organisation, agreement_id: int) -> Agreement:
    agreement = agreements.get_agreement(uow().session, agreement_id)
    if agreement.organisation_id != provider.id:
        raise NotFound(message="No such agreement.")
    return agreement


def _agreement_page(provider: Organisation, agreement: Agreement, **extra: Any) -> str:
    context = pages.agreement_page(uow().session, agreement)
    current = context["current"]
    form = extra.pop("form", None) or {"body": current.body if current else ""}
    return render_template("access/agreement.html", provider=provider, form=form, **context, **extra)


@bp.get("/orgs/<slug>/agreements/<int:agreement_id>")
@login_required
def agreement(slug: str, agreement_id: int) -> ViewResult:
    provider = _managed_provider(slug)
    return _agreement_page(provider, _agreement(provider, agreement_id), error=None, field_errors={})


@bp.post("/orgs/<slug>/agreements/<int:agreement_id>")
@login_required
def publish_version(slug: str, agreement_id: int) -> ViewResult:
    provider = _managed_provider(slug)
    agreement = _agreement(provider, agreement_id)
    try:
        data = parse(forms.VersionForm(), forms.blank_to_none(form_data(), "term_days", "resign_policy"))
        version = agreements.publish_version(
            uow(), require_user(), agreement, body=data["body"], term_days=data["term_days"],
            resign_policy=data["resign_policy"],
        )  # fmt: skip
    except (ValidationFailed, Conflict) as error:
        context = _failure(error, {"Agreement text": "body", "Term (days)": "term_days"})
        return _agreement_page(provider, agreement, form=form_data(), **context), _status(error)
    flash(f"Version {version.version} published.", "success")
    return redirect(url_for("access.agreement", slug=slug, agreement_id=agreement_id))


# --- requester: request, sign, status, my access, credentials ------------------------------------------------------


def _request_page(dataset: Dataset, **extra: Any) -> str:
    context = pages.request_form_context(uow().session, require_user(), dataset)
    return render_template(
        "access/request_form.html",
        dataset=dataset,
        uses=forms.USE_LABELS,
        countries=forms.COUNTRIES,
        kinds=FieldKind,
        form=extra.pop("form", {}),
        chosen_uses=extra.pop("chosen_uses", []),
        field_errors=extra.pop("field_errors", {}),
        error=extra.pop("error", None),
        **context,
    )


def _governed_dataset(slug: str) -> Dataset:
    dataset = catalog.get_published_dataset(uow().session, slug)
    if not dataset.access_mode.is_governed:
        raise NotFound(message=f"{dataset.title} needs no access request.")
    return dataset


@bp.get("/datasets/<slug>/access/request")
@login_required
def request_form(slug: str) -> ViewResult:
    return _request_page(_governed_dataset(slug))


@bp.post("/datasets/<slug>/access/request")
@login_required
def submit_request(slug: str) -> ViewResult:
    dataset = _governed_dataset(slug)
    definitions = pages.request_form_context(uow().session, require_user(), dataset)["extra_fields"]
    uses = request.form.getlist("intended_uses")
    try:
        made = reqs.submit_request(
            uow(), require_user(), dataset, organisation_slug=request.form.get("organisation", ""),
            full_name=request.form.get("full_name", ""), intended_uses=uses,
            intended_use_text=request.form.get("intended_use_text", ""), country=request.form.get("country", ""),
            answers=forms.posted_answers(definitions, request.form),
        )  # fmt: skip
    except (ValidationFailed, Conflict) as error:
        inputs = {**REQUEST_INPUTS, **{f["label"]: f"x_{f['key']}" for f in definitions}}
        if isinstance(error, ValidationFailed):
            # The service stops at the fixed fields; the extra fields' problems are shown in the same round.
            error.details.extend(pages.answer_problems(definitions, forms.posted_answers(definitions, request.form)))
        context = _failure(error, inputs)
        return _request_page(dataset, form=form_data(), chosen_uses=uses, **context), _status(error)
    return redirect(url_for("access.request_status", request_id=made.id))


def _status_page(request_id: int, **extra: Any) -> str:
    session = uow().session
    user = require_user()
    found = reqs.get_request(session, user, request_id)
    context = pages.request_view(session, found)
    return render_template(
        "access/request.html",
        is_requester=found.requester_id == user.id,
        error=extra.pop("error", None),
        field_errors=extra.pop("field_errors", {}),
        form=extra.pop("form", {}),
        **context,
    )


@bp.get("/access/requests/<int:request_id>")
@login_required
def request_status(request_id: int) -> ViewResult:
    return _status_page(request_id)


@bp.post("/access/requests/<int:request_id>/sign")
@login_required
def sign(request_id: int) -> ViewResult:
    user = require_user()
    found = reqs.get_request(uow().session, user, request_id)
    try:
        data = parse(forms.SignForm(), form_data())
        reqs.sign_request(
            uow(), user, found, full_name=data["full_name"], shown_sha256=data["sha256"], ip_address=client_ip(),
            user_agent=request.headers.get("User-Agent", ""),
        )  # fmt: skip
    except (ValidationFailed, Conflict) as error:
        context = _failure(error, {"Full name": "full_name", "Agreement": "full_name"})
        return _status_page(request_id, form=form_data(), **context), _status(error)
    flash("Agreement signed.", "success")
    return redirect(url_for("access.request_status", request_id=request_id))


@bp.post("/access/requests/<int:request_id>/withdraw")
@login_required
def withdraw(request_id: int) -> ViewResult:
    user = require_user()
    try:
        reqs.withdraw_request(uow(), user, reqs.get_request(uow().session, user, request_id))
    except Conflict as error:
        return _status_page(request_id, **_failure(error)), 409
    flash("Request withdrawn.", "success")
    return redirect(url_for("access.my_access"))


@bp.get("/access")
@login_required
def my_access() -> ViewResult:
    return render_template("access/mine.html", **pages.my_access(uow().session, require_user()))


def _credentials_page(**extra: Any) -> str:
    user = require_user()
    return render_template(
        "access/credentials.html",
        credentials=credentials.credentials_of(uow().session, user),
        form=extra.pop("form", {}),
        field_errors=extra.pop("field_errors", {}),
        error=extra.pop("error", None),
    )


@bp.get("/access/credentials")
@login_required
def my_credentials() -> ViewResult:
    return _credentials_page()


@bp.post("/access/credentials")
@login_required
def upload_credential() -> ViewResult:
    upload = request.files.get("file")
    try:
        data = parse(forms.CredentialForm(), forms.blank_to_none(form_data(), "expires_on"))
        credentials.upload_credential(
            uow(), require_user(), content=upload.read() if upload else b"",
            filename=upload.filename or "" if upload else "", media_type=upload.mimetype if upload else "",
            issuer=data["issuer"], course=data["course"], completed_on=data["completed_on"],
            expires_on=data["expires_on"],
        )  # fmt: skip
    except ValidationFailed as error:
        return _credentials_page(form=form_data(), **_failure(error, CREDENTIAL_INPUTS)), 422
    flash("Certificate uploaded: it will be verified by a platform admin or a trusted reviewer.", "success")
    return redirect(url_for("access.my_credentials"))


@bp.get("/access/credentials/<int:credential_id>/file")
@login_required
def credential_file(credential_id: int) -> Response:
    credential, content = credentials.credential_file(uow(), require_user(), credential_id)
    response = Response(content, content_type=credential.media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{credential.filename}"'
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/access/credentials/review")
@login_required
def credential_queue() -> ViewResult:
    user = require_user()
    pending = credentials.pending_credentials(uow().session, user)
    if not pending and not user.is_platform_admin and not pages.reviewable_providers(uow().session, user):
        abort(403)
    owners = {c.id: uow().session.get(User, c.user_id) for c in pending}
    return render_template("access/credential_queue.html", pending=pending, owners=owners, error=None)


@bp.post("/access/credentials/<int:credential_id>/decide")
@login_required
def decide_credential(credential_id: int) -> ViewResult:
    user = require_user()
    credential = credentials.get_credential(uow().session, user, credential_id)
    try:
        data = parse(forms.DecideCredentialForm(), form_data())
        pages.decide_credential(uow(), user, credential, verified=data["decision"] == "verify", reason=data["reason"])
    except (ValidationFailed, Conflict) as error:
        discard_changes()
        flash(f"Certificate {credential_id}: {error.message}", "error")
        return redirect(url_for("access.credential_queue"))
    flash(f"Certificate of {credential.course} {'verified' if data['decision'] == 'verify' else 'refused'}.", "success")
    return redirect(url_for("access.credential_queue"))
