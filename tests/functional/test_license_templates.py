"""A license template's text is public before anyone buys: its own address, apart from bought licenses, for visitors
and members alike; its terms as ODRL; and each public offer's terms as ODRL (private and retired ones are not)."""

from __future__ import annotations

import json
import re

import pytest

import licensing
from marketplace.licenses.models import Offer
from tests.factories import PASSWORD
from tests.functional.test_licenses import _offer, market  # noqa: F401  (the fixture and offer helper)
from tests.helpers import log_in

COMMERCIAL = "LicenseRef-standard-commercial-1.0"


def _license_links(client, slug: str) -> list[str]:
    html = client.get(f"/datasets/{slug}").get_data(as_text=True)
    return re.findall(r'<a href="([^"]+)" rel="license">', html)


@pytest.mark.parametrize("who", [None, "purchaser@example.org", "clerk@example.org"])
def test_every_offer_links_to_a_readable_license_text(client, market, db_session, who) -> None:  # noqa: F811
    _offer(db_session, market, title="Commercial", license_id=COMMERCIAL, price_amount=5000)
    _offer(db_session, market, title="Open")
    if who:
        log_in(client, who, PASSWORD)
    links = _license_links(client, "speech-corpus")
    assert sorted(links) == sorted(["/license-templates/CC-BY-4.0", f"/license-templates/{COMMERCIAL}"])
    for link in links:
        response = client.get(link)
        assert response.status_code == 200, (who, link)
        page = response.get_data(as_text=True)
        template = licensing.get_template(link.rsplit("/", 1)[1])
        assert template.name in page
        for line in template.terms.plain_language():  # every term, in plain language
            assert line.replace("'", "&#39;") in page, line
        odrl_link = re.search(r'href="([^"]+/odrl\.json)"', page)
        assert odrl_link is not None
        policy = client.get(odrl_link.group(1).removeprefix("http://localhost"))
        assert policy.status_code == 200 and policy.mimetype == "application/ld+json"
        document = json.loads(policy.get_data(as_text=True))
        assert document["@type"] == "Set" and document["permission"]
    commercial = client.get(f"/license-templates/{COMMERCIAL}").get_data(as_text=True)
    assert "Deletion on termination" in commercial and "SPDX entry" not in commercial
    open_page = client.get("/license-templates/CC-BY-4.0").get_data(as_text=True)
    assert "https://creativecommons.org/licenses/by/4.0/" in open_page


def test_an_unknown_template_is_not_found(client) -> None:
    assert client.get("/license-templates/LicenseRef-nothing-1.0").status_code == 404
    assert client.get("/license-templates/LicenseRef-nothing-1.0/odrl.json").status_code == 404


def test_grant_documents_point_to_the_template_page() -> None:
    assert licensing.get_template(COMMERCIAL).url == f"/license-templates/{COMMERCIAL}"


def test_offer_odrl_only_for_offers_anyone_may_buy(client, market, db_session) -> None:  # noqa: F811
    public = _offer(db_session, market, title="Commercial", license_id=COMMERCIAL, price_amount=5000,
                    overrides={"seats": 3})  # fmt: skip
    private = _offer(db_session, market, title="Private", audience_org_slug="buy")
    response = client.get(f"/offers/{public.id}/odrl.json")
    assert response.status_code == 200
    policy = json.loads(response.get_data(as_text=True))
    assert policy["@type"] == "Offer" and policy["uid"] == f"http://localhost/offers/{public.id}/odrl.json"
    assert policy["assigner"] == "http://localhost/providers/prov"
    assert {"leftOperand": "dm:seats", "operator": "lteq", "rightOperand": 3} in policy["permission"][0]["constraint"]
    assert client.get(f"/offers/{private.id}/odrl.json").status_code == 404
    retired = db_session.get(Offer, public.id)
    assert retired is not None
    retired.is_active = False
    db_session.flush()
    assert client.get(f"/offers/{public.id}/odrl.json").status_code == 404
