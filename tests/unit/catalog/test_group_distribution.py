"""The AI Act record's distribution across groups: each row validated and named by its dotted path, language
groups as BCP 47 tags, no group twice, and a dimension's shares never over 100 %."""

from __future__ import annotations

from typing import Any

import pytest
from marshmallow import ValidationError

from marketplace.catalog.schemas import load_record, record_fields
from marketplace.forms import field_problems


def _problems(rows: list[dict[str, Any]]) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        load_record({"title": "Listing", "ai_act": {"group_distribution": rows}})
    return {p.field: p.message for p in field_problems(caught.value, record_fields())}


def test_rows_load_with_language_tags_normalised() -> None:
    rows = [
        {"dimension": " language ", "group": "pt-br", "share_pct": "55.5"},
        {"dimension": "speaker age", "group": "18-29", "count": "1200"},
    ]
    loaded = load_record({"title": "Listing", "ai_act": {"group_distribution": rows, "gaps_remedy": "More data."}})
    assert loaded["ai_act"]["group_distribution"] == [
        {"dimension": "language", "group": "pt-BR", "share_pct": 55.5, "count": None},
        {"dimension": "speaker age", "group": "18-29", "share_pct": None, "count": 1200},
    ]
    assert loaded["ai_act"]["gaps_remedy"] == "More data."


ROW = "ai_act.group_distribution"


def _region(group: str, **measure: Any) -> dict[str, Any]:
    return {"dimension": "region", "group": group, **measure}


@pytest.mark.parametrize(
    ("rows", "field", "message"),
    [
        ([_region("North")], f"{ROW}.0.share_pct", "share (%) or its"),
        ([{"dimension": "language", "group": "not a tag!", "share_pct": 5}], f"{ROW}.0.group", "BCP 47"),
        ([_region("North", share_pct=140)], f"{ROW}.0.share_pct", "0 to 100"),
        ([{"dimension": "region", "share_pct": 10}], f"{ROW}.0.group", ""),
        ([_region("North", share_pct=70), _region("South", share_pct=40)], f"{ROW}.0.share_pct", "add up to 110 %"),
        ([_region("North", count=3), _region("north", count=4)], f"{ROW}.1.group", "already in an earlier row"),
        ([{"dimension": "x" * 61, "group": "g", "count": 1}], f"{ROW}.0.dimension", ""),
    ],
)
def test_bad_rows_are_named(rows: list[dict[str, Any]], field: str, message: str) -> None:
    problems = _problems(rows)
    assert field in problems, problems
    assert message in problems[field]


def test_rounded_shares_may_add_up_to_a_little_over_100() -> None:
    rows = [{"dimension": "region", "group": g, "share_pct": 33.4} for g in ("A", "B", "C")]
    loaded = load_record({"title": "Listing", "ai_act": {"group_distribution": rows}})
    assert len(loaded["ai_act"]["group_distribution"]) == 3
