"""The viewer's query strings: which rows (``offset``, ``length``) and what to search for (``q``)."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from marketplace.viewer.engine import PAGE_SIZE_MAX, SEARCH_CHARS

#: Rows per page on the website.
WEB_PAGE_SIZE = 50


class ViewerQuerySchema(Schema):
    """``offset`` (first row, from 0), ``length`` (rows, 1 to 100) and an optional search text ``q``."""

    class Meta:
        unknown = EXCLUDE

    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, error="must be 0 or more"))
    length = fields.Integer(
        load_default=WEB_PAGE_SIZE,
        validate=validate.Range(min=1, max=PAGE_SIZE_MAX, error=f"must be between 1 and {PAGE_SIZE_MAX}"),
    )
    q = fields.String(
        load_default="", validate=validate.Length(max=SEARCH_CHARS, error=f"at most {SEARCH_CHARS} characters")
    )
