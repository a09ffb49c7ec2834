"""Use check (terms and grants) and license compatibility."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from licensing_testkit import T0, make_grant, make_offer

from licensing import (
    Action,
    IntendedUse,
    LicenseIdError,
    LicensingError,
    Terms,
    VersionCoverage,
    check_compatibility,
    check_use,
    get_template,
)

DAY = timedelta(days=1)
STANDARD = "LicenseRef-standard-commercial-1.0"
CUSTOM = "LicenseRef-custom-1.0"
RESEARCH = "LicenseRef-research-only-1.0"
EVALUATION = "LicenseRef-evaluation-only-1.0"


def _terms(license_id: str, **overrides: Any) -> Terms:
    return get_template(license_id).terms.with_overrides(overrides)


# (license, overrides, action, use kwargs, allowed, blocking codes, obligation codes that must appear)
CASES: list[tuple[str, dict[str, Any], str, dict[str, Any], bool, set[str], set[str]]] = [
    ("CC-BY-NC-4.0", {}, "train", {}, True, set(), {"attribution_required"}),
    ("CC-BY-NC-4.0", {}, "train", {"commercial": True}, False, {"non_commercial"}, set()),
    ("CC-BY-NC-4.0", {}, "rag", {"commercial": True}, False, {"non_commercial"}, set()),
    ("CC-BY-NC-4.0", {}, "redistribute_raw", {"commercial": True}, False, {"non_commercial"}, set()),
    ("CC-BY-4.0", {}, "fine_tune", {"commercial": True, "territory": "DE"}, True, set(), {"attribution_required"}),
    ("CC-BY-4.0", {}, "redistribute_raw", {"commercial": True}, True, set(), {"attribution_required"}),
    ("CC-BY-SA-4.0", {}, "create_derivative", {"commercial": True}, True, set(), {"share_alike"}),
    ("CC-BY-SA-4.0", {}, "redistribute_raw", {}, True, set(), {"share_alike", "same_license"}),
    ("CC-BY-SA-4.0", {}, "distribute_model_weights", {"commercial": True}, True, set(), {"same_terms"}),
    ("CC0-1.0", {}, "distribute_model_weights", {"commercial": True}, True, set(), set()),
    ("ODbL-1.0", {}, "create_derivative", {}, True, set(), {"share_alike", "attribution_required"}),
    (STANDARD, {}, "redistribute_raw", {}, False, {"redistribution_not_permitted"}, set()),
    (STANDARD, {}, "fine_tune", {"commercial": True}, True, set(), {"no_reidentification", "deletion_on_termination"}),
    ("LicenseRef-enterprise-1.0", {}, "redistribute_raw", {"to_affiliates": True}, True, set(), set()),
    ("LicenseRef-enterprise-1.0", {}, "redistribute_raw", {}, False, {"redistribution_affiliates_only"}, set()),
    (RESEARCH, {}, "train", {}, True, set(), set()),
    (RESEARCH, {}, "train", {"commercial": True}, False, {"non_commercial"}, set()),
    (
        RESEARCH,
        {},
        "distribute_model_weights",
        {"commercial": True},
        False,
        {"model_weights_research_only", "non_commercial"},
        set(),
    ),
    (RESEARCH, {}, "distribute_model_weights", {}, True, set(), set()),
    (RESEARCH, {}, "rag", {}, False, {"use_not_permitted"}, set()),
    (EVALUATION, {}, "evaluate", {"seats_in_use": 5}, True, set(), {"deletion_on_termination"}),
    (EVALUATION, {}, "benchmark", {"commercial": True}, True, set(), set()),
    (EVALUATION, {}, "train", {}, False, {"use_not_permitted"}, set()),
    (
        EVALUATION,
        {},
        "fine_tune",
        {"commercial": True},
        False,
        {"use_not_permitted", "commercial_model_not_permitted"},
        set(),
    ),
    (EVALUATION, {}, "distribute_model_weights", {}, False, {"model_weights_not_permitted"}, set()),
    (EVALUATION, {}, "evaluate", {"seats_in_use": 6}, False, {"seats_exceeded"}, set()),
    (STANDARD, {"territory": ["DE", "FR"]}, "train", {"territory": "US"}, False, {"territory_not_covered"}, set()),
    (STANDARD, {"territory": ["DE", "FR"]}, "train", {"territory": "DE"}, True, set(), set()),
    (STANDARD, {"territory": ["DE"]}, "train", {}, False, {"territory_unknown"}, set()),
    (
        CUSTOM,
        {"permitted_uses": ["train", "research", "rag"], "model_weights": "none"},
        "train",
        {"commercial": True},
        False,
        {"commercial_model_not_permitted"},
        set(),
    ),
    (
        CUSTOM,
        {"permitted_uses": ["train", "rag", "model_commercial"]},
        "rag",
        {"commercial": True},
        False,
        {"commercial_output_not_permitted"},
        set(),
    ),
    (CUSTOM, {"derivatives": False}, "create_derivative", {}, False, {"derivatives_not_permitted"}, set()),
    (CUSTOM, {"pii": {"dpa_required": True}}, "internal_use", {}, True, set(), {"dpa_required"}),
    (CUSTOM, {"seats": 3}, "research", {"seats_in_use": 3}, True, set(), set()),
]


@pytest.mark.parametrize(
    ("license_id", "overrides", "action", "use", "allowed", "codes", "obligations"),
    CASES,
    ids=[f"{c[0]}-{c[2]}-{i}" for i, c in enumerate(CASES)],
)
def test_use_check_table(
    license_id: str,
    overrides: dict[str, Any],
    action: str,
    use: dict[str, Any],
    allowed: bool,
    codes: set[str],
    obligations: set[str],
) -> None:
    decision = check_use(_terms(license_id, **overrides), IntendedUse(Action(action), **use))
    assert decision.allowed is allowed and bool(decision) is allowed
    assert set(decision.codes) == codes
    assert obligations <= {o.code for o in decision.obligations}
    assert all(r.message for r in decision.reasons)
    if not allowed:
        assert decision.obligations == ()


def test_table_is_large_enough() -> None:
    assert len(CASES) >= 20


def test_grant_status_and_window_count() -> None:
    grant = make_grant(make_offer(versions=VersionCoverage.single("1.0.0")), valid_from=T0 + DAY)
    use = IntendedUse(Action.TRAIN, commercial=True, at=T0 + 2 * DAY, version="1.0.0")
    assert check_use(grant, use).allowed
    early = check_use(grant, IntendedUse(Action.TRAIN, at=T0))
    assert early.codes == ("not_yet_valid",)
    late = check_use(grant, IntendedUse(Action.TRAIN, at=T0 + 400 * DAY))
    assert set(late.codes) == {"grant_not_active", "expired"}
    other_version = check_use(grant, IntendedUse(Action.TRAIN, at=T0 + 2 * DAY, version="2.0.0"))
    assert other_version.codes == ("version_not_covered",)
    suspended = grant.suspend(T0 + 2 * DAY, reason="dispute")
    decision = check_use(suspended, IntendedUse(Action.TRAIN, at=T0 + 3 * DAY))
    assert decision.codes == ("grant_not_active",) and "suspended" in decision.reasons[0].message
    revoked = grant.revoke(T0 + 2 * DAY, reason="refund")
    assert check_use(revoked, IntendedUse(Action.TRAIN, at=T0 + 3 * DAY)).codes == ("grant_not_active",)
    pending = make_grant(payment_reference=None)
    assert "pending payment" in check_use(pending, IntendedUse(Action.TRAIN, at=T0)).reasons[0].message
    with pytest.raises(LicensingError) as info:
        check_use(grant, IntendedUse(Action.TRAIN))
    assert info.value.fields == ("at",)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"action": "fly"}, "action"),
        ({"commercial": "yes"}, "commercial"),
        ({"territory": "Germany"}, "territory"),
        ({"seats_in_use": -1}, "seats_in_use"),
        ({"seats_in_use": True}, "seats_in_use"),
        ({"at": datetime(2025, 1, 1)}, "at"),
        ({"version": "v 1"}, "version"),
    ],
)
def test_intended_use_validation(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(LicensingError) as info:
        IntendedUse(**{"action": Action.TRAIN, **kwargs})
    assert field in info.value.fields


# ------------------------------------------------------------------ compatibility


def test_cc_by_sa_with_cc_by_nc_is_incompatible() -> None:
    result = check_compatibility(["CC-BY-SA-4.0", "CC-BY-NC-4.0"])
    assert not result.compatible and not bool(result)
    assert {r.code for r in result.reasons} == {"share_alike_conflict"}
    assert "non-commercial" in result.reasons[0].message
    assert result.terms is None and result.result_license is None


@pytest.mark.parametrize(
    "licenses",
    [["CC-BY-SA-4.0", "ODbL-1.0"], ["CDLA-Sharing-1.0", "CC-BY-SA-4.0"], ["ODbL-1.0", "CC-BY-SA-4.0", "CC-BY-4.0"]],
)
def test_different_share_alike_licenses_conflict(licenses: list[str]) -> None:
    result = check_compatibility(licenses)
    assert not result.compatible and result.reasons[0].code == "share_alike_conflict"


def test_share_alike_with_permissive_forces_the_result_license() -> None:
    result = check_compatibility(["CC-BY-4.0", "CC-BY-SA-4.0", "CC0-1.0", "cc-by-sa-4.0"])
    assert result.compatible and result.result_license == "CC-BY-SA-4.0"
    assert result.attribution_required_for == ("CC-BY-4.0", "CC-BY-SA-4.0")
    codes = [o.code for o in result.obligations]
    assert codes.count("attribution_required") == 2 and "share_alike" in codes
    assert result.terms is not None and result.terms.share_alike


def test_non_commercial_makes_the_result_non_commercial() -> None:
    result = check_compatibility(["CC-BY-4.0", "CC-BY-NC-4.0"])
    assert result.compatible and result.result_license is None
    assert result.terms is not None and result.terms.non_commercial
    assert {"non_commercial", "attribution_required", "restricted_uses"} <= {o.code for o in result.obligations}


def test_research_and_evaluation_restrictions_are_carried() -> None:
    research = check_compatibility(["CC-BY-4.0", RESEARCH])
    assert research.compatible and research.terms is not None
    assert not research.terms.permits("rag") and research.terms.non_commercial
    restricted = next(o for o in research.obligations if o.code == "restricted_uses")
    assert "carried from LicenseRef-research-only-1.0" in restricted.message
    evaluation = check_compatibility([get_template("CC0-1.0"), EVALUATION])
    assert evaluation.compatible and evaluation.terms is not None
    assert {u.value for u in evaluation.terms.permitted_uses} == {"evaluation", "benchmark"}
    assert evaluation.terms.seats == 5 and evaluation.terms.term is not None
    assert check_compatibility(["CC-BY-SA-4.0", RESEARCH]).compatible is False
    assert check_compatibility(["CC-BY-SA-4.0", EVALUATION]).compatible is False


def test_share_alike_cannot_carry_limits() -> None:
    limited = _terms(CUSTOM, territory=["DE"], raw_redistribution="none")
    result = check_compatibility(["CC-BY-SA-4.0", limited])
    messages = " ".join(r.message for r in result.reasons)
    assert not result.compatible
    assert "does not allow sharing" in messages and "narrower territory" in messages and "limited in time" in messages


def test_combined_terms_take_the_most_restrictive_values() -> None:
    a = _terms(
        CUSTOM,
        territory=["DE", "FR"],
        seats=10,
        download_limit=5,
        term="P2Y",
        governing_law="DE",
        attribution={"required": True, "text": "A"},
    )
    b = _terms(
        STANDARD,
        territory=["FR", "IT"],
        seats=3,
        term="P6M",
        governing_law="DE",
        deletion_on_termination={"days": 10},
        warranty="rights_and_quality",
        attribution={"required": True, "text": "B"},
    )
    result = check_compatibility([a, b])
    assert result.compatible and result.terms is not None
    terms = result.terms
    assert terms.territory.countries == ("FR",) and terms.seats == 3 and terms.download_limit == 5
    assert terms.term is not None and terms.term.months == 6 and terms.governing_law == "DE"
    assert terms.deletion_on_termination.days == 10 and terms.attribution.text == "A; B"
    assert terms.warranty.value == "rights" and terms.liability_cap is None
    assert len(result.attribution_required_for) == 2 and result.attribution_required_for[0].startswith("input 1")
    mixed = check_compatibility([a, _terms(STANDARD, governing_law="FR")])
    assert mixed.terms is not None and mixed.terms.governing_law is None


def test_incompatible_combinations() -> None:
    no_overlap = check_compatibility([_terms(STANDARD, territory=["DE"]), _terms(STANDARD, territory=["US"])])
    assert not no_overlap.compatible and no_overlap.reasons[0].code == "conflicting_terms"
    no_uses = check_compatibility([_terms(CUSTOM, permitted_uses=["rag"], model_weights="none"), EVALUATION])
    assert not no_uses.compatible and "at least one use" in no_uses.reasons[0].message
    no_derivatives = check_compatibility(["CC-BY-4.0", _terms(CUSTOM, derivatives=False)])
    assert no_derivatives.reasons[0].code == "derivatives_not_permitted"
    two_anonymous_sa = check_compatibility(
        [_terms("CC-BY-SA-4.0", attribution={"text": "X"}), _terms("CC-BY-SA-4.0", attribution={"text": "Y"})]
    )
    assert not two_anonymous_sa.compatible


def test_single_and_anonymous_share_alike() -> None:
    single = check_compatibility(["ODbL-1.0"])
    assert single.compatible and single.result_license == "ODbL-1.0"
    anonymous = check_compatibility([_terms("CC-BY-SA-4.0"), "CC-BY-4.0"])
    assert anonymous.compatible and anonymous.result_license is None
    assert any(o.code == "share_alike" for o in anonymous.obligations)


def test_compatibility_input_errors() -> None:
    with pytest.raises(LicensingError):
        check_compatibility([])
    with pytest.raises(LicenseIdError):
        check_compatibility(["CC-BY-4.0", "Nope"])
