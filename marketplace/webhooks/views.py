"""Webhook settings pages of an organisation: endpoints, secrets (shown once), the delivery log, redelivery."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, render_template, request
from marshmallow import fields
from werkzeug.wrappers import Response

from marketplace.accounts.models import Organisation
from marketplace.accounts.services import get_organisation
from marketplace.errors import Conflict, NotFound, ValidationFailed
from marketplace.events import EVENT_TYPES
from marketplace.forms import FormSchema
from marketplace.permissions import Action, require
from marketplace.web import discard_changes, login_required, parse, redirect_to, require_user, uow
from marketplace.webhooks import services as svc
from marketplace.webhooks.models import WebhookEndpoint

bp = Blueprint("webhooks", __name__)

ViewResult = str | Response | tuple[str, int]
DELIVERIES_PER_PAGE = 25


class EndpointSchema(FormSchema):
    url = fields.String(required=True)
    description = fields.String(load_default="")
    events = fields.List(fields.String(), load_default=list)
    active = fields.Boolean(load_default=False)


def _org(slug: str) -> Organisation:
    org = get_organisation(uow().session, slug)
    require(uow().session, require_user(), Action.WEBHOOKS_MANAGE, org)
    return org


def _endpoint(org: Organisation, endpoint_id: int) -> WebhookEndpoint:
    endpoint = svc.get_endpoint(uow().session, require_user(), endpoint_id)
    if endpoint.organisation_id != org.id:
        raise NotFound(message="No such webhook endpoint.")
    return endpoint


def _form() -> dict[str, Any]:
    data: dict[str, Any] = {k: v for k, v in request.form.items() if k not in ("csrf_token", "events")}
    data["events"] = request.form.getlist("events")
    return data


def _index(org: Organisation, **extra: Any) -> str:
    return render_template(
        "webhooks/index.html",
        org=org,
        endpoints=svc.list_endpoints(uow().session, require_user(), org),
        event_types=EVENT_TYPES,
        form=extra.pop("form", {"events": []}),
        **extra,
    )


@bp.get("/orgs/<slug>/webhooks")
@login_required
def index(slug: str) -> ViewResult:
    return _index(_org(slug))


@bp.post("/orgs/<slug>/webhooks")
@login_required
def create(slug: str) -> ViewResult:
    org = _org(slug)
    data = _form()
    try:
        fields_ = parse(EndpointSchema(), data)
        endpoint, secret = svc.create_endpoint(
            uow(), require_user(), org, url=fields_["url"], events=fields_["events"], description=fields_["description"]
        )
    except (ValidationFailed, Conflict) as error:
        discard_changes()
        field_errors = error.field_messages() if isinstance(error, ValidationFailed) else {}
        status = 422 if isinstance(error, ValidationFailed) else 409
        return _index(org, form=data, error=error.message, field_errors=field_errors), status
    return render_template("webhooks/secret.html", org=org, endpoint=endpoint, secret=secret, rotated=False)


def _show(org: Organisation, endpoint: WebhookEndpoint, **extra: Any) -> str:
    session = uow().session
    before = request.args.get("before", type=int)
    deliveries = svc.list_deliveries(session, require_user(), endpoint, limit=DELIVERIES_PER_PAGE, before_id=before)
    form = extra.pop(
        "form",
        {
            "url": endpoint.url,
            "description": endpoint.description,
            "events": endpoint.events,
            "active": endpoint.active,
        },
    )
    return render_template(
        "webhooks/show.html",
        org=org,
        endpoint=endpoint,
        deliveries=deliveries,
        attempts=svc.attempts_of(session, deliveries),
        more=len(deliveries) == DELIVERIES_PER_PAGE,
        event_types=EVENT_TYPES,
        rotation_ends=endpoint.previous_secret_expires_at
        if endpoint.previous_secret_expires_at and endpoint.previous_secret_expires_at > uow().now()
        else None,
        form=form,
        **extra,
    )


@bp.get("/orgs/<slug>/webhooks/<int:endpoint_id>")
@login_required
def show(slug: str, endpoint_id: int) -> ViewResult:
    org = _org(slug)
    return _show(org, _endpoint(org, endpoint_id))


@bp.post("/orgs/<slug>/webhooks/<int:endpoint_id>")
@login_required
def update(slug: str, endpoint_id: int) -> ViewResult:
    org = _org(slug)
    endpoint = _endpoint(org, endpoint_id)
    data = _form()
    try:
        fields_ = parse(EndpointSchema(), data)
        svc.update_endpoint(uow(), require_user(), endpoint, **fields_)
    except ValidationFailed as error:
        discard_changes()
        endpoint = _endpoint(org, endpoint_id)
        data["active"] = bool(data.get("active"))
        return _show(org, endpoint, form=data, error=error.message, field_errors=error.field_messages()), 422
    flash("Endpoint saved.", "success")
    return redirect_to("webhooks.show", slug=slug, endpoint_id=endpoint_id)


@bp.post("/orgs/<slug>/webhooks/<int:endpoint_id>/rotate")
@login_required
def rotate(slug: str, endpoint_id: int) -> ViewResult:
    org = _org(slug)
    endpoint = _endpoint(org, endpoint_id)
    secret = svc.rotate_secret(uow(), require_user(), endpoint)
    return render_template("webhooks/secret.html", org=org, endpoint=endpoint, secret=secret, rotated=True)


@bp.post("/orgs/<slug>/webhooks/<int:endpoint_id>/delete")
@login_required
def delete(slug: str, endpoint_id: int) -> Response:
    org = _org(slug)
    svc.delete_endpoint(uow(), require_user(), _endpoint(org, endpoint_id))
    flash("Endpoint deleted.", "info")
    return redirect_to("webhooks.index", slug=slug)


@bp.post("/orgs/<slug>/webhooks/<int:endpoint_id>/deliveries/<int:delivery_id>/redeliver")
@login_required
def redeliver(slug: str, endpoint_id: int, delivery_id: int) -> Response:
    org = _org(slug)
    endpoint = _endpoint(org, endpoint_id)
    delivery = svc.get_delivery(uow().session, require_user(), delivery_id)
    if delivery.endpoint_id != endpoint.id:
        raise NotFound(message="No such webhook delivery.")
    svc.redeliver(uow(), require_user(), delivery)
    flash(f"Event {delivery.event_id} queued for redelivery.", "success")
    return redirect_to("webhooks.show", slug=slug, endpoint_id=endpoint_id)
