"""In Chromium: a provider fills every group of a listing, adds a version, submits; an admin approves; a buyer
finds it through a facet (JavaScript submits the facet form) and reads its data card."""

from __future__ import annotations

import re

import pytest

from marketplace.accounts.models import Membership, Organisation, OrgKind, Role, User
from marketplace.accounts.passwords import hasher_for
from marketplace.db import unit_of_work, utcnow

pytestmark = pytest.mark.e2e

PASSWORD = "a long browser passphrase"
SHA = "ab" * 32


def _accounts(live_server) -> None:  # type: ignore[no-untyped-def]
    app = live_server.app
    hashed = hasher_for("CHEAPEST").hash(PASSWORD)
    with unit_of_work(app.extensions["marketplace.db"], app.extensions["marketplace.context"]) as uow:
        provider = User(
            email="priya@example.org", display_name="Priya", password_hash=hashed, email_verified_at=utcnow()
        )
        admin = User(
            email="ada@example.org",
            display_name="Ada",
            password_hash=hashed,
            email_verified_at=utcnow(),
            is_platform_admin=True,
        )
        org = Organisation(slug="fjord-audio", name="Fjord Audio", kind=OrgKind.PROVIDER)
        uow.session.add_all([provider, admin, org])
        uow.session.flush()
        uow.session.add(Membership(organisation_id=org.id, user_id=provider.id, role=Role.OWNER))  # type: ignore[arg-type]


def _log_in(page, live_server, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(live_server.url + "/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_test_id("nav-account").wait_for()


def _save_and_continue(page, heading: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("button", name="Save and continue").click()
    page.get_by_text(f"{heading} saved.").wait_for()


def test_create_submit_approve_find_by_facet(browser, page, live_server) -> None:  # type: ignore[no-untyped-def]
    _accounts(live_server)
    _log_in(page, live_server, "priya@example.org")

    page.get_by_role("link", name="Your datasets").click()
    page.get_by_role("link", name="New dataset").click()
    page.get_by_label("Title").fill("Fjord ferry announcements")
    page.get_by_role("button", name="Create draft").click()

    fill = lambda name, value: page.locator(f'[name="{name}"]').fill(value)  # noqa: E731
    check = lambda label: page.get_by_label(label, exact=True).check()  # noqa: E731
    # Identity
    fill("summary", "Norwegian ferry announcements with transcripts.")
    fill("description", "Public-address announcements recorded on **coastal ferries**.")
    fill("tags", "maritime, announcements")
    _save_and_continue(page, "Identity")
    # Modality
    page.locator('[name="modality"]').select_option("audio")
    fill("modality_details.audio.hours", "42.5")
    fill("modality_details.audio.speakers", "120")
    fill("modality_details.audio.sample_rate_hz", "16000")
    fill("modality_details.audio.accents", "Bergen, Oslo")
    _save_and_continue(page, "Modality")
    # Tasks and industry
    check("Speech recognition (ASR)")
    check("Automotive & mobility")
    _save_and_continue(page, "Tasks and industry")
    # Coverage
    fill("languages", "nb, nn, en")
    fill("countries", "NO")
    fill("collection_start", "2023-04-01")
    fill("collection_end", "2024-03-31")
    _save_and_continue(page, "Coverage")
    # Size
    fill("record_count", "8000")
    fill("total_bytes", "3000")
    fill("file_count", "2")
    fill("formats", "audio/flac")
    _save_and_continue(page, "Size")
    # Collection and annotation
    check("Sensors")
    check("Expert")
    fill("annotator_qualifications", "Native-speaker transcribers.")
    fill("annotations_per_item", "1")
    page.locator('[name="agreement_metric"]').select_option("wer")
    fill("agreement_value", "5.2")
    fill("synthetic_share_pct", "0")
    _save_and_continue(page, "Collection and annotation")
    # Personal data
    page.locator('[name="personal_data"]').select_option("yes")
    check("Pseudonymised")
    page.locator('[name="lawful_basis"]').select_option("legitimate_interests")
    page.locator('[name="opt_out_honoured"]').select_option("true")
    _save_and_continue(page, "Personal data")
    # Provenance
    fill("sources.0.name", "Ferry operator recordings")
    fill("sources.0.license", "CC-BY-4.0")
    _save_and_continue(page, "Provenance")
    # AI Act Article 10 record
    for key in (
        "design_choices",
        "collection_processes",
        "data_origin",
        "assumptions",
        "suitability",
        "bias_examination",
        "bias_mitigation",
        "known_gaps",
    ):
        fill(f"ai_act.{key}", f"Our {key.replace('_', ' ')}.")
    fill("ai_act.preparation.cleaning", "Engine noise filtered.")
    fill("ai_act.bias_reviewer", "Ola Nordmann")
    _save_and_continue(page, "AI Act Article 10 record")
    # Training-content summary (AI Act Article 53): the footing and the measures, in plain words
    page.locator('[name="training_summary.rights_basis"]').select_option("rights_holder")
    fill("training_summary.illegal_content_measures", "Recorded on board; nothing taken from the web.")
    _save_and_continue(page, "Training-content summary (AI Act Article 53)")
    # Delivery
    page.locator('[name="storage_region"]').select_option("eu")
    page.locator('[name="update_frequency"]').select_option("yearly")
    _save_and_continue(page, "Delivery and data residency")

    # The manage page: add a version with its manifest, then submit.
    assert "/manage" in page.url
    fill("version", "1.0.0")
    fill("changelog", "First release.")
    fill(
        "manifest",
        "path,size_bytes,sha256,media_type\n"
        f"audio/a.flac,1000,{SHA},audio/flac\n"
        f"audio/b.flac,2000,{'cd' * 32},audio/flac",
    )
    page.get_by_role("button", name="Add version").click()
    page.get_by_text("Version 1.0.0 added (2 files).").wait_for()
    page.get_by_role("button", name="Submit for review").click()
    page.get_by_text("Submitted for review").wait_for()
    assert page.get_by_test_id("status").inner_text() == "In review"
    slug = re.search(r"/datasets/([^/]+)/manage", page.url).group(1)

    # The admin approves it from the review queue.
    admin = browser.new_context().new_page()
    _log_in(admin, live_server, "ada@example.org")
    admin.get_by_role("link", name="Reviews").click()
    admin.get_by_role("link", name="Fjord ferry announcements").click()
    admin.get_by_role("button", name="Approve and publish").click()
    admin.get_by_text("Approved and published.").wait_for()
    admin.context.close()

    # A visitor finds it through the facets; ticking a box runs the search (JavaScript), counts are right.
    visitor = browser.new_context().new_page()
    visitor.goto(live_server.url + "/datasets?q=ferry")
    assert visitor.get_by_test_id("total").inner_text().startswith("1 dataset")
    assert visitor.get_by_test_id("count-modality-audio").inner_text() == "1"
    assert visitor.get_by_test_id("count-language-nb").inner_text() == "1"
    visitor.get_by_label("Norwegian Bokmål").check()
    visitor.wait_for_url(re.compile(r"language=nb"))
    assert visitor.get_by_test_id("count-personal_data-yes").inner_text() == "1"
    visitor.get_by_role("link", name="Fjord ferry announcements").click()
    visitor.wait_for_url(re.compile(f"/datasets/{slug}$"))
    assert visitor.get_by_test_id("personal-data").inner_text() == "yes"
    assert "Ferry operator recordings" in visitor.content() and "Ola Nordmann" in visitor.content()
    visitor.get_by_role("tab", name="Versions").click()
    visitor.get_by_test_id("version-1.0.0").wait_for()
    visitor.context.close()
