"""A catalog import through the API on a live server: the job is queued in the request, runs on the job queue
(in process, as in development) after the commit, and its status resource ends ``succeeded``."""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

import pytest

from marketplace.accounts.models import Membership, Organisation, OrgKind, Role, User
from marketplace.apikeys import services as keys
from marketplace.db import unit_of_work, utcnow

pytestmark = pytest.mark.e2e


def _call(url: str, key: str, method: str = "GET", body: Any = None) -> tuple[int, Any, dict[str, str]]:
    request = urllib.request.Request(
        url,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, json.load(response), dict(response.headers)


def test_an_import_job_runs_after_the_request(live_server) -> None:
    app = live_server.app
    with unit_of_work(app.extensions["marketplace.db"], app.extensions["marketplace.context"]) as uow:
        user = User(email="maker@example.org", password_hash="x", email_verified_at=utcnow())
        org = Organisation(slug="makers", name="Makers", kind=OrgKind.PROVIDER)
        uow.session.add_all([user, org])
        uow.session.flush()
        uow.session.add(Membership(organisation_id=org.id, user_id=user.id, role=Role.ADMIN))  # type: ignore[arg-type]
        uow.session.flush()
        _row, key = keys.create_key(uow, user, name="jobs", scopes=["provider:write"], organisation=org)
    rows = "\n".join(json.dumps({"external_id": f"x-{n}", "title": f"Listing number {n}"}) for n in range(25))
    status, job, headers = _call(
        live_server.url + "/api/v1/provider/imports", key, "POST", {"format": "jsonl", "content": rows}
    )
    assert status == 202 and job["status"] in ("queued", "running", "succeeded")
    deadline = time.monotonic() + 30
    while job["status"] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.2)
        job = _call(headers["Location"], key)[1]
    assert job["status"] == "succeeded", job
    assert len(job["result"]["created"]) == 25
    listed = _call(live_server.url + "/api/v1/provider/datasets?limit=100", key)[1]["data"]
    assert len(listed) == 25
