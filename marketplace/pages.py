"""Site-wide pages that belong to no domain: the home page, the health check and the site icon."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify, render_template, send_from_directory
from werkzeug.wrappers import Response

from marketplace.web import uow

bp = Blueprint("pages", __name__)


@bp.get("/")
def home() -> str:
    return render_template("home.html")


@bp.get("/healthz")
def healthz() -> Response:
    """Readiness: the process answers and the database accepts a query."""
    uow().session.execute(sa.text("SELECT 1"))
    return jsonify({"status": "ok"})


@bp.get("/favicon.ico")
def favicon() -> Response:
    """The site icon at the address browsers ask for without being told (served locally, like every asset)."""
    assert current_app.static_folder is not None
    return send_from_directory(
        current_app.static_folder, "favicon.ico", mimetype="image/vnd.microsoft.icon", max_age=7 * 24 * 3600
    )
