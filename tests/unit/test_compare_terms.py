"""Comparing license terms: the lines that differ, those shared, and the headline rows (term, seats)."""

from __future__ import annotations

import pytest

from licensing import Terms
from licensing.compare import compare_terms


def _terms(**values: object) -> Terms:
    return Terms.from_dict({"permitted_uses": ["research", "train"], **values})


def test_differing_and_common_terms_are_split_by_their_plain_language_lines() -> None:
    one = _terms(seats=5, term="P1Y")
    two = _terms(seats=50, term="P1Y", territory=["DE"], derivatives=True)
    result = compare_terms([one, two])
    assert [row.field for row in result.differing] == ["derivatives", "territory"]
    assert all(len(set(row.lines)) == 2 for row in result.differing)
    common = {row.field for row in result.common}
    assert "permitted_uses" in common and "territory" not in common
    assert not common & {"term", "seats"} and not {r.field for r in result.differing} & {"term", "seats"}
    assert result.seats.lines == tuple(t.plain_language_by_field()["seats"] for t in (one, two))
    assert result.term.lines[0] == result.term.lines[1]
    row = next(r for r in result.common if r.field == "permitted_uses")
    assert row.common_line == one.plain_language_by_field()["permitted_uses"]


def test_one_offer_has_every_term_in_common_and_none_is_refused() -> None:
    result = compare_terms([_terms()])
    assert result.differing == ()
    assert len(result.common) == len(_terms().plain_language_by_field()) - 2
    with pytest.raises(ValueError):
        compare_terms([])
