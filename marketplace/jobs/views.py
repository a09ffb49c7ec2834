"""The administrators' view of background jobs: the dead-letter list with a Retry button, and the other states."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from marketplace.jobs import admin
from marketplace.jobs.models import JobState
from marketplace.jobs.queue import count_by_state
from marketplace.web import login_required, require_user, uow

bp = Blueprint("jobs", __name__, url_prefix="/admin/jobs")


@bp.get("")
@login_required
def index() -> str:
    """Jobs in one state (dead by default: the ones waiting for an administrator), newest first."""
    try:
        state = JobState(request.args.get("state", JobState.DEAD.value))
    except ValueError:
        state = JobState.DEAD
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    rows, total = admin.list_jobs(uow().session, require_user(), state, page=page)
    depth = count_by_state(uow().session)  # in the request's transaction (SQLite allows one writer at a time)
    return render_template(
        "jobs/index.html",
        rows=rows,
        total=total,
        state=state,
        states=list(JobState),
        depth=depth,
        page=page,
        page_size=admin.PAGE_SIZE,
    )


@bp.post("/<int:job_id>/retry")
@login_required
def retry(job_id: int) -> Response:
    """Send a dead job round again."""
    job = admin.retry_dead(uow(), require_user(), job_id)
    flash(f"Job {job.id} ({job.kind.value.replace('_', ' ')}) was queued again.", "success")
    return redirect(url_for("jobs.index"))
