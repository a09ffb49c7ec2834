"""License terms in plain English: one sentence (or a few) per term, for the people who read a license.

:func:`plain_language_by_field` is what :meth:`licensing.terms.Terms.plain_language_by_field` returns; the
sentences for enum-valued terms are tables here, the others are built from the values.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ._iso import COUNTRY_NAMES
from .term_values import USE_LABELS, Exclusivity, ModelWeights, RawRedistribution, Use, Warranty

if TYPE_CHECKING:
    from .terms import Terms

MODEL_WEIGHTS_SENTENCES: dict[ModelWeights, str] = {
    ModelWeights.NONE: "You may not distribute the weights of models trained on the data.",
    ModelWeights.RESEARCH_ONLY: "You may distribute weights of models trained on the data for research purposes only.",
    ModelWeights.SAME_TERMS: "You may distribute weights of models trained on the data only under these same terms.",
    ModelWeights.UNRESTRICTED: "You may distribute weights of models trained on the data without restriction.",
}
RAW_REDISTRIBUTION_SENTENCES: dict[RawRedistribution, str] = {
    RawRedistribution.NONE: "You may not share the data itself with anyone outside your organisation.",
    RawRedistribution.AFFILIATES: "You may share the data itself only with your affiliates.",
    RawRedistribution.SAME_LICENSE: "You may share the data itself only under this same license.",
    RawRedistribution.ANY: "You may share the data itself with anyone.",
}
EXCLUSIVITY_SENTENCES: dict[Exclusivity, str] = {
    Exclusivity.NONE: "This license is not exclusive: the provider may license the data to others.",
    Exclusivity.FIELD: "This license is exclusive within its field of use.",
    Exclusivity.TERRITORY: "This license is exclusive within its territory.",
    Exclusivity.FULL: "This license is fully exclusive: the provider will not license the data to anyone else.",
}
WARRANTY_SENTENCES: dict[Warranty, str] = {
    Warranty.AS_IS: "The data is provided as is, without warranty.",
    Warranty.RIGHTS: "The provider warrants that it has the right to license the data.",
    Warranty.RIGHTS_AND_QUALITY: "The provider warrants that it has the right to license the data "
    "and that the data matches its description.",
}
# (sentence when true, sentence when false) for the yes/no terms.
FLAG_SENTENCES: dict[str, tuple[str, str]] = {
    "derivatives": (
        "You may create derivative datasets (adapted, annotated or combined versions).",
        "You may not create derivative datasets.",
    ),
    "sublicensing": ("You may sublicense your rights to others.", "You may not sublicense your rights."),
    "transferable": (
        "You may transfer this license to another party.",
        "You may not transfer this license to another party.",
    ),
    "share_alike": (
        "If you share derivatives, you must share them under this same license.",
        "There is no share-alike obligation.",
    ),
    "non_commercial": ("Commercial use is not allowed.", "Commercial use is allowed within the permitted uses."),
}


def _flag(name: str) -> Callable[[Terms], str]:
    def sentence(terms: Terms) -> str:
        when_true, when_false = FLAG_SENTENCES[name]
        return when_true if getattr(terms, name) else when_false

    return sentence


def _permitted_uses(terms: Terms) -> str:
    return "You may use the data for: " + ", ".join(USE_LABELS[u] for u in Use if u in terms.permitted_uses) + "."


def _territory(terms: Terms) -> str:
    if terms.territory.is_worldwide:
        return "The license applies worldwide."
    return f"The license applies only in {terms.territory.describe()}."


def _term(terms: Terms) -> str:
    if terms.term is None:
        return "The license is perpetual: it has no end date."
    return f"The license lasts {terms.term.describe()} from its start ({terms.term.iso()})."


def _seats(terms: Terms) -> str:
    if terms.seats is None:
        return "Any number of people in your organisation may use the data."
    return f"At most {terms.seats} {'person' if terms.seats == 1 else 'people'} (seats) may use the data."


def _download_limit(terms: Terms) -> str:
    if terms.download_limit is None:
        return "There is no limit on downloads."
    plural = "" if terms.download_limit == 1 else "s"
    return f"You may download the data at most {terms.download_limit} time{plural}."


def _attribution(terms: Terms) -> str:
    if not terms.attribution.required:
        return "No attribution is required."
    return "You must credit the source" + (f": {terms.attribution.text}" if terms.attribution.text else ".")


def _deletion(terms: Terms) -> str:
    deletion = terms.deletion_on_termination
    if not deletion.required:
        return "You need not delete the data when the license ends."
    when = "immediately" if deletion.days in (None, 0) else f"within {deletion.days} days"
    certify = " and certify the deletion in writing" if deletion.certification else ""
    return f"When the license ends you must delete the data {when}{certify}."


def _pii(terms: Terms) -> str:
    lines = []
    if terms.pii.no_reidentification:
        lines.append("You must not try to re-identify any person in the data.")
    if terms.pii.dpa_required:
        lines.append("You must sign a data processing agreement (DPA) before using the data.")
    return " ".join(lines) if lines else "There are no extra personal-data obligations."


def _liability_cap(terms: Terms) -> str:
    if terms.liability_cap is None:
        return "No liability cap is stated."
    return f"The provider's liability is capped at {terms.liability_cap.format()}."


def _governing_law(terms: Terms) -> str:
    law = terms.governing_law
    if law is None:
        return "No governing law is stated."
    country = COUNTRY_NAMES[law[:2]]
    return f"The license is governed by the law of {country}" + (f" ({law})." if len(law) > 2 else ".")


#: One sentence builder per term, in :data:`licensing.terms.FIELD_NAMES` order.
SENTENCES: dict[str, Callable[[Terms], str]] = {
    "permitted_uses": _permitted_uses,
    "derivatives": _flag("derivatives"),
    "model_weights": lambda terms: MODEL_WEIGHTS_SENTENCES[terms.model_weights],
    "raw_redistribution": lambda terms: RAW_REDISTRIBUTION_SENTENCES[terms.raw_redistribution],
    "sublicensing": _flag("sublicensing"),
    "transferable": _flag("transferable"),
    "exclusivity": lambda terms: EXCLUSIVITY_SENTENCES[terms.exclusivity],
    "territory": _territory,
    "term": _term,
    "seats": _seats,
    "download_limit": _download_limit,
    "attribution": _attribution,
    "share_alike": _flag("share_alike"),
    "non_commercial": _flag("non_commercial"),
    "deletion_on_termination": _deletion,
    "pii": _pii,
    "warranty": lambda terms: WARRANTY_SENTENCES[terms.warranty],
    "liability_cap": _liability_cap,
    "governing_law": _governing_law,
}


def plain_language_by_field(terms: Terms) -> dict[str, str]:
    """One plain-English sentence per term of ``terms``, keyed by field name, in ``FIELD_NAMES`` order."""
    return {name: sentence(terms) for name, sentence in SENTENCES.items()}
