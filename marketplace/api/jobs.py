"""Long API tasks (catalog imports): the API job is the status resource, the job queue runs it.

``POST /api/v1/provider/imports`` stores an :class:`~marketplace.apikeys.models.ApiJob` row (``queued``) and a
background job (:data:`~marketplace.jobs.models.JobKind.CATALOG_IMPORT`) in the request's transaction; a worker
runs :func:`run_import`, which commits the imported listings and the API job's outcome together.
``GET /api/v1/provider/imports/{id}`` is its status resource.

The job acts exactly as the request that started it: the same user, under the same delegation (an organisation
credential's limits), with the catalog import's own permission check.
"""

from __future__ import annotations

import logging
from typing import Any

from marketplace.accounts.models import Organisation, User
from marketplace.apikeys.models import ApiJob, JobStatus
from marketplace.apikeys.services import Principal, as_api_caller
from marketplace.catalog import importer
from marketplace.catalog import services as catalog
from marketplace.db import UnitOfWork
from marketplace.errors import DomainError, NotFound, PermissionDenied
from marketplace.jobs.models import JobKind
from marketplace.jobs.queue import enqueue
from marketplace.permissions import Action, delegated, require

log = logging.getLogger(__name__)

CATALOG_IMPORT = "catalog_import"
IMPORT_ATTEMPTS = 3  # an import that crashes three times is given up (and its API job marked failed)


def enqueue_import(
    uow: UnitOfWork, principal: Principal, organisation: str, *, fmt: str, content: str, filename: str = ""
) -> ApiJob:
    """Queue a catalog import for ``organisation`` (checked now, and again when it runs)."""
    org = catalog.provider_organisation(uow, principal.user, organisation)
    job = ApiJob(
        kind=CATALOG_IMPORT,
        organisation_id=org.id,  # type: ignore[arg-type]
        created_by_id=principal.user.id,
        api_key_id=principal.api_key_id,
        oauth_client_id=principal.credential_id if principal.kind == "oauth_client" else None,
        input={
            "format": fmt,
            "filename": filename,
            "content": content,
            "delegated_organisation_id": principal.organisation_id,
        },
        created_at=uow.now(),
    )
    uow.session.add(job)
    uow.session.flush()
    assert job.id is not None
    enqueue(uow, JobKind.CATALOG_IMPORT, {"api_job_id": job.id}, max_attempts=IMPORT_ATTEMPTS)
    return job


def get_job(uow: UnitOfWork, user: User, job_id: int) -> ApiJob:
    """The job, for members who may edit its organisation's listings; others get 404."""
    job = uow.session.get(ApiJob, job_id)
    org = uow.session.get(Organisation, job.organisation_id) if job is not None else None
    if job is None or org is None:
        raise NotFound(message="No such job.")
    try:
        require(uow.session, user, Action.DATASET_EDIT, org)
    except PermissionDenied as error:
        raise NotFound(message="No such job.") from error
    return job


def run_import(work: UnitOfWork, payload: dict[str, Any]) -> None:
    """The catalog-import job: run the import the API job describes and store its outcome on it, in ``work``.

    All-or-nothing with its own record: the listings and the job's "succeeded" are committed together, so a worker
    killed mid-import leaves nothing and the import runs again. A job already finished is left alone.
    """
    job = work.session.get(ApiJob, int(payload["api_job_id"]))
    if job is None or job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
        return
    job.status = JobStatus.RUNNING
    job.started_at = job.started_at or work.now()
    try:
        _execute(work, job)
        job.status = JobStatus.SUCCEEDED
    except DomainError as error:
        job.status = JobStatus.FAILED
        job.error = error.message[:2000]
        job.result = {"problems": [d.to_dict() for d in error.details][:1000]}
    _finish(work, job)


def fail_import(work: UnitOfWork, payload: dict[str, Any], reason: str) -> None:
    """Mark the API job failed when its background job is given up (every attempt crashed)."""
    job = work.session.get(ApiJob, int(payload["api_job_id"]))
    if job is None or job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
        return
    job.status = JobStatus.FAILED
    job.error = "The import failed on our side; it has been logged."
    _finish(work, job)


def _finish(work: UnitOfWork, job: ApiJob) -> None:
    """Record the end of ``job``; the imported file is not kept once it is done."""
    job.finished_at = work.now()
    job.input = {k: v for k, v in job.input.items() if k != "content"}
    work.session.add(job)


def _execute(work: UnitOfWork, job: ApiJob) -> None:
    stored = work.session.get(User, job.created_by_id) if job.created_by_id is not None else None
    org = work.session.get(Organisation, job.organisation_id)
    if stored is None or org is None:
        raise PermissionDenied(message="The account that started this job no longer exists.")
    data: dict[str, Any] = dict(job.input)
    with delegated(data.get("delegated_organisation_id")), work.session.begin_nested():
        report = importer.import_catalog(
            work,
            as_api_caller(stored),
            organisation=org.slug,
            data=str(data.get("content", "")).encode("utf-8"),
            filename=str(data.get("filename") or ""),
            fmt=str(data.get("format") or "") or None,
        )
    job.result = {
        "summary": report.summary(),
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
    }
