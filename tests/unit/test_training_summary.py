"""The training-content summary's rules that need no database: size ranges, the data-source section, modalities."""

from __future__ import annotations

import pytest

import licensing
from marketplace.licenses.training_summary import (
    LICENSED,
    OTHER_PRIVATE,
    PUBLIC,
    modalities,
    size_range,
    source_section,
)


@pytest.mark.parametrize(
    "modality,amount,expected",
    [
        ("text", 999_999_999, "Less than 1 billion tokens"),
        ("text", 1_000_000_000, "1 billion to 10 trillion tokens"),
        ("text", 10**13, "More than 10 trillion tokens"),
        ("image", 5, "Less than 1 million images"),
        ("image", 10**9, "More than 1 billion images"),
        ("audio", 9_999.5, "Less than 10,000 hours"),
        ("video", 20_000, "10,000 to 10 million hours"),
        ("text", None, None),
        ("other", 5, None),
    ],
)
def test_size_ranges_follow_the_template(modality: str, amount: float | None, expected: str | None) -> None:
    assert size_range(modality, amount) == expected


FREE, PAID = licensing.Money(0, "EUR"), licensing.Money(1000, "EUR")
OPEN, COMMERCIAL = licensing.get_template("CC-BY-4.0"), licensing.get_template("LicenseRef-standard-commercial-1.0")


@pytest.mark.parametrize(
    "basis,template,price,section",
    [
        ("publicly_available", COMMERCIAL, PAID, PUBLIC),  # the provider says so
        (None, OPEN, FREE, PUBLIC),  # anyone may obtain it on the same terms
        ("rights_holder", OPEN, FREE, PUBLIC),
        ("rights_holder", COMMERCIAL, PAID, LICENSED),
        ("rights_holder", COMMERCIAL, FREE, LICENSED),
        ("third_party", COMMERCIAL, PAID, OTHER_PRIVATE),
        (None, COMMERCIAL, PAID, OTHER_PRIVATE),  # not stated: not claimed as licensed from the rights holder
    ],
)
def test_the_data_source_section(basis, template, price, section) -> None:
    assert source_section(basis, template, price) is section


def test_modalities_of_a_multimodal_and_an_unmeasured_listing() -> None:
    multimodal = modalities(
        {
            "modality": "multimodal",
            "modality_details": {"image": {"images": 2_000_000}, "audio": {"hours": 12.5, "speakers": 40}},
            "record_count": None,
        }
    )
    assert [(m["modality"], m["size_range"]) for m in multimodal] == [
        ("image", "1 million to 1 billion images"),
        ("audio", "Less than 10,000 hours"),
    ]
    assert multimodal[1]["exact"] == {"hours": 12.5, "speakers": 40}
    tabular = modalities({"modality": "tabular", "modality_details": {}, "record_count": 300})
    assert tabular == [{"modality": "other", "listed_as": "tabular", "unit": None, "size_range": None,
                        "exact": {"records": 300}}]  # fmt: skip
    assert modalities({"modality": None, "modality_details": {}}) == []
