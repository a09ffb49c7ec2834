"""The analytics page's query: which period (30, 90 or 365 days) in which buckets (days or weeks)."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, post_load, validate

from marketplace.analytics.report import BUCKETS, PERIODS
from marketplace.forms import FormSchema


class PeriodSchema(FormSchema):
    days = fields.Integer(load_default=30, validate=validate.OneOf(PERIODS, error="choose the last 30, 90 or 365 days"))
    bucket = fields.String(load_default=None, validate=validate.OneOf(BUCKETS, error="choose days or weeks"))

    @post_load
    def _default_bucket(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        """Days for a month, weeks for longer periods, unless asked otherwise."""
        if data.get("bucket") is None:
            data["bucket"] = "day" if data["days"] <= 30 else "week"
        return data
