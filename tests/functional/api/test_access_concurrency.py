"""Two reviewers approving the same access request at the same moment, through the API, give exactly one approval.

Runs with real commits on a scratch PostgreSQL database (each request its own transaction, as under gunicorn): the
request's row lock serialises the two decisions, and the second reviewer is told the request is already decided.
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlmodel import select

from marketplace import create_app, migrate
from marketplace.access import policy
from marketplace.access import requests as access_requests
from marketplace.access.models import AccessEvent, AccessRequest, Approval
from marketplace.access.states import AccessMode, RequestState
from marketplace.accounts.models import Membership, Organisation, OrgKind, Role, User
from marketplace.apikeys import services as keys
from marketplace.catalog.models import Dataset
from marketplace.catalog.vocab import DatasetStatus
from marketplace.db import unit_of_work, utcnow
from tests.conftest import base_settings, drop_scratch_database, is_postgres, scratch_database_url

pytestmark = pytest.mark.skipif(
    not is_postgres(),
    reason="SQLite allows one writer at a time, so two approvals can never overlap; the race needs PostgreSQL",
)


@pytest.fixture()
def live_app(tmp_path):  # type: ignore[no-untyped-def]
    url = scratch_database_url(tmp_path, "access_race")
    migrate.upgrade(url)
    app = create_app(base_settings(tmp_path, url))
    yield app
    app.extensions["marketplace.db"].dispose()
    drop_scratch_database(url)


def _arrange(app) -> tuple[int, list[str]]:  # type: ignore[no-untyped-def]
    """A gated dataset with a complete request, and two reviewers' keys (scope ``access:review``)."""
    database, context = app.extensions["marketplace.db"], app.extensions["marketplace.context"]
    with unit_of_work(database, context) as uow:
        s = uow.session
        people = [User(email=f"{n}@example.org", password_hash="x", email_verified_at=utcnow())
                  for n in ("seller", "reviewer", "asker")]  # fmt: skip
        provider = Organisation(slug="prov", name="Prov", kind=OrgKind.PROVIDER)
        buyer = Organisation(slug="buy", name="Buy", kind=OrgKind.BUYER)
        s.add_all([*people, provider, buyer])
        s.flush()
        s.add_all([Membership(organisation_id=provider.id, user_id=people[0].id, role=Role.OWNER),
                   Membership(organisation_id=provider.id, user_id=people[1].id, role=Role.ADMIN),
                   Membership(organisation_id=buyer.id, user_id=people[2].id, role=Role.MEMBER)])  # fmt: skip
        dataset = Dataset(slug="notes", organisation_id=provider.id, title="Notes", status=DatasetStatus.PUBLISHED,
                          published_at=utcnow())  # fmt: skip
        s.add(dataset)
        s.flush()
        policy.configure_access(uow, people[0], dataset, mode=AccessMode.GATED_MANUAL)
        request = access_requests.submit_request(
            uow, people[2], dataset, organisation_slug="buy", full_name="Asker", intended_uses=["research"],
            intended_use_text="Evaluating a clinical coding model.", country="FR",
        )  # fmt: skip
        secrets = [keys.create_key(uow, who, name="review", scopes=["access:review"])[1] for who in people[:2]]
        return request.id or 0, secrets


def test_two_reviewers_approving_at_once_give_one_approval(live_app) -> None:  # type: ignore[no-untyped-def]
    request_id, secrets = _arrange(live_app)
    barrier = threading.Barrier(len(secrets))
    answers: list[tuple[int, str]] = []
    lock = threading.Lock()

    def approve(secret: str) -> None:
        client = live_app.test_client()
        barrier.wait()
        response = client.post(
            "/api/v1/provider/access-requests/approve",
            json={"requests": [{"id": request_id}], "reason": "ok"},
            headers={"Authorization": f"Bearer {secret}"},
        )
        body = response.get_json() or {}
        with lock:
            answers.append((response.status_code, body.get("error", {}).get("code", "")))

    threads = [threading.Thread(target=approve, args=(secret,)) for secret in secrets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "an approval hung"
    assert Counter(answers) == {(200, ""): 1, (409, "illegal_transition"): 1}, answers
    with live_app.extensions["marketplace.db"].session() as s:
        assert len(s.exec(select(Approval)).all()) == 1
        assert s.get(AccessRequest, request_id).state is RequestState.APPROVED
        logged = s.exec(select(AccessEvent).where(AccessEvent.action == "approved")).all()
        assert len(logged) == 1
