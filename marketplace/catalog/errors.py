"""The error codes the catalog domain raises (see :mod:`marketplace.errors`)."""

from __future__ import annotations

from enum import StrEnum, unique


@unique
class CatalogErrorCode(StrEnum):
    DATASET_IN_REVIEW = "dataset_in_review"  # a listing submitted for review cannot be edited until retracted
    DATASET_WITHDRAWN = "dataset_withdrawn"  # a withdrawn listing can no longer change
    VERSION_IMMUTABLE = "version_immutable"  # a published version never changes (shared with DeliveryErrorCode)
    BAD_SEARCH = "bad_search"  # a search query with a bad text, facet, sort or page
