"""In Chromium: a provider imports a Croissant document as OpenML publishes it (files with an MD5 only, no SHA-256
or size) on the import page: a broken copy first, whose problems are named by their place in the document, then
the document itself → the draft's page shows its data schema (the record sets) and the declared files, to be
uploaded."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

from marketplace.accounts.models import OrgKind, Role
from marketplace.db import unit_of_work
from tests import factories
from tests.factories import PASSWORD, OrganisationFactory, member

pytestmark = pytest.mark.e2e

DOCUMENT = Path(__file__).resolve().parents[1] / "data" / "croissant" / "openml-arff-md5.json"


def _arrange(live_server) -> None:  # type: ignore[no-untyped-def]
    app = live_server.app
    with unit_of_work(app.extensions["marketplace.db"], app.extensions["marketplace.context"]) as uow:
        factories.bind(uow.session)
        org = OrganisationFactory(slug="open-credit", name="Open Credit Data", kind=OrgKind.PROVIDER)
        member(org, Role.ADMIN, email="olu@credit.example", display_name="Olu")


def test_import_a_croissant_document_and_read_the_draft(page, live_server) -> None:  # type: ignore[no-untyped-def]
    _arrange(live_server)
    base = live_server.url
    page.goto(base + "/login")
    page.get_by_label("E-mail address").fill("olu@credit.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_test_id("nav-account").wait_for()
    page.get_by_role("link", name="Your datasets").click()
    page.get_by_role("link", name="Import a catalog").click()
    page.get_by_role("heading", name="Import a catalog").wait_for()

    # A broken copy: every problem is reported at once, in Croissant's terms and with its JSON path.
    broken = copy.deepcopy(json.loads(DOCUMENT.read_text()))
    broken["distribution"][1]["contentSize"] = "lots"
    broken["recordSet"][1]["field"][3]["references"]["field"]["@id"] = "enumerations/class/nothing"
    page.get_by_label("Provider").select_option(label="Open Credit Data")
    page.get_by_label("Format").select_option(label="Croissant JSON-LD (one dataset)")
    page.get_by_label("File").set_input_files(
        files=[{"name": "credit-g.json", "mimeType": "application/ld+json", "buffer": json.dumps(broken).encode()}]
    )
    page.get_by_role("button", name="Import").click()
    problems = page.get_by_test_id("import-problems").inner_text()
    assert "distribution[1].contentSize" in problems and "recordSet[1].field[3].references.field" in problems
    assert page.get_by_test_id("import-report").count() == 0

    # The document as published: the form is still there, for the same provider, and takes it.
    page.get_by_label("Provider").select_option(label="Open Credit Data")
    page.get_by_label("File").set_input_files(DOCUMENT)
    page.get_by_role("button", name="Import").click()
    assert page.get_by_test_id("import-report").inner_text().startswith("Imported 1 listing")
    page.locator("ul.plain li", has_text="created").get_by_role("link").click()
    page.wait_for_url(re.compile(r"/datasets/[^/]+/manage$"))
    slug = re.search(r"/datasets/([^/]+)/manage$", page.url).group(1)
    assert page.get_by_test_id("status").inner_text() == "Draft"

    # The provider's manage page lists the declared files to upload; both have an MD5 and nothing uploaded yet.
    declared = page.get_by_test_id("declared-files")
    assert declared.get_by_role("heading").inner_text() == "Files to upload"
    rows = [declared.get_by_test_id(f"declared-{i}").inner_text() for i in range(2)]
    assert "data-file" in rows[0] and "credit-g.pq" in rows[1]
    assert all("MD5" in row and "to be uploaded" in row for row in rows)

    # The draft's page shows the data schema: both record sets, the fields with their types and sources.
    page.goto(f"{base}/datasets/{slug}?tab=files")
    schema = page.get_by_test_id("schema")
    assert schema.get_by_role("heading", name="Data schema").is_visible()
    assert schema.get_by_role("heading", name="data-file-description").is_visible()
    text = schema.inner_text()
    assert "credit_amount" in text and "Float" in text and "good" in text and "bad" in text
    assert page.get_by_test_id("declared-files").get_by_text("to be uploaded").count() == 2
