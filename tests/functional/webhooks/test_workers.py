"""Delivery workers with real commits: several at once deliver each delivery exactly once.

Runs on a scratch database (PostgreSQL when ``TEST_DATABASE_URL`` is set, SQLite otherwise), one app per simulated
process, as under gunicorn.
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlmodel import select

from marketplace import create_app, migrate
from marketplace.accounts.models import Membership, Organisation, OrgKind, Role, User
from marketplace.db import unit_of_work, utcnow
from marketplace.events import emit
from marketplace.webhooks import services as svc
from marketplace.webhooks.models import WebhookDelivery
from tests.conftest import base_settings, drop_scratch_database, scratch_database_url

EVENTS = 30
WORKERS = 4


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    path = tmp_path_factory.mktemp("webhook-workers")
    url = scratch_database_url(path, "webhook_workers")
    migrate.upgrade(url)
    yield path, url
    drop_scratch_database(url)


def _app(scratch, **overrides):
    path, url = scratch
    settings = base_settings(path, url)
    settings.update(overrides)
    return create_app(settings)


def _arrange(app, url: str, slug: str) -> int:
    database, context = app.extensions["marketplace.db"], app.extensions["marketplace.context"]
    with unit_of_work(database, context) as uow:
        admin = User(email=f"admin@{slug}.test", password_hash="x", email_verified_at=utcnow())
        org = Organisation(slug=slug, name=slug.title(), kind=OrgKind.BUYER)
        uow.session.add_all([admin, org])
        uow.session.flush()
        uow.session.add(Membership(organisation_id=org.id, user_id=admin.id, role=Role.ADMIN))
        uow.session.flush()
        svc.create_endpoint(uow, admin, org, url=url, events=["license.issued"])
        assert org.id is not None
        return org.id


def test_several_workers_deliver_each_delivery_exactly_once(scratch, receiver) -> None:
    apps = [_app(scratch, WEBHOOK_CONCURRENCY=3) for _ in range(WORKERS)]
    try:
        org_id = _arrange(apps[0], receiver.url + "/many", "many")
        database, context = apps[0].extensions["marketplace.db"], apps[0].extensions["marketplace.context"]
        for n in range(EVENTS):
            with unit_of_work(database, context) as uow:
                emit(uow, "license.issued", {"license_id": f"L{n}"}, audience=[org_id])
        start = threading.Barrier(WORKERS)
        errors: list[BaseException] = []

        def work(app) -> None:
            dispatcher = app.extensions["marketplace.context"].webhooks
            try:
                start.wait()
                while dispatcher.deliver_due():
                    pass
            except BaseException as error:
                errors.append(error)

        threads = [threading.Thread(target=work, args=(app,)) for app in apps]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not errors, errors
        counts = Counter(r.headers["Marketplace-Delivery"] for r in receiver.at("/many"))
        assert len(counts) == EVENTS and set(counts.values()) == {1}
        session = database.session()
        rows = session.exec(select(WebhookDelivery)).all()
        assert {(r.status, r.attempts) for r in rows} == {("delivered", 1)}
        session.close()
    finally:
        for app in apps:
            app.extensions["marketplace.db"].dispose()
