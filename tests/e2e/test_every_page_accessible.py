"""Every page passes axe-core: each GET route of the app's url map, for a visitor and the demo buyer, provider and
platform admin, on a site loaded with the demo data (``marketplace seed``).

Routes without parameters are visited as they are; a route with parameters is visited with the seeded example
``EXAMPLES`` gives it. Responses that are not HTML (JSON, CSV, PDF, images, downloads) are not pages and are
skipped by their content type; the JSON API's routes with parameters are left out by name (``api.*``), its pages
without parameters are visited like any other. A route with parameters that is neither given an example nor
listed in ``NOT_SEEDED`` fails the completeness test, so a new page cannot escape the check unnoticed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.serving import make_server

from marketplace import create_app, migrate
from marketplace.catalog.schemas import SECTIONS
from marketplace.db import unit_of_work
from marketplace.seed import DEMO_PASSWORD, seed_demo
from tests.conftest import base_settings, drop_scratch_database, scratch_database_url
from tests.e2e.a11y import Violation, check_page, describe
from tests.e2e.conftest import LiveServer

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROLES = {
    "visitor": None,
    "buyer": "buyer@example.com",
    "provider": "provider@example.com",
    "admin": "admin@example.com",
}

Row = Callable[[str], Any]  # runs one SQL query on the seeded database and returns its first row


def _dataset(row: Row) -> dict[str, Any]:
    """The demo provider's dataset with a signed-off AI Act version, samples and files."""
    return {"slug": row("select d.slug from dataset d join ai_act_sign_off s on s.dataset_id = d.id")[0]}


def _version(row: Row) -> dict[str, Any]:
    slug, label = row(
        "select d.slug, v.version from dataset d join ai_act_sign_off s on s.dataset_id = d.id "
        "join dataset_version v on v.id = s.version_id"
    )
    return {"slug": slug, "label": label}


def _grant(row: Row) -> dict[str, Any]:
    return {"grant_id": row("select id from license_grant order by id")[0]}


def _org(row: Row) -> dict[str, Any]:
    return {"slug": "northwind-data"}


def _governed(row: Row) -> dict[str, Any]:
    """A dataset whose access is governed (agreements, requests)."""
    return {"slug": row("select d.slug from dataset d join access_policy p on p.dataset_id = d.id")[0]}


def _sample(row: Row) -> dict[str, Any]:
    found = row("select d.slug, s.id, s.filename from sample_file s join dataset d on d.id = s.dataset_id")
    return {"slug": found[0], "sample_id": found[1], "filename": found[2]}


def _agreement(row: Row) -> dict[str, Any]:
    found = row("select o.slug, a.id from access_agreement a join organisation o on o.id = a.organisation_id")
    return {"slug": found[0], "agreement_id": found[1]}


def _viewer_sample(row: Row) -> dict[str, Any]:
    """A tabular sample (CSV or Parquet) the data viewer shows as rows and statistics."""
    found = row(
        "select d.slug, s.id from sample_file s join dataset d on d.id = s.dataset_id "
        "where s.filename like '%.csv' or s.filename like '%.parquet' order by s.id"
    )
    return {"slug": found[0], "sample_id": found[1]}


def _viewer_file(row: Row) -> dict[str, Any]:
    found = row(
        "select d.slug, v.version, f.id from dataset_file f join dataset_version v on v.id = f.version_id "
        "join dataset d on d.id = v.dataset_id where f.path like '%.csv' or f.path like '%.parquet' order by f.id"
    )
    return {"slug": found[0], "label": found[1], "file_id": found[2]}


def _custom_request(row: Row) -> dict[str, Any]:
    return {"request_id": row("select id from custom_request order by id")[0]}


