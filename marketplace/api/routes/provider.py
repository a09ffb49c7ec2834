"""Providers (scope ``provider:write``): listings, versions, uploads, offers and catalog imports."""

from __future__ import annotations

from typing import Any

from marketplace.api import jobs, present, schemas
from marketplace.api.core import Call, Result, decode_cursor, load, operation, page
from marketplace.api.routes._common import organisation_slug, page_limit
from marketplace.apikeys.scopes import PROVIDER_WRITE
from marketplace.catalog import services as catalog
from marketplace.catalog.models import Dataset
from marketplace.catalog.schemas import SECTION_FIELDS, record_fields
from marketplace.delivery import services as delivery
from marketplace.errors import NotFound, PermissionDenied
from marketplace.licenses import services as licenses
from marketplace.permissions import Action, require

TAG = "Provider"


def _own_dataset(call: Call, slug: str) -> Dataset:
    """A listing of one of the caller's provider organisations (drafts too); others get 404."""
    session = call.uow.session
    dataset = catalog.get_dataset(session, slug)
    try:
        require(session, call.caller.user, Action.DATASET_EDIT, dataset)
    except PermissionDenied as error:
        raise NotFound(message=f"No dataset called {slug!r}.") from error
    return dataset


def _detail(call: Call, dataset: Dataset) -> dict[str, Any]:
    return present.dataset_detail(call.uow.session, dataset, include_drafts=True)


@operation(
    "/v1/provider/datasets",
    "GET",
    summary="List the provider's listings",
    tag=TAG,
    scope=PROVIDER_WRITE,
    query=schemas.ProviderListQuerySchema(),
    response=schemas.DatasetPageSchema(),
)
def list_own(call: Call) -> dict[str, Any]:
    """Every listing of a provider organisation, drafts included, newest first."""
    before = decode_cursor("provider-datasets", call.query.get("cursor"))
    limit = page_limit(call)
    rows = catalog.datasets_of_organisation(
        call.uow,
        call.caller.user,
        organisation_slug(call, call.query.get("organisation")),
        before_id=before if isinstance(before, int) else None,
        limit=limit + 1,
    )
    result = page("provider-datasets", rows, limit, lambda d: d.id)
    result["data"] = [present.dataset_summary(call.uow.session, d) for d in result["data"]]
    return result


@operation(
    "/v1/provider/datasets",
    "POST",
    summary="Create a draft listing",
    tag=TAG,
    scope=PROVIDER_WRITE,
    body=schemas.DatasetCreateSchema(),
    response=schemas.DatasetSchema(),
    status=201,
)
def create_listing(call: Call) -> Result:
    """A new draft from a whole record (the same fields, vocabularies and validation as the website's form and the
    catalog import). Add versions next, then submit the listing for review."""
    dataset = catalog.create_listing(
        call.uow,
        call.caller.user,
        organisation=organisation_slug(call, call.body.get("organisation")),
        record=call.body["record"],
    )
    return Result(_detail(call, dataset), headers={"Location": present.api_url(f"/provider/datasets/{dataset.slug}")})


@operation(
    "/v1/provider/datasets/{slug}",
    "GET",
    summary="Read one of the provider's listings",
    tag=TAG,
    scope=PROVIDER_WRITE,
    path_params={"slug": "slug"},
    response=schemas.DatasetSchema(),
)
def get_own(call: Call, slug: str) -> dict[str, Any]:
    """The listing whatever its status, its versions (drafts too) and what a draft still misses."""
    return _detail(call, _own_dataset(call, slug))


@operation(
    "/v1/provider/datasets/{slug}/sections/{section}",
    "PUT",
    summary="Replace one section of a listing",
    tag=TAG,
    scope=PROVIDER_WRITE,
    path_params={"slug": "slug", "section": "section"},
    body=schemas.SectionBodySchema(),
    response=schemas.DatasetSchema(),
)
def update_section(call: Call, slug: str, section: str) -> dict[str, Any]:
    """Set every field of one section of the listing form (``identity``, ``modality``, ``tasks``, ``coverage``,
    ``size``, ``collection``, ``personal_data``, ``provenance``, ``ai_act``, ``delivery``)."""
    dataset = _own_dataset(call, slug)
    if section not in SECTION_FIELDS:
        raise NotFound(message=f"No section {section!r}.")
    record = load(record_fields(SECTION_FIELDS[section]), call.body["record"], location="body")
    catalog.update_section(call.uow, call.caller.user, dataset, section, record)
    return _detail(call, dataset)


@operation(
    "/v1/provider/datasets/{slug}/submit",
    "POST",
    summary="Submit a draft for review",
    tag=TAG,
    scope=PROVIDER_WRITE,
    path_params={"slug": "slug"},
    response=schemas.DatasetSchema(),
)
def submit(call: Call, slug: str) -> dict[str, Any]:
    """Send a complete draft to the platform's reviewers; what is missing is named otherwise (422)."""
    dataset = catalog.submit_for_review(call.uow, call.caller.user, _own_dataset(call, slug))
    return _detail(call, dataset)


