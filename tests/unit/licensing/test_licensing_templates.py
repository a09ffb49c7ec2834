"""License templates, the registry, families and license-id validation."""

from __future__ import annotations

import pytest

from licensing import (
    DEFAULT_REGISTRY,
    LicenseFamily,
    LicenseIdError,
    LicenseKind,
    LicenseScope,
    LicenseTemplate,
    ModelWeights,
    RawRedistribution,
    TemplateRegistry,
    Terms,
    Use,
    get_template,
    license_family,
    list_templates,
    validate_license_id,
)
from licensing.templates import spdx_licensing

OPEN_IDS = [
    "CC-BY-4.0",
    "CC-BY-SA-4.0",
    "CC-BY-NC-4.0",
    "CC0-1.0",
    "ODC-By-1.0",
    "ODbL-1.0",
    "CDLA-Permissive-2.0",
    "CDLA-Sharing-1.0",
]
COMMERCIAL_IDS = [
    "LicenseRef-standard-commercial-1.0",
    "LicenseRef-enterprise-1.0",
    "LicenseRef-research-only-1.0",
    "LicenseRef-evaluation-only-1.0",
    "LicenseRef-custom-1.0",
]


def test_registry_lists_all_templates_open_first() -> None:
    ids = [t.id for t in list_templates()]
    assert ids == OPEN_IDS + COMMERCIAL_IDS
    assert len(DEFAULT_REGISTRY) == 13
    assert [t.id for t in DEFAULT_REGISTRY] == ids
    assert "cc-by-4.0" in DEFAULT_REGISTRY and "MIT" not in DEFAULT_REGISTRY and 5 not in DEFAULT_REGISTRY


@pytest.mark.parametrize("license_id", OPEN_IDS)
def test_open_templates_are_real_spdx_ids_with_urls(license_id: str) -> None:
    template = get_template(license_id)
    assert template.is_open and template.kind is LicenseKind.OPEN
    assert license_id in spdx_licensing().known_symbols
    assert validate_license_id(license_id) == license_id == template.spdx_id
    assert template.url.startswith("https://")
    assert template.name and template.short_name and template.version in license_id
    assert template.terms.term is None and template.terms.seats is None
    assert not template.terms.sublicensing or license_id == "CC0-1.0"


@pytest.mark.parametrize("license_id", COMMERCIAL_IDS)
def test_commercial_templates(license_id: str) -> None:
    template = get_template(license_id)
    assert not template.is_open and template.version == "1.0"
    assert template.url == f"/license-templates/{license_id}"
    assert validate_license_id(license_id) == license_id


@pytest.mark.parametrize(
    ("license_id", "family"),
    [
        ("CC-BY-4.0", "cc-by"),
        ("CC-BY-SA-4.0", "cc-by-sa"),
        ("CC-BY-NC-4.0", "cc-by-nc"),
        ("CC0-1.0", "public-domain"),
        ("ODC-By-1.0", "odc"),
        ("ODbL-1.0", "odc"),
        ("CDLA-Permissive-2.0", "cdla"),
        ("CDLA-Sharing-1.0", "cdla"),
        ("LicenseRef-standard-commercial-1.0", "commercial"),
        ("LicenseRef-enterprise-1.0", "commercial"),
        ("LicenseRef-research-only-1.0", "research-only"),
        ("LicenseRef-evaluation-only-1.0", "evaluation-only"),
        ("LicenseRef-custom-1.0", "custom"),
    ],
)
def test_families(license_id: str, family: str) -> None:
    assert license_family(license_id) == LicenseFamily(family)
    assert license_family(license_id.lower()) == family


def test_real_terms_are_encoded() -> None:
    nc = get_template("CC-BY-NC-4.0").terms
    assert nc.non_commercial and Use.MODEL_COMMERCIAL not in nc.permitted_uses and nc.attribution.required
    sa = get_template("CC-BY-SA-4.0").terms
    assert sa.share_alike and sa.raw_redistribution is RawRedistribution.SAME_LICENSE
    cdla_p = get_template("CDLA-Permissive-2.0")
    assert cdla_p.results_unrestricted and cdla_p.terms.model_weights is ModelWeights.UNRESTRICTED
    assert not cdla_p.terms.share_alike
    odc_by = get_template("ODC-By-1.0")
    assert odc_by.scope is LicenseScope.DATABASE
    assert any("not its individual contents" in note for note in odc_by.notes)
    odbl = get_template("ODbL-1.0")
    assert odbl.scope is LicenseScope.DATABASE and odbl.terms.share_alike
    cdla_s = get_template("CDLA-Sharing-1.0")
    assert cdla_s.terms.share_alike and cdla_s.results_unrestricted
    assert cdla_s.terms.model_weights is ModelWeights.UNRESTRICTED
    cc0 = get_template("CC0-1.0").terms
    assert not cc0.attribution.required and cc0.permits_training()
    research = get_template("LicenseRef-research-only-1.0").terms
    assert research.non_commercial and research.model_weights is ModelWeights.RESEARCH_ONLY
    evaluation = get_template("LicenseRef-evaluation-only-1.0").terms
    assert evaluation.permitted_uses == frozenset({Use.EVALUATION, Use.BENCHMARK}) and evaluation.seats == 5


