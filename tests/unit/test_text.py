"""The one slug maker used for organisation and listing addresses."""

from __future__ import annotations

import pytest

from marketplace.text import slugify


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Café Überblick", "cafe-uberblick"),  # accents dropped, not the letters
        ("  Wind-turbine   SCADA (2019–2023)!  ", "wind-turbine-scada-2019-2023"),  # runs of punctuation → one hyphen
        ("ACME GmbH & Co. KG", "acme-gmbh-co-kg"),
        ("Straße Łódź Ærø", "strasse-lodz-aero"),
        ("ﬁne İstanbul", "fine-istanbul"),  # compatibility forms and dotted capitals
        ("東京 speech", "speech"),  # characters with no ASCII form vanish
        ("東京", ""),  # nothing left: the caller chooses the fallback
        ("---", ""),
    ],
)
def test_slugify_keeps_ascii_letters_and_digits_joined_by_hyphens(text: str, slug: str) -> None:
    assert slugify(text, 80) == slug


def test_slugify_is_bounded_and_never_ends_with_a_hyphen() -> None:
    assert slugify("a" * 100, 64) == "a" * 64
    cut = slugify("abc " * 30, 10)  # the cut lands right after a word: "abc-abc-ab"
    assert cut == "abc-abc-ab" and len(cut) <= 10
    assert slugify("abcdefg hij", 8) == "abcdefg"  # the hyphen at the cut is trimmed
