"""Site-wide pages that belong to no domain: the home page and the health check."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, jsonify, render_template
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
