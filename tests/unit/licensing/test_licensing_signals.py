"""TDMRep and RSL output checked against the shapes of the specifications' own examples.

The examples are quoted from the W3C TDMRep final community group report (HTTP header, tdmrep.json, HTML meta and
TDM policy examples) and from RSL 1.0 (rslstandard.org: the site-wide prohibition example and the AI Preferences
guide's example). The same structural checks run on the examples and on our documents, so a check that the
specifications' own examples fail would be caught here first. RSL publishes no XML schema to validate against,
so its structure is checked by hand with the standard library's parser.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from typing import Any

import pytest

import licensing
from licensing import signals
from licensing.money import is_currency

BASE = "https://data.example"

# --- the specifications' examples ----------------------------------------------------------------------------------

TDMREP_FILE_EXAMPLE = """
[
  {"location": "/directory-a/", "tdm-reservation": 1},
  {"location": "/directory-b/html/", "tdm-reservation": 1,
   "tdm-policy": "https://provider.com/policies/policy.json"},
  {"location": "/directory-b/images/*.jpg", "tdm-reservation": 0}
]
"""
TDMREP_HEADERS_EXAMPLE = {"tdm-reservation": "1", "tdm-policy": "https://provider.com/policies/policy.json"}
TDMREP_META_EXAMPLE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<meta name="tdm-reservation" content="1">
<meta name="tdm-policy" content="https://provider.com/policies/policy.json">
<title>Document title</title></head><body></body></html>"""
TDM_POLICY_EXAMPLE = {
    "@context": ["http://www.w3.org/ns/odrl.jsonld", {"tdm": "http://www.w3.org/ns/tdmrep#"}],
    "@type": "Offer",
    "profile": "http://www.w3.org/ns/tdmrep",
    "uid": "https://provider.com/policies/1",
    "assigner": {
        "uid": "https://provider.com",
        "vcard:fn": "Provider",
        "vcard:hasEmail": "mailto:contact@provider.com",
    },
    "permission": [
        {
            "action": "tdm:mine",
            "duty": [{"action": "compensate"}],
            "constraint": [{"leftOperand": "purpose", "operator": "eq", "rightOperand": "tdm:non-research"}],
        }
    ],
}
RSL_EXAMPLES = [
    """<rsl xmlns="https://rslstandard.org/rsl">
  <content url="/">
    <license>
      <prohibits type="usage">ai-all</prohibits>
    </license>
  </content>
</rsl>""",
    """<rsl xmlns="https://rslstandard.org/rsl">
  <content url="/">
    <license>
      <permits type="usage">train-ai</permits>
      <payment type="subscription">
        <custom>https://your-website.com/contact-form.html</custom>
      </payment>
    </license>
  </content>
</rsl>""",
]

# --- structural checks, shared by the examples and our output ---------------------------------------------------------

NS = "{https://rslstandard.org/rsl}"
RSL_USAGE = {"all", "ai-all", "ai-train", "ai-input", "ai-index", "search", "train-ai"}
RSL_USER = {"commercial", "non-commercial", "education", "government", "personal"}
RSL_PAYMENT = {"purchase", "subscription", "training", "crawl", "use", "contribution", "attribution", "free"}
LICENSE_CHILDREN = {"permits", "prohibits", "payment", "legal"}


def check_tdmrep_file(rules: Any) -> None:
    assert isinstance(rules, list) and rules, "tdmrep.json is a JSON array of rules"
    for rule in rules:
        assert set(rule) <= {"location", "tdm-reservation", "tdm-policy"}
        assert isinstance(rule["location"], str) and rule["location"].startswith("/")
        assert rule["tdm-reservation"] in (0, 1) and isinstance(rule["tdm-reservation"], int)
        if "tdm-policy" in rule:
            assert rule["tdm-reservation"] == 1 and rule["tdm-policy"].startswith(("https://", "http://"))


def check_tdm_policy(policy: dict[str, Any]) -> None:
    assert policy["@context"] == ["http://www.w3.org/ns/odrl.jsonld", {"tdm": "http://www.w3.org/ns/tdmrep#"}]
    assert policy["@type"] == "Offer" and policy["profile"] == "http://www.w3.org/ns/tdmrep"
    assert policy["uid"].startswith(("https://", "http://"))
    assert set(policy["assigner"]) <= {"uid", "vcard:fn", "vcard:nickname", "vcard:hasEmail", "vcard:hasAddress",
                                       "vcard:hasTelephone", "vcard:hasURL"}  # fmt: skip
    assert "prohibition" not in policy and "obligation" not in policy
    for permission in policy["permission"]:
        assert permission["action"] == "tdm:mine"
        assert {d["action"] for d in permission.get("duty", [])} <= {"obtainConsent", "compensate"}
        for constraint in permission.get("constraint", []):
            assert (constraint["leftOperand"], constraint["operator"]) == ("purpose", "eq")
            assert constraint["rightOperand"] in ("tdm:research", "tdm:non-research")


