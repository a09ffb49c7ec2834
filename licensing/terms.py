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

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any, TypeVar

from ._iso import COUNTRY_NAMES
from .canonical import canonical_json, sha256_hex
from .duration import Duration
from .errors import MoneyError, TermsError
from .money import Money


class Use(StrEnum):
    """A use of the data that terms may permit."""

    RESEARCH = "research"
    EVALUATION = "evaluation"
    BENCHMARK = "benchmark"
    INTERNAL_USE = "internal_use"
    TRAIN = "train"
    FINE_TUNE = "fine_tune"
    RAG = "rag"
    OUTPUT_COMMERCIAL = "output_commercial"
    MODEL_COMMERCIAL = "model_commercial"


class ModelWeights(StrEnum):
    """Whether and how weights of models trained on the data may be distributed."""

    NONE = "none"
    RESEARCH_ONLY = "research_only"
    SAME_TERMS = "same_terms"
    UNRESTRICTED = "unrestricted"


class RawRedistribution(StrEnum):
    """Whether and to whom the data itself may be passed on."""

    NONE = "none"
    AFFILIATES = "affiliates"
    SAME_LICENSE = "same_license"
    ANY = "any"


class Exclusivity(StrEnum):
    """Whether the licensor promises not to license the data to others (and where)."""

    NONE = "none"
    FIELD = "field"
    TERRITORY = "territory"
    FULL = "full"


class Warranty(StrEnum):
    """What the licensor warrants about the data."""

    AS_IS = "as_is"
    RIGHTS = "rights"
    RIGHTS_AND_QUALITY = "rights_and_quality"


#: Orderings from most restrictive to most permissive (used when combining terms).
MODEL_WEIGHTS_ORDER: tuple[ModelWeights, ...] = tuple(ModelWeights)
RAW_REDISTRIBUTION_ORDER: tuple[RawRedistribution, ...] = tuple(RawRedistribution)
WARRANTY_ORDER: tuple[Warranty, ...] = tuple(Warranty)

USE_LABELS: dict[Use, str] = {
    Use.RESEARCH: "research",
    Use.EVALUATION: "evaluating models",
    Use.BENCHMARK: "benchmarking",
    Use.INTERNAL_USE: "internal business use",
    Use.TRAIN: "training AI models",
    Use.FINE_TUNE: "fine-tuning AI models",
    Use.RAG: "retrieval-augmented generation (RAG)",
    Use.OUTPUT_COMMERCIAL: "commercial use of model outputs",
    Use.MODEL_COMMERCIAL: "commercial use of trained models",
}

_E = TypeVar("_E", bound=StrEnum)
_JURISDICTION = re.compile(r"^([A-Z]{2})(?:-([A-Z0-9]{1,3}))?$")


def _enum(cls: type[_E], value: Any, name: str) -> _E:
    if isinstance(value, cls):
        return value
    allowed = ", ".join(m.value for m in cls)
    if isinstance(value, str):
        try:
            return cls(value)
        except ValueError:
            pass
    raise TermsError(f"unknown value {value!r}; expected one of: {allowed}", name)