@operation(
    "/v1/provider/datasets/{slug}/versions",
    "POST",
    summary="Add a draft version",
    tag=TAG,
    scope=PROVIDER_WRITE,
    path_params={"slug": "slug"},
    body=schemas.VersionCreateSchema(),
    response=schemas.VersionSchema(),
    status=201,
)
def add_version(call: Call, slug: str) -> dict[str, Any]:
    """A draft version (Semantic Versioning label, newer than every published one), optionally with its declared
    manifest; upload the files next."""
    dataset = _own_dataset(call, slug)
    version = catalog.add_version(
        call.uow,
        call.caller.user,
        dataset,
        version=call.body["version"],
        changelog=call.body["changelog"],
        files=call.body["files"],
    )
    return present.version_detail(call.uow.session, dataset, version)


def _own_version(call: Call, slug: str, version: str) -> tuple[Dataset, Any]:
    dataset = _own_dataset(call, slug)
    return dataset, catalog.get_any_version(call.uow.session, dataset, version)


@operation(
    "/v1/provider/datasets/{slug}/versions/{version}",
    "GET",
    summary="Read one of the provider's versions",
    tag=TAG,
    scope=PROVIDER_WRITE,
    path_params={"slug": "slug", "version": "version"},
    response=schemas.VersionSchema(),
)
def get_own_version(call: Call, slug: str, version: str) -> dict[str, Any]:
    """A version whatever its status, with its manifest and which files are uploaded."""
    dataset, row = _own_version(call, slug, version)
    return present.version_detail(call.uow.session, dataset, row)


@operation(
    "/v1/provider/datasets/{slug}/versions/{version}",
    "PUT",
    summary="Change a draft version",
    tag=TAG,
    scope=PROVIDER_WRITE,
    path_params={"slug": "slug", "version": "version"},
    body=schemas.VersionUpdateSchema(),
    response=schemas.VersionSchema(),
)
def update_version(call: Call, slug: str, version: str) -> dict[str, Any]:
    """Replace a draft version's changelog and declared manifest (a published version is refused, 409)."""
    dataset, row = _own_version(call, slug, version)
    catalog.update_version(
        call.uow, call.caller.user, dataset, row, changelog=call.body["changelog"], files=call.body["files"]
    )
    return present.version_detail(call.uow.session, dataset, row)


@operation(
    "/v1/provider/datasets/{slug}/versions/{version}/publish",
    "POST",
    summary="Publish a draft version",
    tag=TAG,
    scope=PROVIDER_WRITE,
    path_params={"slug": "slug", "version": "version"},
    response=schemas.VersionSchema(),
)
def publish_version(call: Call, slug: str, version: str) -> dict[str, Any]:
    """Freeze a draft version of a published listing; every file must be uploaded and verified."""
    dataset, row = _own_version(call, slug, version)
    catalog.publish_version(call.uow, call.caller.user, dataset, row)
    return present.version_detail(call.uow.session, dataset, row)


@operation(
    "/v1/provider/datasets/{slug}/versions/{version}/uploads",
    "POST",
    summary="Start (or resume) a file upload",
    tag=TAG,
    scope=PROVIDER_WRITE,
    path_params={"slug": "slug", "version": "version"},
    body=schemas.UploadCreateSchema(),
    response=schemas.UploadSchema(),
    status=201,
)
def start_upload(call: Call, slug: str, version: str) -> Result:
    """An upload session for one file of a draft version: ask for presigned links, PUT the bytes (in parts for
    large files), then complete it; the server checks size and SHA-256 before the file enters the manifest."""
    dataset, row = _own_version(call, slug, version)
    upload = delivery.start_upload(call.uow, call.caller.user, dataset, row, **call.body)
    done = [p.part_number for p in delivery.upload_progress(call.uow, upload)]
    return Result(
        present.upload(call.uow.session, upload, done),
        headers={"Location": present.api_url(f"/provider/uploads/{upload.id}")},
    )


@operation(
    "/v1/provider/uploads/{upload_id}",
    "GET",
    summary="Read an upload session",
    tag=TAG,
    scope=PROVIDER_WRITE,
    path_params={"upload_id": "id"},
    response=schemas.UploadSchema(),
)
def get_upload(call: Call, upload_id: int) -> dict[str, Any]:
    """Its status and which parts storage already holds (what a resumed upload skips)."""
    upload = delivery.get_upload(call.uow, call.caller.user, upload_id)
    done = [p.part_number for p in delivery.upload_progress(call.uow, upload)]
    return present.upload(call.uow.session, upload, done)


