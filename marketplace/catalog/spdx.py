"""SPDX 3.0.1 documents of published versions, with the Dataset profile.

The document is built with ``spdx-python-model`` (``spdx_python_model.bindings.v3_0_1``), the Python bindings the
SPDX project generates from the SPDX 3 model's own SHACL and OWL description with ``shacl2code``. We chose it over
``spdx-tools`` because ``spdx-tools`` models SPDX 2.x and has only partial, experimental SPDX 3 support, with no
Dataset profile; the generated bindings cover every class and property of 3.0.1 and check each value as it is set
(types, enumerations, patterns) and every cardinality as a document is written, so a document they write or read
back without error follows the model. :func:`validate_document` reads a JSON-LD document back through them.

What one document holds (all elements share one ``CreationInfo``; the provider, an ``Organization``, created it):

- a ``dataset_DatasetPackage`` for the version: name, description, version, release and build times, primary
  purpose ``data``, the dataset type (from the modality), collection process, preprocessing steps, known bias,
  sensitive personal information, intended use (the tasks), size in bytes, de-identification methods,
  confidentiality level (where known), availability and update mechanism;
- its license: one ``simplelicensing_LicenseExpression`` joining the license of every public offer with ``OR``
  (SPDX ids for open licenses, ``LicenseRef-`` ids for ours, mapped to their pages), related to the package by
  ``hasDeclaredLicense`` and ``hasConcludedLicense`` (``NoAssertionLicense`` when no offer is public);
- every file of the manifest as a ``software_File`` verified by its SHA-256 ``Hash``, under one ``contains``
  relationship from the package;
- each provenance source as a ``software_Package`` with its own declared license that ``generates`` the dataset,
  and each parent dataset as a package the dataset is a ``descendantOf``.

Nothing is downloaded: the JSON-LD context is named by its URL, as SPDX requires, and neither building nor
validating a document reads it (the bindings know the model's terms).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from spdx_python_model import v3_0_1 as model

import licensing
from marketplace.accounts.models import Organisation
from marketplace.catalog import vocab
from marketplace.catalog.linked_data import OfferedLicense
from marketplace.catalog.models import Dataset, DatasetFile, DatasetVersion

SPDX_CONTEXT = "https://spdx.org/rdf/3.0.1/spdx-context.jsonld"

#: Our modalities as SPDX dataset types.
DATASET_TYPES: dict[str, str] = {
    "text": model.dataset_DatasetType.text,
    "image": model.dataset_DatasetType.image,
    "video": model.dataset_DatasetType.video,
    "audio": model.dataset_DatasetType.audio,
    "tabular": model.dataset_DatasetType.structured,
    "time_series": model.dataset_DatasetType.timeseries,
    "sensor": model.dataset_DatasetType.sensor,
    "point_cloud": model.dataset_DatasetType.sensor,
}

PRESENCE = {
    vocab.PersonalData.YES: model.PresenceType.yes,
    vocab.PersonalData.NO: model.PresenceType.no,
    vocab.PersonalData.UNKNOWN: model.PresenceType.noAssertion,
}


class SpdxInvalid(ValueError):
    """The document does not follow the SPDX 3.0.1 model; ``problems`` says where."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class SpdxLinks:
    """The public addresses the document names."""

    document_url: str
    page_url: str
    provider_url: str
    base_url: str


def license_expression(licenses: list[OfferedLicense]) -> str | None:
    """The SPDX license expression of the public offers: each license once, in offer order, joined with ``OR``
    (a buyer takes the dataset under any one of them); None when nothing is offered publicly."""
    ids = list(dict.fromkeys(offered.license_id for offered in licenses if offered.license_id))
    return " OR ".join(ids) or None


def _make(cls: Any, **properties: Any) -> Any:
    """An element of the model with the properties that have a value (the model refuses None)."""
    return cls(**{name: value for name, value in properties.items() if value is not None})


def _when(value: datetime | None) -> datetime | None:
    # The model wants whole seconds in UTC.
    return value.astimezone(UTC).replace(microsecond=0) if value else None


def dataset_types(dataset: Dataset) -> list[str]:
    """The SPDX dataset types of the modality (of each detailed modality for a multimodal listing); ``other`` for a
    modality SPDX has no type for, ``noAssertion`` when the listing names none."""
    modalities = [dataset.modality.value] if dataset.modality else []
    if dataset.modality is vocab.Modality.MULTIMODAL:
        modalities = list(dataset.modality_details or {})
    types = list(dict.fromkeys(DATASET_TYPES[m] for m in modalities if m in DATASET_TYPES))
    if types:
        return types
    return [model.dataset_DatasetType.other if dataset.modality else model.dataset_DatasetType.noAssertion]


def _labels(vocabulary: type[vocab.Vocabulary], values: list[str]) -> list[str]:
    return [vocabulary.label_of(v) for v in values]


