"""Offers: effective terms, open-license limits, exclusivity and audience, persistence."""

from __future__ import annotations

from typing import Any

import pytest
from licensing_testkit import make_offer

from licensing import (
    Audience,
    LicensingError,
    Money,
    Offer,
    OfferError,
    TermsError,
    VersionCoverage,
    get_template,
)


def test_effective_terms_are_template_plus_overrides() -> None:
    offer = make_offer(overrides={"seats": 10, "territory": ["DE"], "term": "P6M"}, offer_id="off-1")
    base = get_template("LicenseRef-standard-commercial-1.0").terms
    assert offer.terms == base.with_overrides({"seats": 10, "territory": ["DE"], "term": "P6M"})
    assert offer.license_id == "LicenseRef-standard-commercial-1.0"
    assert offer.terms.seats == 10 and offer.terms.term is not None and offer.terms.term.months == 6


def test_overrides_are_frozen_copies() -> None:
    overrides: dict[str, Any] = {"territory": ["DE"]}
    offer = make_offer(overrides=overrides)
    overrides["territory"].append("FR")
    assert offer.overrides["territory"] == ["DE"]
    with pytest.raises(TypeError):
        offer.overrides["seats"] = 3  # type: ignore[index]


@pytest.mark.parametrize(
    ("license_id", "kwargs", "fields"),
    [
        ("CC-BY-4.0", {"price": Money(100, "EUR")}, ("price",)),
        ("CC0-1.0", {"price": Money(1, "JPY")}, ("price",)),
        ("CC-BY-4.0", {"overrides": {"seats": 5}}, ("seats",)),
        ("ODbL-1.0", {"overrides": {"download_limit": 5}}, ("download_limit",)),
        ("CC-BY-SA-4.0", {"overrides": {"exclusivity": "full"}, "audience": Audience.private("o")}, ("exclusivity",)),
        ("CC-BY-4.0", {"overrides": {"attribution": {"required": False}}}, ("attribution",)),
        (
            "CC0-1.0",
            {"overrides": {"attribution": {"text": "Credit me"}}},
            ("attribution.text", "attribution.required"),
        ),
        ("LicenseRef-standard-commercial-1.0", {"overrides": {"exclusivity": "full"}}, ("exclusivity", "audience")),
        ("LicenseRef-enterprise-1.0", {"overrides": {"exclusivity": "field"}}, ("exclusivity", "audience")),
        (
            "LicenseRef-standard-commercial-1.0",
            {"overrides": {"non_commercial": True}},
            ("non_commercial", "permitted_uses"),
        ),
        ("LicenseRef-custom-1.0", {"overrides": {"seats": -1}}, ("seats",)),
        ("LicenseRef-custom-1.0", {"overrides": {"ratio": 0.5}}, ("overrides",)),
        ("LicenseRef-custom-1.0", {"overrides": "seats=5"}, ("overrides",)),
        ("LicenseRef-custom-1.0", {"price": 100}, ("price",)),
        ("LicenseRef-custom-1.0", {"versions": "1.0"}, ("versions",)),
        ("LicenseRef-custom-1.0", {"audience": "public"}, ("audience",)),
        ("LicenseRef-custom-1.0", {"offer_id": "has space"}, ("offer_id",)),
    ],
)
def test_invalid_offers_name_the_field(license_id: str, kwargs: dict[str, Any], fields: tuple[str, ...]) -> None:
    with pytest.raises(LicensingError) as info:
        make_offer(license_id, **kwargs)
    assert info.value.fields == fields


def test_offer_errors_are_terms_errors() -> None:
    with pytest.raises(TermsError):
        make_offer("CC-BY-4.0", price=Money(100, "EUR"))
    with pytest.raises(OfferError):
        Offer("CC-BY-4.0", Money(0, "EUR"))  # type: ignore[arg-type]


def test_open_offer_may_set_attribution_text_and_be_free() -> None:
    offer = make_offer("CC-BY-4.0", overrides={"attribution": {"text": "Acme Labs, 2024"}, "seats": None})
    assert offer.price == Money(0, "EUR") and offer.terms.attribution.text == "Acme Labs, 2024"


def test_exclusive_private_offer_is_allowed() -> None:
    offer = make_offer(
        overrides={"exclusivity": "territory", "territory": ["DE"]}, audience=Audience.private("org-buyer")
    )
    assert offer.is_private and offer.available_to("org-buyer") and not offer.available_to("org-other")
    public = make_offer()
    assert not public.is_private and public.available_to(None) and public.available_to("anyone")


def test_version_coverage_and_audience_values() -> None:
    assert VersionCoverage.single("1.2.0").version == "1.2.0" and not VersionCoverage.single("1.2.0").all_versions
    assert VersionCoverage.all_during_term().all_versions
    for bad in ("", "1 2", "-x", "a" * 65):
        with pytest.raises(LicensingError):
            VersionCoverage.single(bad)
    with pytest.raises(LicensingError):
        Audience.private("")
    for data in ({"kind": "single"}, {"kind": "everything"}, "all"):
        with pytest.raises(OfferError):
            VersionCoverage.from_dict(data)
    for data in ({"kind": "private"}, {"kind": "friends"}, None):
        with pytest.raises(OfferError):
            Audience.from_dict(data)


@pytest.mark.parametrize(
    "offer",
    [
        make_offer(offer_id="off-1"),
        make_offer(
            "LicenseRef-enterprise-1.0",
            overrides={"exclusivity": "full", "seats": 50, "liability_cap": {"amount": 10**8, "currency": "USD"}},
            versions=VersionCoverage.single("3.0.0"),
            audience=Audience.private("org-9"),
            price=Money(5_000_000, "USD"),
        ),
        make_offer("CC-BY-SA-4.0", overrides={"attribution": {"text": "X"}}),
    ],
)
def test_offer_round_trip(offer: Offer) -> None:
    data = offer.to_dict()
    again = Offer.from_dict(data)
    assert again == offer and hash(again) == hash(offer) and again.terms == offer.terms
    assert offer != "offer"


def test_offer_from_dict_errors() -> None:
    data = make_offer().to_dict()
    with pytest.raises(OfferError) as info:
        Offer.from_dict({**data, "extra": 1})
    assert info.value.fields == ("extra",)
    with pytest.raises(OfferError) as info:
        Offer.from_dict({**data, "price": {"amount": 1, "currency": "XYZ"}})
    assert info.value.fields == ("price",)
    with pytest.raises(OfferError):
        Offer.from_dict([data])  # type: ignore[arg-type]
