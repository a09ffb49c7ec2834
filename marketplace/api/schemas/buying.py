"""Schemas of what a buyer does: the calling credential, the catalog, offers, orders, licenses and downloads."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema
from marshmallow.fields import Field

from marketplace.api.schemas.common import (
    SLUG,
    In,
    OrganisationRefSchema,
    Out,
    PageQuerySchema,
    ProblemSchema,
    nullable_dt,
    nullable_str,
)
from marketplace.api.schemas.withdrawals import WithdrawalSummarySchema
from marketplace.apikeys.scopes import SCOPES
from marketplace.catalog import search as catalog_search
from marketplace.catalog import vocab

__all__ = [
    "AI_ACT_PACK_DOCUMENT",
    "CROISSANT_DOCUMENT",
    "AcquireSchema",
    "CertificateSchema",
    "CheckoutSchema",
    "CredentialSchema",
    "CroissantQuerySchema",
    "DatasetPageSchema",
    "DatasetSchema",
    "DatasetSummarySchema",
    "DownloadLinkSchema",
    "DownloadLinksRequestSchema",
    "DownloadLinksSchema",
    "FacetSchema",
    "FacetValueSchema",
    "FileSchema",
    "LicensePageSchema",
    "LicenseQuerySchema",
    "LicenseSchema",
    "ManifestFileSchema",
    "ManifestSchema",
    "ManifestVersionSchema",
    "MeSchema",
    "MembershipRefSchema",
    "MoneySchema",
    "OfferCreateSchema",
    "OfferListSchema",
    "OfferSchema",
    "OrderCreateSchema",
    "OrderLineInSchema",
    "OrderLineSchema",
    "OrderPageSchema",
    "OrderSchema",
    "RetryCheckoutSchema",
    "SearchQuerySchema",
    "SearchResultSchema",
    "UserRefSchema",
    "VerificationSchema",
    "VersionListSchema",
    "VersionSchema",
    "VersionSummarySchema",
]

# --- me --------------------------------------------------------------------------------------------------------


class CredentialSchema(Out):
    type = fields.String(required=True, validate=validate.OneOf(["api_key", "oauth_client"]))
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    environment = fields.String(required=True, validate=validate.OneOf(["live", "test"]))
    scopes = fields.List(fields.String(validate=validate.OneOf(list(SCOPES))), required=True)
    expires_at = nullable_dt()


class UserRefSchema(Out):
    id = fields.Integer(required=True)
    email = fields.String(required=True)
    display_name = fields.String(required=True)


class MembershipRefSchema(Out):
    slug = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(["provider", "buyer"]))
    role = fields.String(required=True, validate=validate.OneOf(["owner", "admin", "member"]))


class MeSchema(Out):
    credential = fields.Nested(CredentialSchema, required=True)
    user = fields.Nested(UserRefSchema, required=True)
    organisation = fields.Nested(OrganisationRefSchema, allow_none=True, required=True)
    organisations = fields.List(fields.Nested(MembershipRefSchema), required=True)


# --- catalog ---------------------------------------------------------------------------------------------------


def _facet_query_field(facet: catalog_search.Facet) -> fields.Field[Any]:
    below = " and every value below it (BCP 47 prefix match: en finds en-US)" if facet.hierarchical else ""
    return fields.List(
        fields.String(validate=validate.Length(min=1, max=100)),
        load_default=list,
        metadata={"description": f"Filter by {facet.label.lower()}{below} (repeat for several values: any of them)."},
    )


class SearchQuerySchema(In):
    """The search's parameters: ``q``, ``sort``, ``facets``, ``cursor``, and one repeatable parameter per facet.

    The facet parameters follow the facet registry (:data:`marketplace.catalog.search.FACETS`): a facet registered
    after this schema was made (by :func:`marketplace.create_app`) still becomes a parameter the next time the
    schema is read.
    """

    q = fields.String(load_default="", validate=validate.Length(max=catalog_search.MAX_QUERY_CHARS))
    sort = fields.String(
        load_default=None,
        validate=validate.OneOf(list(catalog_search.SORTS)),
        metadata={
            "description": "relevance (the default with text), newest (without), or price: lowest public offer "
            "price first, listings without one last."
        },
    )
    facets = fields.Boolean(
        load_default=True, metadata={"description": "Include facet counts (false is faster when they are not shown)."}
    )
    cursor = fields.String(load_default=None, validate=validate.Length(max=500))
    exact = fields.Boolean(
        load_default=False,
        metadata={"description": "Search the words as typed: no spelling correction when nothing matches."},
    )

    _known_facets: tuple[str, ...] | None = None  # None while marshmallow sets the schema up

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._known_facets = ()
        self._follow_registry()

    def _follow_registry(self) -> None:
        names = tuple(catalog_search.FACETS)
        if self._known_facets is None or names == self._known_facets:
            return
        for name, facet in catalog_search.FACETS.items():
            self.declared_fields[name] = _facet_query_field(facet)
        self._known_facets = names
        self._init_fields()

    # marshmallow reads these three to load and to document; each first catches up with the registry.
    @property
    def fields(self) -> dict[str, Field[Any]]:
        self._follow_registry()
        return self.__dict__["_fields"]  # type: ignore[no-any-return]

    @fields.setter
    def fields(self, value: dict[str, Field[Any]]) -> None:
        self.__dict__["_fields"] = value

    @property
    def load_fields(self) -> dict[str, Field[Any]]:
        self._follow_registry()
        return self.__dict__["_load_fields"]  # type: ignore[no-any-return]

    @load_fields.setter
    def load_fields(self, value: dict[str, Field[Any]]) -> None:
        self.__dict__["_load_fields"] = value


class FacetValueSchema(Out):
    value = fields.String(required=True)
    label = fields.String(
        required=True, metadata={"description": "The whole path of a value below another: English › United States."}
    )
    count = fields.Integer(required=True)
    selected = fields.Boolean(required=True)
    parent = nullable_str(
        required=True,
        metadata={"description": "The value this one is below (en for en-US, in the language facet); null at the top."},
    )


class FacetSchema(Out):
    name = fields.String(required=True)
    label = fields.String(required=True)
    values = fields.List(fields.Nested(FacetValueSchema), required=True)
    more = fields.Integer(required=True)
    counts_are_estimates = fields.Boolean(
        required=True,
        attribute="estimated",
        metadata={
            "description": "True when the search matched more listings than are counted exactly "
            "(SEARCH_EXACT_COUNT_LIMIT): this facet's counts are then estimates, rounded to two significant digits."
        },
    )


class DatasetSummarySchema(Out):
    slug = fields.String(required=True)
    title = fields.String(required=True)
    summary = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf([s.value for s in vocab.DatasetStatus]))
    modality = nullable_str()
    provider = fields.Nested(OrganisationRefSchema, required=True)
    tags = fields.List(fields.String(), required=True)
    tasks = fields.List(fields.String(), required=True)
    languages = fields.List(fields.String(), required=True)
    latest_version = nullable_str()
    ai_act_documentation_complete = fields.List(
        fields.String(),
        metadata={
            "description": "In search results: the published versions whose EU AI Act Article 10 documentation is "
            "complete (signed off by the provider), newest first; empty when none is."
        },
    )
    published_at = nullable_dt()
    links = fields.Dict(keys=fields.String(), values=fields.String(), required=True)


class CorrectedWordSchema(Out):
    typed = fields.String(required=True)
    corrected = fields.String(required=True, metadata={"description": "The closest word of a published title."})


class SpellingSchema(Out):
    text = fields.String(required=True, metadata={"description": "The search text that was run."})
    original_text = fields.String(required=True, metadata={"description": "The search text as given."})
    words = fields.List(fields.Nested(CorrectedWordSchema), required=True)


class SearchResultSchema(Out):
    data = fields.List(fields.Nested(DatasetSummarySchema), required=True)
    total = fields.Integer(
        required=True,
        metadata={"description": "How many listings match: exact, unless total_is_estimate (then rounded)."},
    )
    total_is_estimate = fields.Boolean(
        required=True,
        metadata={
            "description": "True when more listings match than are counted exactly (SEARCH_EXACT_COUNT_LIMIT): "
            "total is then an estimate from a fixed sample of the catalog, rounded to two significant digits."
        },
    )
    facets = fields.List(fields.Nested(FacetSchema), required=True)
    next_cursor = nullable_str(required=True)
    spelling = fields.Nested(
        SpellingSchema,
        required=True,
        allow_none=True,
        metadata={
            "description": "When the words as typed matched nothing and corrected words did: what was searched for "
            "instead (the results are the corrected search's). Null otherwise."
        },
    )


class FileSchema(Out):
    id = fields.Integer(required=True)
    path = fields.String(required=True)
    size_bytes = fields.Integer(required=True)
    sha256 = fields.String(required=True)
    media_type = fields.String(required=True)
    uploaded = fields.Boolean(required=True)


class VersionSummarySchema(Out):
    version = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf([s.value for s in vocab.VersionStatus]))
    changelog = fields.String(required=True)
    manifest_digest = nullable_str()
    file_count = fields.Integer(required=True)
    total_bytes = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    published_at = nullable_dt()


class VersionSchema(VersionSummarySchema):
    dataset = fields.String(required=True, metadata={"description": "The dataset's slug."})
    files = fields.List(fields.Nested(FileSchema), required=True)


class VersionListSchema(Out):
    data = fields.List(fields.Nested(VersionSummarySchema), required=True)


class DatasetSchema(Out):
    slug = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf([s.value for s in vocab.DatasetStatus]))
    status_note = fields.String(required=True)
    provider = fields.Nested(OrganisationRefSchema, required=True)
    record = fields.Dict(
        required=True,
        metadata={"description": "Every listing field, in the shape of the DatasetRecord request schema."},
    )
    versions = fields.List(fields.Nested(VersionSummarySchema), required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    published_at = nullable_dt()
    missing = fields.List(
        fields.Nested(ProblemSchema),
        required=True,
        metadata={"description": "What a draft still needs before it can be submitted for review."},
    )
    links = fields.Dict(keys=fields.String(), values=fields.String(), required=True)


class DatasetPageSchema(Out):
    data = fields.List(fields.Nested(DatasetSummarySchema), required=True)
    next_cursor = nullable_str(required=True)


class CroissantQuerySchema(In):
    version = fields.String(load_default=None, validate=validate.Length(max=64))


#: A Croissant 1.1 JSON-LD document (with the RAI vocabulary), sent as it is.
CROISSANT_DOCUMENT: dict[str, Any] = {
    "type": "object",
    "description": "MLCommons Croissant 1.1 JSON-LD with the RAI vocabulary.",
    "required": ["@context", "@type", "name"],
    "additionalProperties": True,
}


#: A version's EU AI Act Article 10 documentation pack (see marketplace.aiact), sent as it is.
AI_ACT_PACK_DOCUMENT: dict[str, Any] = {
    "type": "object",
    "description": "The EU AI Act Article 10 documentation of one version: its state (draft or signed_off), "
    "whether it is complete, the parts still missing, the sign-off, and each documented part.",
    "required": ["format", "state", "complete", "missing", "sign_off", "dataset", "version"],
    "properties": {
        "format": {"type": "string"},
        "state": {"type": "string", "enum": ["draft", "signed_off"]},
        "complete": {"type": "boolean"},
        "missing": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["part", "title", "message"],
                "properties": {"part": {"type": "string"}, "title": {"type": "string"}, "message": {"type": "string"}},
            },
        },
        "sign_off": {"type": ["object", "null"]},
        "dataset": {"type": "object"},
        "version": {"type": "object"},
    },
    "additionalProperties": True,
}


# --- offers ----------------------------------------------------------------------------------------------------


class MoneySchema(Out):
    amount = fields.Integer(required=True, metadata={"description": "Integer minor units (cents)."})
    currency = fields.String(required=True, metadata={"description": "ISO 4217."})
    formatted = fields.String(required=True)


class OfferSchema(Out):
    id = fields.Integer(required=True)
    dataset = fields.String(required=True)
    title = fields.String(required=True)
    license_id = fields.String(required=True)
    license_family = fields.String(required=True)
    price = fields.Nested(MoneySchema, required=True)
    version_label = nullable_str()
    private = fields.Boolean(required=True)
    active = fields.Boolean(required=True)
    training_permitted = fields.Boolean(required=True)
    terms = fields.Dict(required=True)
    terms_hash = fields.String(
        required=True, metadata={"description": "Send it back as accepted_terms_hash to accept these terms."}
    )
    created_at = fields.DateTime(required=True)
    audience_organisation = nullable_str(metadata={"description": "The one buyer organisation of a private offer."})
    expires_at = fields.DateTime(
        required=True, allow_none=True, metadata={"description": "After this moment the offer cannot be bought."}
    )


class OfferListSchema(Out):
    data = fields.List(fields.Nested(OfferSchema), required=True)


class OfferCreateSchema(In):
    title = fields.String(required=True, validate=validate.Length(min=1, max=120))
    license_id = fields.String(required=True, validate=validate.Length(min=1, max=120))
    price_amount = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=0, max=10**12), metadata={"description": "Minor units."}
    )
    currency = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z]{3}$"))
    version_label = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))
    audience_org_slug = fields.String(
        load_default=None,
        allow_none=True,
        validate=SLUG,
        metadata={"description": "Makes it a private offer for this one buyer organisation (needs expires_at)."},
    )
    expires_at = fields.AwareDateTime(
        load_default=None,
        allow_none=True,
        metadata={"description": "A private offer's expiry (ISO 8601 with a time zone); must be in the future."},
    )
    overrides = fields.Dict(keys=fields.String(validate=validate.Length(max=64)), load_default=dict)

    @validates_schema
    def _private_offer_expires(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("audience_org_slug") and data.get("expires_at") is None:
            raise ValidationError({"expires_at": ["a private offer needs an expiry (expires_at)"]})


class AcquireSchema(In):
    licensee = fields.String(required=True, validate=SLUG, metadata={"description": "Buyer organisation's slug."})
    accepted_terms_hash = fields.String(required=True, validate=validate.Length(min=1, max=64))


# --- orders ----------------------------------------------------------------------------------------------------


class OrderLineInSchema(In):
    offer_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=2**31 - 1))
    accepted_terms_hash = fields.String(
        required=True, validate=validate.Length(min=1, max=64), metadata={"description": "The offer's terms_hash."}
    )


_URL = fields.Url(schemes={"http", "https"}, require_tld=False, load_default=None, validate=validate.Length(max=1000))


class OrderCreateSchema(In):
    licensee = fields.String(required=True, validate=SLUG, metadata={"description": "Buyer organisation's slug."})
    lines = fields.List(fields.Nested(OrderLineInSchema), required=True, validate=validate.Length(min=1, max=50))
    success_url = _URL
    cancel_url = _URL

    @validates_schema
    def _unique_offers(self, data: dict[str, Any], **_: Any) -> None:
        ids = [line["offer_id"] for line in data.get("lines") or []]
        if len(ids) != len(set(ids)):
            raise ValidationError({"lines": ["each offer may appear once"]})


class OrderLineSchema(Out):
    offer_id = fields.Integer(required=True)
    dataset = nullable_str(required=True)
    description = fields.String(required=True)
    amount = fields.Integer(required=True)
    currency = fields.String(required=True)
    terms_hash = fields.String(required=True)
    license_id = nullable_str(required=True, metadata={"description": "The license issued for this line, once paid."})


class OrderDocumentSchema(Out):
    kind = fields.String(required=True, metadata={"description": "`invoice` or `credit_note`."})
    number = fields.String(required=True, metadata={"description": "E.g. `INV-000042` or `CN-000007`."})
    issued_at = fields.DateTime(required=True)
    amount = fields.Nested(MoneySchema, required=True, metadata={"description": "Invoiced, or credited by the note."})
    pdf_url = fields.String(required=True)


class OrderSchema(Out):
    id = fields.Integer(required=True)
    reference = fields.String(required=True)
    status = fields.String(required=True)
    licensee = fields.String(required=True, metadata={"description": "Buyer organisation's slug."})
    total = fields.Nested(MoneySchema, required=True)
    checkout_url = nullable_str(required=True, metadata={"description": "Where the buyer pays (sandbox or Stripe)."})
    created_at = fields.DateTime(required=True)
    paid_at = nullable_dt()
    lines = fields.List(fields.Nested(OrderLineSchema), required=True)
    documents = fields.List(
        fields.Nested(OrderDocumentSchema),
        required=True,
        metadata={"description": "The invoice (issued when paid) and a credit note for each refund."},
    )


class OrderPageSchema(Out):
    data = fields.List(fields.Nested(OrderSchema), required=True)
    next_cursor = nullable_str(required=True)


class CheckoutSchema(Out):
    order_id = fields.Integer(required=True)
    status = fields.String(required=True)
    checkout_url = nullable_str(required=True)


class RetryCheckoutSchema(In):
    success_url = _URL
    cancel_url = _URL


# --- licenses --------------------------------------------------------------------------------------------------


class LicenseQuerySchema(PageQuerySchema):
    role = fields.String(load_default="licensee", validate=validate.OneOf(["licensee", "licensor"]))


class LicenseSchema(Out):
    id = fields.String(required=True)
    status = fields.String(required=True)
    dataset = nullable_str(required=True)
    license = fields.String(required=True, metadata={"description": "SPDX id or LicenseRef- of the template."})
    licensee = fields.Nested(OrganisationRefSchema, required=True)
    licensor = fields.Nested(OrganisationRefSchema, required=True)
    versions = fields.List(fields.String(), required=True)
    all_versions = fields.Boolean(required=True)
    terms_hash = fields.String(required=True)
    terms = fields.Dict(required=True)
    agreement = fields.Dict(
        allow_none=True,
        metadata={"description": "The data-use agreement the licensee signed (id, version, sha256), if any."},
    )
    price = fields.Nested(MoneySchema, required=True)
    issued_at = fields.DateTime(required=True)
    valid_from = fields.DateTime(required=True)
    valid_until = nullable_dt()
    links = fields.Dict(keys=fields.String(), values=fields.String(), required=True)


class LicensePageSchema(Out):
    data = fields.List(fields.Nested(LicenseSchema), required=True)
    next_cursor = nullable_str(required=True)


class CertificateSchema(Out):
    license_id = fields.String(required=True)
    certificate = fields.String(required=True, metadata={"description": "JWS compact serialisation (EdDSA)."})
    kid = nullable_str(required=True)
    jwks_url = fields.String(required=True)


class VerificationSchema(Out):
    license_id = fields.String(required=True)
    valid = fields.Boolean(required=True)
    status = fields.String(required=True)
    reason = fields.String(required=True)
    message = fields.String(required=True)
    dataset = fields.Dict(allow_none=True, required=True)
    versions = fields.List(fields.String(), required=True)
    licensee_organisation = nullable_str(required=True)
    licensor_organisation = nullable_str(required=True)
    license = nullable_str(required=True)
    terms_hash = nullable_str(required=True)
    valid_from = nullable_str(required=True)
    valid_until = nullable_str(required=True)
    certificate_kid = nullable_str(required=True)
    agreement = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        allow_none=True,
        metadata={"description": "The data-use agreement that bound the licensee: id, version and SHA-256."},
    )
    withdrawals = fields.List(
        fields.Nested(WithdrawalSummarySchema),
        required=True,
        metadata={"description": "Withdrawals of versions this license covers: version, reason, deadline, patch."},
    )


# --- downloads -------------------------------------------------------------------------------------------------


class DownloadLinksRequestSchema(In):
    file_ids = fields.List(
        fields.Integer(strict=True, validate=validate.Range(min=1, max=2**31 - 1)),
        load_default=None,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "Files to link; omit for every file the license covers (or of one version)."},
    )
    version = fields.String(load_default=None, validate=validate.Length(max=64))

    @validates_schema
    def _one_or_other(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("file_ids") and data.get("version"):
            raise ValidationError({"version": ["give file_ids or version, not both"]})


class DownloadLinkSchema(Out):
    file_id = fields.Integer(required=True)
    path = fields.String(required=True)
    version = fields.String(required=True)
    size_bytes = fields.Integer(required=True)
    sha256 = fields.String(required=True)
    url = fields.String(required=True)
    expires_at = fields.DateTime(required=True)


class DownloadLinksSchema(Out):
    license_id = fields.String(required=True)
    data = fields.List(fields.Nested(DownloadLinkSchema), required=True)


class ManifestFileSchema(Out):
    id = fields.Integer(required=True)
    path = fields.String(required=True)
    size_bytes = fields.Integer(required=True)
    sha256 = fields.String(required=True)
    media_type = fields.String(required=True)
    downloadable = fields.Boolean(required=True)


class ManifestVersionSchema(Out):
    version = fields.String(required=True)
    manifest_digest = nullable_str(required=True)
    file_count = fields.Integer(required=True)
    total_bytes = fields.Integer(required=True)
    files = fields.List(fields.Nested(ManifestFileSchema), required=True)


class ManifestSchema(Out):
    license = fields.String(required=True)
    dataset = nullable_str(required=True)
    license_manifest_digest = fields.String(required=True)
    versions = fields.List(fields.Nested(ManifestVersionSchema), required=True)
