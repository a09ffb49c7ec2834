"""Croissant's names: the spec URIs, the JSON-LD ``@context`` of 1.0 and 1.1, and which document properties
feed which listing fields (so the export knows which of the document's own values still hold)."""

from __future__ import annotations

from typing import Any

CROISSANT_1_0 = "http://mlcommons.org/croissant/1.0"
CROISSANT_1_1 = "http://mlcommons.org/croissant/1.1"
RAI_1_0 = "http://mlcommons.org/croissant/RAI/1.0"

_COMMON: dict[str, Any] = {
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

#: The standard Croissant 1.0 ``@context`` (as mlcroissant writes it).
CONTEXT_1_0: dict[str, Any] = dict(_COMMON)

#: The standard Croissant 1.1 ``@context`` (as mlcroissant writes it): 1.0's, plus ``containedIn``, arrays, and
#: ``name``/``description`` that may be language maps.
CONTEXT_1_1: dict[str, Any] = dict(
    sorted(
        {
            **_COMMON,
            "arrayShape": "cr:arrayShape",
            "containedIn": "cr:containedIn",
            "description": {"@container": "@language"},
            "excludes": "cr:excludes",
            "isArray": "cr:isArray",
            "name": {"@container": "@language"},
        }.items(),
        key=lambda item: (not item[0].startswith("@"), item[0].lower()),
    )
)

#: Document properties that are not kept as written: the structure, stored apart, and what the export writes anew.
STRUCTURAL = ("@context", "conformsTo", "distribution", "recordSet", "dct:conformsTo")

#: Which listing fields (dotted record paths) each document property is read into. The export writes the
#: document's own value of such a property while those fields still hold what the import read, and writes the
#: listing's values once the provider has changed them.
LISTING_FIELDS: dict[str, tuple[str, ...]] = {
    "name": ("title",),
    "description": ("description",),
    "abstract": ("summary", "description"),
    "keywords": ("tags",),
    "inLanguage": ("languages",),
    "spatialCoverage": ("countries",),
    "temporalCoverage": ("collection_start", "collection_end"),
    "isBasedOn": ("parent_datasets",),
    "isLiveDataset": ("update_frequency",),
    "rai:dataCollectionTimeFrame": ("collection_start", "collection_end"),
    "rai:dataCollection": ("ai_act.collection_processes", "synthetic_share_pct"),
    "rai:dataCollectionType": ("collection_methods",),
    "rai:dataCollectionRawData": ("ai_act.data_origin",),
    "rai:dataCollectionMissingData": ("ai_act.known_gaps",),
    "rai:dataPreprocessingProtocol": ("ai_act.preparation",),
    "rai:dataAnnotationProtocol": ("annotation_methods", "ai_act.preparation"),
    "rai:annotatorDemographics": ("annotator_qualifications",),
    "rai:dataUseCases": ("tasks", "ai_act.suitability", "ai_act.design_choices"),
    "rai:dataBiases": ("ai_act.bias_examination", "ai_act.bias_reviewer", "ai_act.bias_reviewed_on"),
    "rai:dataLimitations": ("ai_act.known_gaps", "ai_act.assumptions"),
    "rai:dataSocialImpact": ("ai_act.bias_mitigation",),
    "rai:personalSensitiveInformation": (
        "personal_data",
        "special_categories",
        "deidentification",
        "lawful_basis",
        "consent_obtained",
        "opt_out_honoured",
        "personal_data_notes",
    ),
    "rai:dataReleaseMaintenancePlan": ("update_frequency",),
    "rai:annotationsPerItem": ("annotations_per_item",),
    "rai:dataAnnotationAnalysis": ("agreement_metric", "agreement_value"),
    "rai:machineAnnotationTools": ("annotation_methods",),
}

#: The listing fields a snapshot records: every field some property feeds.
SNAPSHOT_FIELDS: tuple[str, ...] = tuple(sorted({f for fields in LISTING_FIELDS.values() for f in fields}))

#: Properties of the published version rather than the listing (written from the version unless it is the one
#: the import created).
VERSION_PROPERTIES = ("version", "datePublished", "releaseNotes")
