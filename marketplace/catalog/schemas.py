"""marshmallow schemas for listing metadata: one record shape for the website form, CSV, JSON Lines and Croissant.

A *record* is the nested dictionary :class:`DatasetRecordSchema` loads. The website's form sections, CSV
columns and JSON Lines objects all arrive in this shape (CSV and form fields use dotted names such as
``ai_act.bias_examination`` or ``sources.0.license``; :func:`marketplace.catalog.flat_records.unflatten` turns
them into the nested record), so every channel gets exactly the same validation, and a problem is always named by
the same dotted field path.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, post_load, validate, validates_schema

from licensing.money import is_currency
from marketplace.catalog import fast_records, vocab
from marketplace.forms import FormSchema

TAG_MAX = 30
LIST_MAX = 300

# --- fields --------------------------------------------------------------------------------------------------


class Coded(fields.String):
    """A string normalised by a validator of a standard code (BCP 47, ISO 3166, SPDX, media type…)."""

    def __init__(self, normalise: Callable[[str], str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.normalise = normalise

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return self.normalise(text)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc


def _choice(vocabulary: type[vocab.Vocabulary], **kwargs: Any) -> fields.String:
    values = [m.value for m in vocabulary]
    return fields.String(validate=validate.OneOf(values, error="must be one of: " + ", ".join(values)), **kwargs)


class UniqueList(fields.List[Any]):
    """A list without repeated values (the first occurrence wins), of at most ``max_items`` items."""

    def __init__(self, inner: fields.Field[Any], *, max_items: int = LIST_MAX, **kwargs: Any) -> None:
        kwargs.setdefault("load_default", list)
        super().__init__(inner, validate=validate.Length(max=max_items), **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> list[Any]:
        if isinstance(value, str):  # a single value where a list was expected
            value = [value]
        return list(dict.fromkeys(super()._deserialize(value, attr, data, **kwargs)))  # first of each, in order


def _count(**kwargs: Any) -> fields.Integer:
    return fields.Integer(allow_none=True, load_default=None, validate=validate.Range(min=0, max=10**15), **kwargs)


def _amount(**kwargs: Any) -> fields.Float:
    return fields.Float(
        allow_none=True, load_default=None, allow_nan=False, validate=validate.Range(min=0, max=10**9), **kwargs
    )


def _price(**kwargs: Any) -> fields.Integer:
    """A price in integer minor units of the service's currency (cents for EUR)."""
    return fields.Integer(
        allow_none=True,
        load_default=None,
        strict=False,
        validate=validate.Range(min=0, max=10**12, error="give a price in minor units (cents), from 0"),
        **kwargs,
    )


def _text(max_length: int, **kwargs: Any) -> fields.String:
    kwargs.setdefault("load_default", "")
    return fields.String(validate=validate.Length(max=max_length), **kwargs)


_URL = fields.URL(schemes={"http", "https"}, validate=validate.Length(max=500))

# --- groups --------------------------------------------------------------------------------------------------


class _Group(Schema):
    class Meta:
        unknown = RAISE


class TextDetailsSchema(_Group):
    documents = _count()
    tokens = _count()


class ImageDetailsSchema(_Group):
    images = _count()
    min_width = _count()
    min_height = _count()
    max_width = _count()
    max_height = _count()

    @validates_schema
    def _range(self, data: dict[str, Any], **_: Any) -> None:
        for axis in ("width", "height"):
            low, high = data.get(f"min_{axis}"), data.get(f"max_{axis}")
            if low is not None and high is not None and low > high:
                raise ValidationError(f"must not be smaller than min_{axis}", f"max_{axis}")


class VideoDetailsSchema(_Group):
    hours = _amount()
    clips = _count()
    width = _count()
    height = _count()
    fps = fields.Float(allow_none=True, load_default=None, allow_nan=False, validate=validate.Range(min=0, max=1000))


