"""The response of ``GET /v1/licenses/{license_id}/training-summary``: a license's fragment of the EU AI Act
Article 53(1)(d) public summary of training content (built by :mod:`marketplace.licenses.training_summary`)."""

from __future__ import annotations

from marshmallow import fields

from marketplace.api.schemas.common import Out, nullable_str


class SummaryTemplateSchema(Out):
    name = fields.String(required=True)
    legal_basis = fields.String(required=True)
    published = fields.String(required=True, metadata={"description": "Publication date of the template."})


class SummarySectionSchema(Out):
    number = fields.String(required=True, metadata={"description": "2.1, 2.2.1 or 2.2.2 of the template."})
    key = fields.String(required=True)
    title = fields.String(required=True)


class SummaryDatasetSchema(Out):
    title = fields.String(required=True)
    url = fields.String(required=True)
    provider = nullable_str(required=True)
    versions = fields.List(fields.String(), required=True, metadata={"description": "The version labels licensed."})
    all_versions = fields.Boolean(
        required=True, metadata={"description": "Also every version published while the license is valid."}
    )
    manifest_digest = fields.String(required=True)


class SummaryModalitySchema(Out):
    modality = fields.String(required=True, metadata={"description": "text, image, audio, video or other."})
    listed_as = fields.String(required=True, metadata={"description": "The listing's own modality name."})
    unit = nullable_str(required=True)
    size_range = nullable_str(required=True, metadata={"description": "The template's range, when known."})
    exact = fields.Dict(
        keys=fields.String(),
        values=fields.Raw(),
        required=True,
        metadata={"description": "The listing's own figures: integers, or hours as decimals."},
    )


class SummaryPeriodSchema(Out):
    start = nullable_str(required=True)
    end = nullable_str(required=True)


class SummaryGeneralSchema(Out):
    modalities = fields.List(fields.Nested(SummaryModalitySchema), required=True)
    content_types = fields.List(fields.String(), required=True)
    latest_collection_date = nullable_str(required=True)
    collection_period = fields.Nested(SummaryPeriodSchema, required=True)
    languages = fields.List(fields.String(), required=True)


class SummarySourcesSchema(Out):
    synthetic_share_pct = fields.Integer(allow_none=True, required=True)
    contains_synthetic_data = fields.Boolean(allow_none=True, required=True)
    crawled = fields.Boolean(allow_none=True, required=True)
    crawl_details = nullable_str(required=True)


class SummaryProcessingSchema(Out):
    tdm_opt_out_handling = nullable_str(required=True)
    illegal_content_measures = nullable_str(required=True)


class SummaryCertificateRefSchema(Out):
    id = nullable_str(required=True)
    url = nullable_str(required=True)
    sha256 = nullable_str(required=True, metadata={"description": "SHA-256 (hex) of the certificate's JWS text."})
    kid = nullable_str(required=True)
    jwks_url = fields.String(required=True)


class SummaryEvidenceSchema(Out):
    license_id = fields.String(required=True)
    license = fields.String(required=True)
    license_name = fields.String(required=True)
    terms_hash = fields.String(required=True)
    status = fields.String(required=True)
    certificate = fields.Nested(SummaryCertificateRefSchema, required=True)
    verify_url = fields.String(required=True)


class LicenseTrainingSummarySchema(Out):
    template = fields.Nested(SummaryTemplateSchema, required=True)
    generated_at = fields.String(required=True)
    section = fields.Nested(SummarySectionSchema, required=True)
    dataset = fields.Nested(SummaryDatasetSchema, required=True)
    general_information = fields.Nested(SummaryGeneralSchema, required=True)
    data_sources = fields.Nested(SummarySourcesSchema, required=True)
    data_processing = fields.Nested(SummaryProcessingSchema, required=True)
    evidence = fields.Nested(SummaryEvidenceSchema, required=True)
