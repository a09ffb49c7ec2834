"""The provider's analytics pages and CSV files, and the offer-view beacon of the dataset page.

Each page parses the period, calls one service and renders; charts are SVG written on the server.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template, request

import licensing
from marketplace.analytics import charts, exports, recording, services
from marketplace.analytics.report import PERIODS, Report
from marketplace.analytics.schemas import PeriodSchema
from marketplace.web import client_ip, current_user, login_required, parse, require_user, uow

bp = Blueprint("analytics", __name__)


def visit() -> recording.Visit:
    """The current request as a :class:`~marketplace.analytics.recording.Visit`."""
    purpose = request.headers.get("Sec-Purpose") or request.headers.get("Purpose") or ""
    return recording.Visit(current_user(), client_ip(), request.user_agent.string or "", purpose, request.method)


def _period() -> dict[str, Any]:
    return parse(PeriodSchema(), request.args.to_dict())


def _money(amount: int, currency: str) -> str:
    return licensing.Money(amount, currency).format()


def _charts(report: Report) -> dict[str, Any]:
    labels = [row.first.isoformat() for row in report.funnel]
    unit = "day" if report.period.bucket == "day" else "week"
    series = {name: (label, css, [getattr(row, name) for row in report.funnel]) for name, label, css in charts.SERIES}
    # Views and orders differ by orders of magnitude: each pair gets its own scale, or sales would lie flat at zero.
    funnel = [
        charts.line_chart(
            "views", f"Listing and offer views per {unit}, last {report.period.days} days", labels,
            [series["listing_views"], series["offer_views"]],
        ),
        charts.line_chart(
            "orders", f"Checkouts and sales per {unit}, last {report.period.days} days", labels,
            [series["checkouts"], series["sales"]],
        ),
    ]  # fmt: skip
    currencies = sorted({row.currency for row in report.revenue})
    revenue = {
        currency: charts.bar_chart(
            f"revenue-{currency.lower()}",
            f"Net revenue per listing in {currency}",
            [(r.dataset_title, r.net, _money(r.net, currency)) for r in report.revenue if r.currency == currency],
        )
        for currency in currencies
    }
    downloads = charts.bar_chart(
        "downloads", "Downloads per licensee", [(d.licensee, d.downloads, str(d.downloads)) for d in report.downloads]
    )
    return {"funnel_charts": funnel, "revenue_charts": revenue, "downloads_chart": downloads}


def _render(report: Report) -> str:
    return render_template(
        "analytics/report.html", report=report, totals=report.totals(), periods=PERIODS, money=_money,
        window_minutes=recording.WINDOW_MINUTES, **_charts(report),
    )  # fmt: skip


def _csv(report: Report, table: str) -> Response:
    body = exports.csv_for(report, table)
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{exports.filename_for(report, table)}"'
    return response


@bp.get("/orgs/<slug>/analytics")
@login_required
def organisation(slug: str) -> str:
    return _render(services.organisation_report(uow(), require_user(), slug, **_period()))


@bp.get("/orgs/<slug>/analytics/<table>.csv")
@login_required
def organisation_csv(slug: str, table: str) -> Response:
    return _csv(services.organisation_report(uow(), require_user(), slug, **_period()), table)


@bp.get("/datasets/<slug>/analytics")
@login_required
def listing(slug: str) -> str:
    return _render(services.listing_report(uow(), require_user(), slug, **_period()))


@bp.get("/datasets/<slug>/analytics/<table>.csv")
@login_required
def listing_csv(slug: str, table: str) -> Response:
    return _csv(services.listing_report(uow(), require_user(), slug, **_period()), table)


@bp.post("/offers/<int:offer_id>/views")
def offer_viewed(offer_id: int) -> tuple[str, int]:
    """The dataset page tells that a visitor opened an offer's terms (``navigator.sendBeacon``). It carries no
    CSRF token (a page may be served without a session); a cross-site request, as the browser reports it, is not
    counted. Always 204: the page has nothing to do with the answer."""
    if request.headers.get("Sec-Fetch-Site", "same-origin") == "same-origin":
        recording.record_offer_view(uow(), visit(), offer_id)
    return "", 204