class AudioDetailsSchema(_Group):
    hours = _amount()
    speakers = _count()
    sample_rate_hz = fields.Integer(allow_none=True, load_default=None, validate=validate.Range(min=1, max=10**7))
    accents = UniqueList(fields.String(validate=validate.Length(min=1, max=100)), max_items=100)


class SensorDetailsSchema(_Group):
    channels = _count()
    sample_rate_hz = fields.Float(
        allow_none=True, load_default=None, allow_nan=False, validate=validate.Range(min=0, max=10**9)
    )
    sensor_types = UniqueList(fields.String(validate=validate.Length(min=1, max=100)), max_items=100)


class ModalityDetailsSchema(_Group):
    text = fields.Nested(TextDetailsSchema, allow_none=True, load_default=None)
    image = fields.Nested(ImageDetailsSchema, allow_none=True, load_default=None)
    video = fields.Nested(VideoDetailsSchema, allow_none=True, load_default=None)
    audio = fields.Nested(AudioDetailsSchema, allow_none=True, load_default=None)
    sensor = fields.Nested(SensorDetailsSchema, allow_none=True, load_default=None)

    @post_load
    def _drop_empty(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return {
            key: group for key, group in data.items() if group and any(v not in (None, [], "") for v in group.values())
        }


class SourceSchema(_Group):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    url = fields.URL(schemes={"http", "https"}, allow_none=True, load_default=None, validate=validate.Length(max=500))
    license = Coded(vocab.spdx_expression, required=True)


class ParentDatasetSchema(_Group):
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    url = fields.URL(schemes={"http", "https"}, allow_none=True, load_default=None, validate=validate.Length(max=500))
    slug = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=80))


class PreparationSchema(_Group):
    """AI Act Article 10(2)(c): each data-preparation operation, described separately."""

    annotation = _text(4000)
    labelling = _text(4000)
    cleaning = _text(4000)
    updating = _text(4000)
    enrichment = _text(4000)
    aggregation = _text(4000)


GROUP_ROWS_MAX = 100
#: The share of one dimension may add up to a little over 100 % (rounded shares), not more.
GROUP_SHARE_TOLERANCE = 0.5


