"""Catalog: search with facets, listings, versions, Croissant and SPDX metadata and offers (scope ``catalog:read``)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from flask import current_app

from marketplace.api import present, schemas
from marketplace.api.core import Call, Prepared, decode_cursor, encode_cursor, operation, prepare
from marketplace.api.errors import ApiErrorCode
from marketplace.apikeys.scopes import CATALOG_READ
from marketplace.catalog import exports, search
from marketplace.catalog import services as catalog
from marketplace.errors import BadRequest, FieldProblem
from marketplace.licenses import services as licenses

TAG = "Catalog"

#: An SPDX 3.0.1 JSON-LD document (Dataset profile), sent as it is.
SPDX_DOCUMENT: dict[str, Any] = {
    "type": "object",
    "description": "SPDX 3.0.1 JSON-LD (context https://spdx.org/rdf/3.0.1/spdx-context.jsonld) with a "
    "dataset_DatasetPackage, its license expression and its files with SHA-256 hashes.",
    "required": ["@context", "@graph"],
    "additionalProperties": True,
}


def _fingerprint(query: dict[str, Any]) -> str:
    material = json.dumps(
        {k: v for k, v in query.items() if k not in ("cursor", "facets")}, sort_keys=True, default=str
    )
    return hashlib.sha256(material.encode()).hexdigest()[:16]


@operation(
    "/v1/datasets",
    "GET",
    summary="Search the catalog",
    tag=TAG,
    scope=CATALOG_READ,
    query=schemas.SearchQuerySchema(),
    response=schemas.SearchResultSchema(),
)
def search_datasets(call: Call) -> Prepared:
    """Full-text search over published listings with facet filters (each facet repeatable; values within a facet
    are alternatives), facet counts (exact up to a bound, then estimates, flagged), and a stable order (relevance,
    newest or lowest price, then id). Pages of 20; follow ``next_cursor``. A text search that finds nothing is run
    again with its misspelt words corrected to the closest title words: ``spelling`` then says what was searched for
    instead (``exact=true`` searches the words as typed)."""
    fingerprint = _fingerprint(call.query)
    position = decode_cursor("search", call.query.get("cursor")) or {"p": 1, "f": fingerprint}
    if not isinstance(position, dict) or position.get("f") != fingerprint or not isinstance(position.get("p"), int):
        raise BadRequest(
            message="The cursor belongs to another search: repeat the same query with it.",
            code=ApiErrorCode.INVALID_CURSOR,
            details=[FieldProblem("cursor", "belongs to another search", "query")],
        )
    page = position["p"]
    parsed = search.build_query(
        text=call.query["q"],
        filters={name: call.query.get(name) or () for name in search.FACETS},
        sort=call.query["sort"],
        page=page,
    )

    def answer(found: catalog.CatalogSearch) -> Prepared:
        results, hits, correction = found
        more = page < min(results.pages, search.MAX_PAGE)
        value = {
            "data": [present.search_hit(hit) for hit in hits],
            "total": results.total,
            "total_is_estimate": results.total_is_estimate,
            "facets": results.facets,
            "next_cursor": encode_cursor("search", {"p": page + 1, "f": fingerprint}) if more else None,
            "spelling": correction.as_dict() if correction else None,
        }
        return prepare(_SEARCH_RESULT, value)

    # The answer is the same for every caller: kept while the index is unchanged. What it holds besides the search
    # (the query's fingerprint, as the cursor; links under BASE_URL; the cursor's signing key) is in the variant.
    config = current_app.config
    return catalog.shown_search(
        call.uow,
        parsed,
        answer,
        variant=("api", fingerprint, config["BASE_URL"], config["SECRET_KEY"]),
        with_facets=call.query["facets"],
        correct_spelling=not call.query["exact"],
    )


_SEARCH_RESULT = schemas.SearchResultSchema()


@operation(
    "/v1/datasets/{slug}",
    "GET",
    summary="Read a published listing",
    tag=TAG,
    scope=CATALOG_READ,
    path_params={"slug": "slug"},
    response=schemas.DatasetSchema(),
)
def get_dataset(call: Call, slug: str) -> dict[str, Any]:
    """A published (or deprecated) listing with every metadata field and its published versions."""
    dataset = catalog.get_published_dataset(call.uow.session, slug)
    return present.dataset_detail(call.uow.session, dataset)


@operation(
    "/v1/datasets/{slug}/versions",
    "GET",
    summary="List a listing's published versions",
    tag=TAG,
    scope=CATALOG_READ,
    path_params={"slug": "slug"},
    response=schemas.VersionListSchema(),
)
def list_versions(call: Call, slug: str) -> dict[str, Any]:
    """Published versions, newest (by Semantic Versioning) first."""
    dataset = catalog.get_published_dataset(call.uow.session, slug)
    return {"data": [present.version_summary(v) for v in catalog.versions_of(call.uow.session, dataset)]}


@operation(
    "/v1/datasets/{slug}/versions/{version}",
    "GET",
    summary="Read a published version and its file manifest",
    tag=TAG,
    scope=CATALOG_READ,
    path_params={"slug": "slug", "version": "version"},
    response=schemas.VersionSchema(),
)
def get_version(call: Call, slug: str, version: str) -> dict[str, Any]:
    """A published version: changelog, manifest digest, and every file with its size, SHA-256 and media type."""
    session = call.uow.session
    dataset = catalog.get_published_dataset(session, slug)
    return present.version_detail(session, dataset, catalog.get_version(session, dataset, version))


@operation(
    "/v1/datasets/{slug}/croissant",
    "GET",
    summary="Export a version's Croissant metadata",
    tag=TAG,
    scope=CATALOG_READ,
    path_params={"slug": "slug"},
    query=schemas.CroissantQuerySchema(),
    response=schemas.CROISSANT_DOCUMENT,
    media_type="application/ld+json",
)
def croissant(call: Call, slug: str) -> dict[str, Any]:
    """MLCommons Croissant 1.1 JSON-LD (with the RAI vocabulary) of the latest published version, or of
    ``version``."""
    session = call.uow.session
    dataset = catalog.get_published_dataset(session, slug)
    return exports.croissant_export(session, dataset, call.query.get("version"), base_url=present.base_url())


@operation(
    "/v1/datasets/{slug}/versions/{version}/spdx",
    "GET",
    summary="Export a published version as an SPDX 3.0 document",
    tag=TAG,
    scope=CATALOG_READ,
    path_params={"slug": "slug", "version": "version"},
    response=SPDX_DOCUMENT,
    media_type="application/spdx+json",
)
def spdx(call: Call, slug: str, version: str) -> dict[str, Any]:
    """SPDX 3.0.1 JSON-LD of a published version with the Dataset profile: dataset type, collection, preprocessing,
    known bias, sensitive personal information, intended use, the license expression of the public offers, and
    every file with its SHA-256. A draft version is 404."""
    session = call.uow.session
    dataset = catalog.get_published_dataset(session, slug)
    return exports.spdx_export(session, dataset, version, base_url=present.base_url())


@operation(
    "/v1/datasets/{slug}/offers",
    "GET",
    summary="List the offers of a listing",
    tag=TAG,
    scope=CATALOG_READ,
    path_params={"slug": "slug"},
    response=schemas.OfferListSchema(),
)
def list_offers(call: Call, slug: str) -> dict[str, Any]:
    """Active offers: public ones, private ones addressed to the caller's organisations, and, for the provider,
    all of its own. Each carries its terms and ``terms_hash``, which an order must send back to accept them."""
    session = call.uow.session
    dataset = catalog.get_published_dataset(session, slug)
    offers = licenses.offers_for_dataset(session, dataset, call.caller.user, call.uow.now())
    return {"data": [present.offer(session, o) for o in offers]}
