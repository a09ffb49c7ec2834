"""The values license terms are made of: the enums, the territory, the nested obligations, and their checks.

Each value validates itself on construction and raises :class:`TermsError` naming the field at fault;
:class:`~licensing.terms.Terms` combines them and checks the rules between them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from ._iso import COUNTRY_NAMES
from .errors import TermsError


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


def parse_enum(cls: type[_E], value: Any, name: str) -> _E:
    """``value`` as a member of ``cls`` (a member or its string value); else :class:`TermsError` naming ``name``."""
    if isinstance(value, cls):
        return value
    allowed = ", ".join(m.value for m in cls)
    if isinstance(value, str):
        try:
            return cls(value)
        except ValueError:
            pass
    raise TermsError(f"unknown value {value!r}; expected one of: {allowed}", name)


def check_bool(value: Any, name: str) -> bool:
    """``value`` if it is a bool; else :class:`TermsError` naming ``name``."""
    if not isinstance(value, bool):
        raise TermsError(f"expected true or false, got {value!r}", name)
    return value


def check_count(value: Any, name: str, minimum: int) -> int | None:
    """``value`` if it is None or a whole number of at least ``minimum``; else :class:`TermsError` naming ``name``."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TermsError(f"expected a whole number or null, got {value!r}", name)
    if value < minimum:
        raise TermsError(f"must be at least {minimum}, got {value}", name)
    return value


def check_object(value: Any, name: str, allowed: Iterable[str]) -> Mapping[str, Any]:
    """``value`` if it is a mapping with no key outside ``allowed``; else :class:`TermsError` naming each bad key."""
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
        check_bool(self.required, "attribution.required")
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
        check_bool(self.required, "deletion_on_termination.required")
        check_bool(self.certification, "deletion_on_termination.certification")
        check_count(self.days, "deletion_on_termination.days", 0)
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
        check_bool(self.no_reidentification, "pii.no_reidentification")
        check_bool(self.dpa_required, "pii.dpa_required")


def parse_jurisdiction(value: Any) -> str | None:
    """``value`` if it is None or a jurisdiction (``DE``, ``US-NY``); else :class:`TermsError` naming governing_law."""
    if value is None:
        return None
    match = _JURISDICTION.match(value) if isinstance(value, str) else None
    if match is None or not is_country(match.group(1)):
        raise TermsError(
            f"{value!r} is not a jurisdiction (ISO 3166-1 code, optionally with a subdivision: DE, US-NY)",
            "governing_law",
        )
    return str(value)
