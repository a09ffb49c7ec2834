"""Comparing several sets of license terms side by side, in their plain-language lines.

:func:`compare_terms` takes the terms of the offers a buyer is choosing between and splits every term into the
ones that read the same for all of them (shown once) and the ones that differ (shown per offer). The term's
duration and the seats are always given per offer (:attr:`TermsComparison.term`, :attr:`TermsComparison.seats`),
whether they differ or not, because they are what buyers compare first. The lines are the engine's own
(:meth:`licensing.terms.Terms.plain_language_by_field`), so a comparison says exactly what each license says.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .terms import FIELD_LABELS, FIELD_NAMES, Terms

#: Terms always shown per offer, in their own rows, before the others.
HEADLINE_FIELDS = ("term", "seats")


@dataclass(frozen=True)
class TermRow:
    """One term of the comparison: its field name, its label, and its line for each offer (in the given order)."""

    field: str
    label: str
    lines: tuple[str, ...]

    @property
    def common_line(self) -> str:
        """The line every offer shares (only meaningful for a common row)."""
        return self.lines[0]


@dataclass(frozen=True)
class TermsComparison:
    """The terms of several offers compared: the headline rows, the rows that differ, and those all share."""

    term: TermRow
    seats: TermRow
    differing: tuple[TermRow, ...]
    common: tuple[TermRow, ...]


def compare_terms(terms: Sequence[Terms]) -> TermsComparison:
    """Compare ``terms`` (at least one) field by field, in :data:`~licensing.terms.FIELD_NAMES` order.

    A term belongs to ``differing`` when its plain-language line is not the same for every offer, to ``common``
    otherwise; ``term`` and ``seats`` are in neither list but always in their own rows. Raises ``ValueError``
    when given no terms.
    """
    if not terms:
        raise ValueError("compare_terms needs the terms of at least one offer")
    by_offer = [t.plain_language_by_field() for t in terms]
    rows = {
        name: TermRow(name, FIELD_LABELS[name], tuple(lines.get(name, "") for lines in by_offer))
        for name in FIELD_NAMES
    }
    differing = tuple(row for name, row in rows.items() if name not in HEADLINE_FIELDS and len(set(row.lines)) > 1)
    common = tuple(row for name, row in rows.items() if name not in HEADLINE_FIELDS and len(set(row.lines)) == 1)
    return TermsComparison(term=rows["term"], seats=rows["seats"], differing=differing, common=common)