def _describe(package: Any, dataset: Dataset, record: dict[str, Any], licenses: list[OfferedLicense]) -> None:
    """The Dataset profile's properties, each only when the listing says it."""
    ai_act = record["ai_act"] or {}
    package.dataset_datasetType = dataset_types(dataset)
    collection = ai_act.get("collection_processes") or ", ".join(
        _labels(vocab.CollectionMethod, record["collection_methods"])
    )
    if collection:
        package.dataset_dataCollectionProcess = collection
    preparation = ai_act.get("preparation") or {}
    package.dataset_dataPreprocessing = [f"{step.capitalize()}: {text}" for step, text in preparation.items() if text]
    package.dataset_knownBias = [
        f"{label}: {ai_act[key]}"
        for key, label in (("bias_examination", "Bias examination"), ("known_gaps", "Known gaps"))
        if ai_act.get(key)
    ]
    package.dataset_hasSensitivePersonalInformation = PRESENCE[dataset.personal_data]
    if record["tasks"]:
        package.dataset_intendedUse = "Training and evaluating models for: " + ", ".join(
            _labels(vocab.Task, record["tasks"])
        )
    package.dataset_anonymizationMethodUsed = _labels(vocab.Deidentification, record["deidentification"])
    if record["special_categories"] and dataset.personal_data is vocab.PersonalData.YES:
        package.dataset_confidentialityLevel = model.dataset_ConfidentialityLevelType.red
    elif dataset.access_mode.is_governed:
        package.dataset_confidentialityLevel = model.dataset_ConfidentialityLevelType.amber
    if licenses and not dataset.access_mode.is_governed:
        free = any(offered.free for offered in licenses)
        package.dataset_datasetAvailability = (
            model.dataset_DatasetAvailabilityType.clickthrough
            if free
            else model.dataset_DatasetAvailabilityType.registration
        )
    if dataset.update_frequency is not None:
        package.dataset_datasetUpdateMechanism = "Update frequency: " + dataset.update_frequency.label


class _Builder:
    """Collects the elements of one document, each with its own ``spdxId`` under the document's address."""

    def __init__(self, links: SpdxLinks, org: Organisation, created: datetime) -> None:
        self.links = links
        self.objects = model.SHACLObjectSet()
        self.agent = model.Organization(_id=links.provider_url, name=org.name)
        self.info = model.CreationInfo(specVersion="3.0.1", created=created, createdBy=[self.agent])
        self.agent.creationInfo = self.info
        self.elements: list[Any] = [self.agent]

    def add(self, element: Any) -> Any:
        element.creationInfo = self.info
        self.elements.append(element)
        return element

    def id(self, fragment: str) -> str:
        return f"{self.links.document_url}#{fragment}"

    def relate(self, name: str, source: Any, kind: str, targets: list[Any]) -> None:
        self.add(model.Relationship(_id=self.id(name), from_=source, relationshipType=kind, to=targets))

    def expression(self, name: str, expression: str | None) -> Any:
        """A license expression element; ``NoAssertionLicense`` when none is known. Our own ``LicenseRef-`` ids are
        mapped to their template pages (a source's other ``LicenseRef-`` ids have no page here to point to)."""
        if expression is None or expression.upper() == "NOASSERTION":
            return model.expandedlicensing_IndividualLicensingInfo.NoAssertionLicense
        refs = {
            part for part in expression.replace("(", " ").replace(")", " ").split() if part.startswith("LicenseRef-")
        }
        entries = [
            model.DictionaryEntry(key=ref, value=f"{self.links.base_url}/license-templates/{ref}")
            for ref in sorted(refs)
            if licensing.DEFAULT_REGISTRY.find(ref) is not None
        ]
        return self.add(
            model.simplelicensing_LicenseExpression(
                _id=self.id(name), simplelicensing_licenseExpression=expression, simplelicensing_customIdToUri=entries
            )
        )

    def license(self, name: str, package: Any, expression: str | None, *, concluded: bool) -> None:
        target = self.expression(f"license-{name}", expression)
        self.relate(f"declared-{name}", package, model.RelationshipType.hasDeclaredLicense, [target])
        if concluded:
            self.relate(f"concluded-{name}", package, model.RelationshipType.hasConcludedLicense, [target])


