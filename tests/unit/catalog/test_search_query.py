"""Turning search input into tokens and a validated query."""

from __future__ import annotations

import pytest

from marketplace.catalog.search import FACETS, MAX_QUERY_TOKENS, Facet, parse_search, register_facet, tokenise
from marketplace.errors import BadRequest


def test_tokens_are_plain_words() -> None:
    assert tokenise('Speech AND "call centre" OR NEAR(x) title:foo* -bar') == (
        ("speech", "near", "x", "title", "foo", "bar"),
        (("call", "centre"),),
    )
    assert tokenise("the of and") == ((), ())
    assert tokenise("ｓｐｅｅｃｈ snake_case") == (("speech", "snake", "case"), ())
    assert tokenise('"one"') == (("one",), ())


def test_token_budget() -> None:
    terms, _ = tokenise(" ".join(f"w{i}" for i in range(100)))
    assert len(terms) == MAX_QUERY_TOKENS


def test_parse_defaults_and_sorting() -> None:
    assert parse_search({}).sort == "newest"
    assert parse_search({"q": ["speech"]}).sort == "relevance"
    assert parse_search({"q": ["the"]}).sort == "newest"  # nothing left to rank by
    query = parse_search({"q": ["speech"], "modality": ["audio", "audio", "text"], "page": ["2"]})
    assert query.filters == {"modality": ("audio", "text")} and query.page == 2
    assert query.query_args() == [("q", "speech"), ("modality", "audio"), ("modality", "text"), ("page", "2")]
    assert query.toggled("modality", "text") == [("q", "speech"), ("modality", "audio")]


def test_every_bad_parameter_is_named_at_once() -> None:
    with pytest.raises(BadRequest) as caught:
        parse_search({"q": ["x" * 600], "page": ["0"], "sort": ["cheapest"], "task": ["telepathy"]})
    assert {p.field for p in caught.value.details} == {"q", "page", "sort", "task"}


def test_a_registered_facet_is_parsed_like_the_others() -> None:
    import sqlalchemy as sa

    facet = Facet(
        name="colour",
        label="Colour",
        values=lambda: sa.select(sa.literal(1).label("dataset_id"), sa.literal("red").label("value")),
        accepts=lambda v: v in {"red", "blue"},
    )
    register_facet(facet)
    try:
        assert parse_search({"colour": ["red"]}).filters == {"colour": ("red",)}
        with pytest.raises(BadRequest):
            parse_search({"colour": ["green"]})
    finally:
        del FACETS["colour"]


def test_single_strings_are_single_values() -> None:
    assert parse_search({"q": "dutch", "modality": "audio"}) == parse_search({"q": ["dutch"], "modality": ["audio"]})
