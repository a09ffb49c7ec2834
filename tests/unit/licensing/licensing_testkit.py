"""Shared helpers and Hypothesis strategies for the licensing engine tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import strategies as st

from licensing import (
    Audience,
    Grant,
    Money,
    Offer,
    Terms,
    Use,
    VersionCoverage,
    get_template,
    issue_grant,
)
from licensing._iso import COUNTRY_NAMES, CURRENCIES

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
DIGEST = "sha256:" + "ab" * 32
ISSUER = "https://market.example"


def make_offer(license_id: str = "LicenseRef-standard-commercial-1.0", **kwargs: Any) -> Offer:
    template = get_template(license_id)
    price = kwargs.pop("price", Money(0, "EUR") if template.is_open else Money(125000, "EUR"))
    return Offer(template, price, **kwargs)


def make_grant(offer: Offer | None = None, **kwargs: Any) -> Grant:
    offer = offer or make_offer()
    defaults: dict[str, Any] = {
        "licensor": "org-provider",
        "licensee": "org-buyer",
        "dataset_id": "ds-123",
        "dataset_slug": "speech-de",
        "versions": offer.versions.version or "1.0.0",
        "manifest_digest": DIGEST,
        "issued_at": T0,
        "payment_reference": None if offer.price.is_zero else "pi_123",
    }
    defaults.update(kwargs)
    return issue_grant(offer, **defaults)


_USES = [u.value for u in Use]


@st.composite
def terms_dicts(draw: st.DrawFn) -> dict[str, Any]:
    """Dicts of valid terms: random choices, then repaired so that no validation rule is broken."""
    uses = set(draw(st.lists(st.sampled_from(_USES), min_size=1, unique=True)))
    non_commercial = draw(st.booleans())
    model_weights = draw(st.sampled_from(["none", "research_only", "same_terms", "unrestricted"]))
    raw = draw(st.sampled_from(["none", "affiliates", "same_license", "any"]))
    derivatives = draw(st.booleans())
    share_alike = draw(st.booleans())
    sublicensing = draw(st.booleans())
    exclusivity = draw(st.sampled_from(["none", "field", "territory", "full"]))
    territory = draw(
        st.one_of(st.just("worldwide"), st.lists(st.sampled_from(sorted(COUNTRY_NAMES)), min_size=1, max_size=4))
    )
    if non_commercial:
        uses -= {"output_commercial", "model_commercial"}
        uses = uses or {"research"}
        if model_weights == "unrestricted":
            model_weights = "same_terms"
    if (model_weights != "none" or "model_commercial" in uses) and not uses & {"train", "fine_tune"}:
        uses.add("train")
    if share_alike:
        derivatives = True
        raw = raw if raw in ("same_license", "any") else "same_license"
    if sublicensing and raw == "none":
        raw = "affiliates"
    if exclusivity == "territory" and territory == "worldwide":
        exclusivity = "full"
    attribution_required = draw(st.booleans())
    deletion_required = draw(st.booleans())
    years, months, days = draw(st.tuples(st.integers(0, 5), st.integers(0, 24), st.integers(0, 400)))
    term = "perpetual" if years + months + days == 0 else f"P{years}Y{months}M{days}D"
    law = draw(st.one_of(st.none(), st.sampled_from(["DE", "FR", "US-NY", "GB-SCT", "JP"])))
    cap = draw(
        st.one_of(
            st.none(),
            st.builds(
                lambda a, c: {"amount": a, "currency": c},
                st.integers(0, 2**53 - 1),
                st.sampled_from(sorted(CURRENCIES)),
            ),
        )
    )
    return {
        "permitted_uses": sorted(uses),
        "derivatives": derivatives,
        "model_weights": model_weights,
        "raw_redistribution": raw,
        "sublicensing": sublicensing,
        "transferable": draw(st.booleans()),
        "exclusivity": exclusivity,
        "territory": territory,
        "term": term,
        "seats": draw(st.one_of(st.none(), st.integers(1, 10**6))),
        "download_limit": draw(st.one_of(st.none(), st.integers(0, 10**6))),
        "attribution": {
            "required": attribution_required,
            "text": draw(st.one_of(st.none(), st.text(min_size=1).filter(str.strip))) if attribution_required else None,
        },
        "share_alike": share_alike,
        "non_commercial": non_commercial,
        "deletion_on_termination": {
            "required": deletion_required,
            "days": draw(st.one_of(st.none(), st.integers(0, 365))) if deletion_required else None,
            "certification": draw(st.booleans()) if deletion_required else False,
        },
        "pii": {"no_reidentification": draw(st.booleans()), "dpa_required": draw(st.booleans())},
        "warranty": draw(st.sampled_from(["as_is", "rights", "rights_and_quality"])),
        "liability_cap": cap,
        "governing_law": law,
    }


terms_strategy = terms_dicts().map(Terms.from_dict)


@st.composite
def grants(draw: st.DrawFn) -> Grant:
    """Active grants of custom offers with arbitrary valid terms, parties and times."""
    terms = draw(terms_strategy)
    private = terms.exclusivity.value != "none" or draw(st.booleans())
    licensee = draw(st.from_regex(r"\A[a-z0-9][a-z0-9_-]{0,30}\Z"))
    offer = Offer(
        get_template("LicenseRef-custom-1.0"),
        Money(draw(st.integers(0, 10**9)), draw(st.sampled_from(["EUR", "USD", "JPY", "KWD"]))),
        overrides=terms.to_dict(),
        versions=draw(st.sampled_from([VersionCoverage.single("2.1.0"), VersionCoverage.all_during_term()])),
        audience=Audience.private(licensee) if private else Audience.public(),
    )
    issued = draw(st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)))
    return make_grant(
        offer,
        licensee=licensee,
        licensor=draw(st.from_regex(r"\A[a-z0-9][a-z0-9.-]{0,30}\Z")),
        dataset_id=draw(st.uuids()).hex,
        dataset_slug=draw(st.one_of(st.none(), st.from_regex(r"\A[a-z][a-z0-9-]{0,40}\Z"))),
        versions="2.1.0",
        manifest_digest=draw(st.binary(min_size=32, max_size=32)).hex(),
        issued_at=issued,
        payment_reference="pi_x",
    )
