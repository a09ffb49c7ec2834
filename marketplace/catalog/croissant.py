"""MLCommons Croissant 1.0 (with the Responsible AI vocabulary): export of a listing's version, and import.

The export describes one published version: the listing's metadata, the RAI fields that carry its AI Act
Article 10 record, personal-data statement and annotation facts, and the version's file manifest as
``cr:FileObject`` entries with their SHA-256. Files are delivered under license, so each ``contentUrl`` is the
file's path within the dataset. The import reads the same shape back into a listing record; what Croissant
cannot say (tasks, industries, storage region…) the provider completes on the website.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from marshmallow import ValidationError

from marketplace.accounts.models import Organisation
from marketplace.catalog import vocab
from marketplace.catalog.models import Dataset, DatasetFile, DatasetVersion

CROISSANT_1_0 = "http://mlcommons.org/croissant/1.0"
RAI_1_0 = "http://mlcommons.org/croissant/RAI/1.0"

#: The standard Croissant 1.0 ``@context`` (as mlcroissant writes it).
CONTEXT: dict[str, Any] = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/",
    "equivalentProperty": "cr:equivalentProperty",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "samplingRate": "cr:samplingRate",
    "sc": "https://schema.org/",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
}


def _iso(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    return value.date().isoformat() if isinstance(value, datetime) else value.isoformat()


def _labels(vocabulary: type[vocab.Vocabulary], values: list[str]) -> list[str]:
    return [vocabulary.label_of(v) for v in values]


def _join(*parts: str) -> str:
    return "\n\n".join(p.strip() for p in parts if p and p.strip())


def _bibtex(dataset: Dataset, org: Organisation, version: DatasetVersion, url: str) -> str:
    year = (version.published_at or dataset.published_at or dataset.created_at).year
    key = re.sub(r"[^a-z0-9]", "", dataset.slug.lower())[:40] + str(year)
    title = dataset.title.replace("{", "").replace("}", "")
    author = org.name.replace("{", "").replace("}", "")
    return (
        f"@misc{{{key}, title={{{title}}}, author={{{author}}}, year={{{year}}}, "
        f"version={{{version.version}}}, url={{{url}}}}}"
    )


def personal_data_statement(record: dict[str, Any]) -> list[str]:
    """The personal-data facts as short sentences (Croissant's ``rai:personalSensitiveInformation``)."""
    lines = [f"Personal data present: {record['personal_data']}."]
    if record["special_categories"]:
        names = ", ".join(_labels(vocab.SpecialCategory, record["special_categories"]))
        lines.append(f"Special categories (GDPR Art. 9): {names}.")
    if record["deidentification"]:
        lines.append(f"De-identification: {', '.join(_labels(vocab.Deidentification, record['deidentification']))}.")
    if record["lawful_basis"]:
        lines.append(f"Lawful basis (GDPR Art. 6): {vocab.LawfulBasis.label_of(record['lawful_basis'])}.")
    if record["consent_obtained"] is not None:
        lines.append(f"Consent obtained: {'yes' if record['consent_obtained'] else 'no'}.")
    if record["opt_out_honoured"] is not None:
        lines.append(f"Opt-outs honoured: {'yes' if record['opt_out_honoured'] else 'no'}.")
    if record["personal_data_notes"]:
        lines.append(record["personal_data_notes"])
    return lines


def croissant_document(
    dataset: Dataset,
    org: Organisation,
    record: dict[str, Any],
    version: DatasetVersion,
    files: list[DatasetFile],
    *,
    page_url: str,
    provider_url: str,
    license_urls: list[str] | None = None,
) -> dict[str, Any]:
    """The Croissant JSON-LD document of ``version`` of ``dataset`` (``record`` is its listing record).

    ``license_urls`` are the licenses it is offered under (Croissant recommends ``license``); the catalog alone
    does not know them, the offers do. Empty values are left out, as mlcroissant expects.
    """
    doc: dict[str, Any] = {
        "@context": CONTEXT,
        "@type": "sc:Dataset",
        "name": dataset.title,
        "description": record["description"] or record["summary"],
        "abstract": record["summary"],
        "conformsTo": CROISSANT_1_0,
        "identifier": dataset.slug,
        "url": page_url,
        "version": version.version,
        "datePublished": _iso(version.published_at or dataset.published_at),
        "dateModified": _iso(dataset.updated_at),
        "creator": {"@type": "sc:Organization", "name": org.name, "url": provider_url},
        "publisher": {"@type": "sc:Organization", "name": org.name, "url": provider_url},
        "citeAs": _bibtex(dataset, org, version, page_url),
        "keywords": record["tags"],
        "inLanguage": record["languages"],
        "isLiveDataset": record["update_frequency"] not in (None, vocab.UpdateFrequency.ONE_OFF.value),
        "license": license_urls or None,
        **_coverage(record, version),
        **_rai_fields(dataset, record),
        "distribution": [_file_object(index, file) for index, file in enumerate(files)],
    }
    return {key: value for key, value in doc.items() if value not in (None, "", [])}


def _coverage(record: dict[str, Any], version: DatasetVersion) -> dict[str, Any]:
    """Where and when the data was collected, what it was based on, and what changed in this version."""
    doc: dict[str, Any] = {}
    if record["countries"]:
        doc["spatialCoverage"] = record["countries"]
    start, end = record["collection_start"], record["collection_end"]
    if start:
        doc["temporalCoverage"] = f"{_iso(start)}/{_iso(end) if end else '..'}"
    if version.changelog:
        doc["releaseNotes"] = version.changelog
    parents = [p.get("url") or p.get("title") for p in record["parent_datasets"]]
    if parents:
        doc["isBasedOn"] = parents
    return doc


def _rai_fields(dataset: Dataset, record: dict[str, Any]) -> dict[str, Any]:
    """The Responsible AI vocabulary: the AI Act record, annotation facts and the personal-data statement."""
    ai_act = record.get("ai_act") or {}
    preparation = ai_act.get("preparation") or {}
    rai: dict[str, Any] = {
        "rai:dataCollection": _join(ai_act.get("collection_processes", ""), _synthetic_sentence(record)),
        "rai:dataCollectionType": _labels(vocab.CollectionMethod, record["collection_methods"]),
        "rai:dataCollectionRawData": ai_act.get("data_origin", ""),
        "rai:dataCollectionMissingData": ai_act.get("known_gaps", ""),
        "rai:dataPreprocessingProtocol": [
            f"{op.capitalize()}: {preparation[op].strip()}"
            for op in ("cleaning", "updating", "enrichment", "aggregation")
            if (preparation.get(op) or "").strip()
        ],
        "rai:dataAnnotationProtocol": _join(
            "Annotation methods: " + ", ".join(_labels(vocab.AnnotationMethod, record["annotation_methods"]))
            if record["annotation_methods"]
            else "",
            preparation.get("annotation", ""),
            preparation.get("labelling", ""),
        ),
        "rai:annotatorDemographics": record["annotator_qualifications"],
        "rai:dataUseCases": _join(
            "Tasks: " + ", ".join(_labels(vocab.Task, record["tasks"])) if record["tasks"] else "",
            ai_act.get("suitability", ""),
            ai_act.get("design_choices", ""),
        ),
        "rai:dataBiases": _join(ai_act.get("bias_examination", ""), _review_sentence(ai_act)),
        "rai:dataLimitations": _join(ai_act.get("known_gaps", ""), ai_act.get("assumptions", "")),
        "rai:dataSocialImpact": ai_act.get("bias_mitigation", ""),
        "rai:personalSensitiveInformation": personal_data_statement(record),
        "rai:dataReleaseMaintenancePlan": _maintenance(dataset, record),
    }
    if record["annotations_per_item"] is not None:
        rai["rai:annotationsPerItem"] = f"{record['annotations_per_item']:g}"
    if record["agreement_metric"] and record["agreement_value"] is not None:
        metric = vocab.AgreementMetric.label_of(record["agreement_metric"])
        rai["rai:dataAnnotationAnalysis"] = f"Inter-annotator agreement: {metric} = {record['agreement_value']:g}"
    if "model_assisted" in record["annotation_methods"]:
        rai["rai:machineAnnotationTools"] = ["Model-assisted pre-annotation reviewed by people"]
    start, end = record["collection_start"], record["collection_end"]
    if start:
        rai["rai:dataCollectionTimeFrame"] = [_iso(start), _iso(end or start)]
    return {key: value for key, value in rai.items() if value not in ("", [], None)}


def _file_object(index: int, file: DatasetFile) -> dict[str, Any]:
    # Files are delivered under license, so the content URL is the file's path within the dataset.
    return {
        "@type": "cr:FileObject",
        "@id": f"file/{index}",
        "name": file.path,
        "contentUrl": file.path,
        "contentSize": f"{file.size_bytes} B",
        "encodingFormat": file.media_type,
        "sha256": file.sha256,
    }


def _synthetic_sentence(record: dict[str, Any]) -> str:
    share = record["synthetic_share_pct"]
    return f"Synthetic share: {share} % of the records are synthetic." if share is not None else ""


def _review_sentence(ai_act: dict[str, Any]) -> str:
    reviewer, on = ai_act.get("bias_reviewer"), ai_act.get("bias_reviewed_on")
    if not reviewer and not on:
        return ""
    return f"Bias review by {reviewer or 'an unnamed reviewer'}{f' on {on}' if on else ''}."


def _maintenance(dataset: Dataset, record: dict[str, Any]) -> str:
    parts = []
    if record["update_frequency"]:
        parts.append(f"Update frequency: {vocab.UpdateFrequency.label_of(record['update_frequency'])}.")
    if dataset.status is vocab.DatasetStatus.DEPRECATED:
        parts.append(f"Deprecated{': ' + dataset.status_note if dataset.status_note else '.'}")
    return " ".join(parts)


# --- import ------------------------------------------------------------------------------------------------------

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGTP]i?B|B|bytes?)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "byte": 1, "bytes": 1}
for _i, _p in enumerate("kmgtp", start=1):
    _UNITS[f"{_p}b"] = 1000**_i
    _UNITS[f"{_p}ib"] = 1024**_i


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "\n\n".join(_text(v) for v in value if _text(v))
    if isinstance(value, dict):
        return str(value.get("@value") or value.get("name") or "")
    return str(value).strip()


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _size(value: Any) -> int | None:
    if isinstance(value, int):
        return value
    match = _SIZE.match(str(value or ""))
    if not match:
        return None
    return round(float(match.group(1)) * _UNITS[(match.group(2) or "").lower()])


