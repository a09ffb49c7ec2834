"""Controlled vocabularies of a dataset listing, and the validators of the standard codes it uses.

Every enumerated field of DOMAIN.md "Dataset listing" is a :class:`Vocabulary` here, with the stored value
(stable, machine-readable) and a label for people. The standard codes are checked against their registries:
BCP 47 language tags against the IANA subtag registry (``langcodes``), ISO 3166-1 country codes (``iso3166``),
SPDX license expressions (``license-expression``, plus ``LicenseRef-`` identifiers, which SPDX allows), and
media types by RFC 6838 syntax under a registered top-level type.
"""

from __future__ import annotations

import enum
import functools
import re

import iso3166
import langcodes
from license_expression import get_spdx_licensing

#: Labels that differ from the capitalised value, by vocabulary class name.
_LABELS: dict[str, dict[str, str]] = {}


class Vocabulary(enum.StrEnum):
    """A closed list of values, each with a label for people (from :data:`_LABELS`, else the value)."""

    @property
    def label(self) -> str:
        labels = _LABELS.get(type(self).__name__, {})
        return labels.get(self.value, self.value.replace("_", " ").capitalize())

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(member.value, member.label) for member in cls]

    @classmethod
    def label_of(cls, value: str) -> str:
        try:
            return cls(value).label
        except ValueError:
            return value


class DatasetStatus(Vocabulary):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    PUBLISHED = "published"
    DEPRECATED = "deprecated"
    WITHDRAWN = "withdrawn"
    # A contract's dataset for custom data: seen only by the provider and the one buyer organisation, through
    # the contract. Never public, so every catalog read path (search, page, API, exports) leaves it out.
    PRIVATE = "private"


_LABELS["DatasetStatus"] = {"in_review": "In review"}

#: Statuses in which a listing is public (it has been approved and not withdrawn). Every public read path of
#: the catalog filters on these: this is the one visibility rule that keeps drafts and private datasets out.
PUBLIC_STATUSES = (DatasetStatus.PUBLISHED, DatasetStatus.DEPRECATED)


class VersionStatus(Vocabulary):
    DRAFT = "draft"
    PUBLISHED = "published"


class OfferingType(Vocabulary):
    OFF_THE_SHELF = "off_the_shelf"
    CUSTOM = "custom"


_LABELS["OfferingType"] = {"off_the_shelf": "Off the shelf", "custom": "Custom collection"}


class Modality(Vocabulary):
    TEXT = "text"
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    MULTIMODAL = "multimodal"
    TABULAR = "tabular"
    TIME_SERIES = "time_series"
    SENSOR = "sensor"
    POINT_CLOUD = "point_cloud"


_LABELS["Modality"] = {"time_series": "Time series", "point_cloud": "Point cloud"}


class Task(Vocabulary):
    CLASSIFICATION = "classification"
    NER = "ner"
    ASR = "asr"
    TTS = "tts"
    DETECTION = "detection"
    SEGMENTATION = "segmentation"
    INSTRUCTION_TUNING = "instruction_tuning"
    PREFERENCE = "preference"
    EVALUATION_BENCHMARK = "evaluation_benchmark"
    RETRIEVAL = "retrieval"
    TRANSLATION = "translation"
    SUMMARISATION = "summarisation"
    QUESTION_ANSWERING = "question_answering"
    FORECASTING = "forecasting"
    ANOMALY_DETECTION = "anomaly_detection"
    TRACKING = "tracking"
    CAPTIONING = "captioning"
    SPEAKER_IDENTIFICATION = "speaker_identification"
    OTHER = "other"


_LABELS["Task"] = {
    "ner": "Named-entity recognition",
    "asr": "Speech recognition (ASR)",
    "tts": "Speech synthesis (TTS)",
    "detection": "Object detection",
    "instruction_tuning": "Instruction tuning",
    "preference": "Preference (RLHF/DPO)",
    "evaluation_benchmark": "Evaluation benchmark",
    "question_answering": "Question answering",
    "anomaly_detection": "Anomaly detection",
    "speaker_identification": "Speaker identification",
    "summarisation": "Summarisation",
}


