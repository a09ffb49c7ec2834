"""Appends from several threads at once, each in its own committed transaction (as under gunicorn): every chain
still verifies, with no gap and no duplicate. PostgreSQL when ``TEST_DATABASE_URL`` is set, SQLite otherwise."""

from __future__ import annotations

import threading

import pytest

from marketplace import audit, create_app, migrate
from marketplace.accounts.models import Organisation, OrgKind
from marketplace.audit import service
from marketplace.audit.signing import verify_export
from marketplace.db import unit_of_work
from tests.conftest import base_settings, drop_scratch_database, scratch_database_url

THREADS = 8
APPENDS = 15


@pytest.fixture()
def live_app(tmp_path):  # type: ignore[no-untyped-def]
    url = scratch_database_url(tmp_path, "audit")
    migrate.upgrade(url)
    app = create_app(base_settings(tmp_path, url))
    yield app
    app.extensions["marketplace.db"].dispose()
    drop_scratch_database(url)


def test_concurrent_appends_keep_every_chain_whole(live_app) -> None:  # type: ignore[no-untyped-def]
    database = live_app.extensions["marketplace.db"]
    context = live_app.extensions["marketplace.context"]
    with unit_of_work(database, context) as uow:
        orgs = [Organisation(slug=s, name=s, kind=OrgKind.BUYER) for s in ("alpha", "beta")]
        uow.session.add_all(orgs)
        uow.session.flush()
        ids = [o.id for o in orgs]
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def worker(number: int) -> None:
        try:
            barrier.wait()
            for n in range(APPENDS):
                # Every third append concerns both organisations, named in either order.
                targets = ids if n % 3 == 0 else [ids[number % 2]]
                if number % 2:
                    targets = list(reversed(targets))
                with unit_of_work(database, context) as uow:
                    audit.append(uow, organisation_ids=targets, kind="test.concurrent", subject_type="thread",
                                 subject_id=number, actor="system", data={"n": n})  # fmt: skip
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    both = THREADS * len(range(0, APPENDS, 3))
    single = THREADS * APPENDS - both
    with unit_of_work(database, context) as uow:
        for org_id in ids:
            org = uow.session.get(Organisation, org_id)
            assert org is not None
            verdict = service.check_chain(uow.session, org)
            assert verdict.ok, verdict.describe()
            assert verdict.count == both + single // 2
            exported = verify_export(service.export_chain(uow, org), context.keyring.public_jwks())
            assert exported.ok and (exported.count, exported.head) == (verdict.count, verdict.head)
