"""Account and organisation pages. Each view parses its form, calls one service and renders or redirects."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from marketplace.accounts import schemas
from marketplace.accounts import services as svc
from marketplace.accounts.errors import AccountErrorCode
from marketplace.accounts.models import OrgKind, Role
from marketplace.errors import DomainError, InvalidToken, ValidationFailed
from marketplace.permissions import Action, can, require
from marketplace.web import (
    client_ip,
    current_user,
    discard_changes,
    form_data,
    log_in,
    log_out,
    login_required,
    parse,
    redirect_to,
    refresh_session_version,
    require_user,
    safe_next,
    uow,
)

bp = Blueprint("accounts", __name__)

ViewResult = str | Response | tuple[str, int]


def _form_error(template: str, error: DomainError, status: int = 422, **context: Any) -> tuple[str, int]:
    """Throw away the failed attempt's changes and show the form again with what went wrong."""
    discard_changes()
    field_errors = error.field_messages() if isinstance(error, ValidationFailed) else {}
    return render_template(template, error=error.message, field_errors=field_errors, **context), status


# --- sign-up, verification, log-in ------------------------------------------------------------------------------


@bp.route("/signup", methods=["GET", "POST"])
def signup() -> ViewResult:
    if current_user() is not None:
        return redirect_to("pages.home")
    if request.method == "GET":
        return render_template("accounts/signup.html", form={})
    data = form_data()
    try:
        fields = parse(schemas.SignUpSchema(), data)
        svc.sign_up(uow(), **fields)
    except ValidationFailed as error:
        return _form_error("accounts/signup.html", error, form=data)
    return render_template("accounts/check_email.html", email=fields["email"])


@bp.get("/verify-email")
def verify_email() -> ViewResult:
    try:
        user = svc.verify_email(uow(), token=request.args.get("token", ""))
    except InvalidToken as error:
        discard_changes()
        return render_template("accounts/token_invalid.html", message=error.message), 400
    flash(f"Thank you: {user.email} is verified. You can log in now.", "success")
    return redirect_to("accounts.login")


@bp.route("/verify-email/resend", methods=["GET", "POST"])
def resend_verification() -> ViewResult:
    if request.method == "GET":
        return render_template("accounts/resend_verification.html", form={})
    data = form_data()
    try:
        fields = parse(schemas.EmailOnlySchema(), data)
    except ValidationFailed as error:
        return _form_error("accounts/resend_verification.html", error, form=data)
    svc.resend_verification(uow(), email=fields["email"])
    return render_template("accounts/check_email.html", email=fields["email"])


@bp.route("/login", methods=["GET", "POST"])
def login() -> ViewResult:
    next_url = safe_next(request.values.get("next"))
    if request.method == "GET":
        if current_user() is not None:
            return redirect(next_url)
        return render_template("accounts/login.html", form={}, next=next_url)
    data = form_data()
    try:
        fields = parse(schemas.LoginSchema(), data)
        user = svc.authenticate(uow(), email=fields["email"], password=fields["password"], ip_address=client_ip())
    except svc.LoginRefused as error:
        status = 403 if error.code == AccountErrorCode.EMAIL_NOT_VERIFIED else 401
        response = _form_error("accounts/login.html", error, status, form=data, next=next_url)
        if error.code != AccountErrorCode.EMAIL_NOT_VERIFIED:
            svc.record_login_failure(uow(), email=str(data.get("email", "")), ip_address=client_ip())
        return response
    except ValidationFailed as error:
        return _form_error("accounts/login.html", error, form=data, next=next_url)
    log_in(user)
    return redirect(next_url)


@bp.post("/logout")
def logout() -> Response:
    log_out()
    flash("You are logged out.", "info")
    return redirect_to("pages.home")


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password() -> ViewResult:
    if request.method == "GET":
        return render_template("accounts/forgot_password.html", form={})
    data = form_data()
    try:
        fields = parse(schemas.EmailOnlySchema(), data)
    except ValidationFailed as error:
        return _form_error("accounts/forgot_password.html", error, form=data)
    svc.request_password_reset(uow(), email=fields["email"])
    return render_template("accounts/check_email.html", email=fields["email"], reset=True)