class Industry(Vocabulary):
    IT_TELECOM = "it_telecom"
    AUTOMOTIVE_MOBILITY = "automotive_mobility"
    HEALTHCARE_LIFE_SCIENCES = "healthcare_life_sciences"
    BFSI = "bfsi"
    RETAIL_ECOMMERCE = "retail_ecommerce"
    GOVERNMENT_DEFENSE = "government_defense"
    MEDIA_ENTERTAINMENT = "media_entertainment"
    MANUFACTURING_INDUSTRIAL = "manufacturing_industrial"
    GENERAL = "general"


_LABELS["Industry"] = {
    "it_telecom": "IT & telecom",
    "automotive_mobility": "Automotive & mobility",
    "healthcare_life_sciences": "Healthcare & life sciences",
    "bfsi": "Banking, financial services & insurance",
    "retail_ecommerce": "Retail & e-commerce",
    "government_defense": "Government & defense",
    "media_entertainment": "Media & entertainment",
    "manufacturing_industrial": "Manufacturing & industrial",
    "general": "General",
}


class CollectionMethod(Vocabulary):
    SURVEYS = "surveys"
    WEB_SCRAPING = "web_scraping"
    WEB_API = "web_api"
    MANUAL_CURATION = "manual_curation"
    USER_GENERATED = "user_generated"
    SENSORS = "sensors"
    SYNTHETIC = "synthetic"
    LICENSED_ARCHIVE = "licensed_archive"


_LABELS["CollectionMethod"] = {"web_api": "Web API", "user_generated": "User-generated"}


class AnnotationMethod(Vocabulary):
    EXPERT = "expert"
    CROWD = "crowd"
    MODEL_ASSISTED = "model_assisted"
    SYNTHETIC = "synthetic"
    NONE = "none"


_LABELS["AnnotationMethod"] = {"none": "None (unannotated)"}


class AgreementMetric(Vocabulary):
    COHEN_KAPPA = "cohen_kappa"
    FLEISS_KAPPA = "fleiss_kappa"
    KRIPPENDORFF_ALPHA = "krippendorff_alpha"
    PERCENT_AGREEMENT = "percent_agreement"
    F1 = "f1"
    WER = "wer"
    IOU = "iou"


_LABELS["AgreementMetric"] = {
    "cohen_kappa": "Cohen's κ",
    "fleiss_kappa": "Fleiss' κ",
    "krippendorff_alpha": "Krippendorff's α",
    "percent_agreement": "Percent agreement",
    "f1": "F1",
    "wer": "Word error rate between annotators",
    "iou": "Intersection over union",
}


class PersonalData(Vocabulary):
    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


class SpecialCategory(Vocabulary):
    """GDPR Article 9(1) special categories of personal data."""

    RACIAL_ETHNIC_ORIGIN = "racial_ethnic_origin"
    POLITICAL_OPINIONS = "political_opinions"
    RELIGIOUS_PHILOSOPHICAL_BELIEFS = "religious_philosophical_beliefs"
    TRADE_UNION_MEMBERSHIP = "trade_union_membership"
    GENETIC = "genetic"
    BIOMETRIC = "biometric"
    HEALTH = "health"
    SEX_LIFE_ORIENTATION = "sex_life_orientation"


_LABELS["SpecialCategory"] = {
    "racial_ethnic_origin": "Racial or ethnic origin",
    "religious_philosophical_beliefs": "Religious or philosophical beliefs",
    "genetic": "Genetic data",
    "biometric": "Biometric data (for identification)",
    "health": "Health data",
    "sex_life_orientation": "Sex life or sexual orientation",
}


class Deidentification(Vocabulary):
    ANONYMISED = "anonymised"
    PSEUDONYMISED = "pseudonymised"
    HIPAA_SAFE_HARBOR = "hipaa_safe_harbor"
    EXPERT_DETERMINATION = "expert_determination"
    SYNTHETIC = "synthetic"
    NONE = "none"


_LABELS["Deidentification"] = {
    "hipaa_safe_harbor": "HIPAA Safe Harbor",
    "expert_determination": "HIPAA Expert Determination",
    "synthetic": "Replaced by synthetic data",
}


