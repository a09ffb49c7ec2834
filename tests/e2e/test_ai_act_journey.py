"""In Chromium: a provider opens the AI Act page of a published version, reads what is missing, fills it in
through the listing form, and signs the documentation off → the catalog's "AI Act documentation complete" filter
finds the dataset (and only it), with its badge → the badge's PDF answers with a PDF naming the signer."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from marketplace.accounts.models import OrgKind, Role
from marketplace.db import unit_of_work
from tests import factories
from tests.factories import PASSWORD, OrganisationFactory, UserFactory, member
from tests.functional.aiact.support import DOCUMENTED_AI_ACT, publish_listing
from tests.functional.catalog.conftest import record

pytestmark = pytest.mark.e2e

#: What the listing leaves out of its AI Act record, for the provider to fill in on the page.
LEFT_OUT = ("group_distribution", "gaps_remedy", "bias_reviewer", "bias_reviewed_on")


def _arrange(live_server) -> None:  # type: ignore[no-untyped-def]
    """Two published listings of one provider, offered under CC-BY-4.0: "intents", whose AI Act record lacks the
    parts in LEFT_OUT, and "sparse", never documented."""
    app = live_server.app
    with unit_of_work(app.extensions["marketplace.db"], app.extensions["marketplace.context"]) as uow:
        factories.bind(uow.session)
        org = OrganisationFactory(slug="acme-data", name="Acme Data", kind=OrgKind.PROVIDER)
        provider = member(org, Role.ADMIN, email="ana@acme.example", display_name="Ana Provider")
        admin = UserFactory(email="root@example.org", is_platform_admin=True)
        partial = {key: value for key, value in DOCUMENTED_AI_ACT.items() if key not in LEFT_OUT}
        for slug, data in (
            ("intents", record(title="Bank intents", ai_act=partial)),
            ("sparse", record(title="Bank sparse notes")),
        ):
            publish_listing(app, uow, provider, admin, organisation="acme-data", slug=slug, data=data)


def test_fill_in_sign_off_find_by_facet_read_the_pdf(browser, page, live_server) -> None:  # type: ignore[no-untyped-def]
    _arrange(live_server)
    base = live_server.url
    page.goto(base + "/login")
    page.get_by_label("E-mail address").fill("ana@acme.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_test_id("nav-account").wait_for()

    # The manage page says the version's documentation is incomplete; its AI Act page lists what is missing.
    page.goto(base + "/datasets/intents/manage")
    status = page.get_by_test_id("ai-act-1.0.0")
    assert "incomplete" in status.inner_text() and "5 things to do" in status.inner_text()  # 4 parts + sign-off
    status.get_by_role("link", name="see what is missing and sign off").click()
    page.wait_for_url(re.compile(r"/datasets/intents/versions/1\.0\.0/ai-act$"))
    missing = page.get_by_test_id("missing-parts").inner_text()
    for words in (
        "Give the distribution of the data across at least one kind of group.",
        "Say how those gaps and shortcomings are addressed.",
        "Name the person who reviewed the biases.",
        "Give the date of the bias review.",
    ):
        assert words in missing
    assert "Describe the design choices" not in missing  # what is filled in is not asked for
    assert page.get_by_role("button", name="Sign off version 1.0.0").is_disabled()

    # "Fill it in" opens the listing form's AI Act section, which keeps what was there.
    page.get_by_test_id("missing-parts").get_by_role("link", name="Fill it in").first.click()
    page.wait_for_url(re.compile(r"/datasets/intents/edit/ai_act$"))
    assert page.locator('[name="ai_act.design_choices"]').input_value() == DOCUMENTED_AI_ACT["design_choices"]
    fill = lambda name, value: page.locator(f'[name="{name}"]').fill(value)  # noqa: E731
    fill("ai_act.group_distribution.0.dimension", "region")
    fill("ai_act.group_distribution.0.group", "Bavaria")
    fill("ai_act.group_distribution.0.share_pct", "60")
    fill("ai_act.group_distribution.1.dimension", "region")
    fill("ai_act.group_distribution.1.group", "Saxony")
    fill("ai_act.group_distribution.1.share_pct", "40")
    fill("ai_act.gaps_remedy", "A German edition is planned.")
    fill("ai_act.bias_reviewer", "Dr. Ada Reviewer")
    fill("ai_act.bias_reviewed_on", "2024-07-01")
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_text("AI Act Article 10 record saved.").wait_for()

    # Back on the AI Act page: nothing is missing; the provider signs it off in their own name.
    page.goto(base + "/datasets/intents/versions/1.0.0/ai-act")
    assert page.get_by_test_id("missing-parts").count() == 0
    assert page.get_by_label("Your full name").input_value() == "Ana Provider"
    page.get_by_label("Your role").fill("Head of data governance")
    page.get_by_label("I confirm that this documentation is accurate and complete for version 1.0.0.").check()
    page.get_by_role("button", name="Sign off version 1.0.0").click()
    page.get_by_text("The AI Act documentation of version 1.0.0 is signed off.").wait_for()
    state = page.get_by_test_id("pack-state").inner_text()
    assert "AI Act documentation complete" in state and "Ana Provider (Head of data governance)" in state

    # A visitor filters the catalog by the facet (JavaScript submits it): only the documented listing is left.
    visitor = browser.new_context().new_page()
    visitor.goto(base + "/datasets?q=bank")
    assert visitor.get_by_test_id("total").inner_text().startswith("2 datasets")
    assert visitor.get_by_test_id("count-ai_act-complete").inner_text() == "1"
    visitor.get_by_label("AI Act documentation complete").check()
    visitor.wait_for_url(re.compile(r"ai_act=complete"))
    assert visitor.get_by_test_id("total").inner_text().startswith("1 dataset")
    [hit] = visitor.get_by_test_id("result").all()
    assert "Bank intents" in hit.inner_text() and hit.get_by_test_id("ai-act-badge").is_visible()

    # On the dataset page the badge links the signed-off PDF, which is a PDF naming its signer.
    hit.get_by_role("link", name="Bank intents").click()
    visitor.wait_for_url(re.compile(r"/datasets/intents$"))
    href = visitor.get_by_test_id("ai-act-badge").get_attribute("href")
    assert href == "/datasets/intents/versions/1.0.0/ai-act.pdf"
    response = visitor.request.get(base + href)
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    body = response.body()
    assert body.startswith(b"%PDF-")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(body)).pages)
    assert "Signed off by Ana Provider" in text and "Dr. Ada Reviewer" in text
    visitor.context.close()
