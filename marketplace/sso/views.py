"""SSO pages: the organisation's settings, and "Sign in with your organisation's SSO" (start and callback)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import MismatchingStateError
from flask import Blueprint, current_app, flash, redirect, render_template, request, session
from joserfc.errors import JoseError
from marshmallow import fields
from werkzeug.wrappers import Response

from marketplace.accounts.models import Organisation
from marketplace.accounts.schemas import EmailOnlySchema
from marketplace.accounts.services import get_organisation
from marketplace.errors import DomainError, ServiceUnavailable, ValidationFailed
from marketplace.forms import FormSchema
from marketplace.permissions import Action, require
from marketplace.sso import services as svc
from marketplace.sso.client import SsoClients
from marketplace.sso.errors import SsoErrorCode
from marketplace.sso.models import SsoConnection
from marketplace.web import (
    discard_changes,
    form_data,
    log_in,
    login_required,
    parse,
    redirect_to,
    require_user,
    safe_next,
    uow,
)
from marketplace.webhooks.crypto import SecretUnreadable
from marketplace.webhooks.targets import TargetPolicy, check_target

bp = Blueprint("sso", __name__)

ViewResult = str | Response | tuple[str, int]
FLOW_KEY = "sso_flow"


@dataclass
class SsoFailed(DomainError):
    """The sign-in could not be completed (stale or tampered response, a token that does not verify, …)."""

    code: str = SsoErrorCode.SSO_FAILED


class SettingsSchema(FormSchema):
    # Blanks go through to the service, which words what is missing in the settings' own terms ("name at least
    # one e-mail domain") for this form and for every other caller of ``configure``.
    blank_is_missing = False

    issuer = fields.String(required=True)
    client_id = fields.String(required=True)
    client_secret = fields.String(load_default="")
    domains = fields.String(required=True)
    enabled = fields.Boolean(load_default=False)


def _clients() -> SsoClients:
    return cast(SsoClients, current_app.extensions["marketplace.sso"])


def callback_url() -> str:
    """The redirect URI to register at the provider; built from BASE_URL, never from the request's Host."""
    return f"{current_app.config['BASE_URL']}/login/sso/callback"


# --- settings -----------------------------------------------------------------------------------------------------


def _org(slug: str) -> Organisation:
    org = get_organisation(uow().session, slug)
    require(uow().session, require_user(), Action.SSO_MANAGE, org)
    return org


def _settings_page(org: Organisation, connection: SsoConnection | None, **extra: Any) -> str:
    domains = svc.domains_of(uow().session, connection) if connection else []
    form = extra.pop("form", None)
    if form is None:
        form = (
            {"issuer": connection.issuer, "client_id": connection.client_id, "domains": ", ".join(domains),
             "enabled": connection.enabled}
            if connection
            else {"enabled": True, "domains": svc.email_domain(require_user().email)}
        )  # fmt: skip
    return render_template(
        "sso/settings.html",
        org=org,
        connection=connection,
        domains=domains,
        form=form,
        callback_url=callback_url(),
        **extra,
    )


@bp.get("/orgs/<slug>/sso")
@login_required
def settings(slug: str) -> ViewResult:
    org = _org(slug)
    return _settings_page(org, svc.get_connection(uow().session, require_user(), org))


@bp.post("/orgs/<slug>/sso")
@login_required
def save(slug: str) -> ViewResult:
    org = _org(slug)
    data = form_data()
    try:
        values = parse(SettingsSchema(), data)
        svc.configure(uow(), require_user(), org, **values)
    except ValidationFailed as error:
        discard_changes()
        data.pop("client_secret", None)
        data["enabled"] = bool(data.get("enabled"))
        connection = svc.get_connection(uow().session, require_user(), org)
        return _settings_page(org, connection, form=data, error=error.message, field_errors=error.field_messages()), 422
    flash("Single sign-on settings saved.", "success")
    return redirect_to("sso.settings", slug=slug)


@bp.post("/orgs/<slug>/sso/delete")
@login_required
def delete(slug: str) -> Response:
    org = _org(slug)
    svc.remove(uow(), require_user(), org)
    flash("Single sign-on removed. Members sign in with their passwords (or reset them).", "info")
    return redirect_to("sso.settings", slug=slug)


# --- signing in ---------------------------------------------------------------------------------------------------