class LawfulBasis(Vocabulary):
    """GDPR Article 6(1) lawful bases (``not_applicable`` when no personal data is processed)."""

    CONSENT = "consent"
    CONTRACT = "contract"
    LEGAL_OBLIGATION = "legal_obligation"
    VITAL_INTERESTS = "vital_interests"
    PUBLIC_TASK = "public_task"
    LEGITIMATE_INTERESTS = "legitimate_interests"
    NOT_APPLICABLE = "not_applicable"


class StorageRegion(Vocabulary):
    """Where the data is kept at rest (data residency)."""

    EU = "eu"
    UK = "uk"
    CH = "ch"
    US = "us"
    CA = "ca"
    BR = "br"
    IN = "in"
    SG = "sg"
    JP = "jp"
    KR = "kr"
    AU = "au"
    AE = "ae"


_LABELS["StorageRegion"] = {
    "eu": "European Union",
    "uk": "United Kingdom",
    "ch": "Switzerland",
    "us": "United States",
    "ca": "Canada",
    "br": "Brazil",
    "in": "India",
    "sg": "Singapore",
    "jp": "Japan",
    "kr": "South Korea",
    "au": "Australia",
    "ae": "United Arab Emirates",
}


class UpdateFrequency(Vocabulary):
    ONE_OFF = "one_off"
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"
    IRREGULAR = "irregular"


_LABELS["UpdateFrequency"] = {"one_off": "One-off (not updated)"}


class RightsBasis(Vocabulary):
    """On what footing the provider offers the data: the training-content summary's data-source section follows it
    (EU AI Act Article 53(1)(d), the Commission's template of July 2025)."""

    RIGHTS_HOLDER = "rights_holder"
    PUBLICLY_AVAILABLE = "publicly_available"
    THIRD_PARTY = "third_party"


_LABELS["RightsBasis"] = {
    "rights_holder": "We hold the rights, or license them for the rights holders",
    "publicly_available": "The data is a publicly available dataset we redistribute",
    "third_party": "We obtained the data from third parties on other terms",
}


#: The preparation operations AI Act Article 10(2)(c) names, each recorded separately.
PREPARATION_OPERATIONS = ("annotation", "labelling", "cleaning", "updating", "enrichment", "aggregation")


# --- standard codes -----------------------------------------------------------------------------------------

_BCP47_SHAPE = re.compile(r"^[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*$")


@functools.lru_cache(maxsize=4096)
def language_tag(value: str) -> str:
    """The canonical form of a BCP 47 language tag (``en-gb`` → ``en-GB``); ValueError when not valid.

    Well-formedness is checked first (hyphens only), then every subtag against the IANA registry. Cached: a
    catalog import checks the same few tags thousands of times (a refused tag is not cached, and raises again).
    """
    text = value.strip()
    if not _BCP47_SHAPE.match(text) or len(text) > 35:
        raise ValueError(f"{value!r} is not a BCP 47 language tag (e.g. en, de-CH, sr-Latn-RS)")
    if not langcodes.tag_is_valid(text):
        raise ValueError(f"{value!r} is not a registered BCP 47 language tag")
    return str(langcodes.standardize_tag(text))


@functools.lru_cache(maxsize=2048)
def language_name(tag: str) -> str:
    """An English name for a language tag (``de-CH`` → ``German (Switzerland)``), or the tag itself."""
    try:
        return str(langcodes.Language.get(tag).display_name())
    except Exception:
        return tag


def country_code(value: str) -> str:
    """An upper-case ISO 3166-1 alpha-2 code; ValueError when not an assigned code."""
    text = value.strip().upper()
    if len(text) != 2 or not text.isalpha() or text not in iso3166.countries_by_alpha2:
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code (e.g. DE, US, BR)")
    return text


def country_name(code: str) -> str:
    country = iso3166.countries_by_alpha2.get(code)
    return country.name if country else code


def country_alpha3(code: str) -> str:
    return iso3166.countries_by_alpha2[code].alpha3


_LICENSE_REF = re.compile(r"^(?:DocumentRef-[A-Za-z0-9.\-]+:)?LicenseRef-[A-Za-z0-9.\-]+$")


@functools.lru_cache(maxsize=1)
def _spdx():  # type: ignore[no-untyped-def]
    return get_spdx_licensing()


