"""Arrow types as the protocol's Spark schema: every type a listing's Parquet file can hold reads back as itself."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from marketplace.sharing.schema import UnsupportedType, schema_string, spark_type
from marketplace.sharing.tables import table_name


@pytest.mark.parametrize(
    ("arrow", "spark"),
    [
        (pa.bool_(), "boolean"),
        (pa.int8(), "byte"),
        (pa.int16(), "short"),
        (pa.int32(), "integer"),
        (pa.int64(), "long"),
        (pa.uint32(), "long"),
        (pa.uint64(), "decimal(20,0)"),
        (pa.float32(), "float"),
        (pa.float64(), "double"),
        (pa.string(), "string"),
        (pa.large_string(), "string"),
        (pa.binary(), "binary"),
        (pa.date32(), "date"),
        (pa.timestamp("us", tz="UTC"), "timestamp"),
        (pa.timestamp("ms"), "timestamp_ntz"),
        (pa.decimal128(12, 2), "decimal(12,2)"),
        (pa.dictionary(pa.int32(), pa.string()), "string"),
        (pa.null(), "string"),
    ],
)
def test_simple_types(arrow: pa.DataType, spark: str) -> None:
    assert spark_type(arrow) == spark


def test_nested_types_and_the_schema_string() -> None:
    schema = pa.schema(
        [
            pa.field("id", pa.int64(), nullable=False),
            pa.field("tags", pa.list_(pa.string())),
            pa.field("where", pa.struct([pa.field("lat", pa.float64()), pa.field("lon", pa.float64())])),
            pa.field("counts", pa.map_(pa.string(), pa.int32())),
        ]
    )
    parsed = json.loads(schema_string(schema))
    assert parsed["type"] == "struct"
    id_field, tags, where, counts = parsed["fields"]
    assert id_field == {"name": "id", "type": "long", "nullable": False, "metadata": {}}
    assert tags["type"] == {"type": "array", "elementType": "string", "containsNull": True}
    assert [f["type"] for f in where["type"]["fields"]] == ["double", "double"]
    assert counts["type"] == {"type": "map", "keyType": "string", "valueType": "integer", "valueContainsNull": True}


def test_a_type_without_a_counterpart_is_refused() -> None:
    with pytest.raises(UnsupportedType, match="duration"):
        spark_type(pa.duration("s"))


@pytest.mark.parametrize(
    ("path", "version", "name"),
    [
        ("data/calls.csv", "1.2.0", "data_calls_v1_2_0"),
        ("Calls 2024.JSONL", "2.0.0-rc.1", "calls_2024_v2_0_0_rc_1"),
        ("part.v2/table", "1", "part_v2_table_v1"),
    ],
)
def test_table_names_have_no_dots(path: str, version: str, name: str) -> None:
    assert table_name(path, version) == name