def _vocabulary_values(vocabulary: type[vocab.Vocabulary], labels: list[Any]) -> list[str]:
    """Map labels or values (as other tools write them) onto a vocabulary; unknown ones are left out."""
    lookup = {m.value: m.value for m in vocabulary} | {m.label.lower(): m.value for m in vocabulary}
    out = []
    for label in labels:
        key = str(label).strip().lower()
        value = lookup.get(key) or lookup.get(key.replace(" ", "_"))
        if value and value not in out:
            out.append(value)
    return out


def record_from_croissant(document: Any) -> dict[str, Any]:
    """A listing record (not yet validated) from a Croissant JSON-LD document describing one dataset.

    Raises marshmallow's ``ValidationError`` (dotted field names) when the document is not a Croissant dataset
    or a file of its manifest cannot be used (a ``cr:FileObject`` without ``sha256``, say).
    """
    _require_dataset(document)
    external_id = _text(document.get("identifier")) or _text(document.get("@id")) or _text(document.get("url"))
    description = _text(document.get("description"))
    summary = _text(document.get("abstract")) or description.split("\n", 1)[0][:300]
    record: dict[str, Any] = {
        "external_id": external_id[:200] or None,
        "title": _text(document.get("name")),
        "summary": summary[:300],
        "description": description,
        "tags": [t.strip() for t in _keywords(document.get("keywords"))][:30],
        "languages": [_text(v) for v in _list(document.get("inLanguage"))],
        "countries": [_text(v) for v in _list(document.get("spatialCoverage"))],
        **_collection_period(document),
        "collection_methods": _vocabulary_values(vocab.CollectionMethod, _list(document.get("rai:dataCollectionType"))),
        **_annotation_facts(document),
        "ai_act": _ai_act_from(document),
    }
    parents = [_text(p) for p in _list(document.get("isBasedOn")) if _text(p)]
    record["parent_datasets"] = [
        {"title": p[:200], "url": p if p.startswith(("http://", "https://")) else None} for p in parents
    ]
    version = _text(document.get("version"))
    files = _manifest_from(document)
    if version or files:
        record["versions"] = [
            {"version": version or "1.0.0", "changelog": _text(document.get("releaseNotes")), "files": files}
        ]
    return {key: value for key, value in record.items() if value not in ("", None, [], {})}


