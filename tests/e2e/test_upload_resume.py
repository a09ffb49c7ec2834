"""In Chromium: a 200 MB file goes up as a multipart upload with visible progress, is cut off part-way, resumes
after a page reload with only the missing parts, is verified by the server (size and SHA-256) and published."""

from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path

import pytest
from sqlmodel import select

import storage
from marketplace.accounts.models import OrgKind, Role
from marketplace.catalog.models import DatasetFile, DatasetVersion
from marketplace.catalog.vocab import VersionStatus
from marketplace.delivery.models import FileUpload
from tests import factories
from tests.factories import PASSWORD, DatasetFactory, DatasetVersionFactory, OrganisationFactory, member

pytestmark = pytest.mark.e2e

MiB = 1024 * 1024
SIZE = 200 * MiB
PARTS_BEFORE_CUT = 4


def _big_file(path: Path) -> str:
    """200 MB of a cheap deterministic pattern (each MiB differs), written in chunks; returns its SHA-256."""
    digest = hashlib.sha256()
    block = bytes(range(256)) * 4096
    with path.open("wb") as handle:
        for index in range(SIZE // MiB):
            chunk = index.to_bytes(8, "big") + block[8:]
            digest.update(chunk)
            handle.write(chunk)
    return digest.hexdigest()


def _arrange(live_server) -> None:  # type: ignore[no-untyped-def]
    session = live_server.app.extensions["marketplace.db"].session()
    factories.bind(session)
    provider = OrganisationFactory(slug="aurora", name="Aurora Audio", kind=OrgKind.PROVIDER)
    member(provider, Role.MEMBER, email="uploader@example.org")
    dataset = DatasetFactory(organisation=provider, slug="aurora-speech", title="Aurora Speech")
    DatasetVersionFactory(dataset=dataset, version="1.0.0", status=VersionStatus.PUBLISHED)
    DatasetVersionFactory(dataset=dataset, version="1.1.0")
    session.commit()
    session.close()


def _progress(page, testid: str) -> float:  # type: ignore[no-untyped-def]
    return float(page.get_by_test_id(testid).evaluate("el => el.value"))


def test_200mb_multipart_upload_resumes_after_reload_and_publishes(page, live_server, tmp_path) -> None:
    started = time.monotonic()
    _arrange(live_server)
    big = tmp_path / "speech-200mb.bin"
    big_sha = _big_file(big)
    small = tmp_path / "README.txt"
    small.write_text("Aurora speech corpus, release 1.1.0\n")

    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(live_server.url + "/login")
    page.get_by_label("E-mail address").fill("uploader@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_test_id("nav-account").wait_for()
    page.goto(live_server.url + "/datasets/aurora-speech/versions/1.1.0/upload")

    # Let a few parts through, then cut the connection to storage for every later part.
    let_through = {"count": 0}

    def cut_after_some_parts(route) -> None:  # type: ignore[no-untyped-def]
        if route.request.method != "PUT":
            route.continue_()
        elif let_through["count"] < PARTS_BEFORE_CUT:
            let_through["count"] += 1
            route.continue_()
        else:
            route.abort("connectionreset")

    page.route(re.compile(r".*/storage/o/.*"), cut_after_some_parts)
    page.get_by_test_id("upload-input").set_input_files(str(big))
    page.get_by_test_id("upload-start").click()
    page.locator('[data-testid="upload-status-0"][data-state="interrupted"]').wait_for(timeout=30_000)
    assert "interrupted" in page.get_by_test_id("upload-status-0").inner_text()
    partial = _progress(page, "upload-progress-0")
    assert 0 < partial < 100, partial
    assert 0 < _progress(page, "upload-overall") < 100
    assert "of 209.7 MB" in page.get_by_test_id("upload-overall-text").inner_text()
    page.unroute(re.compile(r".*/storage/o/.*"))

    with live_server.app.extensions["marketplace.db"].session() as session:
        row = session.exec(select(FileUpload).where(FileUpload.path == big.name)).one()
        assert row.status.value == "uploading"
        assert row.storage_session["upload_id"], "a 200 MB file is a multipart upload"
        part_count = -(-SIZE // int(row.storage_session["part_size"]))
        upload_id = row.id
        store = live_server.app.extensions["marketplace.context"].storage
        held = store.list_uploaded_parts(storage.UploadSession.from_dict(row.storage_session))
    # The parts let through reached storage; none after the cut did.
    assert [part.part_number for part in held] == list(range(1, PARTS_BEFORE_CUT + 1))

    # Reload, choose the same file (and a small one hashed in the browser), and upload again.
    page.reload()
    part_puts: list[str] = []
    page.on("request", lambda request: part_puts.append(request.url) if request.method == "PUT" else None)
    page.get_by_test_id("upload-input").set_input_files([str(big), str(small)])
    page.get_by_test_id("upload-start").click()
    page.get_by_text(re.compile(rf"resuming: {PARTS_BEFORE_CUT} of {part_count} parts already uploaded")).or_(
        page.locator('[data-testid="upload-status-0"][data-state="verified"]')
    ).first.wait_for(timeout=30_000)
    page.locator('[data-testid="upload-status-0"][data-state="verified"]').wait_for(timeout=45_000)
    page.locator('[data-testid="upload-status-1"][data-state="verified"]').wait_for(timeout=15_000)
    assert big_sha in page.get_by_test_id("upload-status-0").inner_text()
    assert _progress(page, "upload-overall") == 100
    assert "all files verified" in page.get_by_test_id("upload-overall-text").inner_text()
    # Only the parts storage did not hold were sent again (plus the small file's single PUT).
    assert len(part_puts) == part_count - PARTS_BEFORE_CUT + 1, part_puts

    page.get_by_test_id("upload-refresh").click()
    page.get_by_test_id("publish-ready").wait_for()
    assert page.get_by_test_id("upload-table").get_by_text("verified").count() == 2
    page.get_by_test_id("publish-version").click()
    page.get_by_text("Version 1.1.0 published").wait_for()

    with live_server.app.extensions["marketplace.db"].session() as session:
        version = session.exec(select(DatasetVersion).where(DatasetVersion.version == "1.1.0")).one()
        assert version.status is VersionStatus.PUBLISHED
        files = {f.path: f for f in session.exec(select(DatasetFile).where(DatasetFile.version_id == version.id))}
        assert files[big.name].sha256 == big_sha and files[big.name].size_bytes == SIZE
        assert files["README.txt"].sha256 == hashlib.sha256(small.read_bytes()).hexdigest()
        row = session.get(FileUpload, upload_id)
        assert row is not None and row.parts_done == list(range(1, part_count + 1))
        small_row = session.exec(select(FileUpload).where(FileUpload.path == "README.txt")).one()
        assert small_row.expected_sha256 == files["README.txt"].sha256  # hashed by crypto.subtle in the page
    assert time.monotonic() - started < 60
