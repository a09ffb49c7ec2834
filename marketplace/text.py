"""Small text helpers shared by several domains."""

from __future__ import annotations

import re
import unicodedata

_NOT_SLUG = re.compile(r"[^a-z0-9]+")
# Latin letters that Unicode does not decompose into a base letter and a mark; written out by hand because this
# handful is all our slugs need (a transliteration library would also turn scripts such as 東京 into Latin).
_LETTERS = str.maketrans({"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "đ": "d", "ð": "d", "ł": "l", "þ": "th"})


def slugify(text: str, max_length: int) -> str:
    """``text`` as a slug for addresses: lower-case ASCII letters and digits joined by single hyphens.

    Accents are dropped ("Café Überblick" → "cafe-uberblick", "Straße" → "strasse"); every other run of
    punctuation, spaces or characters with no ASCII form becomes one hyphen ("2019–2023" → "2019-2023"). The
    result has at most ``max_length`` characters, never starts or ends with a hyphen, and is "" when nothing of
    ``text`` survives (callers choose their fallback).
    """
    decomposed = unicodedata.normalize("NFKD", text.lower().translate(_LETTERS))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    slug = _NOT_SLUG.sub("-", bare.lower()).strip("-")
    return slug[:max_length].strip("-")
