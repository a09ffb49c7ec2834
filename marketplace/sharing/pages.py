"""The license page's Delta Sharing block: mint a recipient profile (downloaded at once), list and revoke them.

The minting POST answers with the profile file itself (``<dataset>.share``, an attachment, never cached): the
bearer token exists only in that response, the database keeps its hash.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, flash, redirect, url_for
from werkzeug.wrappers import Response

from marketplace.accounts.models import User
from marketplace.catalog.models import Dataset
from marketplace.db import UnitOfWork
from marketplace.delivery.views import site_requester
from marketplace.licenses import services as licenses
from marketplace.licenses.models import Grant
from marketplace.permissions import Action, can
from marketplace.sharing import recipients
from marketplace.sharing.tables import share_name, shared_tables
from marketplace.web import current_user, login_required, require_user, uow

bp = Blueprint("sharing_pages", __name__)


def endpoint_url(settings: dict[str, Any]) -> str:
    """The protocol endpoint a profile names: ``<BASE_URL>/delta-sharing``."""
    return f"{str(settings['BASE_URL']).rstrip('/')}/delta-sharing"


def _grant(grant_id: str) -> Grant:
    grant = licenses.get_grant(uow().session, grant_id)
    licenses.require_view_grant(uow().session, current_user(), grant)
    return grant


def sharing_section(work: UnitOfWork, user: User | None, grant: Grant) -> dict[str, Any]:
    """What the license page shows about Delta Sharing to ``user``: whether they may mint profiles, the profiles,
    and the share's tables with the Parquet file behind each (its own SHA-256)."""
    session = work.session
    may_share = can(session, user, Action.GRANT_SHARE, grant)
    dataset_tables = []
    if may_share:
        dataset = session.get(Dataset, grant.dataset_id)
        if dataset is not None:
            dataset_tables = shared_tables(session, grant, licenses.grant_value(grant), dataset)
    return {
        "may_share": may_share,
        "profiles": recipients.profiles_of(session, grant) if may_share else [],
        "share": share_name(grant),
        "tables": dataset_tables,
        "endpoint": endpoint_url(work.settings),
    }


@bp.post("/licenses/<grant_id>/delta-sharing/profiles")
@login_required
def mint(grant_id: str) -> Response:
    minted = recipients.mint_profile(uow(), site_requester(), _grant(grant_id), endpoint=endpoint_url(uow().settings))
    response = Response(json.dumps(minted.document, indent=2) + "\n", mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="license-{grant_id}.share"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/licenses/<grant_id>/delta-sharing/profiles/<int:profile_id>/revoke")
@login_required
def revoke(grant_id: str, profile_id: int) -> Response:
    recipients.revoke_profile(uow(), require_user(), _grant(grant_id), profile_id)
    flash("The recipient profile was revoked: its token no longer reads this license's tables.", "success")
    return redirect(url_for("licenses.show", grant_id=grant_id), code=303)
