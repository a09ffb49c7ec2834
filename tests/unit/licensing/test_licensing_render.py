"""License documents (text, HTML) and the ODRL 2.2 Agreement."""

from __future__ import annotations

import json
import re
from typing import Any

from licensing_testkit import make_grant, make_offer

from licensing import (
    Audience,
    TemplateRegistry,
    VersionCoverage,
    get_template,
    render_html,
    render_text,
    terms_to_odrl,
    to_odrl,
)
from licensing.terms import FIELD_NAMES


def _rich_grant():  # type: ignore[no-untyped-def]
    offer = make_offer(
        overrides={
            "territory": ["DE", "FR"],
            "seats": 10,
            "download_limit": 3,
            "exclusivity": "field",
            "attribution": {"required": True, "text": "Acme <Labs> & Co"},
            "pii": {"dpa_required": True},
            "raw_redistribution": "affiliates",
        },
        versions=VersionCoverage.single("1.0.0"),
        audience=Audience.private("org-buyer"),
    )
    return make_grant(offer, dataset_slug="speech<de>", payment_reference="pi_<1>")


def test_text_document_lists_everything() -> None:
    grant = _rich_grant()
    text = render_text(grant, certificate_id="cert-1")
    for expected in (
        f"LICENSE {grant.id}",
        "Licensor: org-provider",
        "Licensee: org-buyer",
        "Dataset: ds-123 (speech<de>)",
        "Versions: 1.0.0",
        "Manifest digest: sha256:",
        "License: Standard Commercial Data License (LicenseRef-standard-commercial-1.0)",
        "Price paid: €1,250.00",
        "Payment reference: pi_<1>",
        "Valid from: 2025-03-01T12:00:00Z",
        "Valid until: 2026-03-01T12:00:00Z",
        "Status: active",
        "Certificate id: cert-1",
        f"Terms hash (SHA-256): {grant.terms_hash}",
    ):
        assert expected in text
    for line in grant.terms.plain_language():
        assert line in text
    perpetual = make_grant(make_offer("CC-BY-4.0"), dataset_slug=None, payment_reference=None)
    text = render_text(perpetual)
    assert "Valid until: no end (perpetual)" in text and "Payment reference" not in text
    assert f"Certificate id: {perpetual.id}" in text and "Dataset: ds-123\n" in text
    assert "every version published during the term" in text
    assert "License text: https://creativecommons.org/licenses/by/4.0/" in text


def test_unknown_license_in_registry_still_renders() -> None:
    text = render_text(make_grant(), registry=TemplateRegistry())
    assert "License: LicenseRef-standard-commercial-1.0" in text and "License text" not in text


def test_html_document_is_escaped() -> None:
    grant = _rich_grant()
    out = render_html(grant)
    assert "<Labs>" not in out and "speech<de>" not in out and "pi_<1>" not in out
    assert "Acme &lt;Labs&gt; &amp; Co" in out and "speech&lt;de&gt;" in out
    assert set(re.findall(r"</?([a-z0-9]+)", out)) == {"article", "h1", "h2", "section", "dl", "dt", "dd"}
    assert out.count("<dt>") >= len(FIELD_NAMES) + 10


