"""Schemas of the provider analytics operation (``/v1/providers/{org}/analytics``)."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, post_load, validate

from marketplace.analytics.report import BUCKETS, PERIODS
from marketplace.api.schemas.common import SLUG, In, Out

__all__ = ["AnalyticsQuerySchema", "AnalyticsSchema"]


class AnalyticsQuerySchema(In):
    days = fields.Integer(
        load_default=30,
        validate=validate.OneOf(PERIODS),
        metadata={"description": "The period: the last 30, 90 or 365 days up to today (UTC)."},
    )
    bucket = fields.String(
        load_default=None,
        validate=validate.OneOf(BUCKETS),
        metadata={"description": "`day` or `week` (weeks start on Monday); by default days for 30, else weeks."},
    )
    dataset = fields.String(
        load_default=None, validate=SLUG, metadata={"description": "One listing's slug; all listings if omitted."}
    )

    @post_load
    def _default_bucket(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        if data.get("bucket") is None:
            data["bucket"] = "day" if data["days"] <= 30 else "week"
        return data


class FunnelRowSchema(Out):
    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True)
    listing_views = fields.Integer(required=True)
    offer_views = fields.Integer(required=True)
    checkouts = fields.Integer(required=True, metadata={"description": "Orders started."})
    sales = fields.Integer(required=True, metadata={"description": "Orders paid (later refunds included)."})


class RevenueRowSchema(Out):
    dataset = fields.String(required=True)
    title = fields.String(required=True)
    currency = fields.String(required=True)
    sales = fields.Integer(required=True)
    gross = fields.Integer(required=True, metadata={"description": "Minor units of ``currency``."})
    platform_fee = fields.Integer(required=True)
    refunded = fields.Integer(required=True)
    net = fields.Integer(required=True, metadata={"description": "Gross less fee of the lines not refunded."})


class DownloadRowSchema(Out):
    licensee = fields.String(required=True)
    downloads = fields.Integer(required=True)
    files = fields.Integer(required=True)
    last_download = fields.DateTime(required=True)


class AnalyticsSchema(Out):
    organisation = fields.String(required=True)
    dataset = fields.String(allow_none=True, required=True)
    first_day = fields.Date(required=True)
    last_day = fields.Date(required=True)
    bucket = fields.String(required=True)
    funnel = fields.List(fields.Nested(FunnelRowSchema), required=True)
    revenue = fields.List(fields.Nested(RevenueRowSchema), required=True)
    downloads = fields.List(fields.Nested(DownloadRowSchema), required=True)
