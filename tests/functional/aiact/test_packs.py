"""AI Act Article 10 documentation packs over HTTP: who reads them (anyone, for a published version), what they say
(JSON and the PDF's extracted text), the provider's sign-off (frozen afterwards, refused while incomplete, once
only, provider members only), and the catalog facet and badges that find complete ones."""

from __future__ import annotations

import hashlib
import io
import json
from typing import Any

import pytest
from flask import Flask
from pypdf import PdfReader
from sqlmodel import Session, select

from marketplace.accounts.models import Role
from marketplace.aiact.models import AiActSignOff
from marketplace.catalog import services
from marketplace.catalog.vocab import DatasetStatus
from marketplace.db import UnitOfWork
from tests.factories import PASSWORD, OrganisationFactory, UserFactory, member
from tests.functional.aiact.support import documented_record, publish_listing
from tests.functional.catalog.conftest import manifest, record
from tests.helpers import log_in, post_form


@pytest.fixture()
def uow(app: Flask, db_session: Session) -> UnitOfWork:
    return UnitOfWork(db_session, app.extensions["marketplace.context"])


class World:
    def __init__(self, app: Flask, uow: UnitOfWork) -> None:
        self.app, self.uow = app, uow
        self.org = OrganisationFactory(slug="acme-data", name="Acme Data")
        self.provider = member(self.org, Role.ADMIN, email="ana@acme.example", display_name="Ana Provider")
        # A plain member (not an admin) of the provider: signing off is any member's to do.
        self.colleague = member(self.org, Role.MEMBER, email="ben@acme.example", display_name="Ben Colleague")
        self.rival_org = OrganisationFactory(slug="rival", name="Rival")
        self.rival = member(self.rival_org, Role.OWNER, email="rita@rival.example")
        self.admin = UserFactory(email="root@example.org", is_platform_admin=True)
        self.documented, self.version = publish_listing(
            app, uow, self.provider, self.admin, organisation="acme-data", slug="intents", data=documented_record()
        )
        self.sparse, _ = publish_listing(
            app, uow, self.provider, self.admin, organisation="acme-data", slug="sparse", data=record(title="Sparse")
        )

    def sign_path(self, slug: str = "intents", label: str = "1.0.0") -> str:
        return f"/datasets/{slug}/versions/{label}/ai-act/sign-off"


@pytest.fixture()
def world(app: Flask, uow: UnitOfWork) -> World:
    return World(app, uow)


def _sign(client: Any, world: World, slug: str = "intents", token_from: str = "/datasets/mine", **data: str) -> Any:
    form = {"name": "Ana Provider", "role": "Head of data governance", "confirm": "yes", **data}
    return post_form(client, world.sign_path(slug), form, token_from=token_from)


def _pdf_text(response: Any) -> str:
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_a_published_versions_pack_is_public_and_a_draft_until_signed_off(world, client) -> None:
    response = client.get("/datasets/intents/versions/1.0.0/ai-act.json")
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    pack = response.get_json()
    assert pack["state"] == "draft" and pack["complete"] is False and pack["sign_off"] is None
    assert [m["part"] for m in pack["missing"]] == ["sign_off"]
    assert pack["version"]["manifest_digest"] == world.version.manifest_digest
    assert pack["collection"]["countries"] == [{"code": "DE", "name": "Germany"}]
    assert pack["suitability"]["statistics"]["files"] == 2
    assert pack["suitability"]["statistics"]["groups"][0] == {
        "dimension": "language",
        "group": "en",
        "share_pct": 100.0,
        "count": None,
    }
    assert pack["provenance"]["sources"] == [{"name": "Our own writers", "url": None, "license": "CC-BY-4.0"}]
    terms = pack["license_terms"]
    assert [t["license_id"] for t in terms] == ["CC-BY-4.0"] and terms[0]["lines"]