def check_rsl(document: str | bytes) -> ET.Element:
    root = ET.fromstring(document)
    assert root.tag == NS + "rsl", "the root is <rsl> in the RSL namespace"
    contents = list(root)
    assert contents and all(c.tag == NS + "content" for c in contents)
    urls = [c.get("url") for c in contents]
    assert all(urls) and len(urls) == len(set(urls)), "each content names a distinct asset"
    for content in contents:
        assert set(content.attrib) <= {"url", "server", "encrypted", "lastmod"}
        licenses = content.findall(NS + "license")
        assert licenses
        for license_ in licenses:
            assert {child.tag.removeprefix(NS) for child in license_} <= LICENSE_CHILDREN
            for rule in license_.findall(NS + "permits") + license_.findall(NS + "prohibits"):
                kind, tokens = rule.get("type"), (rule.text or "").split(",")
                assert kind in ("usage", "user", "geo")
                vocabulary = {"usage": RSL_USAGE, "user": RSL_USER}.get(kind or "")
                if vocabulary is not None:
                    assert set(tokens) <= vocabulary, tokens
                else:
                    assert all(re.fullmatch(r"[A-Z]{2}", t) for t in tokens)
            for payment in license_.findall(NS + "payment"):
                assert payment.get("type", "free") in RSL_PAYMENT
                for amount in payment.findall(NS + "amount"):
                    assert is_currency(amount.get("currency") or "")
                    assert re.fullmatch(r"\d+(\.\d+)?", amount.text or "")
    return root


def robots_match(pattern: str, path: str) -> bool:
    """RFC 9309 / TDMRep matching: ``*`` any characters, a final ``$`` the end; percent-escapes match verbatim."""
    anchored = pattern.endswith("$")
    body = pattern[:-1] if anchored else pattern

    def literal(part: str) -> str:
        return re.escape(re.sub(r"%([0-9A-Fa-f]{2})", lambda m: chr(int(m.group(1), 16)), part))

    regex = ".*".join(literal(part) for part in body.split("*"))
    return re.match(regex + ("$" if anchored else ""), path) is not None


# --- the examples pass the checks -------------------------------------------------------------------------------------


def test_the_specifications_examples_pass_the_structural_checks() -> None:
    check_tdmrep_file(json.loads(TDMREP_FILE_EXAMPLE))
    check_tdm_policy(TDM_POLICY_EXAMPLE)
    for example in RSL_EXAMPLES:
        check_rsl(example)
    assert robots_match("/directory-b/images/*.jpg", "/directory-b/images/cat.jpg")
    assert not robots_match("/directory-b/images/*.jpg", "/directory-b/html/cat.jpg")


@pytest.mark.parametrize(
    "broken",
    [
        '<rsl><content url="/"><license/></content></rsl>',  # no namespace
        '<rsl xmlns="https://rslstandard.org/rsl"><content><license/></content></rsl>',  # no url
        '<rsl xmlns="https://rslstandard.org/rsl"><content url="/"><license>'
        '<permits type="usage">mine-everything</permits></license></content></rsl>',
        '<rsl xmlns="https://rslstandard.org/rsl"><content url="/"><license><payment type="purchase">'
        '<amount currency="XBT">1</amount></payment></license></content></rsl>',
    ],
)
def test_the_rsl_check_refuses_broken_documents(broken: str) -> None:
    with pytest.raises(AssertionError):
        check_rsl(broken)


# --- our output -------------------------------------------------------------------------------------------------------


def offered(license_id: str, price: int = 0, currency: str = "EUR", **overrides: Any) -> signals.OfferedTerms:
    template = licensing.get_template(license_id)
    return signals.OfferedTerms(
        terms=template.terms.with_overrides(overrides) if overrides else template.terms,
        price=licensing.Money(price, currency),
        is_open=template.is_open,
        url=f"{BASE}/offers/1/odrl.json",
        license_url=f"{BASE}/license-templates/{license_id}",
    )


