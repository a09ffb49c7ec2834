"""The data viewer's pages: one per sample and one per file of a published version (a table with paging, search
and statistics, or a player for media). Each view parses the query, calls one service and renders; the page
body is ``catalog/_viewer.html``, which the dataset page can include in its own "Data" tab."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, render_template, request
from markupsafe import Markup
from werkzeug.wrappers import Response

from marketplace import security
from marketplace.delivery.charts import bar_chart
from marketplace.delivery.downloads import Requester
from marketplace.viewer import services
from marketplace.viewer.schemas import ViewerQuerySchema
from marketplace.web import client_ip, current_user, parse, uow

bp = Blueprint("viewer", __name__)


def histogram_chart(column: dict[str, Any]) -> Markup:
    """A column's histogram as a small server-rendered SVG bar chart (each bar titled with its label and count)."""
    what = {"values": "values", "categories": "most frequent values", "lengths": "text lengths"}
    title = f"Histogram of {column['name']}: {what.get(column.get('histogram_of', ''), 'values')}"
    series = [(str(bar["label"]), int(bar["count"])) for bar in column.get("histogram") or []]
    return bar_chart(series, title=title, width=260, height=110)


def _requester() -> Requester:
    return Requester(user=current_user(), ip=client_ip(), user_agent=request.headers.get("User-Agent", ""))


def _media_origin(url: str | None) -> str | None:
    """The origin of a media link that is not this site (an S3 bucket), for the page's img-src and media-src."""
    parts = urlsplit(url or "")
    if not parts.scheme or not parts.netloc:
        return None
    origin = f"{parts.scheme}://{parts.netloc}"
    return None if origin == request.host_url.rstrip("/") else origin


def _render(ref: services.FileRef) -> Response:
    query = parse(ViewerQuerySchema(), request.args)
    viewer = services.viewer_page(
        uow(), _requester(), ref, offset=query["offset"], length=query["length"], query=query["q"]
    )
    html = render_template("catalog/viewer.html", viewer=viewer, ref=ref, chart=histogram_chart)
    response = Response(html, mimetype="text/html", status=200 if viewer.problem is None else 422)
    response.headers["Cache-Control"] = "private, no-store"  # licensed rows are never kept by a shared cache
    origin = _media_origin(viewer.media_url)
    if origin:
        response.headers["Content-Security-Policy"] = security.CONTENT_SECURITY_POLICY.replace(
            "img-src 'self'", f"img-src 'self' {origin}"
        ).replace("media-src 'self'", f"media-src 'self' {origin}")
    return response


@bp.get("/datasets/<slug>/samples/<int:sample_id>/data")
def sample_page(slug: str, sample_id: int) -> Response:
    """A sample in the viewer: open to whoever may see the listing's samples."""
    return _render(services.FileRef(slug, sample_id=sample_id))


@bp.get("/datasets/<slug>/versions/<label>/files/<int:file_id>/data")
def file_page(slug: str, label: str, file_id: int) -> Response:
    """A version's full file in the viewer: only for holders of a license that lets them download it now."""
    return _render(services.FileRef(slug, label=label, file_id=file_id))