def test_the_provider_signs_off_and_the_pack_is_frozen(world, client, uow) -> None:
    log_in(client, "ben@acme.example", PASSWORD)
    page = client.get("/datasets/intents/versions/1.0.0/ai-act")
    assert page.status_code == 200 and b"Every part is filled in" in page.data
    response = _sign(client, world)
    assert response.status_code == 302, response.get_data(as_text=True)
    signed = client.get("/datasets/intents/versions/1.0.0/ai-act.json").get_json()
    assert signed["state"] == "signed_off" and signed["complete"] is True and signed["missing"] == []
    assert signed["sign_off"]["name"] == "Ana Provider"
    assert signed["sign_off"]["role"] == "Head of data governance"
    digest = signed["sign_off"]["content_digest"]

    # The listing changes afterwards: the signed version's documentation does not.
    dataset = services.get_dataset(uow.session, "intents")
    changed = documented_record()
    changed["ai_act"]["design_choices"] = "Something else entirely."
    services.update_section(uow, world.provider, dataset, "ai_act", {"ai_act": changed["ai_act"]})
    uow.session.flush()
    after = client.get("/datasets/intents/versions/1.0.0/ai-act.json").get_json()
    assert after["design_choices"] == "Balanced classes across seven customer intents."
    assert after["sign_off"]["content_digest"] == digest

    # Signing twice is refused, and nothing is added.
    again = _sign(client, world, name="Someone Else")
    assert again.status_code == 409 and b"already signed off" in again.data
    rows = uow.session.exec(select(AiActSignOff)).all()
    assert [(r.signer_name, r.signed_by_id) for r in rows] == [("Ana Provider", world.colleague.id)]


def test_the_pdf_carries_every_section_and_its_values(world, client) -> None:
    log_in(client, "ana@acme.example", PASSWORD)
    assert _sign(client, world).status_code == 302
    text = _pdf_text(client.get("/datasets/intents/versions/1.0.0/ai-act.pdf"))
    flat = " ".join(text.split())
    for heading in (
        "1. Design choices",
        "2. Data collection: processes, period and origin",
        "3. Data preparation operations",
        "4. Assumptions",
        "5. Availability, quantity and suitability, with statistics",
        "6. Examination of possible biases and their mitigation",
        "7. Data gaps and shortcomings, and how they are addressed",
        "8. Special categories of personal data and safeguards",
        "9. Provenance, with each source's license",
        "10. The version's files and manifest digest",
        "11. License terms",
    ):
        assert heading in flat, heading
    for value in (
        "AI Act documentation complete. Signed off by Ana Provider (Head of data governance)",
        "2024-01-01 to 2024-06-30",
        "Germany",
        "Two linguists labelled each record.",
        "Bavaria",
        "60 %",
        "Dr. Ada Reviewer, on 2024-07-01",
        "A German edition is planned for 2025.",
        "Our own writers",
        "CC-BY-4.0",
        "10 records in 2 files (2,001 bytes)",
    ):
        assert value in flat, value
    # The manifest digest may be wrapped across lines in the PDF's text; without whitespace it is whole.
    assert world.version.manifest_digest in "".join(text.split())


def test_an_incomplete_pack_says_what_is_missing_and_cannot_be_signed_off(world, client, uow) -> None:
    pack = client.get("/datasets/sparse/versions/1.0.0/ai-act.json").get_json()
    messages = {m["message"] for m in pack["missing"]}
    assert "Say how those gaps and shortcomings are addressed." in messages
    assert "Give the distribution of the data across at least one kind of group." in messages
    assert "Name the person who reviewed the biases." in messages
    log_in(client, "ana@acme.example", PASSWORD)
    page = client.get("/datasets/sparse/versions/1.0.0/ai-act").get_data(as_text=True)
    assert "Describe the measures taken against the biases found." in page
    assert "Not complete yet" in page
    manage = client.get("/datasets/sparse/manage").get_data(as_text=True)
    assert "incomplete" in manage and "see what is missing and sign off" in manage
    refused = _sign(client, world, slug="sparse")
    assert refused.status_code == 422
    assert "not complete yet" in refused.get_data(as_text=True)
    assert uow.session.exec(select(AiActSignOff)).all() == []
    text = " ".join(_pdf_text(client.get("/datasets/sparse/versions/1.0.0/ai-act.pdf")).split())
    assert "Not complete: this pack is a draft." in text
    assert "Assumptions: Say what the data is assumed to measure and represent." in text


def test_the_sign_off_form_needs_a_name_and_the_confirmation(world, client, uow) -> None:
    log_in(client, "ana@acme.example", PASSWORD)
    unconfirmed = _sign(client, world, confirm="")
    assert unconfirmed.status_code == 422
    assert "confirm that the documentation is accurate and complete" in unconfirmed.get_data(as_text=True)
    nameless = _sign(client, world, name=" ")
    assert nameless.status_code == 422 and "Please fill this in." in nameless.get_data(as_text=True)
    assert uow.session.exec(select(AiActSignOff)).all() == []


