"""Site-wide pages that belong to no domain: the home page and the site icon (the health probes are in
marketplace/health.py)."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, send_from_directory
from werkzeug.wrappers import Response

from marketplace.catalog import services as catalog_services
from marketplace.web import uow

bp = Blueprint("pages", __name__)


@bp.get("/")
def home() -> str:
    """The home page: a search box, new and popular datasets, and modality and industry tiles."""
    return render_template("home.html", **catalog_services.home_page(uow().session, uow().now()))


@bp.get("/favicon.ico")
def favicon() -> Response:
    """The site icon at the address browsers ask for without being told (served locally, like every asset)."""
    assert current_app.static_folder is not None
    return send_from_directory(
        current_app.static_folder, "favicon.ico", mimetype="image/vnd.microsoft.icon", max_age=7 * 24 * 3600
    )
