"""The listing's own metadata in Croissant terms: what the catalog says of a dataset, as Croissant properties.

:func:`listing_properties` writes the listing's metadata, the RAI fields that carry its AI Act Article 10 record,
personal-data statement and annotation facts. :mod:`marketplace.catalog.croissant.document` assembles the whole
document from it, the version's files and what an imported document brought.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from marketplace.accounts.models import Organisation
from marketplace.catalog import vocab
from marketplace.catalog.models import Dataset, DatasetVersion


def _iso(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    return value.date().isoformat() if isinstance(value, datetime) else value.isoformat()


def _labels(vocabulary: type[vocab.Vocabulary], values: list[str]) -> list[str]:
    return [vocabulary.label_of(v) for v in values]


def _join(*parts: str) -> str:
    return "\n\n".join(p.strip() for p in parts if p and p.strip())


def _bibtex(dataset: Dataset, org: Organisation, version: DatasetVersion | None, url: str) -> str:
    year = ((version.published_at if version else None) or dataset.published_at or dataset.created_at).year
    key = re.sub(r"[^a-z0-9]", "", dataset.slug.lower())[:40] + str(year)
    title = dataset.title.replace("{", "").replace("}", "")
    author = org.name.replace("{", "").replace("}", "")
    return (
        f"@misc{{{key}, title={{{title}}}, author={{{author}}}, year={{{year}}}, "
        + (f"version={{{version.version}}}, " if version else "")
        + f"url={{{url}}}}}"
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


def listing_properties(
    dataset: Dataset,
    org: Organisation,
    record: dict[str, Any],
    version: DatasetVersion | None,
    *,
    page_url: str,
    provider_url: str,
    license_urls: list[str] | None = None,
) -> dict[str, Any]:
    """The dataset-level Croissant properties of ``dataset`` (``record`` is its listing record) and of ``version``
    (the latest draft when None), empty values left out.

    ``license_urls`` are the licenses it is offered under (Croissant recommends ``license``); the catalog alone
    does not know them, the offers do.
    """
    doc: dict[str, Any] = {
        "@type": "sc:Dataset",
        "name": dataset.title,
        "description": record["description"] or record["summary"],
        "abstract": record["summary"],
        "identifier": dataset.external_id or dataset.slug,
        "url": page_url,
        "version": version.version if version else None,
        "datePublished": _iso((version.published_at if version else None) or dataset.published_at),
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
    }
    return {key: value for key, value in doc.items() if value not in (None, "", [])}


def _coverage(record: dict[str, Any], version: DatasetVersion | None) -> dict[str, Any]:
    """Where and when the data was collected, what it was based on, and what changed in this version."""
    doc: dict[str, Any] = {}
    if record["countries"]:
        doc["spatialCoverage"] = record["countries"]
    start, end = record["collection_start"], record["collection_end"]
    if start:
        doc["temporalCoverage"] = f"{_iso(start)}/{_iso(end) if end else '..'}"
    if version is not None and version.changelog:
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
