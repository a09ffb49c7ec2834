"""The README's API examples (curl + jq, the Python client, and its command line), extracted and run against a live
server: search → buy with sandbox payments → download and verify; plus the documentation page in Chromium under the
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
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from marketplace.accounts.models import Membership, Organisation, OrgKind, Role, User
from marketplace.apikeys import services as keys
from marketplace.catalog.manifest import compute_manifest_digest
from marketplace.catalog.models import Dataset, DatasetFile, DatasetVersion
from marketplace.catalog.vocab import DatasetStatus, VersionStatus
from marketplace.db import unit_of_work, utcnow
from marketplace.licenses import services as licenses
from marketplace.licenses.models import Grant
from marketplace.orders.models import Order
from tests.e2e.a11y import assert_accessible

pytestmark = pytest.mark.e2e

README = Path(__file__).resolve().parents[2] / "README.md"
CONTENT = b"id,transcript\n1,hello world\n2,good morning\n"


def examples() -> dict[str, str]:
    """The code blocks marked ``<!-- api-example:NAME -->`` in the README."""
    text = README.read_text(encoding="utf-8")
    found = dict(re.findall(r"<!-- api-example:(\w+) -->\n```\w+\n(.*?)```", text, flags=re.DOTALL))
    assert set(found) == {"curl", "python", "cli"}, set(found)
    return found


SCOPES = ["catalog:read", "orders:write", "licenses:read", "downloads"]


def _listing(uow: Any, seller: User, provider: Organisation, slug: str, *, stored: bool, age_days: int) -> None:
    """A published speech listing with one file (in storage when ``stored``) and a paid offer."""
    session = uow.session
    published = utcnow() - timedelta(days=age_days)
    dataset = Dataset(
        slug=slug,
        organisation_id=provider.id,  # type: ignore[arg-type]
        title=f"Call-centre speech {slug}",
        summary="Transcribed speech",
        status=DatasetStatus.PUBLISHED,
        published_at=published,
    )
    session.add(dataset)
    session.flush()
    version = DatasetVersion(
        dataset_id=dataset.id,  # type: ignore[arg-type]
        version="1.0.0",
        status=VersionStatus.PUBLISHED,
        published_at=published,
    )
    session.add(version)
    session.flush()
    key = f"datasets/{dataset.id}/versions/{version.id}/data/transcripts.csv"
    if stored:
        uow.context.storage.default.put(key, io.BytesIO(CONTENT), content_type="text/csv")
    file = DatasetFile(
        version_id=version.id,  # type: ignore[arg-type]
        path="data/transcripts.csv",
        size_bytes=len(CONTENT),
        sha256=hashlib.sha256(CONTENT).hexdigest(),
        media_type="text/csv",
        storage_key=key if stored else None,
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


def _marketplace(live_server: Any, *, downloadable: bool = True, scopes: list[str] | None = None) -> dict[str, Any]:
    """A provider with two published speech listings, each with a paid offer: the newest (first in search) only
    declares its file, the older one has it in storage (unless ``downloadable`` is false); a buyer with an API
    key."""
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
        _listing(uow, seller, provider, "call-centre-speech-declared", stored=False, age_days=1)
        _listing(uow, seller, provider, "call-centre-speech", stored=downloadable, age_days=30)
        _row, secret = keys.create_key(uow, buyer_user, name="README", scopes=scopes or SCOPES)
    return {"key": secret}


def _env(live_server: Any, key: str, **extra: str) -> dict[str, str]:
    import os

    return {**os.environ, "MARKETPLACE_URL": live_server.url, "MARKETPLACE_API_KEY": key, **extra}


def _orders(live_server: Any) -> list[Order]:
    app = live_server.app
    with unit_of_work(app.extensions["marketplace.db"], app.extensions["marketplace.context"]) as uow:
        return list(uow.session.exec(select(Order)).all())


def _run(live_server: Any, tmp_path: Path, name: str, key: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the README's ``name`` example exactly as written (the shell ones with the virtualenv's commands first on
    the PATH, as after ``make install``)."""
    import os

    shell = name != "python"
    script = tmp_path / ("example.sh" if shell else "example.py")
    script.write_text(examples()[name], encoding="utf-8")
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return subprocess.run(
        ["bash", str(script)] if shell else [sys.executable, str(script)],
        cwd=tmp_path,
        env=_env(live_server, key, PATH=path, **env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _first_hit(live_server: Any, key: str) -> str:
    request = urllib.request.Request(
        live_server.url + "/api/v1/datasets?facets=false", headers={"Authorization": f"Bearer {key}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return str(json.load(response)["data"][0]["slug"])


needs_curl = pytest.mark.skipif(not (shutil.which("curl") and shutil.which("jq")), reason="needs curl and jq")
EXAMPLES = [pytest.param("curl", marks=needs_curl), "python"]


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_example_buys_the_downloadable_listing_and_downloads(live_server, tmp_path, name) -> None:
    data = _marketplace(live_server)
    # The listing that only declares its file comes first: the example must look past it.
    assert _first_hit(live_server, data["key"]) == "call-centre-speech-declared"
    done = _run(live_server, tmp_path, name, data["key"])
    assert done.returncode == 0, done.stdout + done.stderr
    if name == "curl":
        assert "transcripts.csv: OK" in done.stdout and "1 file(s) downloaded and verified" in done.stdout
        assert (tmp_path / "transcripts.csv").read_bytes() == CONTENT
    else:
        assert "downloaded and verified data/transcripts.csv" in done.stdout and "certificate valid" in done.stdout
        assert (tmp_path / "data" / "transcripts.csv").read_bytes() == CONTENT
    assert [o.status for o in _orders(live_server)] == ["paid"]


def test_the_command_line_example_downloads_and_verifies_a_licensed_listing(live_server, tmp_path) -> None:
    data = _marketplace(live_server)
    (tmp_path / "buy").mkdir()
    bought = _run(live_server, tmp_path / "buy", "python", data["key"])
    assert bought.returncode == 0, bought.stdout + bought.stderr
    app = live_server.app
    with unit_of_work(app.extensions["marketplace.db"], app.extensions["marketplace.context"]) as uow:
        [license_id] = [grant.id for grant in uow.session.exec(select(Grant)).all()]
    done = _run(live_server, tmp_path, "cli", data["key"], SLUG="call-centre-speech", LICENSE_ID=license_id)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "data" / "data" / "transcripts.csv").read_bytes() == CONTENT
    assert f"{hashlib.sha256(CONTENT).hexdigest()}  data/data/transcripts.csv" in done.stdout
    assert f"valid: license {license_id}" in done.stdout


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_example_fails_when_nothing_can_be_downloaded(live_server, tmp_path, name) -> None:
    data = _marketplace(live_server, downloadable=False)
    done = _run(live_server, tmp_path, name, data["key"])
    assert done.returncode != 0, done.stdout + done.stderr
    assert "no listing with a paid offer has its files in storage" in done.stderr
    assert not (tmp_path / "transcripts.csv").exists() and _orders(live_server) == []


def test_the_python_example_prints_the_api_error(live_server, tmp_path) -> None:
    data = _marketplace(live_server, scopes=["catalog:read", "licenses:read", "downloads"])  # may not order
    done = _run(live_server, tmp_path, "python", data["key"])
    assert done.returncode != 0
    assert "Traceback" not in done.stderr, done.stderr
    assert "POST /api/v1/orders failed (403 insufficient_scope): " in done.stderr, done.stderr
    assert "orders:write" in done.stderr


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


HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def test_the_documentation_page_renders_under_the_csp(live_server, page) -> None:
    with urllib.request.urlopen(live_server.url + "/api/v1/openapi.json", timeout=30) as response:
        document = json.load(response)
    operations = sum(1 for item in document["paths"].values() for method in item if method in HTTP_METHODS)
    assert operations >= 40
    page.goto(live_server.url + "/api/docs")
    page.wait_for_selector("text=Dataset Marketplace API")
    page.wait_for_selector('[data-path="/api/v1/orders"]')
    # Every operation is in the page at once (none left out of a virtualised list until scrolled to), whatever the
    # size of the API.
    expect(page.locator(".opblock")).to_have_count(operations)
    assert page.locator(".operations-virtual").count() == 0
    # Expanding an operation renders its parameters, schemas and highlighted examples, still within the CSP.
    page.locator('[data-path="/api/v1/orders"]').first.click()
    page.wait_for_selector(".opblock-body .responses-wrapper")
    assert_accessible(page)  # the expanded operation too, not only the page as first rendered
