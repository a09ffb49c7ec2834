"""Long API tasks (catalog imports) as jobs: a DB-backed job table, processed after the request's commit.

``POST /api/v1/provider/imports`` stores an :class:`~marketplace.apikeys.models.ApiJob` row (``queued``) in the
request's transaction and registers an after-commit callback that hands it to the application's
:class:`JobRunner` (``context.jobs``), which runs it in a background thread of the same process, in its own units
of work; ``GET /api/v1/provider/imports/{id}`` is its status resource. The row is
claimed with a conditional UPDATE (``queued → running``), so a job runs once even when ``marketplace api run-jobs``
(which picks up jobs a restarted process left queued) runs at the same time. Under ``TESTING`` a job runs
synchronously after the commit, so tests see its outcome at once.

The job acts exactly as the request that started it: the same user, under the same delegation (an organisation
credential's limits), with the catalog import's own permission check.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import sqlalchemy as sa
from flask import Flask
from sqlmodel import col, select

from marketplace.accounts.models import Organisation, User
from marketplace.api.errors import ApiErrorCode
from marketplace.apikeys.models import ApiJob, JobStatus
from marketplace.apikeys.services import Principal, as_api_caller
from marketplace.catalog import importer
from marketplace.catalog import services as catalog
from marketplace.db import Database, ServiceContext, UnitOfWork, unit_of_work
from marketplace.errors import DomainError, NotFound, PermissionDenied, ServiceUnavailable
from marketplace.permissions import Action, delegated, require

log = logging.getLogger(__name__)

CATALOG_IMPORT = "catalog_import"


class JobRunner:
    """Runs the queued API jobs of one application: in a daemon thread, or right after the commit when
    ``synchronous`` (tests), so the caller sees the outcome at once."""

    def __init__(self, app: Flask, *, synchronous: bool = False) -> None:
        self.app = app
        self.synchronous = synchronous

    def submit(self, job_id: int) -> None:
        """Run job ``job_id`` (it must be committed as ``queued``); a job already claimed elsewhere is skipped."""
        if self.synchronous:
            run_job(self.app, job_id)
        else:
            threading.Thread(target=run_job, args=(self.app, job_id), daemon=True).start()

    def run_queued(self) -> int:
        """Run every job still queued (after a restart, say), one after the other; returns how many."""
        return run_queued(self.app)


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
    job_id = job.id
    runner = uow.context.jobs
    if runner is None:
        raise ServiceUnavailable(
            message="Background jobs are not set up on this server.", code=ApiErrorCode.JOBS_NOT_CONFIGURED
        )
    uow.after_commit(lambda: runner.submit(job_id))
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


def _claim(database: Database, context: ServiceContext, job_id: int) -> bool:
    with unit_of_work(database, context) as work:
        result = work.session.execute(
            sa.update(ApiJob)
            .where(col(ApiJob.id) == job_id, col(ApiJob.status) == JobStatus.QUEUED)
            .values(status=JobStatus.RUNNING, started_at=work.now())
        )
        return bool(getattr(result, "rowcount", 0))


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


def run_job(app: Flask, job_id: int) -> None:
    """Claim and run one queued job; its outcome (result or error) is stored on the row."""
    database: Database = app.extensions["marketplace.db"]
    context: ServiceContext = app.extensions["marketplace.context"]
    with app.app_context():
        if not _claim(database, context, job_id):
            return
        with unit_of_work(database, context) as work:
            job = work.session.get(ApiJob, job_id)
            assert job is not None
            try:
                _execute(work, job)
                job.status = JobStatus.SUCCEEDED
            except DomainError as error:
                job.status = JobStatus.FAILED
                job.error = error.message[:2000]
                job.result = {"problems": [d.to_dict() for d in error.details][:1000]}
            except Exception:
                log.exception("API job %s failed", job_id)
                job.status = JobStatus.FAILED
                job.error = "The job failed on our side; it has been logged."
            job.finished_at = work.now()
            job.input = {k: v for k, v in job.input.items() if k != "content"}  # the file is not kept once done
            work.session.add(job)


def run_queued(app: Flask) -> int:
    """Run every job still queued (after a restart, say); returns how many were started."""
    database: Database = app.extensions["marketplace.db"]
    context: ServiceContext = app.extensions["marketplace.context"]
    with unit_of_work(database, context) as work:
        ids = list(work.session.exec(select(ApiJob.id).where(ApiJob.status == JobStatus.QUEUED)).all())
    for job_id in ids:
        if job_id is not None:
            run_job(app, job_id)
    return len(ids)
