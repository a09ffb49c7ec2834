"""Terms: validation (contradictions name their fields), serialisation, hashing, plain language."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from licensing_testkit import terms_dicts, terms_strategy

from licensing import (
    Attribution,
    DeletionOnTermination,
    Duration,
    Exclusivity,
    ModelWeights,
    Money,
    PIIObligations,
    RawRedistribution,
    Terms,
    TermsError,
    Territory,
    Use,
    Warranty,
    get_template,
)
from licensing.terms import FIELD_NAMES, country_name, is_country

BASE: dict[str, Any] = get_template("LicenseRef-standard-commercial-1.0").terms.to_dict()


def _terms(**changes: Any) -> Terms:
    return Terms.from_dict({**BASE, **changes})


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"non_commercial": True}, ("non_commercial", "permitted_uses")),
        (
            {"non_commercial": True, "permitted_uses": ["train", "research"], "model_weights": "unrestricted"},
            ("non_commercial", "model_weights"),
        ),
        ({"permitted_uses": ["research", "rag"], "model_weights": "same_terms"}, ("model_weights", "permitted_uses")),
        ({"permitted_uses": ["model_commercial", "rag"], "model_weights": "none"}, ("permitted_uses",)),
        ({"permitted_uses": []}, ("permitted_uses",)),
        ({"share_alike": True, "derivatives": False}, ("share_alike", "derivatives")),
        ({"share_alike": True, "raw_redistribution": "none"}, ("share_alike", "raw_redistribution")),
        ({"share_alike": True, "raw_redistribution": "affiliates"}, ("share_alike", "raw_redistribution")),
        ({"sublicensing": True, "raw_redistribution": "none"}, ("sublicensing", "raw_redistribution")),
        ({"exclusivity": "territory", "territory": "worldwide"}, ("exclusivity", "territory")),
        ({"seats": 0}, ("seats",)),
        ({"seats": -3}, ("seats",)),
        ({"seats": 2.5}, ("seats",)),
        ({"seats": True}, ("seats",)),
        ({"download_limit": -1}, ("download_limit",)),
        (
            {"deletion_on_termination": {"required": True, "days": -1, "certification": True}},
            ("deletion_on_termination.days",),
        ),
        ({"deletion_on_termination": {"required": False, "days": 3}}, ("deletion_on_termination",)),
        ({"attribution": {"required": False, "text": "Credit X"}}, ("attribution.text", "attribution.required")),
        ({"attribution": {"required": True, "text": "   "}}, ("attribution.text",)),
        ({"attribution": {"required": "yes"}}, ("attribution.required",)),
        ({"attribution": {"required": True, "colour": "red"}}, ("attribution.colour",)),
        ({"attribution": "yes"}, ("attribution",)),
        ({"pii": {"no_reidentification": 1}}, ("pii.no_reidentification",)),
        ({"pii": {"dpa_required": None}}, ("pii.dpa_required",)),
        ({"model_weights": "sometimes"}, ("model_weights",)),
        ({"raw_redistribution": "friends"}, ("raw_redistribution",)),
        ({"exclusivity": 3}, ("exclusivity",)),
        ({"warranty": "lifetime"}, ("warranty",)),
        ({"permitted_uses": ["train", "mine_bitcoin"]}, ("permitted_uses",)),
        ({"permitted_uses": "train"}, ("permitted_uses",)),
        ({"derivatives": "true"}, ("derivatives",)),
        ({"territory": ["DE", "XX"]}, ("territory",)),
        ({"territory": ["de"]}, ("territory",)),
        ({"territory": []}, ("territory",)),
        ({"territory": "Germany"}, ("territory",)),
        ({"term": "P0D"}, ("term",)),
        ({"term": "1 year"}, ("term",)),
        ({"term": 365}, ("term",)),
        ({"liability_cap": {"amount": 1.5, "currency": "EUR"}}, ("liability_cap",)),
        ({"liability_cap": {"amount": -5, "currency": "EUR"}}, ("liability_cap",)),
        ({"liability_cap": {"amount": 5, "currency": "EURO"}}, ("liability_cap",)),
        ({"governing_law": "Germany"}, ("governing_law",)),
        ({"governing_law": "XX-NY"}, ("governing_law",)),
        ({"governing_law": 49}, ("governing_law",)),
        ({"colour": "blue"}, ("colour",)),
    ],
)
def test_invalid_terms_name_the_field(changes: dict[str, Any], fields: tuple[str, ...]) -> None:
    with pytest.raises(TermsError) as info:
        _terms(**changes)
    assert info.value.fields == fields
    assert info.value.message
    assert str(info.value).startswith(", ".join(fields))


def test_unknown_enum_value_message_lists_the_choices() -> None:
    with pytest.raises(TermsError, match="expected one of: none, research_only, same_terms, unrestricted"):
        _terms(model_weights="sometimes")


def test_terms_constructed_in_python_are_coerced_and_checked() -> None:
    terms = Terms(
        permitted_uses={"train", Use.RESEARCH},  # type: ignore[arg-type]
        model_weights="same_terms",  # type: ignore[arg-type]
        raw_redistribution="any",  # type: ignore[arg-type]
        derivatives=True,
        share_alike=True,
        territory=Territory.of("FR", "DE", "FR"),
        term=Duration(months=6),
        liability_cap=Money(10_000_00, "EUR"),
        governing_law="US-NY",
    )
    assert terms.permitted_uses == frozenset({Use.TRAIN, Use.RESEARCH})
    assert terms.model_weights is ModelWeights.SAME_TERMS
    assert terms.raw_redistribution is RawRedistribution.ANY
    assert terms.territory.countries == ("DE", "FR")
    for field, value in [
        ("territory", "worldwide"),
        ("term", "P1Y"),
        ("attribution", True),
        ("liability_cap", 100),
        ("pii", {}),
        ("deletion_on_termination", None),
    ]:
        with pytest.raises(TermsError) as info:
            Terms(permitted_uses=frozenset({Use.RESEARCH}), **{field: value})
        assert info.value.fields == (field,)
    with pytest.raises(TermsError):
        Terms(permitted_uses="train")  # type: ignore[arg-type]
    with pytest.raises(TermsError):
        Terms(permitted_uses=frozenset({Use.RESEARCH}), territory=Territory("DE"))  # type: ignore[arg-type]
    with pytest.raises(TermsError):
        Terms(permitted_uses=frozenset({Use.RESEARCH}), territory=Territory(5))  # type: ignore[arg-type]


def test_from_dict_defaults_and_shape_errors() -> None:
    minimal = Terms.from_dict({"permitted_uses": ["research"]})
    assert minimal == Terms(permitted_uses=frozenset({Use.RESEARCH}))
    assert minimal.term is None and minimal.seats is None and minimal.warranty is Warranty.AS_IS
    assert Terms.from_dict({"permitted_uses": ["research"], "term": None}).term is None
    with pytest.raises(TermsError) as info:
        Terms.from_dict({"derivatives": True})
    assert info.value.fields == ("permitted_uses",)
    with pytest.raises(TermsError):
        Terms.from_dict(["research"])  # type: ignore[arg-type]
    with pytest.raises(TermsError) as info:
        Terms.from_dict({"permitted_uses": ["research"], "zeta": 1, "alpha": 2})
    assert info.value.fields == ("alpha", "zeta")


def test_to_dict_is_json_safe_and_complete() -> None:
    terms = _terms(
        territory=["FR", "DE"],
        seats=3,
        liability_cap={"amount": 500000, "currency": "USD"},
        governing_law="DE",
        attribution={"required": True, "text": "Data © Acme"},
    )
    data = terms.to_dict()
    assert list(data) == list(FIELD_NAMES)
    assert json.loads(json.dumps(data)) == data
    assert data["territory"] == ["DE", "FR"]
    assert data["term"] == "P1Y"
    assert data["liability_cap"] == {"amount": 500000, "currency": "USD"}
    assert Terms.from_dict(data) == terms
    assert terms.canonical_json().startswith(b'{"attribution":{"required":true,"text":"Data \xc2\xa9 Acme"}')


def test_with_overrides_merges_nested_objects_and_validates() -> None:
    base = get_template("LicenseRef-standard-commercial-1.0").terms
    changed = base.with_overrides({"seats": 5, "deletion_on_termination": {"days": 7}, "pii": {"dpa_required": True}})
    assert changed.seats == 5
    assert changed.deletion_on_termination == DeletionOnTermination(True, 7, True)
    assert changed.pii == PIIObligations(no_reidentification=True, dpa_required=True)
    assert base.seats is None  # the original is untouched
    with pytest.raises(TermsError) as info:
        base.with_overrides({"non_commercial": True})
    assert info.value.fields == ("non_commercial", "permitted_uses")
    with pytest.raises(TermsError) as info:
        base.with_overrides({"sets": 5})
    assert info.value.fields == ("sets",)
    with pytest.raises(TermsError):
        base.with_overrides([("seats", 5)])  # type: ignore[arg-type]
    assert base.with_overrides({"attribution": Attribution(True).__dict__}).attribution.required


def test_hash_changes_with_any_term() -> None:
    base = get_template("LicenseRef-standard-commercial-1.0").terms
    hashes = {base.terms_hash}
    for overrides in ({"seats": 4}, {"seats": 5}, {"term": "P2Y"}, {"territory": ["DE"]}, {"governing_law": "DE"}):
        hashes.add(base.with_overrides(overrides).terms_hash)
    assert len(hashes) == 6
    assert all(len(h) == 64 for h in hashes)


def test_questions() -> None:
    nc = get_template("CC-BY-NC-4.0").terms
    assert nc.permits_training() and nc.permits("train") and not nc.permits_commercial_use()
    evaluation = get_template("LicenseRef-evaluation-only-1.0").terms
    assert not evaluation.permits_training() and evaluation.permits(Use.EVALUATION)
    with pytest.raises(TermsError):
        evaluation.permits("fly")


def test_territory_helpers() -> None:
    eu = Territory.of("DE", "FR", "IT")
    assert eu.includes("DE") and not eu.includes("US")
    assert Territory.worldwide().includes("US")
    with pytest.raises(TermsError):
        eu.includes("ZZ")
    assert eu.intersection(Territory.of("FR", "US")) == Territory.of("FR")
    assert eu.intersection(Territory.of("US")) is None
    assert Territory.worldwide().intersection(eu) == eu
    assert eu.intersection(Territory.worldwide()) == eu
    assert Territory.worldwide().covers(eu) and eu.covers(Territory.of("DE"))
    assert not eu.covers(Territory.worldwide()) and not eu.covers(Territory.of("US"))
    assert Territory.from_json(["DE"]).describe() == "Germany (DE)"
    assert Territory.from_json("worldwide").describe() == "worldwide"
    assert eu.describe() == "Germany (DE), France (FR) and Italy (IT)"
    assert country_name("JP") == "Japan" and is_country("JP") and not is_country("jp")
    with pytest.raises(TermsError):
        Territory.from_json([1])


def test_plain_language_has_one_line_per_term() -> None:
    for template in [get_template(i) for i in ("CC-BY-SA-4.0", "CC-BY-NC-4.0", "CC0-1.0", "LicenseRef-enterprise-1.0")]:
        lines = template.terms.plain_language()
        assert len(lines) == len(FIELD_NAMES)
        assert all(line.endswith(".") and line[0].isupper() for line in lines)
    rich = _terms(
        seats=1,
        download_limit=1,
        territory=["DE"],
        exclusivity="full",
        attribution={"required": True, "text": "Acme Speech Corpus"},
        deletion_on_termination={"required": True, "days": 0, "certification": False},
        pii={"no_reidentification": True, "dpa_required": True},
        liability_cap={"amount": 125000, "currency": "EUR"},
        governing_law="US-NY",
        warranty="rights_and_quality",
        transferable=True,
        raw_redistribution="affiliates",
        sublicensing=True,
    ).plain_language_by_field()
    assert rich["seats"] == "At most 1 person (seats) may use the data."
    assert rich["download_limit"] == "You may download the data at most 1 time."
    assert rich["territory"] == "The license applies only in Germany (DE)."
    assert rich["attribution"] == "You must credit the source: Acme Speech Corpus"
    assert rich["deletion_on_termination"] == "When the license ends you must delete the data immediately."
    assert "re-identify" in rich["pii"] and "(DPA)" in rich["pii"]
    assert rich["liability_cap"] == "The provider's liability is capped at €1,250.00."
    assert rich["governing_law"] == "The license is governed by the law of United States (US-NY)."
    assert rich["exclusivity"].startswith("This license is fully exclusive")
    assert rich["sublicensing"] == "You may sublicense your rights to others."
    other = _terms(
        seats=7, download_limit=3, governing_law="FR", exclusivity="field", model_weights="research_only"
    ).plain_language_by_field()
    assert other["seats"] == "At most 7 people (seats) may use the data."
    assert other["download_limit"] == "You may download the data at most 3 times."
    assert other["governing_law"] == "The license is governed by the law of France."
    assert "within its field" in other["exclusivity"]
    assert "research purposes only" in other["model_weights"]
    cc = get_template("CC-BY-SA-4.0").terms.plain_language_by_field()
    assert cc["share_alike"].startswith("If you share derivatives")
    assert cc["term"] == "The license is perpetual: it has no end date."
    assert cc["attribution"] == "You must credit the source."


@given(terms_strategy)
def test_round_trip_through_dict(terms: Terms) -> None:
    data = terms.to_dict()
    assert Terms.from_dict(data) == terms
    assert Terms.from_dict(json.loads(json.dumps(data))) == terms


@given(terms_dicts(), st.randoms(use_true_random=False))
def test_hash_is_stable_under_key_reordering(data: dict[str, Any], rnd: random.Random) -> None:
    def shuffled(value: Any) -> Any:
        if isinstance(value, dict):
            items = [(k, shuffled(v)) for k, v in value.items()]
            rnd.shuffle(items)
            return dict(items)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            value = list(value)
            rnd.shuffle(value)
        return value

    original = Terms.from_dict(data)
    reordered = Terms.from_dict(shuffled(data))
    assert reordered == original
    assert reordered.terms_hash == original.terms_hash
    assert reordered.canonical_json() == original.canonical_json()


@given(terms_strategy)
def test_overrides_with_own_dict_is_identity(terms: Terms) -> None:
    assert terms.with_overrides(terms.to_dict()) == terms
    assert terms.with_overrides({}) == terms


def test_exclusivity_enum_values() -> None:
    assert [e.value for e in Exclusivity] == ["none", "field", "territory", "full"]
    assert [e.value for e in ModelWeights] == ["none", "research_only", "same_terms", "unrestricted"]
    assert [e.value for e in RawRedistribution] == ["none", "affiliates", "same_license", "any"]
