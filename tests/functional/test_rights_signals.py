"""Rights signals on public dataset pages: TDMRep (headers, meta, /.well-known/tdmrep.json, the TDM policy) and RSL
(the dataset's rsl.xml, the site's, robots.txt's License line and the page's link), following the listing's offers;
a listing the public may not see carries none and its signal documents are 404 like its page."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import pytest

from marketplace.catalog.vocab import DatasetStatus
from tests.factories import PASSWORD
from tests.functional.test_licenses import _offer, market  # noqa: F401  (the fixture and offer helper)
from tests.helpers import log_in
from tests.unit.licensing.test_licensing_signals import NS, check_rsl, check_tdm_policy, check_tdmrep_file

COMMERCIAL = "LicenseRef-standard-commercial-1.0"
SLUG = "speech-corpus"


def _meta(html: str) -> dict[str, str]:
    return dict(re.findall(r'<meta name="(tdm-[a-z]+)" content="([^"]+)">', html))


def test_an_open_cc_by_dataset_reserves_nothing_everywhere(client, market, db_session) -> None:  # noqa: F811
    _offer(db_session, market)  # CC-BY-4.0, free
    page = client.get(f"/datasets/{SLUG}")
    assert page.status_code == 200
    assert page.headers["tdm-reservation"] == "0" and "tdm-policy" not in page.headers
    html = page.get_data(as_text=True)
    assert _meta(html) == {"tdm-reservation": "0"}
    assert "text and data mining not reserved" in html  # and in words, for people
    rsl_link = re.search(r'<link rel="license" type="application/rsl\+xml" href="([^"]+)">', html)
    assert rsl_link is not None and rsl_link.group(1).endswith(f"/datasets/{SLUG}/rsl.xml")
    assert 'rel="license"' in page.headers["Link"] and "rsl.xml" in page.headers["Link"]
    rules = client.get("/.well-known/tdmrep.json").get_json()
    check_tdmrep_file(rules)
    assert [r for r in rules if SLUG in r["location"]] == [
        {"location": f"/datasets/{SLUG}$", "tdm-reservation": 0},
        {"location": f"/datasets/{SLUG}/*", "tdm-reservation": 0},
    ]
    rsl = client.get(f"/datasets/{SLUG}/rsl.xml")
    assert rsl.status_code == 200 and rsl.mimetype == "application/rsl+xml"
    root = check_rsl(rsl.data)
    assert root.findtext(f"{NS}content/{NS}license/{NS}permits") == "ai-train,ai-input"
    assert root.find(f"{NS}content/{NS}license/{NS}payment").get("type") == "attribution"


def test_a_paid_offer_reserves_the_rights_and_points_to_the_policy(client, market, db_session) -> None:  # noqa: F811
    _offer(db_session, market, title="Commercial", license_id=COMMERCIAL, price_amount=125000)
    _offer(db_session, market, title="Research", license_id="CC-BY-NC-4.0")
    page = client.get(f"/datasets/{SLUG}")
    policy_url = page.headers["tdm-policy"]
    assert page.headers["tdm-reservation"] == "1" and policy_url.endswith(f"/datasets/{SLUG}/tdm-policy.json")
    assert _meta(page.get_data(as_text=True)) == {"tdm-reservation": "1", "tdm-policy": policy_url}
    policy = client.get(urlsplit(policy_url).path)
    assert policy.mimetype == "application/ld+json"
    document = json.loads(policy.data)
    check_tdm_policy(document)
    assert document["uid"] == policy_url and document["assigner"]["vcard:fn"] == "Provider Co"
    assert [p.get("constraint", [{}])[0].get("rightOperand") for p in document["permission"]] == [
        "tdm:research",
        None,
    ]  # cheapest first
    root = check_rsl(client.get(f"/datasets/{SLUG}/rsl.xml").data)
    payments = root.findall(f"{NS}content/{NS}license/{NS}payment")
    assert [p.get("type") for p in payments] == ["attribution", "purchase"]  # cheapest first
    assert payments[1].find(NS + "amount").text == "1250.00"
    site = check_rsl(client.get("/rsl.xml").data)
    assert [c.get("url").rsplit("/", 1)[1] for c in site.findall(NS + "content")] == [SLUG]
    robots = client.get("/robots.txt").get_data(as_text=True)
    assert re.search(r"^License: \S+/rsl\.xml$", robots, re.MULTILINE)


def test_no_offer_reserves_the_rights_without_a_policy(client, market) -> None:  # noqa: F811
    page = client.get(f"/datasets/{SLUG}")
    assert page.headers["tdm-reservation"] == "1" and "tdm-policy" not in page.headers
    root = check_rsl(client.get(f"/datasets/{SLUG}/rsl.xml").data)
    assert root.findtext(f"{NS}content/{NS}license/{NS}prohibits") == "ai-all"
    assert client.get(f"/datasets/{SLUG}/tdm-policy.json").status_code == 404


@pytest.mark.parametrize("status", [DatasetStatus.DRAFT, DatasetStatus.IN_REVIEW, DatasetStatus.WITHDRAWN])
def test_a_listing_the_public_may_not_see_carries_no_signals(client, market, db_session, status) -> None:  # noqa: F811
    _offer(db_session, market, title="Commercial", license_id=COMMERCIAL, price_amount=5000)
    dataset = market["dataset"]
    dataset.status = status
    db_session.add(dataset)
    db_session.flush()
    for path in (f"/datasets/{SLUG}/rsl.xml", f"/datasets/{SLUG}/tdm-policy.json"):
        assert client.get(path).status_code == 404, path
    assert not [r for r in client.get("/.well-known/tdmrep.json").get_json() if SLUG in r["location"]]
    assert SLUG.encode() not in client.get("/rsl.xml").data
    # Its provider previews the page: still no signal in it.
    log_in(client, "clerk@example.org", PASSWORD)
    preview = client.get(f"/datasets/{SLUG}")
    assert preview.status_code == 200
    assert "tdm-reservation" not in preview.headers and not _meta(preview.get_data(as_text=True))
    assert "application/rsl+xml" not in preview.get_data(as_text=True)


def test_an_unknown_dataset_has_no_signal_documents(client) -> None:
    assert client.get("/datasets/nothing-here/rsl.xml").status_code == 404
    assert client.get("/datasets/nothing-here/tdm-policy.json").status_code == 404
    assert client.get("/.well-known/tdmrep.json").get_json() == []