def _bool(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise TermsError(f"expected true or false, got {value!r}", name)
    return value


def _count(value: Any, name: str, minimum: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TermsError(f"expected a whole number or null, got {value!r}", name)
    if value < minimum:
        raise TermsError(f"must be at least {minimum}, got {value}", name)
    return value


def _object(value: Any, name: str, allowed: Iterable[str]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise TermsError("expected an object", name)
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise TermsError("unknown field(s)", [f"{name}.{key}" for key in unknown])
    return value


def country_name(code: str) -> str:
    """Return the English short name of an ISO 3166-1 alpha-2 code; raise :class:`TermsError` if unknown."""
    try:
        return COUNTRY_NAMES[code]
    except (KeyError, TypeError):
        raise TermsError(f"{code!r} is not an ISO 3166-1 alpha-2 country code", "territory") from None


def is_country(code: str) -> bool:
    """Return True when ``code`` is an ISO 3166-1 alpha-2 country code (upper case)."""
    return code in COUNTRY_NAMES


@dataclass(frozen=True)
class Territory:
    """Where the license applies: worldwide (``countries is None``) or a set of ISO 3166-1 countries.

    Country codes are validated against an embedded ISO 3166-1 list, de-duplicated and sorted.
    """

    countries: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.countries is None:
            return
        if isinstance(self.countries, str) or not isinstance(self.countries, Iterable):
            raise TermsError("expected 'worldwide' or a list of ISO 3166-1 alpha-2 codes", "territory")
        codes = tuple(sorted(set(self.countries)))
        if not codes:
            raise TermsError("a territory needs at least one country (or 'worldwide')", "territory")
        for code in codes:
            country_name(code)
        object.__setattr__(self, "countries", codes)

    @classmethod
    def worldwide(cls) -> Territory:
        """Return the worldwide territory."""
        return cls(None)

    @classmethod
    def of(cls, *codes: str) -> Territory:
        """Return the territory made of the given ISO 3166-1 alpha-2 country codes."""
        return cls(tuple(codes))

    @property
    def is_worldwide(self) -> bool:
        """True when the territory is worldwide."""
        return self.countries is None

    def includes(self, code: str) -> bool:
        """Return True when the country ``code`` lies in this territory (the code is validated)."""
        country_name(code)
        return self.countries is None or code in self.countries

    def intersection(self, other: Territory) -> Territory | None:
        """Return the countries in both territories, or None when they share none."""
        if self.countries is None:
            return other
        if other.countries is None:
            return self
        common = set(self.countries) & set(other.countries)
        return Territory(tuple(common)) if common else None

    def covers(self, other: Territory) -> bool:
        """Return True when every country of ``other`` lies in this territory."""
        if self.countries is None:
            return True
        return other.countries is not None and set(other.countries) <= set(self.countries)

    def to_json(self) -> str | list[str]:
        """Return ``"worldwide"`` or the sorted list of codes."""
        return "worldwide" if self.countries is None else list(self.countries)

    @classmethod
    def from_json(cls, value: Any) -> Territory:
        """Parse ``"worldwide"`` or a list of codes; raise :class:`TermsError` naming ``territory``."""
        if value == "worldwide":
            return cls.worldwide()
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise TermsError("expected 'worldwide' or a list of ISO 3166-1 alpha-2 codes", "territory")
        return cls(tuple(value))

    def describe(self) -> str:
        """Return plain English, e.g. ``"worldwide"`` or ``"Germany (DE) and France (FR)"``."""
        if self.countries is None:
            return "worldwide"
        names = [f"{COUNTRY_NAMES[c]} ({c})" for c in self.countries]
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


@dataclass(frozen=True)
class Attribution:
    """Whether the licensee must credit the source, and the credit text the licensor asks for."""

    required: bool = False
    text: str | None = None

    def __post_init__(self) -> None:
        _bool(self.required, "attribution.required")
        if self.text is not None:
            if not isinstance(self.text, str) or not self.text.strip():
                raise TermsError("attribution text must be a non-blank string or null", "attribution.text")
            if not self.required:
                raise TermsError(
                    "attribution text is given but attribution is not required",
                    ("attribution.text", "attribution.required"),
                )


@dataclass(frozen=True)
class DeletionOnTermination:
    """Whether the data must be deleted when the license ends, within how many days, with certification."""

    required: bool = False
    days: int | None = None
    certification: bool = False

    def __post_init__(self) -> None:
        _bool(self.required, "deletion_on_termination.required")
        _bool(self.certification, "deletion_on_termination.certification")
        _count(self.days, "deletion_on_termination.days", 0)
        if not self.required and (self.days is not None or self.certification):
            raise TermsError(
                "deletion days or certification given but deletion on termination is not required",
                "deletion_on_termination",
            )


@dataclass(frozen=True)
class PIIObligations:
    """Obligations about personal data in the dataset."""

    no_reidentification: bool = False
    dpa_required: bool = False

    def __post_init__(self) -> None:
        _bool(self.no_reidentification, "pii.no_reidentification")
        _bool(self.dpa_required, "pii.dpa_required")


def _jurisdiction(value: Any) -> str | None:
    if value is None:
        return None
    match = _JURISDICTION.match(value) if isinstance(value, str) else None
    if match is None or not is_country(match.group(1)):
        raise TermsError(
            f"{value!r} is not a jurisdiction (ISO 3166-1 code, optionally with a subdivision: DE, US-NY)",
            "governing_law",
        )
    return str(value)


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
        object.__setattr__(self, "permitted_uses", frozenset(_enum(Use, u, "permitted_uses") for u in uses))
        for name in ("derivatives", "sublicensing", "transferable", "share_alike", "non_commercial"):
            _bool(getattr(self, name), name)
        object.__setattr__(self, "model_weights", _enum(ModelWeights, self.model_weights, "model_weights"))
        object.__setattr__(
            self,
            "raw_redistribution",
            _enum(RawRedistribution, self.raw_redistribution, "raw_redistribution"),
        )
        object.__setattr__(self, "exclusivity", _enum(Exclusivity, self.exclusivity, "exclusivity"))
        object.__setattr__(self, "warranty", _enum(Warranty, self.warranty, "warranty"))
        self._check_types()
        _count(self.seats, "seats", 1)
        _count(self.download_limit, "download_limit", 0)
        object.__setattr__(self, "governing_law", _jurisdiction(self.governing_law))
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
        kwargs: dict[str, Any] = {"permitted_uses": frozenset(_enum(Use, u, "permitted_uses") for u in uses)}
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
            value = _object(data["attribution"], "attribution", ("required", "text"))
            kwargs["attribution"] = Attribution(value.get("required", False), value.get("text"))
        if "deletion_on_termination" in data:
            value = _object(
                data["deletion_on_termination"], "deletion_on_termination", ("required", "days", "certification")
            )
            kwargs["deletion_on_termination"] = DeletionOnTermination(
                value.get("required", False), value.get("days"), value.get("certification", False)
            )
        if "pii" in data:
            value = _object(data["pii"], "pii", ("no_reidentification", "dpa_required"))
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
        return _enum(Use, use, "use") in self.permitted_uses

    def permits_training(self) -> bool:
        """True when training or fine-tuning is permitted (the "AI training permitted" badge and facet)."""
        return bool(self.permitted_uses & {Use.TRAIN, Use.FINE_TUNE})

    def permits_commercial_use(self) -> bool:
        """True when the terms are not non-commercial."""
        return not self.non_commercial

    # ----------------------------------------------------------------- plain language

    def plain_language_by_field(self) -> dict[str, str]:
        """Return one plain-English sentence per term, keyed by field name, in :data:`FIELD_NAMES` order."""
        uses = [USE_LABELS[u] for u in Use if u in self.permitted_uses]
        weights = {
            ModelWeights.NONE: "You may not distribute the weights of models trained on the data.",
            ModelWeights.RESEARCH_ONLY: "You may distribute weights of models trained on the data "
            "for research purposes only.",
            ModelWeights.SAME_TERMS: "You may distribute weights of models trained on the data "
            "only under these same terms.",
            ModelWeights.UNRESTRICTED: "You may distribute weights of models trained on the data without restriction.",
        }
        raw = {
            RawRedistribution.NONE: "You may not share the data itself with anyone outside your organisation.",
            RawRedistribution.AFFILIATES: "You may share the data itself only with your affiliates.",
            RawRedistribution.SAME_LICENSE: "You may share the data itself only under this same license.",
            RawRedistribution.ANY: "You may share the data itself with anyone.",
        }
        exclusivity = {
            Exclusivity.NONE: "This license is not exclusive: the provider may license the data to others.",
            Exclusivity.FIELD: "This license is exclusive within its field of use.",
            Exclusivity.TERRITORY: "This license is exclusive within its territory.",
            Exclusivity.FULL: "This license is fully exclusive: the provider will not license the data to anyone else.",
        }
        warranty = {
            Warranty.AS_IS: "The data is provided as is, without warranty.",
            Warranty.RIGHTS: "The provider warrants that it has the right to license the data.",
            Warranty.RIGHTS_AND_QUALITY: "The provider warrants that it has the right to license the data "
            "and that the data matches its description.",
        }
        deletion = self.deletion_on_termination
        if deletion.required:
            when = "immediately" if deletion.days in (None, 0) else f"within {deletion.days} days"
            certify = " and certify the deletion in writing" if deletion.certification else ""
            deletion_line = f"When the license ends you must delete the data {when}{certify}."
        else:
            deletion_line = "You need not delete the data when the license ends."
        pii_lines = []
        if self.pii.no_reidentification:
            pii_lines.append("You must not try to re-identify any person in the data.")
        if self.pii.dpa_required:
            pii_lines.append("You must sign a data processing agreement (DPA) before using the data.")
        if self.attribution.required:
            attribution = "You must credit the source" + (
                f": {self.attribution.text}" if self.attribution.text else "."
            )
        else:
            attribution = "No attribution is required."
        if self.governing_law is None:
            law = "No governing law is stated."
        else:
            law = f"The license is governed by the law of {COUNTRY_NAMES[self.governing_law[:2]]}" + (
                f" ({self.governing_law})." if len(self.governing_law) > 2 else "."
            )
        return {
            "permitted_uses": "You may use the data for: " + ", ".join(uses) + ".",
            "derivatives": "You may create derivative datasets (adapted, annotated or combined versions)."
            if self.derivatives
            else "You may not create derivative datasets.",
            "model_weights": weights[self.model_weights],
            "raw_redistribution": raw[self.raw_redistribution],
            "sublicensing": "You may sublicense your rights to others."
            if self.sublicensing
            else "You may not sublicense your rights.",
            "transferable": "You may transfer this license to another party."
            if self.transferable
            else "You may not transfer this license to another party.",
            "exclusivity": exclusivity[self.exclusivity],
            "territory": "The license applies worldwide."
            if self.territory.is_worldwide
            else f"The license applies only in {self.territory.describe()}.",
            "term": "The license is perpetual: it has no end date."
            if self.term is None
            else f"The license lasts {self.term.describe()} from its start ({self.term.iso()}).",
            "seats": "Any number of people in your organisation may use the data."
            if self.seats is None
            else f"At most {self.seats} {'person' if self.seats == 1 else 'people'} (seats) may use the data.",
            "download_limit": "There is no limit on downloads."
            if self.download_limit is None
            else f"You may download the data at most {self.download_limit} "
            f"time{'' if self.download_limit == 1 else 's'}.",
            "attribution": attribution,
            "share_alike": "If you share derivatives, you must share them under this same license."
            if self.share_alike
            else "There is no share-alike obligation.",
            "non_commercial": "Commercial use is not allowed."
            if self.non_commercial
            else "Commercial use is allowed within the permitted uses.",
            "deletion_on_termination": deletion_line,
            "pii": " ".join(pii_lines) if pii_lines else "There are no extra personal-data obligations.",
            "warranty": warranty[self.warranty],
            "liability_cap": "No liability cap is stated."
            if self.liability_cap is None
            else f"The provider's liability is capped at {self.liability_cap.format()}.",
            "governing_law": law,
        }

    def plain_language(self) -> list[str]:
        """Return one plain-English line per term, for people, in :data:`FIELD_NAMES` order."""
        return list(self.plain_language_by_field().values())


def _term(value: Any) -> Duration | None:
    if value == "perpetual" or value is None:
        return None
    return Duration.parse(value)
