"""The provider's analytics as JSON (scope ``analytics:read``): the same report as the analytics page, through
:mod:`marketplace.analytics.services`; amounts in minor units with their currency."""

from __future__ import annotations

from typing import Any

from marketplace.analytics import services
from marketplace.analytics.report import Report
from marketplace.api import schemas
from marketplace.api.core import Call, operation
from marketplace.apikeys.scopes import ANALYTICS_READ
from marketplace.errors import ValidationFailed

TAG = "Analytics"


def _present(report: Report) -> dict[str, Any]:
    return {
        "organisation": report.organisation.slug,
        "dataset": report.dataset.slug if report.dataset is not None else None,
        "first_day": report.period.first,
        "last_day": report.period.last,
        "bucket": report.period.bucket,
        "funnel": [
            {
                "period_start": r.first,
                "period_end": r.last,
                "listing_views": r.listing_views,
                "offer_views": r.offer_views,
                "checkouts": r.checkouts,
                "sales": r.sales,
            }
            for r in report.funnel
        ],
        "revenue": [
            {
                "dataset": r.dataset_slug,
                "title": r.dataset_title,
                "currency": r.currency,
                "sales": r.sales,
                "gross": r.gross,
                "platform_fee": r.fee,
                "refunded": r.refunded,
                "net": r.net,
            }
            for r in report.revenue
        ],
        "downloads": [
            {"licensee": r.licensee, "downloads": r.downloads, "files": r.files, "last_download": r.last}
            for r in report.downloads
        ],
    }


@operation(
    "/v1/providers/{org}/analytics",
    "GET",
    summary="Read a provider's analytics",
    tag=TAG,
    scope=ANALYTICS_READ,
    path_params={"org": "slug"},
    query=schemas.AnalyticsQuerySchema(),
    response=schemas.AnalyticsSchema(),
)
def provider_analytics(call: Call, org: str) -> dict[str, Any]:
    """Listing views, offer views, checkouts and sales per day or week, revenue per listing and currency, and
    downloads per licensee, for the organisation's members; ``dataset`` narrows it to one of its listings."""
    query, user = call.query, call.caller.user
    period = {"days": query["days"], "bucket": query["bucket"]}
    if query.get("dataset") is None:
        return _present(services.organisation_report(call.uow, user, org, **period))
    report = services.listing_report(call.uow, user, query["dataset"], **period)
    if report.organisation.slug != org:
        raise ValidationFailed.for_field("dataset", f"{query['dataset']!r} is not a listing of {org!r}")
    return _present(report)
