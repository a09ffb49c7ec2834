"""Site-wide pages that belong to no domain: the home page and the site icon (the health probes are in
marketplace/health.py)."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, send_from_directory
from werkzeug.wrappers import Response

bp = Blueprint("pages", __name__)


@bp.get("/")
def home() -> str:
    return render_template("home.html")


@bp.get("/favicon.ico")
def favicon() -> Response:
    """The site icon at the address browsers ask for without being told (served locally, like every asset)."""
    assert current_app.static_folder is not None
    return send_from_directory(
        current_app.static_folder, "favicon.ico", mimetype="image/vnd.microsoft.icon", max_age=7 * 24 * 3600
    )