def build_document(
    dataset: Dataset,
    org: Organisation,
    record: dict[str, Any],
    version: DatasetVersion,
    files: list[DatasetFile],
    licenses: list[OfferedLicense],
    links: SpdxLinks,
) -> dict[str, Any]:
    """The SPDX 3.0.1 JSON-LD document of a published ``version`` (see the module documentation)."""
    released = _when(version.published_at) or _when(version.created_at)
    assert released is not None
    build = _Builder(links, org, released)
    package = build.add(
        _make(
            model.dataset_DatasetPackage,
            _id=build.id("dataset"),
            name=dataset.title,
            summary=dataset.summary or None,
            description=record["description"] or None,
            comment=f"Manifest digest (SHA-256 of the canonical manifest): {version.manifest_digest}"
            if version.manifest_digest
            else None,
            software_packageVersion=version.version,
            software_primaryPurpose=model.software_SoftwarePurpose.data,
            software_homePage=links.page_url,
            software_downloadLocation=f"{links.page_url}#licenses",
            releaseTime=released,
            builtTime=_when(version.created_at),
            suppliedBy=build.agent,
            originatedBy=[build.agent],
            dataset_datasetSize=version.total_bytes,
        )
    )
    _describe(package, dataset, record, licenses)
    build.license("dataset", package, license_expression(licenses), concluded=True)
    file_elements = [
        build.add(
            _make(
                model.software_File,
                _id=build.id(f"file-{index}"),
                name=file.path,
                contentType=file.media_type,
                software_primaryPurpose=model.software_SoftwarePurpose.data,
                verifiedUsing=[model.Hash(algorithm=model.HashAlgorithm.sha256, hashValue=file.sha256)],
            )
        )
        for index, file in enumerate(files, start=1)
    ]
    if file_elements:
        build.relate("contains", package, model.RelationshipType.contains, file_elements)
    _provenance(build, package, record)
    document = model.SpdxDocument(
        _id=build.id("document"),
        name=f"{dataset.title} {version.version}",
        profileConformance=[
            model.ProfileIdentifierType.core,
            model.ProfileIdentifierType.software,
            model.ProfileIdentifierType.dataset,
            model.ProfileIdentifierType.simpleLicensing,
        ],
        rootElement=[package],
        element=list(build.elements),
    )
    build.add(document)
    for element in build.elements:
        build.objects.add(element)
    data: dict[str, Any] = model.JSONLDSerializer().serialize_data(build.objects, force_at_graph=True)
    return data


def _provenance(build: _Builder, package: Any, record: dict[str, Any]) -> None:
    """Each source as a package with its own declared license that ``generates`` the dataset (SPDX 3.0.1 has no
    ``generatedFrom``; this is its inverse), each parent dataset as a package the dataset is a ``descendantOf``."""
    for index, source in enumerate(record["sources"], start=1):
        element = build.add(
            _make(
                model.software_Package,
                _id=build.id(f"source-{index}"),
                name=source["name"],
                software_downloadLocation=source.get("url") or None,
                software_primaryPurpose=model.software_SoftwarePurpose.data,
            )
        )
        build.license(f"source-{index}", element, source.get("license") or None, concluded=False)
        build.relate(f"generates-{index}", element, model.RelationshipType.generates, [package])
    parents = [
        build.add(
            _make(
                model.software_Package,
                _id=build.id(f"parent-{index}"),
                name=parent["title"],
                software_homePage=parent.get("url") or None,
                software_primaryPurpose=model.software_SoftwarePurpose.data,
            )
        )
        for index, parent in enumerate(record["parent_datasets"], start=1)
    ]
    if parents:
        build.relate("descendant-of", package, model.RelationshipType.descendantOf, parents)


def validate_document(document: dict[str, Any]) -> None:
    """Read ``document`` back through the SPDX 3.0.1 model and write it again: every value's type, enumeration
    and pattern is checked as it is read, every reference must resolve inside the document (or be one of the
    model's named individuals), every cardinality is checked as it is written, and every license expression must
    parse against the SPDX license list (``LicenseRef-`` ids allowed). Raises :class:`SpdxInvalid`."""
    if document.get("@context") != SPDX_CONTEXT:
        raise SpdxInvalid([f"@context must be {SPDX_CONTEXT}"])
    objects = model.SHACLObjectSet()
    try:
        model.JSONLDDeserializer().deserialize_data(document, objects)
        missing = objects.link()
        model.JSONLDSerializer().serialize_data(objects, force_at_graph=True)
    except (TypeError, ValueError, KeyError) as exc:
        raise SpdxInvalid([str(exc)]) from exc
    if missing:
        raise SpdxInvalid([f"{ref} is referred to but not in the document" for ref in sorted(missing)])
    if not list(objects.foreach_type(model.SpdxDocument)):
        raise SpdxInvalid(["no SpdxDocument element"])
    # The model takes any string as a license expression; SPDX's expression grammar and license list do not.
    problems = []
    for element in objects.foreach_type(model.simplelicensing_LicenseExpression):
        try:
            vocab.spdx_expression(element.simplelicensing_licenseExpression or "")
        except ValueError as exc:
            problems.append(f"{getattr(element, '_id', '')}: {exc}")
    if problems:
        raise SpdxInvalid(problems)