def _require_dataset(document: Any) -> None:
    if not isinstance(document, dict):
        raise ValidationError({"@type": ["the file must be one JSON-LD object describing a dataset"]})
    kind = _list(document.get("@type"))
    if not any(str(k) in ("sc:Dataset", "Dataset", "https://schema.org/Dataset") for k in kind):
        raise ValidationError({"@type": ["not a Croissant dataset (expected @type sc:Dataset)"]})


def _collection_period(document: dict[str, Any]) -> dict[str, str]:
    """``collection_start``/``collection_end`` from the RAI time frame, else from ``temporalCoverage``."""
    timeframe = _list(document.get("rai:dataCollectionTimeFrame") or document.get("rai:dataCollectionTimeframe"))
    temporal = _text(document.get("temporalCoverage"))
    period: dict[str, str] = {}
    if timeframe:
        period["collection_start"] = _text(timeframe[0])[:10]
        if len(timeframe) > 1:
            period["collection_end"] = _text(timeframe[1])[:10]
    elif "/" in temporal:
        start, _, end = temporal.partition("/")
        period["collection_start"] = start[:10]
        if end and end != "..":
            period["collection_end"] = end[:10]
    return period


def _annotation_facts(document: dict[str, Any]) -> dict[str, Any]:
    facts: dict[str, Any] = {"annotator_qualifications": _text(document.get("rai:annotatorDemographics"))[:2000]}
    per_item = _text(document.get("rai:annotationsPerItem"))
    match = re.search(r"\d+(?:\.\d+)?", per_item) if per_item else None
    if match:
        facts["annotations_per_item"] = match.group()
    return facts


