"""Catalog services: every rule about listings, versions, samples and the review workflow lives here.

Each command takes the request's :class:`UnitOfWork`, checks permission (members of the owning provider
organisation edit; platform admins review), validates, stages its changes and records an event. None commits.

Lifecycle of a listing: ``draft → in_review → published → deprecated | withdrawn`` (``published → withdrawn``
too). A rejected or retracted submission goes back to ``draft``. A version is a draft until published, and a
published version is immutable: its label, changelog and manifest never change again.

The rules live in the modules of this package, one per part (:mod:`.reading`, :mod:`.records`,
:mod:`.listings`, :mod:`.versions`, :mod:`.samples`, :mod:`.pages`); callers import them from here.
"""

from __future__ import annotations

from marketplace.accounts.models import Organisation
from marketplace.catalog.manifest import compute_manifest_digest
from marketplace.catalog.models import Dataset, DatasetFile, DatasetVersion, SampleFile
from marketplace.catalog.services.listings import (
    approve,
    create_dataset,
    create_listing,
    datasets_of_organisation,
    deprecate,
    new_dataset,
    reject,
    retract_submission,
    submit_for_review,
    update_section,
    withdraw,
)
from marketplace.catalog.services.pages import (
    MANIFEST_PREVIEW_FILES,
    SAMPLE_TEXT_PREVIEW_BYTES,
    CatalogSearch,
    dataset_page,
    home_page,
    manage_page,
    search_catalog,
    search_hits,
    shown_search,
)
from marketplace.catalog.services.reading import (
    completeness,
    datasets_of_user,
    events_of,
    get_any_version,
    get_dataset,
    get_published_dataset,
    get_sample,
    get_version,
    organisation_of,
    provider_organisations,
    public_datasets_of,
    review_queue,
    samples_of,
    version_files,
    versions_of,
)
from marketplace.catalog.services.records import (
    COLUMN_FIELDS,
    EDITABLE_STATUSES,
    RESERVED_SLUGS,
    SLUG_RE,
    TERM_FIELDS,
    apply_record,
    choose_slug,
    dataset_record,
    event_row,
    provider_organisation,
    record_changes,
    record_event,
    terms_of,
)
from marketplace.catalog.services.samples import (
    SAMPLE_MEDIA_TYPES,
    SAMPLES_PER_DATASET,
    ServedSample,
    add_sample,
    delete_sample,
    sample_kind,
    serve_sample,
)
from marketplace.catalog.services.versions import (
    add_version,
    delete_version,
    manifest_matches,
    publish_private_version,
    publish_version,
    update_version,
)

__all__ = [
    "COLUMN_FIELDS",
    "EDITABLE_STATUSES",
    "MANIFEST_PREVIEW_FILES",
    "RESERVED_SLUGS",
    "SAMPLES_PER_DATASET",
    "SAMPLE_MEDIA_TYPES",
    "SAMPLE_TEXT_PREVIEW_BYTES",
    "SLUG_RE",
    "TERM_FIELDS",
    "CatalogSearch",
    "Dataset",
    "DatasetFile",
    "DatasetVersion",
    "Organisation",
    "SampleFile",
    "ServedSample",
    "add_sample",
    "add_version",
    "apply_record",
    "approve",
    "choose_slug",
    "completeness",
    "compute_manifest_digest",
    "create_dataset",
    "create_listing",
    "dataset_page",
    "dataset_record",
    "datasets_of_organisation",
    "datasets_of_user",
    "delete_sample",
    "delete_version",
    "deprecate",
    "event_row",
    "events_of",
    "get_any_version",
    "get_dataset",
    "get_published_dataset",
    "get_sample",
    "get_version",
    "home_page",
    "manage_page",
    "manifest_matches",
    "new_dataset",
    "organisation_of",
    "provider_organisation",
    "provider_organisations",
    "public_datasets_of",
    "publish_private_version",
    "publish_version",
    "record_changes",
    "record_event",
    "reject",
    "retract_submission",
    "review_queue",
    "sample_kind",
    "samples_of",
    "search_catalog",
    "search_hits",
    "serve_sample",
    "shown_search",
    "submit_for_review",
    "terms_of",
    "update_section",
    "update_version",
    "version_files",
    "versions_of",
    "withdraw",
]