@bp.route("/password/reset", methods=["GET", "POST"])
def reset_password() -> ViewResult:
    token = request.values.get("token", "")
    try:
        svc.check_reset_token(uow(), token=token)
    except InvalidToken as error:
        return render_template("accounts/token_invalid.html", message=error.message), 400
    if request.method == "GET":
        return render_template("accounts/reset_password.html", token=token)
    try:
        fields = parse(schemas.ResetPasswordSchema(), form_data())
        svc.reset_password(uow(), token=fields["token"], new_password=fields["password"])
    except ValidationFailed as error:
        return _form_error("accounts/reset_password.html", error, token=token)
    log_out()
    flash("Your password is changed. Log in with the new one.", "success")
    return redirect_to("accounts.login")


# --- account settings -------------------------------------------------------------------------------------------


@bp.get("/settings")
@login_required
def settings() -> ViewResult:
    return render_template("accounts/settings.html")


@bp.post("/settings/password")
@login_required
def change_password() -> ViewResult:
    user = require_user()
    try:
        fields = parse(schemas.ChangePasswordSchema(), form_data())
        svc.change_password(uow(), user, **fields)
    except ValidationFailed as error:
        return _form_error("accounts/settings.html", error)
    refresh_session_version(user)
    flash("Your password is changed. Other sessions have been logged out.", "success")
    return redirect_to("accounts.settings")


@bp.post("/settings/email")
@login_required
def change_email() -> ViewResult:
    user = require_user()
    try:
        fields = parse(schemas.ChangeEmailSchema(), form_data())
        svc.request_email_change(uow(), user, **fields)
    except ValidationFailed as error:
        return _form_error("accounts/settings.html", error)
    flash(
        f"We sent a confirmation link to {fields['new_email']}. Your address changes when you open it.",
        "info",
    )
    return redirect_to("accounts.settings")


@bp.get("/settings/email/confirm")
def confirm_email_change() -> ViewResult:
    try:
        user = svc.confirm_email_change(uow(), token=request.args.get("token", ""))
    except DomainError as error:
        discard_changes()
        return render_template("accounts/token_invalid.html", message=error.message), 400
    flash(f"Your e-mail address is now {user.email}.", "success")
    return redirect_to("accounts.settings")


# --- organisations ------------------------------------------------------------------------------------------------


@bp.get("/orgs")
@login_required
def organisations() -> ViewResult:
    return render_template("orgs/list.html", memberships=svc.organisations_of(uow().session, require_user()))


@bp.route("/orgs/new", methods=["GET", "POST"])
@login_required
def new_organisation() -> ViewResult:
    context: dict[str, Any] = {"kinds": list(OrgKind)}
    if request.method == "GET":
        kind = request.args.get("kind", "")  # a link such as "become a provider" asks for ?kind=provider
        form = {"kind": kind} if kind in {k.value for k in OrgKind} else {}
        return render_template("orgs/new.html", form=form, **context)
    data = form_data()
    try:
        fields = parse(schemas.CreateOrganisationSchema(), data)
        org = svc.create_organisation(uow(), require_user(), **fields)
    except DomainError as error:
        return _form_error("orgs/new.html", error, form=data, **context)
    flash(f"{org.name} is created. Invite your colleagues below.", "success")
    return redirect_to("accounts.organisation", slug=org.slug)


def _org_page_context(slug: str) -> dict[str, Any]:
    session = uow().session
    org = svc.get_organisation(session, slug)
    user = require_user()
    require(session, user, Action.ORG_VIEW, org)
    return {
        "org": org,
        "members": svc.members_of(session, org),
        "invitations": svc.pending_invitations(session, org, uow().now()),
        "may_invite": can(session, user, Action.ORG_INVITE, org),
        "may_manage": can(session, user, Action.ORG_MANAGE_MEMBERS, org),
        "may_manage_owners": can(session, user, Action.ORG_MANAGE_OWNERS, org),
        "may_read_audit": can(session, user, Action.AUDIT_READ, org),
        "may_update": can(session, user, Action.ORG_UPDATE, org),
        "roles": list(Role),
        "form": {},
    }


@bp.get("/orgs/<slug>")
@login_required
def organisation(slug: str) -> ViewResult:
    return render_template("orgs/show.html", **_org_page_context(slug))