def _check_metadata(client: Any, connection: SsoConnection) -> None:
    """The provider's discovery document must name the configured issuer (OpenID Connect Discovery §4.3), and the
    endpoints it lists must pass the same outbound-address rules as the issuer itself."""
    metadata = client.load_server_metadata()
    if metadata.get("issuer") != connection.issuer:
        raise SsoFailed(
            message=f"The identity provider calls itself {metadata.get('issuer')!r}, not {connection.issuer!r}: "
            "an admin of the organisation must correct the issuer."
        )
    policy = TargetPolicy.from_settings(current_app.config)
    for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not metadata.get(key):
            raise SsoFailed(message=f"The identity provider's discovery document has no {key}.")
        if key != "authorization_endpoint":
            try:
                check_target(str(metadata[key]), policy, field=key)
            except ValidationFailed as error:
                raise SsoFailed(message=f"The identity provider's {error.message}") from error


def _client(connection: SsoConnection) -> Any:
    try:
        secret = svc.client_secret(current_app.config, connection)
    except SecretUnreadable as error:
        raise SsoFailed(
            message="Your organisation's single sign-on cannot be used until an admin enters its client secret again."
        ) from error
    return _clients().client_for(connection, secret)


@bp.route("/login/sso", methods=["GET", "POST"])
def start() -> ViewResult:
    next_url = safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("sso/start.html", form={}, next=next_url)
    data = form_data()
    try:
        email = parse(EmailOnlySchema(), data)["email"]
        connection = svc.connection_for_email(uow().session, email)
        if connection is None:
            raise ValidationFailed.for_field(
                "email",
                f"no organisation signs in @{svc.email_domain(email)} addresses with single sign-on; "
                "log in with your password instead",
            )
    except ValidationFailed as error:
        discard_changes()
        page = render_template(
            "sso/start.html", form=data, next=next_url, error=error.message, field_errors=error.field_messages()
        )
        return page, 422
    client = _client(connection)
    try:
        _check_metadata(client, connection)
        # Authlib makes the state, the nonce and the PKCE verifier, and keeps them in the session.
        authorization = client.create_authorization_url(callback_url(), login_hint=email)
    except (requests.RequestException, ValueError) as error:
        raise ServiceUnavailable(
            message="Your organisation's identity provider cannot be reached right now."
        ) from error
    client.save_authorize_data(redirect_uri=callback_url(), **authorization)
    session[FLOW_KEY] = {"connection_id": connection.id, "revision": connection.revision, "next": next_url}
    # Not a 302: the CSP's ``form-action 'self'`` also applies to redirects after a form is posted, so the browser
    # would refuse to follow one to the provider. A page that moves on by itself (meta refresh) is a new navigation.
    return render_template("sso/redirect.html", url=authorization["url"], issuer=connection.issuer)


@bp.get("/login/sso/callback")
def callback() -> ViewResult:
    flow = session.pop(FLOW_KEY, None)
    if not isinstance(flow, dict):
        raise SsoFailed(message="This sign-in response is stale or was already used. Start the sign-in again.")
    connection = uow().session.get(SsoConnection, flow.get("connection_id"))
    if connection is None or connection.revision != flow.get("revision") or not connection.enabled:
        raise SsoFailed(message="The organisation's single sign-on settings changed meanwhile. Start again.")
    client = _client(connection)
    # Authlib checks iss against the discovery document only, and aud not at all: pin both explicitly.
    claims_options = {
        "iss": {"essential": True, "value": connection.issuer},
        "aud": {"essential": True, "value": connection.client_id},
    }
    try:
        token = client.authorize_access_token(claims_options=claims_options)
    except MismatchingStateError as error:
        raise SsoFailed(message="The sign-in response does not match the request (state). Start again.") from error
    except AuthlibBaseError as error:
        description = getattr(error, "description", "") or getattr(error, "error", "") or "refused"
        raise SsoFailed(message=f"Your identity provider refused the sign-in: {description}.") from error
    except JoseError as error:
        reason = error.description or error.error or type(error).__name__
        raise SsoFailed(message=f"The identity token does not verify ({reason}).") from error
    except requests.RequestException as error:
        raise ServiceUnavailable(
            message="Your organisation's identity provider cannot be reached right now."
        ) from error
    claims = token.get("userinfo")
    if not claims:
        raise SsoFailed(message="The identity provider sent no ID token.")
    user = svc.sign_in(uow(), connection, dict(claims))
    log_in(user)
    flash(f"Signed in as {user.email} with {connection.issuer}.", "success")
    return redirect(safe_next(flow.get("next")))
