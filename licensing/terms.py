"""Structured, machine-readable license terms.

:class:`Terms` is an immutable value holding every term listed in the domain model. It is validated
on construction and refuses contradictions. The rules, each raising :class:`TermsError` naming the
field(s) at fault:

1. At least one use must be permitted (``permitted_uses``).
2. ``non_commercial`` cannot be combined with the ``output_commercial`` or ``model_commercial`` uses.
3. ``non_commercial`` cannot be combined with ``model_weights = unrestricted`` (unrestricted weights
   could be sold, which is commercial use).
4. Distributing model weights (``model_weights`` other than ``none``) needs ``train`` or ``fine_tune``
   to be permitted: there are no weights to distribute otherwise. The same holds for ``model_commercial``.
5. ``share_alike`` needs ``derivatives`` (share-alike is a rule about sharing derivatives).
6. ``share_alike`` needs ``raw_redistribution`` of ``same_license`` or ``any``: share-alike obliges the
   licensee to pass the same freedoms on, which a ban on sharing (``none``) or a restriction to
   affiliates would contradict.
7. ``sublicensing`` needs some redistribution (``raw_redistribution`` not ``none``): a sublicense is
   a way of passing the data on.
8. ``exclusivity = territory`` needs a named territory, not ``worldwide`` (worldwide exclusivity is
   ``full``).
9. Counts are integers: ``seats`` at least 1 (``None`` = unlimited); ``download_limit`` at least 0
   (``None`` = unlimited; 0 means access without downloads); ``deletion_on_termination.days`` at least 0.
10. Attribution text may only be given when attribution is required, and must not be blank.
11. Deletion days or certification may only be given when deletion on termination is required.
12. Enum values, country codes, currency codes, ISO 8601 durations and governing-law jurisdictions
    (``DE``, ``US-NY``, ``GB-SCT``) are checked; an unknown value names its field.

Terms whose license is an *open* license carry further limits (no price, no seat limit, no
exclusivity): those are checked by :mod:`licensing.offers`, which knows the template.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from .canonical import canonical_json, sha256_hex
from .duration import Duration
from .errors import MoneyError, TermsError
from .money import Money
from .plain_language import plain_language_by_field
from .term_values import (
    MODEL_WEIGHTS_ORDER,
    RAW_REDISTRIBUTION_ORDER,
    USE_LABELS,
    WARRANTY_ORDER,
    Attribution,
    DeletionOnTermination,
    Exclusivity,
    ModelWeights,
    PIIObligations,
    RawRedistribution,
    Territory,
    Use,
    Warranty,
    check_bool,
    check_count,
    check_object,
    country_name,
    is_country,
    parse_enum,
    parse_jurisdiction,
)

# The values terms are made of live in :mod:`licensing.term_values`; they stay importable from here.
__all__ = [
    "FIELD_LABELS",
    "FIELD_NAMES",
    "MODEL_WEIGHTS_ORDER",
    "RAW_REDISTRIBUTION_ORDER",
    "USE_LABELS",
    "WARRANTY_ORDER",
    "Attribution",
    "DeletionOnTermination",
    "Exclusivity",
    "ModelWeights",
    "PIIObligations",
    "RawRedistribution",
    "Terms",
    "Territory",
    "Use",
    "Warranty",
    "country_name",
    "is_country",
]

#: The order in which terms are listed, serialised and explained.
FIELD_NAMES: tuple[str, ...] = (
    "permitted_uses",
    "derivatives",
    "model_weights",
    "raw_redistribution",
    "sublicensing",
    "transferable",
    "exclusivity",
    "territory",
    "term",
    "seats",
    "download_limit",
    "attribution",
    "share_alike",
    "non_commercial",
    "deletion_on_termination",
    "pii",
    "warranty",
    "liability_cap",
    "governing_law",
)

FIELD_LABELS: dict[str, str] = {
    "permitted_uses": "Permitted uses",
    "derivatives": "Derivatives",
    "model_weights": "Model weights",
    "raw_redistribution": "Sharing the data",
    "sublicensing": "Sublicensing",
    "transferable": "Transfer",
    "exclusivity": "Exclusivity",
    "territory": "Territory",
    "term": "Term",
    "seats": "Seats",
    "download_limit": "Downloads",
    "attribution": "Attribution",
    "share_alike": "Share-alike",
    "non_commercial": "Commercial use",
    "deletion_on_termination": "Deletion on termination",
    "pii": "Personal data",
    "warranty": "Warranty",
    "liability_cap": "Liability",
    "governing_law": "Governing law",
}

_NESTED = {"attribution", "deletion_on_termination", "pii"}


@dataclass(frozen=True)
class Terms:
    """Immutable, validated license terms (see the module docstring for the validation rules).

    Fields may be given as enum members or their string values; collections of uses may be any
    iterable. After construction every field holds its canonical type.
    """

    permitted_uses: frozenset[Use]
    derivatives: bool = False
    model_weights: ModelWeights = ModelWeights.NONE
    raw_redistribution: RawRedistribution = RawRedistribution.NONE
    sublicensing: bool = False
    transferable: bool = False
    exclusivity: Exclusivity = Exclusivity.NONE
    territory: Territory = field(default_factory=Territory)
    term: Duration | None = None
    seats: int | None = None
    download_limit: int | None = None
    attribution: Attribution = field(default_factory=Attribution)
    share_alike: bool = False
    non_commercial: bool = False
    deletion_on_termination: DeletionOnTermination = field(default_factory=DeletionOnTermination)
    pii: PIIObligations = field(default_factory=PIIObligations)
    warranty: Warranty = Warranty.AS_IS
    liability_cap: Money | None = None
    governing_law: str | None = None

    def __post_init__(self) -> None:
        uses = self.permitted_uses
        if isinstance(uses, str) or not isinstance(uses, Iterable):
            raise TermsError("expected a list of uses", "permitted_uses")
        object.__setattr__(self, "permitted_uses", frozenset(parse_enum(Use, u, "permitted_uses") for u in uses))
        for name in ("derivatives", "sublicensing", "transferable", "share_alike", "non_commercial"):
            check_bool(getattr(self, name), name)
        object.__setattr__(self, "model_weights", parse_enum(ModelWeights, self.model_weights, "model_weights"))
        object.__setattr__(
            self,
            "raw_redistribution",
            parse_enum(RawRedistribution, self.raw_redistribution, "raw_redistribution"),
        )
        object.__setattr__(self, "exclusivity", parse_enum(Exclusivity, self.exclusivity, "exclusivity"))
        object.__setattr__(self, "warranty", parse_enum(Warranty, self.warranty, "warranty"))
        self._check_types()
        check_count(self.seats, "seats", 1)
        check_count(self.download_limit, "download_limit", 0)
        object.__setattr__(self, "governing_law", parse_jurisdiction(self.governing_law))
        self._check_rules()

    def _check_types(self) -> None:
        expected: tuple[tuple[str, type[Any], bool], ...] = (
            ("territory", Territory, False),
            ("term", Duration, True),
            ("attribution", Attribution, False),
            ("deletion_on_termination", DeletionOnTermination, False),
            ("pii", PIIObligations, False),
            ("liability_cap", Money, True),
        )
        for name, kind, optional in expected:
            value = getattr(self, name)
            if not (isinstance(value, kind) or (optional and value is None)):
                raise TermsError(f"expected {kind.__name__}, got {type(value).__name__}", name)

    def _check_rules(self) -> None:
        uses = self.permitted_uses
        trains = bool(uses & {Use.TRAIN, Use.FINE_TUNE})
        if not uses:
            raise TermsError("at least one use must be permitted", "permitted_uses")
        commercial = sorted(u.value for u in uses & {Use.OUTPUT_COMMERCIAL, Use.MODEL_COMMERCIAL})
        if self.non_commercial and commercial:
            raise TermsError(
                f"non-commercial terms cannot permit {', '.join(commercial)}",
                ("non_commercial", "permitted_uses"),
            )
        if self.non_commercial and self.model_weights is ModelWeights.UNRESTRICTED:
            raise TermsError(
                "non-commercial terms cannot allow unrestricted distribution of model weights",
                ("non_commercial", "model_weights"),
            )
        if self.model_weights is not ModelWeights.NONE and not trains:
            raise TermsError(
                "model weights can only be distributed when train or fine_tune is permitted",
                ("model_weights", "permitted_uses"),
            )
        if Use.MODEL_COMMERCIAL in uses and not trains:
            raise TermsError("model_commercial needs train or fine_tune to be permitted", "permitted_uses")
        if self.share_alike and not self.derivatives:
            raise TermsError("share-alike needs derivatives to be allowed", ("share_alike", "derivatives"))
        if self.share_alike and self.raw_redistribution in (RawRedistribution.NONE, RawRedistribution.AFFILIATES):
            raise TermsError(
                "share-alike obliges passing the same freedoms on, so the data must be shareable "
                "(raw_redistribution same_license or any)",
                ("share_alike", "raw_redistribution"),
            )
        if self.sublicensing and self.raw_redistribution is RawRedistribution.NONE:
            raise TermsError(
                "sublicensing needs the data to be shareable (raw_redistribution is none)",
                ("sublicensing", "raw_redistribution"),
            )
        if self.exclusivity is Exclusivity.TERRITORY and self.territory.is_worldwide:
            raise TermsError(
                "territorial exclusivity needs a named territory (worldwide exclusivity is 'full')",
                ("exclusivity", "territory"),
            )

    # ----------------------------------------------------------------- serialisation

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict of every term (integers only, no floats), in :data:`FIELD_NAMES` order."""
        return {
            "permitted_uses": sorted(u.value for u in self.permitted_uses),
            "derivatives": self.derivatives,
            "model_weights": self.model_weights.value,
            "raw_redistribution": self.raw_redistribution.value,
            "sublicensing": self.sublicensing,
            "transferable": self.transferable,
            "exclusivity": self.exclusivity.value,
            "territory": self.territory.to_json(),
            "term": "perpetual" if self.term is None else self.term.iso(),
            "seats": self.seats,
            "download_limit": self.download_limit,
            "attribution": {"required": self.attribution.required, "text": self.attribution.text},
            "share_alike": self.share_alike,
            "non_commercial": self.non_commercial,
            "deletion_on_termination": {
                "required": self.deletion_on_termination.required,
                "days": self.deletion_on_termination.days,
                "certification": self.deletion_on_termination.certification,
            },
            "pii": {
                "no_reidentification": self.pii.no_reidentification,
                "dpa_required": self.pii.dpa_required,
            },
            "warranty": self.warranty.value,
            "liability_cap": None if self.liability_cap is None else self.liability_cap.to_dict(),
            "governing_law": self.governing_law,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Terms:
        """Build validated Terms from a dict such as :meth:`to_dict` returns.

        ``permitted_uses`` is required; any other missing field takes its default (the most
        restrictive choice). Unknown keys and bad values raise :class:`TermsError` naming the field.
        """
        if not isinstance(data, Mapping):
            raise TermsError("terms must be an object")
        unknown = sorted(set(data) - set(FIELD_NAMES))
        if unknown:
            raise TermsError("unknown term(s)", unknown)
        if "permitted_uses" not in data:
            raise TermsError("permitted_uses is required", "permitted_uses")
        uses = data["permitted_uses"]
        if not isinstance(uses, list | tuple | set | frozenset):
            raise TermsError("expected a list of uses", "permitted_uses")
        kwargs: dict[str, Any] = {"permitted_uses": frozenset(parse_enum(Use, u, "permitted_uses") for u in uses)}
        for name in (
            "derivatives",
            "model_weights",
            "raw_redistribution",
            "sublicensing",
            "transferable",
            "exclusivity",
            "seats",
            "download_limit",
            "share_alike",
            "non_commercial",
            "warranty",
            "governing_law",
        ):
            if name in data:
                kwargs[name] = data[name]
        if "territory" in data:
            kwargs["territory"] = Territory.from_json(data["territory"])
        if "term" in data:
            kwargs["term"] = _term(data["term"])
        if "attribution" in data:
            value = check_object(data["attribution"], "attribution", ("required", "text"))
            kwargs["attribution"] = Attribution(value.get("required", False), value.get("text"))
        if "deletion_on_termination" in data:
            value = check_object(
                data["deletion_on_termination"], "deletion_on_termination", ("required", "days", "certification")
            )
            kwargs["deletion_on_termination"] = DeletionOnTermination(
                value.get("required", False), value.get("days"), value.get("certification", False)
            )
        if "pii" in data:
            value = check_object(data["pii"], "pii", ("no_reidentification", "dpa_required"))
            kwargs["pii"] = PIIObligations(value.get("no_reidentification", False), value.get("dpa_required", False))
        if data.get("liability_cap") is not None:
            try:
                kwargs["liability_cap"] = Money.from_dict(data["liability_cap"])
            except MoneyError as exc:
                raise TermsError(exc.message, "liability_cap") from exc
        return cls(**kwargs)

    def with_overrides(self, overrides: Mapping[str, Any]) -> Terms:
        """Return new Terms equal to these with ``overrides`` applied, validated as a whole.

        Overrides use the :meth:`to_dict` shapes. Nested objects (``attribution``,
        ``deletion_on_termination``, ``pii``) may be given partially and are merged.
        """
        if not isinstance(overrides, Mapping):
            raise TermsError("overrides must be an object")
        unknown = sorted(set(overrides) - set(FIELD_NAMES))
        if unknown:
            raise TermsError("unknown term(s)", unknown)
        merged = self.to_dict()
        for key, value in overrides.items():
            if key in _NESTED and isinstance(value, Mapping):
                merged[key] = {**merged[key], **value}
            else:
                merged[key] = value
        return Terms.from_dict(merged)

    def canonical_json(self) -> bytes:
        """Return the canonical JSON bytes of :meth:`to_dict` (sorted keys, no whitespace, UTF-8)."""
        return canonical_json(self.to_dict())

    @cached_property
    def terms_hash(self) -> str:
        """SHA-256 hex of the canonical JSON: equal terms always give the same hash."""
        return sha256_hex(self.to_dict())

    # ----------------------------------------------------------------- questions

    def permits(self, use: Use | str) -> bool:
        """Return True when ``use`` is among the permitted uses."""
        return parse_enum(Use, use, "use") in self.permitted_uses

    def permits_training(self) -> bool:
        """True when training or fine-tuning is permitted (the "AI training permitted" badge and facet)."""
        return bool(self.permitted_uses & {Use.TRAIN, Use.FINE_TUNE})

    def permits_commercial_use(self) -> bool:
        """True when the terms are not non-commercial."""
        return not self.non_commercial

    # ----------------------------------------------------------------- plain language

    def plain_language_by_field(self) -> dict[str, str]:
        """Return one plain-English sentence per term, keyed by field name, in :data:`FIELD_NAMES` order."""
        return plain_language_by_field(self)

    def plain_language(self) -> list[str]:
        """Return one plain-English line per term, for people, in :data:`FIELD_NAMES` order."""
        return list(self.plain_language_by_field().values())


def _term(value: Any) -> Duration | None:
    if value == "perpetual" or value is None:
        return None
    return Duration.parse(value)