@functools.lru_cache(maxsize=4096)
def spdx_expression(value: str) -> str:
    """A normalised SPDX license expression (``mit or apache-2.0`` → ``MIT OR Apache-2.0``); cached, as
    :func:`language_tag` is.

    ``LicenseRef-…`` identifiers are accepted as SPDX allows them for licenses not on its list;
    ``NOASSERTION`` says the license is not known. ValueError names what is wrong otherwise.
    """
    text = " ".join(value.split())
    if not text:
        raise ValueError("a license expression is required (an SPDX identifier such as CC-BY-4.0)")
    if text.upper() == "NOASSERTION":
        return "NOASSERTION"
    if len(text) > 500:
        raise ValueError("the license expression is too long")
    try:
        info = _spdx().validate(text)
    except Exception as exc:  # the library raises several types (and AttributeError) on malformed input
        raise ValueError(f"{value!r} is not a valid SPDX license expression") from exc
    unknown = [symbol for symbol in info.invalid_symbols if not _LICENSE_REF.match(str(symbol))]
    if unknown:
        raise ValueError(f"unknown SPDX license identifier(s): {', '.join(map(str, unknown))}")
    other_errors = [e for e in info.errors if not e.startswith("Unknown license key")]
    if other_errors:
        raise ValueError(f"{value!r} is not a valid SPDX license expression: {'; '.join(other_errors)}")
    if info.normalized_expression:
        return str(info.normalized_expression)
    # Only LicenseRef symbols were unknown: parse leniently to normalise the operators.
    return str(_spdx().parse(text, validate=False))


_TOP_LEVEL_TYPES = frozenset(
    {"application", "audio", "example", "font", "haptics", "image", "message", "model", "multipart", "text", "video"}
)
_MEDIA_TYPE = re.compile(
    r"^(?P<type>[a-z0-9][a-z0-9!#$&\-^_.+]{0,126})/(?P<subtype>[a-z0-9][a-z0-9!#$&\-^_.+]{0,126})$"
)


def media_type(value: str) -> str:
    """A lower-case media type ``type/subtype`` (RFC 6838 syntax, registered top-level type, no parameters)."""
    text = value.strip().lower()
    match = _MEDIA_TYPE.match(text)
    if not match:
        raise ValueError(f"{value!r} is not a media type such as text/csv or audio/wav")
    if match["type"] not in _TOP_LEVEL_TYPES:
        raise ValueError(f"{value!r} has an unknown top-level type {match['type']!r}")
    return text


_SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)


def semantic_version(value: str) -> str:
    """A Semantic Versioning 2.0.0 label such as ``1.2.0`` or ``2.0.0-rc.1``."""
    text = value.strip()
    if len(text) > 64 or not _SEMVER.match(text):
        raise ValueError(f"{value!r} is not a semantic version such as 1.0.0 or 2.1.0-rc.1")
    return text


def semver_key(label: str) -> tuple[int, int, int, int, tuple[tuple[int, int | str], ...]]:
    """A sort key that orders labels by Semantic Versioning precedence (build metadata ignored)."""
    match = _SEMVER.match(label)
    if not match:
        raise ValueError(f"{label!r} is not a semantic version")
    major, minor, patch, pre = int(match[1]), int(match[2]), int(match[3]), match[4]
    if pre is None:
        return (major, minor, patch, 1, ())
    parts: list[tuple[int, int | str]] = [(0, int(p)) if p.isdigit() else (1, p) for p in pre.split(".")]
    return (major, minor, patch, 0, tuple(parts))


_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def sha256_hex(value: str) -> str:
    text = value.strip().lower()
    if not _SHA256.match(text):
        raise ValueError("must be a SHA-256 digest: 64 hexadecimal characters")
    return text


def manifest_path(value: str) -> str:
    """A relative POSIX path inside a dataset: no leading slash, no ``..``, no backslash or control character."""
    text = value.strip()
    if not text:
        raise ValueError("a file path is required")
    if len(text) > 1024:
        raise ValueError("the path is longer than 1024 characters")
    if text.startswith("/") or "\\" in text or any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise ValueError(f"{value!r} must be a relative path with forward slashes")
    if any(part in ("", ".", "..") for part in text.split("/")):
        raise ValueError(f"{value!r} must not contain empty, '.' or '..' segments")
    return text
