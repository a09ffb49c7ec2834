"""In Chromium: the listing editor's modality toggle, the new API key's copy button, and the upload page that
follows a file's verification (and asks before uploading an empty file)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from marketplace.accounts.models import OrgKind, Role
from marketplace.catalog.vocab import VersionStatus
from marketplace.delivery.models import FileUpload, UploadStatus
from tests import factories
from tests.factories import PASSWORD, DatasetFactory, DatasetVersionFactory, OrganisationFactory, member

pytestmark = pytest.mark.e2e


def _arrange(live_server) -> dict[str, int]:  # type: ignore[no-untyped-def]
    session = live_server.app.extensions["marketplace.db"].session()
    factories.bind(session)
    provider = OrganisationFactory(slug="aurora", name="Aurora Audio", kind=OrgKind.PROVIDER)
    admin = member(provider, Role.ADMIN, email="admin@example.org")
    dataset = DatasetFactory(organisation=provider, slug="aurora-speech", title="Aurora Speech")
    DatasetVersionFactory(dataset=dataset, version="1.0.0", status=VersionStatus.PUBLISHED)
    draft = DatasetVersionFactory(dataset=dataset, version="1.1.0")
    session.commit()
    ids = {"user": admin.id, "dataset": dataset.id, "draft": draft.id}
    session.close()
    return ids


def _log_in(page, live_server) -> None:  # type: ignore[no-untyped-def]
    page.goto(live_server.url + "/login")
    page.get_by_label("E-mail address").fill("admin@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_test_id("nav-account").wait_for()


def test_choosing_a_modality_shows_only_its_fields(page, live_server) -> None:
    _arrange(live_server)
    _log_in(page, live_server)
    page.goto(live_server.url + "/datasets/aurora-speech/edit/modality")
    groups = {key: page.get_by_test_id(f"modality-{key}") for key in ("text", "image", "video", "audio", "sensor")}
    page.get_by_label("Modality").select_option("audio")
    expect(groups["audio"]).to_be_visible()
    for key in ("text", "image", "video", "sensor"):
        expect(groups[key]).to_be_hidden()
    page.locator("#f-modality_details-audio-hours").fill("12")
    page.get_by_label("Modality").select_option("multimodal")
    for group in groups.values():
        expect(group).to_be_visible()
    page.get_by_label("Modality").select_option("audio")
    page.get_by_role("button", name=re.compile("^Save$")).click()
    expect(page.get_by_text("Modality saved.")).to_be_visible()
    expect(groups["audio"]).to_be_visible()
    expect(groups["text"]).to_be_hidden()


def test_a_new_api_key_is_copied_with_its_button(page, live_server) -> None:
    _arrange(live_server)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    _log_in(page, live_server)
    page.goto(live_server.url + "/settings/api")
    page.locator("#key-name").fill("notebook")
    page.locator("#key-scope-1").check()
    page.get_by_role("button", name="Create key").click()
    secret = page.get_by_test_id("secret-value").inner_text().strip()
    button = page.get_by_role("button", name="Copy the key")
    button.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Copied to the clipboard.")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == secret
    # The key itself stays selectable by hand.
    assert page.get_by_test_id("secret-value").evaluate("el => getComputedStyle(el).userSelect") in {
        "all",
        "auto",
        "text",
    }


def test_the_upload_page_updates_when_verification_finishes_and_asks_before_an_empty_file(
    page, live_server, tmp_path: Path
) -> None:
    ids = _arrange(live_server)
    session = live_server.app.extensions["marketplace.db"].session()
    row = FileUpload(
        version_id=ids["draft"], path="data/big.bin", size_bytes=10, status=UploadStatus.VERIFYING,
        created_by_id=ids["user"], storage_key="datasets/x/big.bin",
    )  # fmt: skip
    session.add(row)
    session.commit()
    _log_in(page, live_server)
    page.goto(live_server.url + "/datasets/aurora-speech/versions/1.1.0/upload")
    expect(page.get_by_test_id("upload-verifying")).to_be_visible()

    row = session.get(FileUpload, row.id)
    row.status, row.error = UploadStatus.FAILED, "data/big.bin: the file's SHA-256 differs from the manifest."
    session.add(row)
    session.commit()
    session.close()
    expect(page.get_by_test_id("upload-verifying")).to_have_count(0, timeout=20_000)  # the page reloaded itself
    expect(page.get_by_test_id("upload-table")).to_contain_text("Failed")

    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    page.get_by_test_id("upload-input").set_input_files(str(empty))
    page.get_by_test_id("upload-start").click()
    expect(page.get_by_test_id("upload-list")).to_contain_text("the file is empty")
    page.get_by_label("Upload an empty file").check()
    page.get_by_test_id("upload-start").click()
    expect(page.get_by_test_id("upload-list")).not_to_contain_text("the file is empty", timeout=20_000)
