"""Search synonyms: the modality and task words buyers use for the same thing ("ASR", "speech recognition").

A query's words are grouped by :func:`expand`: each :class:`TermGroup` covers one word the buyer typed (or a run
of words that make a known multi-word term) and lists the alternatives that match it. The first alternative is
always what was typed (its words must all occur, anywhere); the others come from :data:`SYNONYMS` and are phrases
(their words must occur together, in order). A listing matches the query when it matches one alternative of every
group. The search engine builds its full-text conditions and its relevance from these groups, the same way on
SQLite and PostgreSQL.

Entries are written lower-case, after the tokeniser's normalisation (NFKC, stop words dropped), so "text to
speech" is written ``text speech``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Alternative:
    """Words that together match a group: adjacent and in order when ``phrase``, anywhere otherwise."""

    words: tuple[str, ...]
    phrase: bool = False


@dataclass(frozen=True)
class TermGroup:
    """One unit of the query: the typed words first, then their synonyms."""

    alternatives: tuple[Alternative, ...]

    @property
    def typed(self) -> Alternative:
        return self.alternatives[0]


# Each set lists terms that mean the same thing; a term is its words separated by spaces.
SYNONYMS: tuple[frozenset[str], ...] = (
    frozenset({"asr", "speech recognition", "speech text"}),
    frozenset({"tts", "text speech", "speech synthesis"}),
)

_BY_TERM: dict[tuple[str, ...], tuple[tuple[str, ...], ...]] = {
    tuple(term.split()): tuple(sorted(tuple(other.split()) for other in group if other != term))
    for group in SYNONYMS
    for term in group
}
_LONGEST = max((len(words) for words in _BY_TERM), default=1)


def expand(terms: Sequence[str]) -> tuple[TermGroup, ...]:
    """Group ``terms`` (the tokeniser's words, in order) with their synonyms; longest known terms first."""
    groups: list[TermGroup] = []
    index = 0
    while index < len(terms):
        for size in range(min(_LONGEST, len(terms) - index), 0, -1):
            words = tuple(terms[index : index + size])
            others = _BY_TERM.get(words)
            if others is not None or size == 1:
                typed = Alternative(words, phrase=False)
                synonyms = tuple(Alternative(other, phrase=len(other) > 1) for other in others or ())
                groups.append(TermGroup((typed, *synonyms)))
                index += size
                break
    return tuple(groups)
