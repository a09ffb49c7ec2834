"""The response of ``GET /v1/licenses/{license_id}/training-summary``: a license's fragment of the EU AI Act
Article 53(1)(d) public summary of training content (built by :mod:`marketplace.licenses.training_summary`)."""

from __future__ import annotations

from marshmallow import fields

from marketplace.api.schemas.common import Out, nullable_str


class _TemplateSchema(Out):
    name = fields.String(required=True)
    legal_basis = fields.String(required=True)
    published = fields.String(required=True, metadata={"description": "Publication date of the template."})


class _SectionSchema(Out):
    number = fields.String(required=True, metadata={"description": "2.1, 2.2.1 or 2.2.2 of the template."})
    key = fields.String(required=True)
    title = fields.String(required=True)


class _DatasetSchema(Out):
    title = fields.String(required=True)
    url = fields.String(required=True)
    provider = nullable_str(required=True)
    versions = fields.Raw(
        required=True, metadata={"description": "The version labels licensed, or the words for every version."}
    )
    manifest_digest = fields.String(required=True)


class _ModalitySchema(Out):
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


class _PeriodSchema(Out):
    start = nullable_str(required=True)
    end = nullable_str(required=True)


class _GeneralSchema(Out):
    modalities = fields.List(fields.Nested(_ModalitySchema), required=True)
    content_types = fields.List(fields.String(), required=True)
    latest_collection_date = nullable_str(required=True)
    collection_period = fields.Nested(_PeriodSchema, required=True)
    languages = fields.List(fields.String(), required=True)


class _SourcesSchema(Out):
    synthetic_share_pct = fields.Integer(allow_none=True, required=True)
    contains_synthetic_data = fields.Boolean(allow_none=True, required=True)
    crawled = fields.Boolean(allow_none=True, required=True)
    crawl_details = nullable_str(required=True)


class _ProcessingSchema(Out):
    tdm_opt_out_handling = nullable_str(required=True)
    illegal_content_measures = nullable_str(required=True)


class _CertificateRefSchema(Out):
    id = nullable_str(required=True)
    url = nullable_str(required=True)
    sha256 = nullable_str(required=True, metadata={"description": "SHA-256 (hex) of the certificate's JWS text."})
    kid = nullable_str(required=True)
    jwks_url = fields.String(required=True)


class _EvidenceSchema(Out):
    license_id = fields.String(required=True)
    license = fields.String(required=True)
    license_name = fields.String(required=True)
    terms_hash = fields.String(required=True)
    status = fields.String(required=True)
    certificate = fields.Nested(_CertificateRefSchema, required=True)
    verify_url = fields.String(required=True)


class TrainingSummarySchema(Out):
    template = fields.Nested(_TemplateSchema, required=True)
    generated_at = fields.String(required=True)
    section = fields.Nested(_SectionSchema, required=True)
    dataset = fields.Nested(_DatasetSchema, required=True)
    general_information = fields.Nested(_GeneralSchema, required=True)
    data_sources = fields.Nested(_SourcesSchema, required=True)
    data_processing = fields.Nested(_ProcessingSchema, required=True)
    evidence = fields.Nested(_EvidenceSchema, required=True)