# endpoint -> the seeded parameters it is visited with (one example each; edit sections all of them, below).
EXAMPLES: dict[str, Callable[[Row], dict[str, Any]]] = {
    "catalog.dataset_page": _dataset,
    "catalog.manage": _dataset,
    "catalog.croissant_json": _dataset,
    "catalog.draft_croissant_json": _dataset,
    "access.settings": _governed,
    "access.request_form": _governed,
    "delivery.download_stats": _dataset,
    "licenses.manage_offers": _dataset,
    "licenses.dataset_rsl": _dataset,
    "licenses.dataset_tdm_policy": _dataset,
    "withdrawals.new": _dataset,
    "catalog.version_page": _version,
    "aiact.sign_off_page": _version,
    "aiact.pack_json": _version,
    "aiact.pack_pdf": _version,
    "catalog.manifest_json": _version,
    "catalog.spdx_json": _version,
    "delivery.upload_page": _version,
    "catalog.sample_file": _sample,
    "catalog.provider_profile": _org,
    "accounts.organisation": _org,
    "access.agreements_index": _org,
    "audit.index": _org,
    "audit.download": _org,
    "orders.sales": _org,
    "orders.payouts_return": _org,
    "sso.settings": _org,
    "webhooks.index": _org,
    "access.agreement": _agreement,
    "access.request_status": lambda row: {"request_id": row("select id from access_request order by id")[0]},
    "licenses.show": _grant,
    "licenses.certificate": _grant,
    "licenses.document_text": _grant,
    "licenses.odrl": _grant,
    "licenses.training_summary_page": _grant,
    "licenses.training_summary_json": _grant,
    "licenses.verify": _grant,
    "delivery.manifest": _grant,
    "licenses.offer_odrl": lambda row: {"offer_id": row("select id from offer order by id")[0]},
    "licenses.template_page": lambda row: {"template_id": row("select license_id from offer order by id")[0]},
    "licenses.template_odrl": lambda row: {"template_id": row("select license_id from offer order by id")[0]},
    "custom.show_request": _custom_request,
    "custom.edit_request": _custom_request,
    "custom.conversation": _custom_request,
    "custom.quote_form": _custom_request,
    "contracts.show_contract": lambda row: {"contract_id": row("select id from custom_contract order by id")[0]},
    "withdrawals.show": lambda row: {"withdrawal_id": row("select id from withdrawal order by id")[0]},
    "withdrawals.notice": lambda row: {"notice_id": row("select id from withdrawal_notice order by id")[0]},
    "viewer.sample_page": _viewer_sample,
    "viewer.file_page": _viewer_file,
    "analytics.organisation": _org,
    "analytics.organisation_csv": lambda row: {**_org(row), "table": "funnel"},
    "analytics.listing": _dataset,
    "analytics.listing_csv": lambda row: {**_dataset(row), "table": "funnel"},
    "exports.destinations_page": _org,
    "accounts.billing": _org,
    "uploads.progress": lambda row: {"upload_id": row("select id from upload_session order by id")[0]},
}
# Routes with parameters the demo data has no record for, and the Chromium journey that checks them instead.
NOT_SEEDED = {
    "orders.show": "test_purchase_journey",
    "orders.complete": "test_purchase_journey (a redirect to the order)",
    "orders.sandbox_checkout": "test_purchase_journey",
    "access.seats": "test_governed_access_journey",
    "access.approval_signing": "test_governed_access_journey",
    "access.credential_file": "a file download, not a page",
    "custom.attachment": "a file download, not a page",
    "webhooks.show": "no Chromium journey yet: a webhook endpoint's delivery log",
    "exports.show": "no Chromium journey yet: an export into a licensee's bucket",
    "invoices.invoice_pdf": "a PDF, not a page (test_invoice_journey reads its text)",
    "invoices.credit_note_pdf": "a PDF, not a page (tests/functional/invoices read its text)",
    **{
        f"delta_sharing.{name}": "the Delta Sharing protocol: JSON for a recipient's bearer token (tests/sharing)"
        for name in ("share", "schemas", "tables", "all_tables", "table_version", "metadata")
    },
    "static": "stylesheets, scripts and images",
}


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A live server on the demo data, shared by the module's tests (they only read)."""
    tmp_path = tmp_path_factory.mktemp("every-page")
    url = scratch_database_url(tmp_path, "pages")
    migrate.upgrade(url)
    settings = base_settings(tmp_path, url)
    settings.pop("TESTING")
    server = make_server("127.0.0.1", 0, None, threaded=True)  # type: ignore[arg-type]
    settings["BASE_URL"] = f"http://127.0.0.1:{server.socket.getsockname()[1]}"
    app = create_app(settings)
    server.app = app  # type: ignore[attr-defined]
    with unit_of_work(app.extensions["marketplace.db"], app.extensions["marketplace.context"]) as uow:
        seed_demo(uow)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(url=settings["BASE_URL"], app=app)
    finally:
        server.shutdown()
        app.extensions["marketplace.db"].dispose()
        drop_scratch_database(url)


