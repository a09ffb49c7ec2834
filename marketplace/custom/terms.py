"""License terms through the licensing engine: validate a template plus overrides, hash and describe them."""

from __future__ import annotations

from typing import Any

import licensing
from licensing.errors import LicensingError
from marketplace.errors import FieldProblem, ValidationFailed

#: How requested or quoted terms name the one buyer they are for, before a contract names the real organisation
#: (exclusivity may only be promised to a named buyer).
_ANY_NAMED_BUYER = "org:requesting-buyer"


def engine_terms(license_id: str, overrides: dict[str, Any], *, price: int, currency: str) -> licensing.Terms:
    """The effective terms of ``license_id`` with ``overrides`` as the engine computes them for an offer to one
    named buyer at ``price``; :class:`ValidationFailed` naming ``license_id`` or ``license_overrides.<term>``."""
    try:
        template = licensing.get_template(license_id)
    except LicensingError as error:
        raise ValidationFailed.for_field("license_id", error.message) from error
    if template.is_open:
        price = 0  # an open license is free whatever the quote costs: the price pays for the collection work
    try:
        offer = licensing.Offer(
            template=template,
            price=licensing.Money(price, currency),
            overrides=overrides,
            audience=licensing.Audience.private(_ANY_NAMED_BUYER),
        )
    except LicensingError as error:
        names = error.fields or ("license_overrides",)
        raise ValidationFailed(
            message=f"license_overrides: {error.message}",
            details=[
                FieldProblem(f"license_overrides.{name}" if name != "license_overrides" else name, error.message)
                for name in names
            ],
        ) from error
    return offer.terms


def plain_language(terms: dict[str, Any]) -> dict[str, str]:
    """The engine's plain-language line of each term, by term name (for pages and side-by-side comparison)."""
    return dict(licensing.Terms.from_dict(terms).plain_language_by_field())


def differing_lines(terms_list: list[dict[str, Any]]) -> list[str]:
    """The names of the terms whose plain-language lines differ between the given term sets."""
    lines = [plain_language(terms) for terms in terms_list]
    names = sorted({name for each in lines for name in each})
    return [name for name in names if len({each.get(name) for each in lines}) > 1]