@pytest.mark.parametrize(
    ("expression", "normalised"),
    [
        ("CC-BY-4.0", "CC-BY-4.0"),
        ("cc-by-4.0", "CC-BY-4.0"),
        ("  ODbL-1.0 ", "ODbL-1.0"),
        ("CC-BY-4.0 AND ODbL-1.0", "CC-BY-4.0 AND ODbL-1.0"),
        ("mit or apache-2.0", "MIT OR Apache-2.0"),
        ("LicenseRef-standard-commercial-1.0", "LicenseRef-standard-commercial-1.0"),
        ("LicenseRef-acme-speech-2", "LicenseRef-acme-speech-2"),
        ("cc-by-4.0 and LicenseRef-custom-1.0", "CC-BY-4.0 AND LicenseRef-custom-1.0"),
        ("GPL-2.0-only WITH Classpath-exception-2.0", "GPL-2.0-only WITH Classpath-exception-2.0"),
    ],
)
def test_validate_license_id_accepts(expression: str, normalised: str) -> None:
    assert validate_license_id(expression) == normalised


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("", "required"),
        ("   ", "required"),
        ("Foo-1.0", "unknown license id(s): Foo-1.0"),
        ("LicenseRef-Acme", "unknown license id(s): LicenseRef-Acme"),
        ("LicenseRef-acme", "unknown license id(s): LicenseRef-acme"),
        ("CC-BY-4.0 AND Foo", "unknown license id(s): Foo"),
        ("MIT AND (", "not a valid license expression"),
        ("CC-BY-4.0 WITH MIT", "not a valid license expression"),
        ("MIT AND AND", "not a valid license expression"),
    ],
)
def test_validate_license_id_rejects_with_clear_error(expression: str, message: str) -> None:
    with pytest.raises(LicenseIdError, match=message.replace("(", r"\(").replace(")", r"\)")) as info:
        validate_license_id(expression)
    assert info.value.fields == ("license_id",)


def test_validate_license_id_rejects_non_strings() -> None:
    with pytest.raises(LicenseIdError):
        validate_license_id(None)  # type: ignore[arg-type]


def test_registry_errors_and_custom_templates() -> None:
    with pytest.raises(LicenseIdError) as info:
        get_template("Nope-1.0")
    assert info.value.fields == ("license_id",)
    assert DEFAULT_REGISTRY.find(None) is None  # type: ignore[arg-type]
    terms = Terms(permitted_uses=frozenset({Use.RESEARCH}))
    custom = LicenseTemplate(
        "LicenseRef-acme-speech-2.0",
        "Acme Speech License",
        "Acme 2.0",
        "2.0",
        "/licenses/acme",
        LicenseFamily.CUSTOM,
        LicenseKind.COMMERCIAL,
        terms,
    )
    registry = TemplateRegistry([custom])
    assert registry.get("LicenseRef-acme-speech-2.0") is custom and registry.family(custom.id) is LicenseFamily.CUSTOM
    with pytest.raises(LicenseIdError, match="already registered"):
        registry.register(custom)
    bad = [
        ("cc-by-4.0", LicenseKind.OPEN, "must be written"),
        ("CC-BY-4.0", LicenseKind.COMMERCIAL, "open templates"),
        ("LicenseRef-acme-1", LicenseKind.OPEN, "open templates"),
        ("MIT AND CC-BY-4.0", LicenseKind.OPEN, "single license"),
        ("Foo", LicenseKind.OPEN, "unknown"),
    ]
    for license_id, kind, message in bad:
        with pytest.raises(LicenseIdError, match=message):
            LicenseTemplate(license_id, "x", "x", "1", "https://x", LicenseFamily.CUSTOM, kind, terms)
