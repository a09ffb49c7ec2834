"""The dead-letter view: only platform admins see jobs or retry them; a retry runs the job again."""

from __future__ import annotations

from sqlmodel import Session

from marketplace.accounts.models import Role
from marketplace.jobs.models import BackgroundJob, JobKind, JobState
from tests.factories import PASSWORD, OrganisationFactory, UserFactory, member
from tests.helpers import csrf_token, log_in

from .conftest import Flaky


def _dead_job(db_session: Session) -> BackgroundJob:
    job = BackgroundJob(
        kind=JobKind.PURGE_EXPIRED, state=JobState.DEAD, attempts=5, last_error="RuntimeError: the mail server said no"
    )
    db_session.add(job)
    db_session.flush()
    return job


def test_only_platform_admins_see_the_dead_letter_view_or_retry(client, db_session, flaky: Flaky) -> None:
    job = _dead_job(db_session)
    UserFactory(email="ops@example.org", is_platform_admin=True)
    member(OrganisationFactory(), Role.OWNER, email="owner@example.org")
    UserFactory(email="someone@example.org")
    db_session.flush()
    retry = f"/admin/jobs/{job.id}/retry"

    anonymous = client.get("/admin/jobs")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    for email in ("someone@example.org", "owner@example.org"):
        log_in(client, email, PASSWORD)
        assert client.get("/admin/jobs").status_code == 403
        token = csrf_token(client, "/settings")
        assert client.post(retry, data={"csrf_token": token}).status_code == 403
        client.post("/logout", data={"csrf_token": token})
    db_session.expire_all()
    assert db_session.get(BackgroundJob, job.id).state is JobState.DEAD  # type: ignore[union-attr]
    assert flaky.runs == []

    log_in(client, "ops@example.org", PASSWORD)
    page = client.get("/admin/jobs").get_data(as_text=True)
    assert f'data-job-id="{job.id}"' in page and "the mail server said no" in page
    token = csrf_token(client, "/admin/jobs")
    response = client.post(retry, data={"csrf_token": token})
    assert response.status_code == 302
    db_session.expire_all()
    assert db_session.get(BackgroundJob, job.id).state is JobState.SUCCEEDED  # type: ignore[union-attr]
    assert flaky.runs == [{}]
    assert client.post("/admin/jobs/999999/retry", data={"csrf_token": token}).status_code == 404
    # Retrying what is not dead is refused in the user's words, not a 500.
    again = client.post(retry, data={"csrf_token": token})
    assert again.status_code == 409