def _ai_act_from(document: dict[str, Any]) -> dict[str, Any]:
    """The AI Act record fields the RAI vocabulary carries (the rest the provider completes on the website)."""
    fields = {
        "collection_processes": _text(document.get("rai:dataCollection")),
        "data_origin": _text(document.get("rai:dataCollectionRawData")),
        "suitability": _text(document.get("rai:dataUseCases")),
        "bias_examination": _text(document.get("rai:dataBiases")),
        "bias_mitigation": _text(document.get("rai:dataSocialImpact")),
        "known_gaps": _text(document.get("rai:dataLimitations") or document.get("rai:dataCollectionMissingData")),
        "preparation": {
            "cleaning": _text(document.get("rai:dataPreprocessingProtocol")),
            "annotation": _text(document.get("rai:dataAnnotationProtocol")),
        },
    }
    return {key: value for key, value in fields.items() if value}


def _manifest_from(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``cr:FileObject`` entries as a file manifest; a ``ValidationError`` names each unusable one."""
    files, problems = [], {}
    for index, item in enumerate(_list(document.get("distribution"))):
        if not isinstance(item, dict) or "FileObject" not in " ".join(map(str, _list(item.get("@type")))):
            continue  # FileSets describe globs of files, not a manifest entry
        path = _text(item.get("contentUrl")) or _text(item.get("name"))
        if path.startswith(("http://", "https://")):
            path = _text(item.get("name")) or path.rsplit("/", 1)[-1]
        size = _size(item.get("contentSize"))
        entry = {"path": path, "sha256": _text(item.get("sha256")), "media_type": _text(item.get("encodingFormat"))}
        missing = [name for name, value in entry.items() if not value]
        if size is None:
            missing.append("size_bytes")
        if missing:
            problems[f"distribution.{index}"] = [f"a FileObject needs {', '.join(missing)} for the file manifest"]
            continue
        files.append({**entry, "size_bytes": size})
    if problems:
        raise ValidationError(problems)
    return files


def _keywords(value: Any) -> list[str]:
    if isinstance(value, str):
        return [k for k in value.split(",") if k.strip()]
    return [_text(v) for v in _list(value) if _text(v)]
