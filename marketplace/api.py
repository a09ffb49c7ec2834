"""The JSON API's blueprint root at ``/api/v1``; each domain adds its own routes in its ``api.py``."""

from __future__ import annotations

from flask import Blueprint, jsonify
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/v1/status")
def status() -> Response:
    """Liveness: answers when the process serves requests; it does not touch the database."""
    return jsonify({"status": "ok", "api_version": "v1"})


@bp.route("/<path:_unknown>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown(_unknown: str) -> Response:
    # Keeps unknown API paths in the JSON error shape even when no other /api route matches their prefix.
    raise NotFound(description="No such API endpoint.")
