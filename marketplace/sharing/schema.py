"""An Arrow schema as the Delta Sharing protocol's ``schemaString``: Spark's struct type, serialised as JSON.

Clients (pandas through the ``delta-sharing`` package, Spark) read column types from it, so every Arrow type a
Parquet file of a listing can hold maps to the Spark type that reads it back without loss: integers by width,
floating point, decimals, strings and binaries, dates and timestamps (``timestamp`` with a zone, ``timestamp_ntz``
without), lists, structs and maps. A type with no Spark counterpart raises :class:`UnsupportedType`.
"""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa

__all__ = ["UnsupportedType", "schema_string", "spark_type"]

_SIMPLE: list[tuple[Any, str]] = [
    (pa.types.is_boolean, "boolean"),
    (pa.types.is_int8, "byte"),
    (pa.types.is_int16, "short"),
    (pa.types.is_int32, "integer"),
    (pa.types.is_int64, "long"),
    (pa.types.is_uint8, "short"),
    (pa.types.is_uint16, "integer"),
    (pa.types.is_uint32, "long"),
    (pa.types.is_float16, "float"),
    (pa.types.is_float32, "float"),
    (pa.types.is_float64, "double"),
    (pa.types.is_string, "string"),
    (pa.types.is_large_string, "string"),
    (pa.types.is_binary, "binary"),
    (pa.types.is_large_binary, "binary"),
    (pa.types.is_fixed_size_binary, "binary"),
    (pa.types.is_date, "date"),
    (pa.types.is_null, "string"),
]


class UnsupportedType(ValueError):
    """A column type the protocol's Spark schema cannot express."""


def spark_type(data_type: pa.DataType) -> Any:
    """The Spark type (a name, or a dict for nested types) that reads ``data_type`` back."""
    if pa.types.is_dictionary(data_type):
        return spark_type(data_type.value_type)
    for test, name in _SIMPLE:
        if test(data_type):
            return name
    if pa.types.is_uint64(data_type):
        return "decimal(20,0)"
    if pa.types.is_timestamp(data_type):
        return "timestamp" if data_type.tz is not None else "timestamp_ntz"
    if pa.types.is_decimal(data_type):
        return f"decimal({data_type.precision},{data_type.scale})"
    if pa.types.is_list(data_type) or pa.types.is_large_list(data_type) or pa.types.is_fixed_size_list(data_type):
        return {"type": "array", "elementType": spark_type(data_type.value_type), "containsNull": True}
    if pa.types.is_map(data_type):
        return {
            "type": "map",
            "keyType": spark_type(data_type.key_type),
            "valueType": spark_type(data_type.item_type),
            "valueContainsNull": True,
        }
    if pa.types.is_struct(data_type):
        return _struct([data_type.field(i) for i in range(data_type.num_fields)])
    raise UnsupportedType(f"the column type {data_type} has no Delta Sharing (Spark) counterpart")


def _struct(fields: list[pa.Field]) -> dict[str, Any]:
    return {
        "type": "struct",
        "fields": [
            {"name": f.name, "type": spark_type(f.type), "nullable": bool(f.nullable), "metadata": {}} for f in fields
        ],
    }


def schema_string(schema: pa.Schema) -> str:
    """The protocol's ``schemaString`` for a Parquet file's Arrow schema."""
    return json.dumps(_struct(list(schema)), separators=(",", ":"))