def _paths(app: Flask) -> list[str]:
    """Every GET page to visit: routes without parameters, and each route with parameters filled in."""
    with unit_of_work(app.extensions["marketplace.db"], app.extensions["marketplace.context"]) as uow:

        def row(sql: str) -> Any:
            found = uow.session.execute(sa.text(sql)).first()
            assert found is not None, f"the demo data has nothing for: {sql}"
            return found

        paths: list[str] = []
        with app.test_request_context():
            from flask import url_for

            for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
                if "GET" not in (rule.methods or ()) or rule.endpoint in NOT_SEEDED:
                    continue
                if not rule.arguments:
                    paths.append(url_for(rule.endpoint))
                elif rule.endpoint == "catalog.edit_section":
                    slug = _dataset(row)["slug"]
                    paths += [url_for(rule.endpoint, slug=slug, section=key) for key, _, _ in SECTIONS]
                elif rule.endpoint in EXAMPLES:
                    paths.append(url_for(rule.endpoint, **EXAMPLES[rule.endpoint](row)))
        return paths


def test_every_route_with_parameters_has_an_example(demo_site) -> None:  # type: ignore[no-untyped-def]
    missing = [
        rule.rule
        for rule in demo_site.app.url_map.iter_rules()
        if "GET" in (rule.methods or ())
        and rule.arguments
        and not rule.endpoint.startswith("api.")
        and rule.endpoint not in EXAMPLES
        and rule.endpoint not in NOT_SEEDED
        and rule.endpoint != "catalog.edit_section"
    ]
    assert not missing, f"give these routes an example in EXAMPLES (or a reason in NOT_SEEDED): {missing}"


def _log_in(page, base: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base + "/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_test_id("nav-account").wait_for()


def _visit(page, url: str) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    """Open the URL in the tab when it is an HTML page; the status and content type. Other responses are only
    fetched (with the tab's cookies): Chromium's own viewers for images, JSON or XML are not the site's pages."""
    probe = page.request.get(url)
    content_type = probe.headers.get("content-type", "")
    if not content_type.startswith("text/html"):
        return probe.status, content_type
    response = page.goto(url)
    assert response is not None, url
    return response.status, response.headers.get("content-type", "")


@pytest.mark.parametrize("role", list(ROLES))
def test_every_page_passes_axe(page, demo_site, role: str) -> None:  # type: ignore[no-untyped-def]
    base = demo_site.url
    paths = [p for p in _paths(demo_site.app) if not (p.startswith("/api/") and p != "/api/docs")]
    if ROLES[role]:
        _log_in(page, base, ROLES[role])
    checked: list[str] = []
    found: list[Violation] = []
    for path in paths:
        status, content_type = _visit(page, base + path)
        assert status < 500, f"{path} answered {status} to the {role}"
        if not content_type.startswith("text/html"):
            continue
        if path == "/api/docs":
            page.wait_for_selector(".opblock")
        found += check_page(page)
        checked.append(path)
    assert not found, f"as the {role}: " + describe(found)
    # The check ran over the site, not over a handful of error pages.
    assert len(checked) >= 60, checked
    assert {"/", "/datasets", "/login", "/requests", "/api/docs"} <= set(checked)