def _rules(policy: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {rule["action"]: rule for rule in policy.get(kind, [])}


def test_odrl_agreement_shape() -> None:
    grant = _rich_grant()
    policy = to_odrl(grant)
    assert json.loads(json.dumps(policy)) == policy
    assert policy["@type"] == "Agreement"
    assert policy["@context"][0] == "http://www.w3.org/ns/odrl.jsonld"
    assert policy["uid"] == f"urn:dataset-marketplace:license:{grant.id}"
    assert policy["assigner"] == "urn:dataset-marketplace:party:org-provider"
    assert policy["assignee"] == "urn:dataset-marketplace:party:org-buyer"
    permissions = _rules(policy, "permission")
    prohibitions = _rules(policy, "prohibition")
    assert {"use", "dm:train", "dm:fineTune", "derive", "distribute", "reproduce", "dm:distributeModelWeights"} <= set(
        permissions
    )
    assert {"grantUse", "transfer"} <= set(prohibitions)
    use = permissions["use"]
    assert use["target"] == "urn:dataset-marketplace:dataset:ds-123:1.0.0"
    operands = {(c["leftOperand"], c["operator"]) for c in use["constraint"]}
    assert {("spatial", "isAnyOf"), ("dateTime", "gteq"), ("dateTime", "lt"), ("dm:seats", "lteq")} <= operands
    spatial = next(c for c in use["constraint"] if c["leftOperand"] == "spatial")
    assert spatial["rightOperand"] == ["DE", "FR"]
    until = next(c for c in use["constraint"] if c["operator"] == "lt")
    assert until["rightOperand"] == {"@value": "2026-03-01T12:00:00Z", "@type": "xsd:dateTime"}
    count = next(c for c in permissions["reproduce"]["constraint"] if c["leftOperand"] == "count")
    assert count == {"leftOperand": "count", "operator": "lteq", "rightOperand": 3}
    assert {"action": "attribute", "dm:attributionText": "Acme <Labs> & Co"} in use["duty"]
    assert {"action": "dm:signDataProcessingAgreement"} in use["duty"]
    recipient = [c for c in permissions["distribute"]["constraint"] if c["leftOperand"] == "recipient"]
    assert recipient and recipient[0]["rightOperand"] == "dm:affiliate"
    obligation = policy["obligation"][0]
    assert obligation["action"] == "delete" and obligation["assignee"] == policy["assignee"]
    assert obligation["constraint"][0]["rightOperand"] == {"@value": "P30D", "@type": "xsd:duration"}
    assert obligation["consequence"] == [{"action": "dm:certifyDeletion"}]


def test_odrl_for_open_and_restricted_terms() -> None:
    sa = terms_to_odrl(get_template("CC-BY-SA-4.0").terms, uid="urn:x", target="urn:d")
    assert sa["@type"] == "Set" and "assigner" not in sa and "obligation" not in sa
    permissions = _rules(sa, "permission")
    assert {"action": "dm:shareAlike"} in permissions["derive"]["duty"]
    assert {"action": "dm:sameLicense"} in permissions["distribute"]["duty"]
    assert {"action": "dm:sameTerms"} in permissions["dm:distributeModelWeights"]["duty"]
    assert "constraint" not in permissions["use"]
    nc = terms_to_odrl(get_template("LicenseRef-research-only-1.0").terms, uid="urn:x", target="urn:d")
    prohibitions = _rules(nc, "prohibition")
    expected = {
        "commercialize",
        "distribute",
        "dm:reidentify",
        "dm:commercialiseModel",
        "dm:retrievalAugmentedGeneration",
    }
    assert expected <= set(prohibitions)
    permissions = _rules(nc, "permission")
    assert {"leftOperand": "purpose", "operator": "isNoneOf", "rightOperand": ["dm:commercial"]} in permissions["use"][
        "constraint"
    ]
    weights = permissions["dm:distributeModelWeights"]["constraint"]
    assert {"leftOperand": "purpose", "operator": "eq", "rightOperand": "dm:research"} in weights
    evaluation = terms_to_odrl(
        get_template("LicenseRef-evaluation-only-1.0").terms.with_overrides(
            {"derivatives": False, "deletion_on_termination": {"days": None, "certification": False}}
        ),
        uid="urn:x",
        target="urn:d",
    )
    prohibitions = _rules(evaluation, "prohibition")
    assert {"derive", "dm:distributeModelWeights", "dm:train"} <= set(prohibitions)
    assert evaluation["obligation"] == [{"action": "delete", "target": "urn:d"}]
    cc0 = terms_to_odrl(get_template("CC0-1.0").terms, uid="urn:x", target="urn:d")
    assert {"grantUse", "transfer"} <= set(_rules(cc0, "permission"))
    perpetual = to_odrl(make_grant(make_offer("CC-BY-4.0"), versions=["1.0.0", "1.1.0"]))
    use = _rules(perpetual, "permission")["use"]
    assert use["target"] == "urn:dataset-marketplace:dataset:ds-123"
    assert [c["operator"] for c in use["constraint"]] == ["gteq"]