def test_a_draft_versions_pack_is_the_providers_only_and_cannot_be_signed(world, client, uow) -> None:
    services.add_version(uow, world.provider, world.documented, version="2.0.0", files=manifest("intents2"))
    uow.session.flush()
    assert client.get("/datasets/intents/versions/2.0.0/ai-act.json").status_code == 404
    assert client.get("/datasets/intents/versions/9.9.9/ai-act.pdf").status_code == 404
    log_in(client, "rita@rival.example", PASSWORD)  # another provider: as if the draft did not exist
    assert client.get("/datasets/intents/versions/2.0.0/ai-act.json").status_code == 404
    assert client.get("/datasets/intents/versions/2.0.0/ai-act.pdf").status_code == 404
    assert client.get("/datasets/intents/versions/1.0.0/ai-act.json").status_code == 200  # published: anyone's
    post_form(client, "/logout", {}, token_from="/datasets/mine")
    log_in(client, "ana@acme.example", PASSWORD)
    assert client.get("/datasets/intents/versions/2.0.0/ai-act.json").status_code == 200
    refused = post_form(
        client,
        world.sign_path(label="2.0.0"),
        {"name": "Ana Provider", "confirm": "yes"},
        token_from="/datasets/mine",
    )
    assert refused.status_code == 409 and b"Only a published version" in refused.data


@pytest.mark.parametrize("who", ["rival", "admin", "anonymous"])
def test_only_the_providers_members_sign_off(world, client, uow, who) -> None:
    if who != "anonymous":
        log_in(client, {"rival": "rita@rival.example", "admin": "root@example.org"}[who], PASSWORD)
    page = client.get("/datasets/intents/versions/1.0.0/ai-act")
    response = _sign(client, world, name="Intruder", token_from="/login" if who == "anonymous" else "/datasets/mine")
    if who == "anonymous":
        assert page.status_code == 302 and "/login" in page.headers["Location"]
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    else:
        assert page.status_code == 404 and response.status_code == 404
    assert uow.session.exec(select(AiActSignOff)).all() == []


def test_a_withdrawn_listings_packs_are_no_longer_public(world, client, uow) -> None:
    with world.app.app_context():
        services.withdraw(uow, world.provider, world.documented, "Consent withdrawn.")
        uow.session.flush()
    assert world.documented.status is DatasetStatus.WITHDRAWN
    assert client.get("/datasets/intents/versions/1.0.0/ai-act.json").status_code == 404


def test_the_facet_and_badges_find_complete_documentation(world, client) -> None:
    assert b'data-testid="ai-act-badge"' not in client.get("/datasets?ai_act=complete").data
    log_in(client, "ana@acme.example", PASSWORD)
    assert _sign(client, world).status_code == 302
    post_form(client, "/logout", {}, token_from="/datasets/mine")
    results = client.get("/datasets?ai_act=complete").get_data(as_text=True)
    assert "/datasets/intents" in results and "/datasets/sparse" not in results
    assert "AI Act documentation complete" in results
    everything = client.get("/datasets").get_data(as_text=True)
    assert "/datasets/sparse" in everything and everything.count('data-testid="ai-act-badge"') == 1
    page = client.get("/datasets/intents").get_data(as_text=True)
    assert 'data-testid="ai-act-badge"' in page and "/datasets/intents/versions/1.0.0/ai-act.pdf" in page
    assert 'data-testid="ai-act-badge"' not in client.get("/datasets/sparse").get_data(as_text=True)
    assert client.get("/datasets?ai_act=yes").status_code == 400


def test_non_latin_text_prints_in_the_pdf(world, client, uow) -> None:
    data = documented_record(title="Многоязычный корпус")
    data["ai_act"]["design_choices"] = "Ελληνικά και русский текст, сбалансированный по темам."
    publish_listing(world.app, uow, world.provider, world.admin, organisation="acme-data", slug="multi", data=data)
    text = " ".join(_pdf_text(client.get("/datasets/multi/versions/1.0.0/ai-act.pdf")).split())
    assert "Ελληνικά και русский текст, сбалансированный по темам." in text
    assert "Многоязычный корпус" in text


