"""Bucket delivery pages: an organisation's destinations, exporting a licensed version from the license page, and
an export's progress (the page refreshes itself until the export has finished)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response

from marketplace.accounts.models import Organisation, User
from marketplace.accounts.services import get_organisation
from marketplace.db import UnitOfWork
from marketplace.delivery import services as delivery
from marketplace.delivery.views import site_requester
from marketplace.errors import ValidationFailed
from marketplace.exports import destinations, services
from marketplace.licenses.models import Grant
from marketplace.permissions import Action, can
from marketplace.web import discard_changes, form_data, login_required, require_user, uow

bp = Blueprint("exports", __name__)

ViewResult = str | Response | tuple[str, int]

#: The form's labels, for error lines naming fields in the words the page uses.
LABELS = {
    "name": "Name",
    "endpoint_url": "Endpoint",
    "region": "Region",
    "bucket": "Bucket",
    "prefix": "Prefix",
    "access_key_id": "Access key id",
    "secret_access_key": "Secret access key",
    "destination_id": "Destination",
    "version": "Version",
}


def _destinations_page(
    slug: str, *, form: dict[str, str] | None = None, error: ValidationFailed | None = None
) -> ViewResult:
    session = uow().session
    user = require_user()
    org = get_organisation(session, slug)
    listed = destinations.list_destinations(session, user, org)
    page = render_template(
        "exports/destinations.html",
        org=org,
        destinations=listed,
        may_manage=can(session, user, Action.EXPORT_DESTINATION_MANAGE, org),
        form=form or {},
        field_errors={d.field: d.message for d in error.details} if error else {},
        error="; ".join(f"{LABELS.get(d.field, d.field)}: {d.message}" for d in error.details) if error else None,
    )
    return (page, 422) if error else page


@bp.get("/orgs/<slug>/destinations")
@login_required
def destinations_page(slug: str) -> ViewResult:
    return _destinations_page(slug)


@bp.post("/orgs/<slug>/destinations")
@login_required
def add_destination(slug: str) -> ViewResult:
    form = form_data()
    names = destinations.DestinationInput.__dataclass_fields__
    data = destinations.DestinationInput(**{name: form.get(name, "") for name in names})
    org = get_organisation(uow().session, slug)
    try:
        destination = destinations.create_destination(uow(), require_user(), org, data)
    except ValidationFailed as error:
        discard_changes()
        form.pop("secret_access_key", None)  # never sent back to the page
        return _destinations_page(slug, form=form, error=error)
    flash(f"Destination “{destination.name}” added: the bucket answered with these credentials.", "success")
    return redirect(url_for("exports.destinations_page", slug=slug), code=303)


@bp.post("/destinations/<int:destination_id>/delete")
@login_required
def delete_destination(destination_id: int) -> Response:
    org = destinations.delete_destination(uow(), require_user(), destination_id)
    flash("Destination removed. Exports made with it keep where they went.", "success")
    return redirect(url_for("exports.destinations_page", slug=org.slug), code=303)


@bp.post("/licenses/<grant_id>/exports")
@login_required
def export(grant_id: str) -> Response:
    form = form_data()
    try:
        destination_id = int(form.get("destination_id", ""))
    except ValueError as error:
        raise ValidationFailed.for_field("destination_id", "choose a destination") from error
    version = form.get("version", "").strip()
    if not version:
        raise ValidationFailed.for_field("version", "choose a version")
    created = services.request_export(
        uow(), site_requester(), grant_id, destination_id=destination_id, version_label=version
    )
    flash("Export queued: files are copied in the background and checked one by one at the destination.", "success")
    return redirect(url_for("exports.show", export_id=created.id), code=303)


@bp.get("/exports/<int:export_id>")
@login_required
def show(export_id: int) -> str:
    found = services.get_export(uow(), require_user(), export_id)
    grant = uow().session.get(Grant, found.grant_id)
    return render_template("exports/show.html", export=found, grant=grant)


@bp.post("/exports/<int:export_id>/repeat")
@login_required
def repeat(export_id: int) -> Response:
    created = services.repeat_export(uow(), site_requester(), export_id)
    flash("Export queued again.", "success")
    return redirect(url_for("exports.show", export_id=created.id), code=303)


def license_section(work: UnitOfWork, user: User | None, grant: Grant) -> dict[str, Any] | None:
    """What the license page shows about bucket delivery: the licensee's destinations, the versions the license
    serves (newest first) and the latest exports; ``None`` for anyone who may not download under the license."""
    if user is None or not can(work.session, user, Action.GRANT_DOWNLOAD, grant):
        return None
    org = work.session.get(Organisation, grant.licensee_org_id)
    assert org is not None
    return {
        "org": org,
        "destinations": destinations.list_destinations(work.session, user, org),
        "versions": [v.version for v in reversed(delivery.covered_versions(work.session, grant))],
        "exports": services.exports_of(work, user, grant.id, limit=5),
    }
