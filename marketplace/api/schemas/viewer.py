"""The data viewer's API shapes: a page of rows (Hugging Face dataset-viewer style) and a file's statistics."""

from __future__ import annotations

from marshmallow import fields, validate

from marketplace.api.schemas.common import In, Out, nullable_str
from marketplace.viewer.engine import PAGE_SIZE_MAX, SEARCH_CHARS


class RowsQuerySchema(In):
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0))
    length = fields.Integer(load_default=PAGE_SIZE_MAX, validate=validate.Range(min=1, max=PAGE_SIZE_MAX))


class SearchQuerySchema(RowsQuerySchema):
    q = fields.String(required=True, validate=validate.Length(min=1, max=SEARCH_CHARS))


class ViewerColumnSchema(Out):
    name = fields.String(required=True)
    type = fields.String(required=True, metadata={"description": "DuckDB's type of the column"})
    kind = fields.String(
        required=True, metadata={"description": "integer, number, text, boolean, date, timestamp or other"}
    )


class ViewerRowSchema(Out):
    row_idx = fields.Integer(required=True)
    row = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True), required=True)


class ViewerFileSchema(Out):
    name = fields.String(required=True)
    media_type = fields.String(required=True)
    size_bytes = fields.Integer(required=True)
    format = nullable_str(required=True)
    version = nullable_str(required=True)
    sample_id = fields.Integer(allow_none=True, required=True)
    file_id = fields.Integer(allow_none=True, required=True)


class RowsPageSchema(Out):
    file = fields.Nested(ViewerFileSchema, required=True)
    features = fields.List(fields.Nested(ViewerColumnSchema), required=True)
    rows = fields.List(fields.Nested(ViewerRowSchema), required=True)
    offset = fields.Integer(required=True)
    length = fields.Integer(required=True)
    num_rows_total = fields.Integer(required=True, metadata={"description": "all rows, or all matching rows"})
    query = nullable_str(required=True)


class BarSchema(Out):
    label = fields.String(required=True)
    count = fields.Integer(required=True)


class ColumnStatisticsSchema(Out):
    name = fields.String(required=True)
    type = fields.String(required=True)
    kind = fields.String(required=True)
    nulls = fields.Integer(required=True)
    distinct = fields.Integer(required=True)
    min = fields.Raw(allow_none=True, required=True)
    max = fields.Raw(allow_none=True, required=True)
    histogram_of = fields.String(required=True, metadata={"description": "values, categories, lengths or empty"})
    histogram = fields.List(fields.Nested(BarSchema), required=True)


class FileStatisticsBodySchema(Out):
    rows = fields.Integer(required=True)
    columns = fields.List(fields.Nested(ColumnStatisticsSchema), required=True)


class StatisticsSchema(Out):
    file = fields.Nested(ViewerFileSchema, required=True)
    state = fields.String(required=True, validate=validate.OneOf(["pending", "ready", "failed"]))
    statistics = fields.Nested(FileStatisticsBodySchema, allow_none=True, required=True)
    error = nullable_str(required=True)