@operation(
    "/v1/provider/uploads/{upload_id}/links",
    "POST",
    summary="Get presigned upload links",
    tag=TAG,
    scope=PROVIDER_WRITE,
    path_params={"upload_id": "id"},
    body=schemas.UploadLinksRequestSchema(),
    response=schemas.UploadLinksSchema(),
)
def upload_links(call: Call, upload_id: int) -> dict[str, Any]:
    """PUT links for the given part numbers (a single link, key ``0``, for a single-PUT upload)."""
    upload = delivery.get_upload(call.uow, call.caller.user, upload_id)
    urls = delivery.upload_links(call.uow, upload, call.body["parts"])
    return {"urls": {str(number): present.absolute(url) for number, url in urls.items()}}


@operation(
    "/v1/provider/uploads/{upload_id}/complete",
    "POST",
    summary="Complete an upload",
    tag=TAG,
    scope=PROVIDER_WRITE,
    path_params={"upload_id": "id"},
    response=schemas.UploadSchema(),
)
def complete_upload(call: Call, upload_id: int) -> dict[str, Any]:
    """Assemble the file and verify it: ``status`` becomes ``verified``, or ``failed`` with the reason in
    ``error`` (the stored bytes are then deleted; start the upload again). When storage cannot tell the file's
    SHA-256 at once (S3), the size is checked now and ``status`` is ``verifying`` while a background job computes
    the hash: read ``GET /v1/provider/uploads/{id}`` until it is ``verified`` or ``failed``. A version with a file
    still verifying cannot be published."""
    upload = delivery.complete_upload(call.uow, delivery.get_upload(call.uow, call.caller.user, upload_id))
    return present.upload(call.uow.session, upload)


@operation(
    "/v1/provider/uploads/{upload_id}",
    "DELETE",
    summary="Abort or remove an upload",
    tag=TAG,
    scope=PROVIDER_WRITE,
    path_params={"upload_id": "id"},
    status=204,
)
def remove_upload(call: Call, upload_id: int) -> None:
    """Abort an unfinished upload, or take a verified file of a draft version out of its manifest."""
    upload = delivery.get_upload(call.uow, call.caller.user, upload_id)
    delivery.remove_upload(call.uow, call.caller.user, upload)


@operation(
    "/v1/provider/datasets/{slug}/offers",
    "POST",
    summary="Create an offer",
    tag=TAG,
    scope=PROVIDER_WRITE,
    path_params={"slug": "slug"},
    body=schemas.OfferCreateSchema(),
    response=schemas.OfferSchema(),
    status=201,
)
def create_offer(call: Call, slug: str) -> dict[str, Any]:
    """Sell a license for the listing: a template (SPDX id or ``LicenseRef-``), term overrides, a price in minor
    units, optionally one version only and one named buyer (a private offer). Admins of the provider only."""
    dataset = _own_dataset(call, slug)
    offer = licenses.create_offer(call.uow, call.caller.user, dataset, **call.body)
    return present.offer(call.uow.session, offer)


@operation(
    "/v1/provider/offers/{offer_id}/retire",
    "POST",
    summary="Retire an offer",
    tag=TAG,
    scope=PROVIDER_WRITE,
    path_params={"offer_id": "id"},
    response=schemas.OfferSchema(),
)
def retire_offer(call: Call, offer_id: int) -> dict[str, Any]:
    """Stop selling an offer; licenses already issued from it are unaffected."""
    offer = licenses.get_offer(call.uow.session, offer_id)
    licenses.retire_offer(call.uow, call.caller.user, offer)
    return present.offer(call.uow.session, offer)


@operation(
    "/v1/provider/imports",
    "POST",
    summary="Start a catalog import",
    tag=TAG,
    scope=PROVIDER_WRITE,
    body=schemas.ImportCreateSchema(),
    response=schemas.JobSchema(),
    status=202,
)
def start_import(call: Call) -> Result:
    """Import many listings from CSV or JSON Lines, or one from Croissant, as a job: all rows or none. Poll the
    job (``Location``) until it has ``succeeded`` (with what was created, updated, unchanged) or ``failed`` (with
    every problem, by row and field)."""
    job = jobs.enqueue_import(
        call.uow,
        call.caller,
        organisation_slug(call, call.body.get("organisation")),
        fmt=call.body["format"],
        content=call.body["content"],
        filename=call.body["filename"],
    )
    return Result(
        present.job(call.uow.session, job), headers={"Location": present.api_url(f"/provider/imports/{job.id}")}
    )


@operation(
    "/v1/provider/imports/{job_id}",
    "GET",
    summary="Read a catalog import job",
    tag=TAG,
    scope=PROVIDER_WRITE,
    path_params={"job_id": "id"},
    response=schemas.JobSchema(),
)
def get_import(call: Call, job_id: int) -> dict[str, Any]:
    """The job's status, and its result or problems once finished."""
    return present.job(call.uow.session, jobs.get_job(call.uow, call.caller.user, job_id))
