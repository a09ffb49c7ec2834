"""The API access settings page: API keys (yours, and your organisations' if you administer them) and OAuth
clients (service accounts) of your organisations; create with scopes and expiry (the secret is shown once), revoke.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, render_template, request
from werkzeug.wrappers import Response

from marketplace.accounts.services import get_organisation
from marketplace.apikeys import schemas
from marketplace.apikeys import services as svc
from marketplace.apikeys.scopes import SCOPES
from marketplace.errors import DomainError, ValidationFailed
from marketplace.oauth import services as oauth
from marketplace.web import discard_changes, login_required, parse, redirect_to, require_user, uow

bp = Blueprint("apikeys", __name__)

ViewResult = str | Response | tuple[str, int]


def _form() -> dict[str, Any]:
    data: dict[str, Any] = {k: v for k, v in request.form.items() if k not in ("csrf_token", "scopes")}
    data["scopes"] = request.form.getlist("scopes")
    return data


def _page(status: int = 200, **context: Any) -> tuple[str, int]:
    session = uow().session
    user = require_user()
    admin_orgs = svc.admin_organisations(session, user)
    return render_template(
        "apikeys/settings.html",
        keys=svc.keys_for(session, user),
        clients=oauth.clients_for(session, user),
        admin_orgs=admin_orgs,
        org_names={org.id: org.name for org in admin_orgs},
        scopes=SCOPES,
        test_allowed=svc.sandbox_payments(uow()),
        now=uow().now(),
        **context,
    ), status


def _error(error: DomainError, form_name: str, form: dict[str, Any]) -> tuple[str, int]:
    discard_changes()
    field_errors = error.field_messages() if isinstance(error, ValidationFailed) else {}
    return _page(422 if isinstance(error, ValidationFailed) else 403, error=error.message,
                 field_errors=field_errors, form=form, form_name=form_name)  # fmt: skip


@bp.get("/settings/api")
@login_required
def settings() -> ViewResult:
    return _page()


@bp.post("/settings/api/keys")
@login_required
def create_key() -> ViewResult:
    form = _form()
    try:
        fields = parse(schemas.KeyFormSchema(), form)
        owner = fields.pop("owner")
        organisation = get_organisation(uow().session, owner.removeprefix("org:")) if owner != "user" else None
        key, secret = svc.create_key(uow(), require_user(), organisation=organisation, **fields)
    except DomainError as error:
        return _error(error, "key", form)
    # The secret is in this response only (never stored, never in a redirect or a flash cookie).
    return _page(201, new_key=key, new_secret=secret)


@bp.post("/settings/api/keys/<int:key_id>/revoke")
@login_required
def revoke_key(key_id: int) -> Response:
    key = svc.revoke_key(uow(), require_user(), key_id)
    flash(f"API key “{key.name}” is revoked; its next request will be refused.", "success")
    return redirect_to("apikeys.settings")


@bp.post("/settings/api/clients")
@login_required
def create_client() -> ViewResult:
    form = _form()
    try:
        fields = parse(schemas.ClientFormSchema(), form)
        organisation = get_organisation(uow().session, fields.pop("organisation"))
        client, secret = oauth.create_client(uow(), require_user(), organisation, **fields)
    except DomainError as error:
        return _error(error, "client", form)
    return _page(201, new_client=client, new_secret=secret)


@bp.post("/settings/api/clients/<int:client_pk>/revoke")
@login_required
def revoke_client(client_pk: int) -> Response:
    client = oauth.revoke_client(uow(), require_user(), client_pk)
    flash(f"OAuth client “{client.name}” is revoked, with every token it held.", "success")
    return redirect_to("apikeys.settings")