class GroupShareSchema(_Group):
    """One row of the data's distribution across groups (Article 10(2)(e) statistics, 10(3) and (4)): a dimension
    in the provider's words ("language", "region", "speaker age"), one group of it, and its share or count."""

    dimension = fields.String(required=True, validate=validate.Length(min=1, max=60))
    group = fields.String(required=True, validate=validate.Length(min=1, max=100))
    share_pct = fields.Float(
        allow_none=True,
        load_default=None,
        allow_nan=False,
        validate=validate.Range(min=0, max=100, error="give the share as a percentage, from 0 to 100"),
    )
    count = _count()

    @validates_schema
    def _measured(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("share_pct") is None and data.get("count") is None:
            raise ValidationError("give the group's share (%) or its count", "share_pct")
        if data.get("dimension", "").strip().lower() == "language":
            try:
                vocab.language_tag(data.get("group", ""))
            except ValueError as exc:
                raise ValidationError(f"a language group is a BCP 47 tag: {exc}", "group") from exc

    @post_load
    def _normalise(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data["dimension"] = data["dimension"].strip()
        data["group"] = data["group"].strip()
        if data["dimension"].lower() == "language":
            data["group"] = vocab.language_tag(data["group"])
        return data


def group_share_problems(rows: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Rows naming the same group of a dimension twice, and dimensions whose shares add up to over 100 %."""
    problems: dict[str, list[str]] = {}
    seen: set[tuple[str, str]] = set()
    totals: dict[str, float] = {}
    for index, row in enumerate(rows):
        key = (row["dimension"].lower(), row["group"].lower())
        if key in seen:
            problems[f"{index}.group"] = [f"{row['group']!r} of {row['dimension']!r} is already in an earlier row"]
        seen.add(key)
        if row.get("share_pct") is not None:
            totals[row["dimension"]] = totals.get(row["dimension"], 0.0) + row["share_pct"]
    for index, row in enumerate(rows):
        total = totals.get(row["dimension"], 0.0)
        if total > 100 + GROUP_SHARE_TOLERANCE and f"{index}.share_pct" not in problems:
            problems[f"{index}.share_pct"] = [f"the shares of {row['dimension']!r} add up to {total:g} %, over 100 %"]
            totals[row["dimension"]] = 0.0  # said once per dimension
    return problems


class AiActRecordSchema(_Group):
    """The data governance record EU AI Act Article 10(2) asks of training data (items (a) to (h)), with what
    Article 10(3) and (4) add: the data's distribution across the groups it is meant to represent."""

    design_choices = _text(8000)
    collection_processes = _text(8000)
    data_origin = _text(8000)
    # For personal data: the purpose for which it was originally collected (Article 10(2)(b)).
    original_purpose = _text(4000)
    preparation = fields.Nested(PreparationSchema, load_default=dict)
    assumptions = _text(8000)
    suitability = _text(8000)
    group_distribution = fields.List(
        fields.Nested(GroupShareSchema), load_default=list, validate=validate.Length(max=GROUP_ROWS_MAX)
    )
    bias_examination = _text(8000)
    bias_mitigation = _text(8000)
    known_gaps = _text(8000)
    # How the gaps and shortcomings above are addressed (Article 10(2)(h)).
    gaps_remedy = _text(8000)
    bias_reviewer = _text(200)
    # Loaded as a date and stored in its own DATE column (Dataset.bias_reviewed_on), not in the JSON document.
    bias_reviewed_on = fields.Date(allow_none=True, load_default=None)

    @validates_schema
    def _groups(self, data: dict[str, Any], **_: Any) -> None:
        problems = group_share_problems(data.get("group_distribution") or [])
        if problems:
            nested: dict[str, Any] = {}
            for path, messages in problems.items():
                index, name = path.split(".")
                nested.setdefault(index, {})[name] = messages
            raise ValidationError({"group_distribution": nested})


class TrainingSummarySchema(_Group):
    """What a model developer's public summary of training content (EU AI Act Article 53(1)(d), the Commission's
    template of July 2025) needs from the provider and the listing does not say elsewhere: the footing the data is
    offered on, the kinds of content, whether any was crawled from the web and how text-and-data-mining opt-outs
    were respected, and the measures taken against illegal content. Kept apart from the Article 10 record."""

    rights_basis = _choice(vocab.RightsBasis, allow_none=True, load_default=None)
    content_types = UniqueList(fields.String(validate=validate.Length(min=1, max=100)), max_items=30)
    crawled = fields.Boolean(allow_none=True, load_default=None)
    crawl_details = _text(4000)
    tdm_opt_out_handling = _text(4000)
    illegal_content_measures = _text(4000)

    @validates_schema
    def _crawl_explained(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("crawled") and not (data.get("tdm_opt_out_handling") or "").strip():
            raise ValidationError(
                "say how text-and-data-mining opt-outs (robots.txt, TDMRep…) were respected when crawling",
                "tdm_opt_out_handling",
            )


class ManifestEntrySchema(_Group):
    path = Coded(vocab.manifest_path, required=True)
    size_bytes = fields.Integer(required=True, strict=False, validate=validate.Range(min=0, max=2**63 - 1))
    sha256 = Coded(vocab.sha256_hex, required=True)
    media_type = Coded(vocab.media_type, required=True)


def duplicate_paths(files: list[dict[str, Any]]) -> list[tuple[int, int]]:
    """``(index, index of the first file with the same path)`` for every repeated path."""
    seen: dict[str, int] = {}
    duplicates = []
    for index, entry in enumerate(files):
        if entry["path"] in seen:
            duplicates.append((index, seen[entry["path"]]))
        else:
            seen[entry["path"]] = index
    return duplicates


class VersionRecordSchema(_Group):
    version = Coded(vocab.semantic_version, required=True)
    changelog = _text(20000)
    files = fields.List(fields.Nested(ManifestEntrySchema), load_default=list, validate=validate.Length(max=100000))

    @validates_schema
    def _unique(self, data: dict[str, Any], **_: Any) -> None:
        duplicates = duplicate_paths(data.get("files") or [])
        if duplicates:
            raise ValidationError(
                {"files": {str(i): {"path": [f"the same path as file {first + 1}"]} for i, first in duplicates}}
            )


# --- the record ------------------------------------------------------------------------------------------------

#: The form's sections, in page order: (key, title, the record's top-level fields it edits).
SECTIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("identity", "Identity", ("title", "summary", "description", "offering_type", "tags", "external_id")),
    ("modality", "Modality", ("modality", "modality_details")),
    ("tasks", "Tasks and industry", ("tasks", "industries")),
    ("coverage", "Coverage", ("languages", "countries", "collection_start", "collection_end")),
    ("size", "Size", ("record_count", "total_bytes", "file_count", "formats")),
    (
        "collection",
        "Collection and annotation",
        (
            "collection_methods",
            "annotation_methods",
            "annotator_qualifications",
            "annotations_per_item",
            "agreement_metric",
            "agreement_value",
            "synthetic_share_pct",
        ),
    ),
    (
        "personal_data",
        "Personal data",
        (
            "personal_data",
            "special_categories",
            "deidentification",
            "lawful_basis",
            "consent_obtained",
            "opt_out_honoured",
            "personal_data_notes",
        ),
    ),
    ("provenance", "Provenance", ("sources", "parent_datasets")),
    ("ai_act", "AI Act Article 10 record", ("ai_act",)),
    ("training_summary", "Training-content summary (AI Act Article 53)", ("training_summary",)),
    ("delivery", "Delivery and data residency", ("storage_region", "update_frequency")),
    # Shown only for offering type custom (see :func:`sections_for`); it repeats the task, industry, language and
    # annotator fields so a provider describes the whole service on one page.
    (
        "service",
        "Custom collection service",
        (
            "service_modalities",
            "tasks",
            "industries",
            "languages",
            "annotator_qualifications",
            "deidentification_offered",
            "ai_act_documentation",
            "lead_time_days",
            "service_price_min",
            "service_price_max",
            "service_price_currency",
        ),
    ),
)
SECTION_FIELDS: dict[str, tuple[str, ...]] = {key: names for key, _, names in SECTIONS}
SECTION_TITLES: dict[str, str] = {key: title for key, title, _ in SECTIONS}
#: The section only a custom-collection service has.
SERVICE_SECTION = "service"


def sections_for(offering_type: str) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """The form's sections for a listing of ``offering_type``: the service section for custom ones only."""
    if offering_type == vocab.OfferingType.CUSTOM.value:
        return SECTIONS
    return tuple(section for section in SECTIONS if section[0] != SERVICE_SECTION)


def _currency(value: str) -> str:
    code = value.strip().upper()
    if not is_currency(code):
        raise ValueError(f"{value!r} is not an ISO 4217 currency code (e.g. EUR, USD)")
    return code


class DatasetRecordSchema(Schema):
    """Every listing field of DOMAIN.md "Dataset listing"; missing optional fields load as empty."""

    class Meta:
        unknown = RAISE

    external_id = fields.String(
        allow_none=True,
        load_default=None,
        validate=validate.Regexp(
            r"^[A-Za-z0-9][A-Za-z0-9._:/\-]{0,199}$",
            error="use up to 200 letters, digits and . _ : / - (starting with a letter or digit)",
        ),
    )
    slug = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=80))
    title = fields.String(required=True, validate=validate.Length(min=3, max=200))
    summary = _text(300)
    description = _text(50000)
    offering_type = _choice(vocab.OfferingType, load_default=vocab.OfferingType.OFF_THE_SHELF.value)
    tags = UniqueList(
        fields.String(validate=[validate.Length(min=1, max=50), validate.Regexp(r"^[^,|<>]+$", error="no , | < >")]),
        max_items=TAG_MAX,
    )

    modality = _choice(vocab.Modality, allow_none=True, load_default=None)
    modality_details = fields.Nested(ModalityDetailsSchema, load_default=dict)

    tasks = UniqueList(_choice(vocab.Task), max_items=len(vocab.Task))
    industries = UniqueList(_choice(vocab.Industry), max_items=len(vocab.Industry))

    languages = UniqueList(Coded(vocab.language_tag))
    countries = UniqueList(Coded(vocab.country_code))
    collection_start = fields.Date(allow_none=True, load_default=None)
    collection_end = fields.Date(allow_none=True, load_default=None)

    record_count = _count()
    total_bytes = _count()
    file_count = _count()
    formats = UniqueList(Coded(vocab.media_type), max_items=50)

    collection_methods = UniqueList(_choice(vocab.CollectionMethod))
    annotation_methods = UniqueList(_choice(vocab.AnnotationMethod))
    annotator_qualifications = _text(2000)
    annotations_per_item = fields.Float(
        allow_none=True, load_default=None, allow_nan=False, validate=validate.Range(min=0, max=1000)
    )
    agreement_metric = _choice(vocab.AgreementMetric, allow_none=True, load_default=None)
    agreement_value = fields.Float(
        allow_none=True, load_default=None, allow_nan=False, validate=validate.Range(min=-1, max=100)
    )
    synthetic_share_pct = fields.Integer(allow_none=True, load_default=None, validate=validate.Range(min=0, max=100))

    personal_data = _choice(vocab.PersonalData, load_default=vocab.PersonalData.UNKNOWN.value)
    special_categories = UniqueList(_choice(vocab.SpecialCategory))
    deidentification = UniqueList(_choice(vocab.Deidentification))
    lawful_basis = _choice(vocab.LawfulBasis, allow_none=True, load_default=None)
    consent_obtained = fields.Boolean(allow_none=True, load_default=None)
    opt_out_honoured = fields.Boolean(allow_none=True, load_default=None)
    personal_data_notes = _text(4000)

    sources = fields.List(fields.Nested(SourceSchema), load_default=list, validate=validate.Length(max=100))
    parent_datasets = fields.List(
        fields.Nested(ParentDatasetSchema), load_default=list, validate=validate.Length(max=100)
    )

    ai_act = fields.Nested(AiActRecordSchema, load_default=dict)
    training_summary = fields.Nested(TrainingSummarySchema, load_default=dict)

    storage_region = _choice(vocab.StorageRegion, allow_none=True, load_default=None)
    update_frequency = _choice(vocab.UpdateFrequency, allow_none=True, load_default=None)

    versions = fields.List(fields.Nested(VersionRecordSchema), load_default=list, validate=validate.Length(max=100))

    # A custom-collection service (offering type custom).
    service_modalities = UniqueList(_choice(vocab.Modality), max_items=len(vocab.Modality))
    deidentification_offered = UniqueList(_choice(vocab.Deidentification))
    ai_act_documentation = fields.Boolean(allow_none=True, load_default=None)
    lead_time_days = fields.Integer(
        allow_none=True,
        load_default=None,
        validate=validate.Range(min=1, max=730, error="give the typical lead time in days, from 1 to 730"),
    )
    service_price_min = _price()
    service_price_max = _price()
    service_price_currency = Coded(_currency, allow_none=True, load_default=None)

    @validates_schema
    def _consistent(self, data: dict[str, Any], **_: Any) -> None:
        errors: dict[str, list[str]] = {}
        start, end = data.get("collection_start"), data.get("collection_end")
        if start and end and end < start:
            errors["collection_end"] = ["must not be before collection_start"]
        modality, details = data.get("modality"), data.get("modality_details") or {}
        if modality and modality != vocab.Modality.MULTIMODAL.value:
            for key in details:
                if key != modality and details.get(key):
                    errors[f"modality_details.{key}"] = [
                        f"{key} details only apply when the modality is {key} or multimodal"
                    ]
        if data.get("agreement_value") is not None and not data.get("agreement_metric"):
            errors["agreement_metric"] = ["name the agreement metric the value is measured in"]
        if data.get("personal_data") == vocab.PersonalData.NO.value and data.get("special_categories"):
            errors["special_categories"] = ["special categories need personal data: set personal data to yes"]
        methods = data.get("annotation_methods") or []
        if "none" in methods and len(methods) > 1:
            errors["annotation_methods"] = ["'none' cannot be combined with other annotation methods"]
        deid = data.get("deidentification") or []
        if "none" in deid and len(deid) > 1:
            errors["deidentification"] = ["'none' cannot be combined with de-identification methods"]
        errors.update(_price_range_problems(data))
        versions = [v.get("version") for v in data.get("versions") or []]
        if len(versions) != len(set(versions)):
            errors["versions"] = ["each version label may appear once"]
        if errors:
            raise ValidationError(errors)


def _price_range_problems(data: dict[str, Any]) -> dict[str, list[str]]:
    low, high = data.get("service_price_min"), data.get("service_price_max")
    errors: dict[str, list[str]] = {}
    if low is not None and high is not None and low > high:
        errors["service_price_max"] = ["the highest price must not be below the lowest price"]
    if (
        (low is not None or high is not None)
        and "service_price_currency" in data
        and not data["service_price_currency"]
    ):
        errors["service_price_currency"] = ["name the currency of the price range (e.g. EUR)"]
    return errors


@functools.lru_cache(maxsize=64)
def record_fields(names: tuple[str, ...] | None = None) -> DatasetRecordSchema:
    """The record schema, limited to ``names`` (a form section) when given.

    Cached: building a marshmallow schema deep-copies every field, and a loaded schema is stateless.
    """
    return DatasetRecordSchema(only=names) if names else DatasetRecordSchema()


@functools.lru_cache(maxsize=1)
def _fast_record_loader() -> fast_records.Loader:
    return fast_records.compile_schema(record_fields())


def load_record(data: Mapping[str, Any], names: tuple[str, ...] | None = None) -> dict[str, Any]:
    """Validate ``data`` as a record (or the ``names`` part of one); ValidationError lists dotted fields.

    A whole record goes first through the schema's compiled fast path (:mod:`marketplace.catalog.fast_records`);
    one it cannot vouch for, every invalid one among them, is loaded by the schema itself."""
    if names is None:
        try:
            return dict(_fast_record_loader()(dict(data)))
        except fast_records.Fallback:
            pass
    return dict(record_fields(names).load(dict(data)))


class CreateDatasetSchema(FormSchema):
    organisation = fields.String(required=True, validate=validate.Length(min=1, max=64))
    title = fields.String(required=True, validate=validate.Length(min=3, max=200))
    slug = fields.String(load_default="", validate=validate.Length(max=80))
    modality = _choice(vocab.Modality, allow_none=True, load_default=None)


class VersionFormSchema(FormSchema):
    version = Coded(vocab.semantic_version, required=True)
    changelog = _text(20000)
    manifest = fields.String(load_default="", validate=validate.Length(max=20_000_000))


class ReasonSchema(FormSchema):
    reason = fields.String(load_default="", validate=validate.Length(max=2000))


class SampleFormSchema(FormSchema):
    description = _text(500)


class ImportFormSchema(FormSchema):
    organisation = fields.String(required=True, validate=validate.Length(min=1, max=64))
    format = fields.String(load_default="", validate=validate.OneOf(["", "csv", "jsonl", "croissant"]))