POLICY = f"{BASE}/datasets/calls/tdm-policy.json"


@pytest.mark.parametrize("license_id", ["CC-BY-4.0", "CC0-1.0", "CDLA-Permissive-2.0", "ODbL-1.0"])
def test_an_open_commercial_training_license_reserves_nothing(license_id: str) -> None:
    declaration = signals.tdm_declaration([offered(license_id)], POLICY)
    assert declaration == signals.TdmDeclaration(0)
    assert signals.tdm_headers(declaration) == {"tdm-reservation": "0"}


@pytest.mark.parametrize(
    "offers",
    [
        [offered("CC-BY-NC-4.0")],  # non-commercial: commercial mining needs another license
        [offered("LicenseRef-standard-commercial-1.0", 150000)],  # a price
        [offered("LicenseRef-evaluation-only-1.0")],  # free, but no training
        [offered("LicenseRef-research-only-1.0"), offered("LicenseRef-enterprise-1.0", 900000)],
    ],
)
def test_anything_short_of_free_mining_for_all_reserves_the_rights_with_a_policy(offers: list[Any]) -> None:
    declaration = signals.tdm_declaration(offers, POLICY)
    assert declaration == signals.TdmDeclaration(1, POLICY)
    headers = signals.tdm_headers(declaration)
    assert headers.keys() == TDMREP_HEADERS_EXAMPLE.keys()
    assert signals.tdm_meta(declaration) == [("tdm-reservation", "1"), ("tdm-policy", POLICY)]


def test_nothing_on_offer_reserves_the_rights_without_a_policy() -> None:
    assert signals.tdm_declaration([], POLICY) == signals.TdmDeclaration(1, None)
    assert signals.tdm_headers(signals.TdmDeclaration(1)) == {"tdm-reservation": "1"}


def test_a_declaration_refuses_values_the_specification_does_not_know() -> None:
    with pytest.raises(ValueError):
        signals.TdmDeclaration(2)
    with pytest.raises(ValueError):
        signals.TdmDeclaration(0, POLICY)


def test_meta_elements_have_the_example_names_in_its_order() -> None:
    example = re.findall(r'<meta name="([^"]+)" content="([^"]+)">', TDMREP_META_EXAMPLE)
    ours = signals.tdm_meta(signals.TdmDeclaration(1, "https://provider.com/policies/policy.json"))
    assert ours == example


def test_tdmrep_file_matches_each_dataset_and_nothing_else() -> None:
    reserved, free = signals.TdmDeclaration(1, POLICY), signals.TdmDeclaration(0)
    rules = signals.tdmrep_rules(
        [
            (signals.location_pattern("/datasets/calls", exact=True), reserved),
            (signals.location_pattern("/datasets/calls/"), reserved),
            (signals.location_pattern("/datasets/open", exact=True), free),
        ]
    )
    check_tdmrep_file(rules)
    assert rules[0] == {"location": "/datasets/calls$", "tdm-reservation": 1, "tdm-policy": POLICY}
    assert rules[1]["location"] == "/datasets/calls/*"
    assert rules[2] == {"location": "/datasets/open$", "tdm-reservation": 0}

    def first_match(path: str) -> dict[str, Any] | None:
        return next((r for r in rules if robots_match(r["location"], path)), None)

    assert first_match("/datasets/calls") is rules[0]
    assert first_match("/datasets/calls/rsl.xml") is rules[1]
    assert first_match("/datasets/calls-extended") is None  # a longer slug is another dataset
    assert first_match("/datasets/open") is rules[2]


def test_location_patterns_escape_the_special_characters() -> None:
    assert signals.location_pattern("/path/foo-$", exact=True) == "/path/foo-%24$"
    assert robots_match(signals.location_pattern("/path/foo-$", exact=True), "/path/foo-$")
    assert signals.location_pattern("/a*b/") == "/a%2Ab/*"
    with pytest.raises(ValueError):
        signals.location_pattern("datasets/x")


