"""Site-wide pages that belong to no domain: the home page (the health probes are in marketplace/health.py)."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("pages", __name__)


@bp.get("/")
def home() -> str:
    return render_template("home.html")
