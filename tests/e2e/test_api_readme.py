"""The README's API examples (curl + jq, and Python's standard library), extracted and run against a live server:
search → buy with sandbox payments → download and verify; plus the documentation page in Chromium under the
site's CSP, and concurrent duplicates of one idempotent order on a real database."""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from marketplace.accounts.models import Membership, Organisation, OrgKind, Role, User
from marketplace.apikeys import services as keys
from marketplace.catalog.manifest import compute_manifest_digest
from marketplace.catalog.models import Dataset, DatasetFile, DatasetVersion
from marketplace.catalog.vocab import DatasetStatus, VersionStatus
from marketplace.db import unit_of_work, utcnow
from marketplace.licenses import services as licenses
from marketplace.orders.models import Order

pytestmark = pytest.mark.e2e

README = Path(__file__).resolve().parents[2] / "README.md"
CONTENT = b"id,transcript\n1,hello world\n2,good morning\n"


def examples() -> dict[str, str]:
    """The code blocks marked ``<!-- api-example:NAME -->`` in the README."""
    text = README.read_text(encoding="utf-8")
    found = dict(re.findall(r"<!-- api-example:(\w+) -->\n```\w+\n(.*?)```", text, flags=re.DOTALL))
    assert set(found) == {"curl", "python"}, set(found)
    return found


def _marketplace(live_server: Any) -> dict[str, Any]:
    """A provider with a published speech dataset (one stored file) and a paid offer; a buyer with an API key."""
    app = live_server.app
    context = app.extensions["marketplace.context"]
    with unit_of_work(app.extensions["marketplace.db"], context) as uow:
        session = uow.session
        seller = User(email="seller@example.org", password_hash="x", email_verified_at=utcnow())
        buyer_user = User(email="buyer@example.org", password_hash="x", email_verified_at=utcnow())
        provider = Organisation(slug="northwind", name="Northwind", kind=OrgKind.PROVIDER)
        buyer = Organisation(slug="globex", name="Globex", kind=OrgKind.BUYER)
        session.add_all([seller, buyer_user, provider, buyer])
        session.flush()
        session.add_all(
            [
                Membership(organisation_id=provider.id, user_id=seller.id, role=Role.OWNER),  # type: ignore[arg-type]
                Membership(organisation_id=buyer.id, user_id=buyer_user.id, role=Role.OWNER),  # type: ignore[arg-type]
            ]
        )
        dataset = Dataset(
            slug="call-centre-speech",
            organisation_id=provider.id,
            title="Call-centre speech",  # type: ignore[arg-type]
            summary="Transcribed speech",
            status=DatasetStatus.PUBLISHED,
            published_at=utcnow(),
        )
        session.add(dataset)
        session.flush()
        version = DatasetVersion(
            dataset_id=dataset.id,
            version="1.0.0",
            status=VersionStatus.PUBLISHED,  # type: ignore[arg-type]
            published_at=utcnow(),
        )
        session.add(version)
        session.flush()
        key = f"datasets/{dataset.id}/versions/{version.id}/data/transcripts.csv"
        context.storage.default.put(key, io.BytesIO(CONTENT), content_type="text/csv")
        file = DatasetFile(
            version_id=version.id,
            path="data/transcripts.csv",
            size_bytes=len(CONTENT),  # type: ignore[arg-type]
            sha256=hashlib.sha256(CONTENT).hexdigest(),
            media_type="text/csv",
            storage_key=key,
        )
        session.add(file)
        session.flush()
        version.manifest_digest = compute_manifest_digest([file])
        version.file_count, version.total_bytes = 1, len(CONTENT)
        session.add(version)
        licenses.create_offer(
            uow,
            seller,
            dataset,
            title="Commercial training",
            license_id="LicenseRef-standard-commercial-1.0",
            price_amount=90000,
            currency="EUR",
        )
        _row, secret = keys.create_key(
            uow, buyer_user, name="README", scopes=["catalog:read", "orders:write", "licenses:read", "downloads"]
        )
    return {"key": secret}


def _env(live_server: Any, key: str) -> dict[str, str]:
    import os

    return {**os.environ, "MARKETPLACE_URL": live_server.url, "MARKETPLACE_API_KEY": key}


def _orders(live_server: Any) -> list[Order]:
    app = live_server.app
    with unit_of_work(app.extensions["marketplace.db"], app.extensions["marketplace.context"]) as uow:
        return list(uow.session.exec(select(Order)).all())


@pytest.mark.skipif(not (shutil.which("curl") and shutil.which("jq")), reason="needs curl and jq")
def test_the_curl_example_buys_and_downloads(live_server, tmp_path) -> None:
    data = _marketplace(live_server)
    script = tmp_path / "example.sh"
    script.write_text(examples()["curl"], encoding="utf-8")
    done = subprocess.run(
        ["bash", str(script)],
        cwd=tmp_path,
        env=_env(live_server, data["key"]),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "transcripts.csv: OK" in done.stdout
    assert (tmp_path / "transcripts.csv").read_bytes() == CONTENT
    assert [o.status for o in _orders(live_server)] == ["paid"]


def test_the_python_example_buys_and_downloads(live_server, tmp_path) -> None:
    data = _marketplace(live_server)
    script = tmp_path / "example.py"
    script.write_text(examples()["python"], encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=_env(live_server, data["key"]),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "downloaded and verified data/transcripts.csv" in done.stdout
    assert (tmp_path / "transcripts.csv").read_bytes() == CONTENT
    assert [o.status for o in _orders(live_server)] == ["paid"]


def test_concurrent_duplicates_of_one_idempotent_order_create_one(live_server) -> None:
    data = _marketplace(live_server)
    headers = {"Authorization": f"Bearer {data['key']}", "Content-Type": "application/json"}

    def call(method: str, path: str, body: Any = None, **extra: str) -> tuple[int, Any]:
        request = urllib.request.Request(
            live_server.url + path,
            method=method,
            headers={**headers, **extra},
            data=json.dumps(body).encode() if body is not None else None,
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as error:
            return error.code, json.load(error)

    offer = call("GET", "/api/v1/datasets/call-centre-speech/offers")[1]["data"][0]
    body = {"licensee": "globex", "lines": [{"offer_id": offer["id"], "accepted_terms_hash": offer["terms_hash"]}]}
    results: list[tuple[int, Any]] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        results.append(call("POST", "/api/v1/orders", body, **{"Idempotency-Key": "same-order-at-once"}))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(_orders(live_server)) == 1
    created = [payload["id"] for status, payload in results if status == 201]
    assert created and set(created) == {_orders(live_server)[0].id}
    # Any request that met the first one still in flight was told to retry, never given a second order.
    for status, payload in results:
        assert status == 201 or (status == 409 and payload["error"]["code"] == "idempotency_in_progress"), payload
    assert call("POST", "/api/v1/orders", body, **{"Idempotency-Key": "same-order-at-once"})[0] == 201


def test_the_documentation_page_renders_under_the_csp(live_server, page) -> None:
    page.goto(live_server.url + "/api/docs")
    page.wait_for_selector("text=Dataset Marketplace API")
    page.wait_for_selector('[data-path="/api/v1/orders"]')
    assert page.locator(".opblock").count() >= 40
    # Expanding an operation renders its parameters, schemas and highlighted examples, still within the CSP.
    page.locator('[data-path="/api/v1/orders"]').first.click()
    page.wait_for_selector(".opblock-body .responses-wrapper")