def test_the_listing_form_edits_the_distribution_and_new_fields_in_plain_words(world, client, uow) -> None:
    log_in(client, "ana@acme.example", PASSWORD)
    page = client.get("/datasets/sparse/edit/ai_act").get_data(as_text=True)
    assert "How the data is spread across groups" in page
    assert 'name="ai_act.group_distribution.0.dimension"' in page and 'name="ai_act.gaps_remedy"' in page
    rows = {
        "ai_act.original_purpose": "Customer support quality review.",
        "ai_act.gaps_remedy": "Collect more Saxon speakers.",
        "ai_act.group_distribution.0.dimension": "region",
        "ai_act.group_distribution.0.group": "Bavaria",
        "ai_act.group_distribution.0.share_pct": "70",
        "ai_act.group_distribution.1.dimension": "region",
        "ai_act.group_distribution.1.group": "Saxony",
        "ai_act.group_distribution.1.share_pct": "40",
        "ai_act.group_distribution.2.dimension": "",
        "ai_act.group_distribution.2.group": "",
    }
    bad = post_form(client, "/datasets/sparse/edit/ai_act", rows, token_from="/datasets/mine")
    assert bad.status_code == 422
    assert "the shares of &#39;region&#39; add up to 110 %, over 100 %" in bad.get_data(as_text=True)
    good = post_form(
        client,
        "/datasets/sparse/edit/ai_act",
        {**rows, "ai_act.group_distribution.1.share_pct": "30"},
        token_from="/datasets/mine",
    )
    assert good.status_code == 302, good.get_data(as_text=True)
    uow.session.expire_all()
    saved = services.get_dataset(uow.session, "sparse").ai_act
    assert [(g["group"], g["share_pct"]) for g in saved["group_distribution"]] == [("Bavaria", 70.0), ("Saxony", 30.0)]
    assert saved["gaps_remedy"] == "Collect more Saxon speakers."
    shown = client.get("/datasets/sparse/edit/ai_act").get_data(as_text=True)
    assert 'value="Saxony"' in shown
    page = client.get("/datasets/sparse").get_data(as_text=True)
    assert 'data-testid="group-distribution"' in page and "Collect more Saxon speakers." in page


def test_the_demo_seed_shows_a_complete_pack_and_incomplete_ones(app, uow, client) -> None:
    from marketplace.seed import seed_demo

    with app.app_context():
        report = seed_demo(uow)
        uow.session.flush()
        again = seed_demo(uow)  # idempotent: signed once
        uow.session.flush()
    assert not any("AI Act" in line for line in again)
    assert any("AI Act documentation of call-centre-speech-en-es-us 1.0.0 signed off" in line for line in report)
    assert len(uow.session.exec(select(AiActSignOff)).all()) == 1
    complete = client.get("/datasets/call-centre-speech-en-es-us/versions/1.0.0/ai-act.json").get_json()
    assert complete["complete"] is True and complete["sign_off"]["name"] == "Priya Provider"
    incomplete = client.get("/datasets/clinical-notes-deidentified-en/versions/1.0.0/ai-act.json").get_json()
    assert incomplete["complete"] is False and len(incomplete["missing"]) > 1
    found = client.get("/datasets?ai_act=complete").get_data(as_text=True)
    assert found.count('data-testid="result"') == 1 and "call-centre-speech-en-es-us" in found
    text = " ".join(_pdf_text(client.get("/datasets/call-centre-speech-en-es-us/versions/1.0.0/ai-act.pdf")).split())
    assert "Signed off by Priya Provider (Head of data governance)" in text and "US Northeast" in text


def test_anyone_can_check_the_signed_content_against_its_digest(world, client) -> None:
    log_in(client, "ana@acme.example", PASSWORD)
    assert _sign(client, world).status_code == 302
    pack = client.get("/datasets/intents/versions/1.0.0/ai-act.json").get_json()
    signed = {k: v for k, v in pack.items() if k not in ("state", "complete", "missing", "sign_off")}
    canonical = json.dumps(signed, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert hashlib.sha256(canonical).hexdigest() == pack["sign_off"]["content_digest"]


def test_two_sign_offs_at_once_leave_one(world, uow, monkeypatch) -> None:
    from marketplace.aiact import services as aiact
    from marketplace.aiact.states import IllegalTransition

    first = AiActSignOff(
        version_id=world.version.id,
        dataset_id=world.documented.id,
        signer_name="Someone First",
        content={},
        content_digest="0" * 64,
    )
    uow.session.add(first)
    uow.session.flush()
    # The second signer read the version as not yet signed off (a concurrent request): the unique version wins.
    monkeypatch.setattr(aiact, "sign_off_of", lambda session, version: None)
    with pytest.raises(IllegalTransition):
        aiact.sign_off(uow, world.provider, world.documented, world.version, name="Ana Provider", role="")
    assert [r.signer_name for r in uow.session.exec(select(AiActSignOff)).all()] == ["Someone First"]


def test_a_sign_off_reaches_the_search_index_in_its_transaction(world, client, uow) -> None:
    from marketplace.catalog import search_index

    log_in(client, "ana@acme.example", PASSWORD)
    assert _sign(client, world).status_code == 302
    connection = uow.session.connection()
    kept = search_index.snapshot(connection)
    assert kept["counts"][("ai_act", "complete")] == 1
    search_index.rebuild(connection)
    assert kept == search_index.snapshot(connection)
