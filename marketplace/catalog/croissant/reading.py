"""Reading a Croissant 1.0 or 1.1 document (as Hugging Face, Kaggle, OpenML and others publish them).

:func:`read_document` checks the whole document in one pass and returns either every problem, each named by its
JSON path in the document, or a :class:`CroissantImport`: the listing record derived from it (only values the
listing's own rules accept: a keyword that is no valid tag, a language that is no BCP 47 tag, a version that is
no semantic version stay in the document's properties, kept as written), the declared distribution, the record
sets and the dataset-level properties as written. Nothing is refused for lacking a SHA-256 or a size: such files
are declared, to be uploaded.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from marketplace.catalog import vocab
from marketplace.catalog.croissant.structure import (
    Distribution,
    Problem,
    as_list,
    read_distribution,
    read_record_sets,
    text,
    types_of,
)
from marketplace.catalog.croissant.vocabulary import CONTEXT_1_0, CONTEXT_1_1, STRUCTURAL
from marketplace.catalog.schemas import TAG_MAX
from marketplace.errors import FieldProblem

_EXTERNAL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/\-]{0,199}$")
_TAG = re.compile(r"^[^,|<>]{1,50}$")
_URL = re.compile(r"^https?://\S{1,490}$")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


#: The listing fields a document is read into (the others it cannot say).
READ_FIELDS = (
    "external_id",
    "title",
    "summary",
    "description",
    "tags",
    "languages",
    "countries",
    "collection_start",
    "collection_end",
    "collection_methods",
    "annotator_qualifications",
    "annotations_per_item",
    "ai_act",
    "parent_datasets",
)


@dataclass
class CroissantImport:
    """What one Croissant document brings: a listing record (not yet loaded) and what the listing keeps apart."""

    record: dict[str, Any]
    distribution: list[Distribution] = field(default_factory=list)
    record_sets: list[dict[str, Any]] = field(default_factory=list)
    properties: dict[str, Any] = field(default_factory=dict)
    url: str = ""


def read_document(document: Any) -> tuple[CroissantImport | None, list[Problem]]:
    """Check ``document`` and read it; ``(None, problems)`` when anything is wrong, every problem found."""
    problems: list[Problem] = []
    if not isinstance(document, dict):
        return None, [Problem("(document)", "must be one JSON-LD object describing a dataset (@type sc:Dataset)")]
    if not any(t.rsplit("/", 1)[-1].rsplit(":", 1)[-1] == "Dataset" for t in types_of(document)):
        problems.append(Problem("@type", "must be sc:Dataset"))
    title = text(document.get("name"))
    if len(title) < 3:
        problems.append(Problem("name", "a dataset needs a name of at least 3 characters"))
    distribution = read_distribution(document, problems)
    record_sets = read_record_sets(document, distribution, problems)
    if problems:
        return None, problems
    properties = {key: value for key, value in document.items() if key not in STRUCTURAL}
    context = document.get("@context")
    if isinstance(context, dict):
        # Terms of the document's own beyond Croissant's (a prefix its properties use), kept for the export.
        extra = {k: v for k, v in context.items() if k not in CONTEXT_1_0 and k not in CONTEXT_1_1}
        if extra:
            properties["@context"] = extra
    url = text(document.get("url")) if isinstance(document.get("url"), str) else ""
    record = _listing_record(document, distribution)
    external_id = record["external_id"]
    if properties.get("identifier") == external_id:
        del properties["identifier"]  # the listing's own identifier says it
    return CroissantImport(record, distribution, record_sets, properties, url[:2048]), []


def match_key(document: dict[str, Any]) -> str:
    """The id a later import finds the listing by: ``identifier``, else ``@id``, else ``url``, else the name.

    Used as the listing's ``external_id`` when it is one (letters, digits and ``._:/-``), else as a digest of it.
    """
    for value in (document.get("identifier"), document.get("@id"), document.get("url")):
        key = value.strip() if isinstance(value, str) else text(value)
        if key:
            break
    else:
        key = "name:" + text(document.get("name"))
    if _EXTERNAL_ID.match(key):
        return key
    return "croissant-" + hashlib.sha256(key.encode()).hexdigest()[:32]


def _listing_record(document: dict[str, Any], distribution: list[Distribution]) -> dict[str, Any]:
    description = text(document.get("description"))
    summary = text(document.get("abstract")) or description.split("\n", 1)[0]
    record: dict[str, Any] = {
        "external_id": match_key(document),
        "title": text(document.get("name"))[:200],
        "summary": summary[:300].strip(),
        "description": description[:50000],
        "tags": _tags(document.get("keywords")),
        "languages": _coded(document.get("inLanguage"), vocab.language_tag),
        "countries": _coded(document.get("spatialCoverage"), vocab.country_code),
        **_collection_period(document),
        "collection_methods": _vocabulary_values(
            vocab.CollectionMethod, as_list(document.get("rai:dataCollectionType"))
        ),
        **_annotation_facts(document),
        "ai_act": _ai_act_from(document),
        "parent_datasets": _parents(document.get("isBasedOn")),
    }
    version = _version_label(document.get("version"))
    files = _manifest(distribution)
    if version or files:
        changelog = text(document.get("releaseNotes"))[:20000]
        record["versions"] = [{"version": version or "1.0.0", "changelog": changelog, "files": files}]
    # The AI Act record always, even empty: loaded, it is then the same as the stored one (an import that changes
    # nothing then records nothing).
    return {key: value for key, value in record.items() if key == "ai_act" or value not in ("", None, [], {})}


def _tags(value: Any) -> list[str]:
    words = [k.strip() for k in value.split(",")] if isinstance(value, str) else [text(v) for v in as_list(value)]
    tags: list[str] = []
    for word in words:
        if word and _TAG.match(word) and word not in tags:
            tags.append(word)
    return tags[:TAG_MAX]


def _coded(value: Any, normalise: Any) -> list[str]:
    out: list[str] = []
    for item in as_list(value):
        try:
            code = normalise(text(item))
        except ValueError:
            continue
        if code not in out:
            out.append(code)
    return out


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(text(value)[:10])
    except ValueError:
        return None


def _collection_period(document: dict[str, Any]) -> dict[str, str]:
    """``collection_start``/``collection_end`` from the RAI time frame, else from ``temporalCoverage``."""
    timeframe = as_list(document.get("rai:dataCollectionTimeFrame") or document.get("rai:dataCollectionTimeframe"))
    temporal = text(document.get("temporalCoverage"))
    if timeframe:
        start, end = _date(timeframe[0]), _date(timeframe[-1]) if len(timeframe) > 1 else None
    elif "/" in temporal:
        first, _, last = temporal.partition("/")
        start, end = _date(first), _date(last)
    else:
        return {}
    if start is None:
        return {}
    if end is None or end < start:
        return {"collection_start": start.isoformat()}
    return {"collection_start": start.isoformat(), "collection_end": end.isoformat()}


def _vocabulary_values(vocabulary: type[vocab.Vocabulary], labels: list[Any]) -> list[str]:
    """Map labels or values (as other tools write them) onto a vocabulary; unknown ones are left out."""
    lookup = {m.value: m.value for m in vocabulary} | {m.label.lower(): m.value for m in vocabulary}
    out = []
    for label in labels:
        key = text(label).lower()
        value = lookup.get(key) or lookup.get(key.replace(" ", "_"))
        if value and value not in out:
            out.append(value)
    return out


def _annotation_facts(document: dict[str, Any]) -> dict[str, Any]:
    facts: dict[str, Any] = {"annotator_qualifications": text(document.get("rai:annotatorDemographics"))[:2000]}
    match = _NUMBER.search(text(document.get("rai:annotationsPerItem")))
    if match and float(match.group()) <= 1000:
        facts["annotations_per_item"] = match.group()
    return facts


def _ai_act_from(document: dict[str, Any]) -> dict[str, Any]:
    """The AI Act record fields the RAI vocabulary carries (the rest the provider completes on the website)."""
    fields = {
        "collection_processes": text(document.get("rai:dataCollection"))[:8000],
        "data_origin": text(document.get("rai:dataCollectionRawData"))[:8000],
        "suitability": text(document.get("rai:dataUseCases"))[:8000],
        "bias_examination": text(document.get("rai:dataBiases"))[:8000],
        "bias_mitigation": text(document.get("rai:dataSocialImpact"))[:8000],
        "known_gaps": text(document.get("rai:dataLimitations") or document.get("rai:dataCollectionMissingData"))[:8000],
        "preparation": {
            key: value
            for key, value in {
                "cleaning": text(document.get("rai:dataPreprocessingProtocol"))[:4000],
                "annotation": text(document.get("rai:dataAnnotationProtocol"))[:4000],
            }.items()
            if value
        },
    }
    return {key: value for key, value in fields.items() if value}


def _parents(value: Any) -> list[dict[str, Any]]:
    parents = []
    for item in as_list(value)[:100]:
        url = item.get("url") if isinstance(item, dict) else item
        title = text(item)[:200] or (url if isinstance(url, str) else "")
        if not title:
            continue
        parents.append({"title": title[:200], "url": url if isinstance(url, str) and _URL.match(url) else None})
    return parents


def _version_label(value: Any) -> str:
    """The version as a semantic version (``1`` and ``1.2`` padded), or "" when it is none."""
    label = text(value)
    if re.fullmatch(r"\d+(\.\d+)?", label):
        label = ".".join(([*label.split("."), "0", "0"])[:3])
    try:
        return vocab.semantic_version(label)
    except ValueError:
        return ""


def _manifest(distribution: list[Distribution]) -> list[dict[str, Any]]:
    """The FileObjects that are complete manifest entries (a path, SHA-256, size and media type), to be verified
    when uploaded; the others are declared only."""
    files: list[dict[str, Any]] = []
    for entry in distribution:
        if entry.kind.value != "file_object" or entry.contained_in or not entry.path or entry.size_bytes is None:
            continue
        try:
            sha256 = vocab.sha256_hex(entry.sha256)
            media_type = vocab.media_type(entry.encoding_format)
        except ValueError:
            continue
        if all(f["path"] != entry.path for f in files):
            files.append(
                {"path": entry.path, "sha256": sha256, "media_type": media_type, "size_bytes": entry.size_bytes}
            )
    return files


#: The Croissant property each listing field is read from, to name a problem the listing's rules found.
_PROPERTY_OF = {
    "external_id": "identifier",
    "title": "name",
    "summary": "abstract",
    "description": "description",
    "tags": "keywords",
    "languages": "inLanguage",
    "countries": "spatialCoverage",
    "collection_start": "rai:dataCollectionTimeFrame",
    "collection_end": "rai:dataCollectionTimeFrame",
    "collection_methods": "rai:dataCollectionType",
    "annotator_qualifications": "rai:annotatorDemographics",
    "annotations_per_item": "rai:annotationsPerItem",
    "parent_datasets": "isBasedOn",
    "ai_act.collection_processes": "rai:dataCollection",
    "ai_act.data_origin": "rai:dataCollectionRawData",
    "ai_act.suitability": "rai:dataUseCases",
    "ai_act.bias_examination": "rai:dataBiases",
    "ai_act.bias_mitigation": "rai:dataSocialImpact",
    "ai_act.known_gaps": "rai:dataLimitations",
    "ai_act.preparation.cleaning": "rai:dataPreprocessingProtocol",
    "ai_act.preparation.annotation": "rai:dataAnnotationProtocol",
    "versions.0.version": "version",
    "versions.0.changelog": "releaseNotes",
    "versions": "distribution",
}


def croissant_problems(problems: list[FieldProblem]) -> list[FieldProblem]:
    """Problems the listing's rules found in a record read from a document, named by the document's property
    (``isBasedOn[2]`` rather than ``parent_datasets.2.url``)."""
    out = []
    for problem in problems:
        name = problem.field
        for field_name in sorted(_PROPERTY_OF, key=len, reverse=True):
            if name == field_name or name.startswith(field_name + "."):
                rest = name[len(field_name) + 1 :].split(".", 1)[0]
                name = _PROPERTY_OF[field_name] + (f"[{rest}]" if rest.isdigit() else "")
                break
        out.append(FieldProblem(name, problem.message, problem.location))
    return out