def test_tdm_policy_has_the_profile_shape_and_says_how_to_license() -> None:
    policy = signals.tdm_policy(
        [offered("LicenseRef-standard-commercial-1.0", 150000), offered("CC-BY-NC-4.0")],
        uid=POLICY,
        target=f"{BASE}/datasets/calls",
        assigner_uid=f"{BASE}/providers/acme",
        assigner_name="Acme Data",
        licensing_url=f"{BASE}/datasets/calls#licenses",
    )
    check_tdm_policy(policy)
    assert set(policy) == set(TDM_POLICY_EXAMPLE)
    paid, non_commercial = policy["permission"]
    assert paid["duty"] == [{"action": "obtainConsent"}, {"action": "compensate"}]
    assert "constraint" not in paid
    assert "duty" not in non_commercial  # the open license's public text grants it: no consent to obtain
    assert non_commercial["constraint"][0]["rightOperand"] == "tdm:research"
    assert policy["assigner"]["vcard:hasURL"].endswith("#licenses")


def test_a_free_commercial_template_still_needs_consent() -> None:
    policy = signals.tdm_policy(
        [offered("LicenseRef-evaluation-only-1.0")], uid=POLICY, target=BASE, assigner_uid=BASE,
        assigner_name="Acme", licensing_url=BASE,
    )  # fmt: skip
    check_tdm_policy(policy)
    (permission,) = policy["permission"]
    assert permission["duty"] == [{"action": "obtainConsent"}]
    assert permission["constraint"][0]["rightOperand"] == "tdm:research"  # evaluation and benchmarks only


def _only_license(document: bytes) -> ET.Element:
    root = check_rsl(document)
    (license_,) = root.findall(f"{NS}content/{NS}license")
    return license_


def _rules(license_: ET.Element) -> dict[tuple[str, str | None], str]:
    return {
        (el.tag.removeprefix(NS), el.get("type")): el.text or ""
        for el in license_
        if el.tag in (NS + "permits", NS + "prohibits", NS + "legal")
    }


def test_rsl_for_a_paid_commercial_offer_names_the_price_and_where_to_buy() -> None:
    offer = offered("LicenseRef-standard-commercial-1.0", 150000, territory=["DE", "FR"])
    document = signals.rsl_document([signals.RslContent(f"{BASE}/datasets/calls", (signals.rsl_license(offer),))])
    license_ = _only_license(document)
    assert _rules(license_) == {
        ("permits", "usage"): "ai-train,ai-input",
        ("permits", "geo"): "DE,FR",
        ("legal", "warranty"): "ownership,authority",
    }
    payment = license_.find(NS + "payment")
    assert payment is not None and payment.get("type") == "purchase"
    amount = payment.find(NS + "amount")
    assert amount is not None and (amount.get("currency"), amount.text) == ("EUR", "1500.00")
    assert payment.findtext(NS + "standard") == offer.url


def test_rsl_for_open_and_restricted_licenses() -> None:
    cc_by = _only_license(signals.rsl_document([signals.RslContent("/", (signals.rsl_license(offered("CC-BY-4.0")),))]))
    payment = cc_by.find(NS + "payment")
    assert payment is not None and payment.get("type") == "attribution" and payment.find(NS + "amount") is None
    assert _rules(cc_by)[("legal", "disclaimer")] == "as-is,no-warranty"

    nc = _only_license(signals.rsl_document([signals.RslContent("/", (signals.rsl_license(offered("CC-BY-NC-4.0")),))]))
    assert _rules(nc)[("permits", "user")] == "non-commercial"
    assert _rules(nc)[("prohibits", "user")] == "commercial"

    evaluation = signals.rsl_license(offered("LicenseRef-evaluation-only-1.0"))
    assert evaluation.prohibits_usage == ("ai-train", "ai-input") and evaluation.payment == "free"
    yen = signals.rsl_license(offered("LicenseRef-standard-commercial-1.0", 5000, "JPY"))
    assert yen.amount is not None and yen.amount.decimal_string() == "5000"


def test_rsl_document_with_several_assets_and_nothing_offered() -> None:
    document = signals.rsl_document(
        [
            signals.RslContent(
                f"{BASE}/datasets/a",
                (signals.NOTHING_OFFERED,),
                terms_url=f"{BASE}/datasets/a",
                lastmod="2026-11-30T12:00:00Z",
            ),
            signals.RslContent(f"{BASE}/datasets/b", (signals.rsl_license(offered("CC0-1.0")),)),
        ]
    )
    assert document.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    root = check_rsl(document)
    first = root.find(NS + "content")
    assert first is not None and first.get("lastmod") == "2026-11-30T12:00:00Z"
    assert first.findtext(f"{NS}license/{NS}prohibits") == "ai-all"
    assert first.findtext(NS + "terms") == f"{BASE}/datasets/a"
    with pytest.raises(ValueError):
        signals.RslContent("/", ())