@bp.route("/orgs/<slug>/billing", methods=["GET", "POST"])
@login_required
def billing(slug: str) -> ViewResult:
    """The details printed on the organisation's invoices and credit notes: admins and owners change them."""
    org = svc.get_organisation(uow().session, slug)
    require(uow().session, require_user(), Action.ORG_UPDATE, org)
    if request.method == "GET":
        return render_template("orgs/billing.html", org=org, form=_billing_form(org))
    data = form_data()
    try:
        svc.update_billing(uow(), require_user(), org, **parse(schemas.BillingSchema(), data))
    except DomainError as error:
        return _form_error("orgs/billing.html", error, org=org, form=data)
    flash("Billing details saved: new invoices and credit notes will show them.", "success")
    return redirect_to("accounts.organisation", slug=slug)


def _billing_form(org: Any) -> dict[str, str]:
    return {"billing_name": org.billing_name, "billing_address": org.billing_address, "tax_id": org.tax_id}


@bp.post("/orgs/<slug>/invitations")
@login_required
def invite(slug: str) -> ViewResult:
    org = svc.get_organisation(uow().session, slug)
    data = form_data()
    try:
        fields = parse(schemas.InviteSchema(), data)
        invitation = svc.invite(uow(), require_user(), org, **fields)
    except ValidationFailed as error:
        discard_changes()
        context = _org_page_context(slug)
        context["form"] = data
        return _form_error("orgs/show.html", error, **context)
    flash(f"Invitation sent to {invitation.email}.", "success")
    return redirect_to("accounts.organisation", slug=slug)


@bp.post("/orgs/<slug>/invitations/<int:invitation_id>/revoke")
@login_required
def revoke_invitation(slug: str, invitation_id: int) -> Response:
    org = svc.get_organisation(uow().session, slug)
    svc.revoke_invitation(uow(), require_user(), org, invitation_id)
    flash("Invitation withdrawn.", "info")
    return redirect_to("accounts.organisation", slug=slug)


@bp.post("/orgs/<slug>/members/<int:user_id>/role")
@login_required
def change_role(slug: str, user_id: int) -> Response:
    org = svc.get_organisation(uow().session, slug)
    fields = parse(schemas.ChangeRoleSchema(), form_data())
    svc.change_role(uow(), require_user(), org, user_id=user_id, role=fields["role"])
    flash("Role changed.", "success")
    return redirect_to("accounts.organisation", slug=slug)


@bp.post("/orgs/<slug>/members/<int:user_id>/remove")
@login_required
def remove_member(slug: str, user_id: int) -> Response:
    org = svc.get_organisation(uow().session, slug)
    user = require_user()
    svc.remove_member(uow(), user, org, user_id=user_id)
    if user_id == user.id:
        flash(f"You left {org.name}.", "info")
        return redirect_to("accounts.organisations")
    flash("Member removed.", "info")
    return redirect_to("accounts.organisation", slug=slug)


@bp.route("/invitations/accept", methods=["GET", "POST"])
def accept_invitation() -> ViewResult:
    token = request.values.get("token", "")
    try:
        invitation, org = svc.invitation_for_token(uow(), token=token)
    except InvalidToken as error:
        return render_template("accounts/token_invalid.html", message=error.message), 400
    user = current_user()
    if user is None:
        flash(f"Log in (or sign up as {invitation.email}) to accept the invitation to {org.name}.", "info")
        return redirect(url_for("accounts.login", next=url_for("accounts.accept_invitation", token=token)))
    if request.method == "GET":
        return render_template("orgs/accept.html", invitation=invitation, org=org, token=token)
    try:
        svc.accept_invitation(uow(), user, token=token)
    except DomainError as error:
        discard_changes()
        return render_template(
            "orgs/accept.html", invitation=invitation, org=org, token=token, error=error.message
        ), 403
    flash(f"Welcome to {org.name}.", "success")
    return redirect_to("accounts.organisation", slug=org.slug)


@bp.get("/_dev/outbox")
def dev_outbox() -> ViewResult:
    """Development only: the console mailer's outbox, so links can be opened without a mail server."""
    from flask import current_app

    mailer = current_app.extensions["marketplace.mailer"]
    loopback = request.remote_addr in {"127.0.0.1", "::1"}
    if current_app.config["MARKETPLACE_ENV"] != "development" or not loopback or not hasattr(mailer, "outbox"):
        abort(404)
    return render_template("accounts/outbox.html", messages=list(reversed(mailer.outbox)))
