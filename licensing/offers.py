"""Offers: what a provider sells for one dataset.

An :class:`Offer` combines a license template, term overrides, a price, the versions it covers and
its audience. Its *effective terms* are the template's terms with the overrides applied, validated
as a whole. On top of the rules of :mod:`licensing.terms`, an offer refuses (raising
:class:`~licensing.errors.OfferError`, a :class:`~licensing.errors.TermsError`, naming the field):

* a price other than zero on an open license (``price``);
* any change to an open license's terms except the attribution text the licensor asks for
  (restating a term's own value is allowed): in
  particular a seat limit (``seats``), a download limit or exclusivity — the license text fixes them;
* exclusivity on an offer anyone may buy (``exclusivity``, ``audience``): exclusivity can only be
  promised to one named buyer;
* a price in a currency that is not ISO 4217 (via :class:`~licensing.money.Money`).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .canonical import canonical_json
from .errors import CanonicalJSONError, LicensingError, MoneyError, OfferError
from .money import Money
from .templates import DEFAULT_REGISTRY, LicenseTemplate, TemplateRegistry
from .terms import Exclusivity, Terms

_LABEL = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$")
_IDENT = re.compile(r"^[^\s\x00-\x1f]{1,200}$")


def validate_version_label(label: Any, name: str = "version") -> str:
    """Return ``label`` if it is a version label (1-64 chars of letters, digits, ``.+_-``); else raise."""
    if not isinstance(label, str) or not _LABEL.match(label):
        raise LicensingError(f"{label!r} is not a version label (e.g. 1.2.0)", name)
    return label


def validate_identifier(value: Any, name: str) -> str:
    """Return ``value`` if it is a non-empty id without whitespace or control characters (≤ 200 chars)."""
    if not isinstance(value, str) or not _IDENT.match(value):
        raise LicensingError(f"{value!r} is not a valid identifier", name)
    return value


@dataclass(frozen=True)
class Audience:
    """Who may buy an offer: anyone (``buyer_org_id is None``) or one named buyer organisation."""

    buyer_org_id: str | None = None

    def __post_init__(self) -> None:
        if self.buyer_org_id is not None:
            validate_identifier(self.buyer_org_id, "audience")

    @classmethod
    def public(cls) -> Audience:
        """Return the public audience (anyone may buy)."""
        return cls(None)

    @classmethod
    def private(cls, buyer_org_id: str) -> Audience:
        """Return a private audience: only ``buyer_org_id`` may buy."""
        return cls(buyer_org_id)

    @property
    def is_public(self) -> bool:
        """True when anyone may buy the offer."""
        return self.buyer_org_id is None

    def admits(self, org_id: str | None) -> bool:
        """Return True when ``org_id`` may buy an offer with this audience."""
        return self.buyer_org_id is None or self.buyer_org_id == org_id

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"kind": "public"}`` or ``{"kind": "private", "buyer_org_id": ...}``."""
        if self.buyer_org_id is None:
            return {"kind": "public"}
        return {"kind": "private", "buyer_org_id": self.buyer_org_id}

    @classmethod
    def from_dict(cls, data: Any) -> Audience:
        """Parse :meth:`to_dict` output; raise :class:`OfferError` naming ``audience`` otherwise."""
        if data == {"kind": "public"}:
            return cls.public()
        if isinstance(data, dict) and data.get("kind") == "private" and set(data) == {"kind", "buyer_org_id"}:
            return cls.private(data["buyer_org_id"])
        raise OfferError("expected {'kind': 'public'} or {'kind': 'private', 'buyer_org_id': ...}", "audience")


@dataclass(frozen=True)
class VersionCoverage:
    """Which dataset versions an offer covers: one version label, or every version published during the term."""

    version: str | None = None

    def __post_init__(self) -> None:
        if self.version is not None:
            validate_version_label(self.version, "versions")

    @classmethod
    def single(cls, version: str) -> VersionCoverage:
        """Cover exactly the version ``version``."""
        return cls(version)

    @classmethod
    def all_during_term(cls) -> VersionCoverage:
        """Cover every version published while the license is valid."""
        return cls(None)

    @property
    def all_versions(self) -> bool:
        """True when every version published during the term is covered."""
        return self.version is None

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"kind": "single", "version": ...}`` or ``{"kind": "all_during_term"}``."""
        if self.version is None:
            return {"kind": "all_during_term"}
        return {"kind": "single", "version": self.version}

    @classmethod
    def from_dict(cls, data: Any) -> VersionCoverage:
        """Parse :meth:`to_dict` output; raise :class:`OfferError` naming ``versions`` otherwise."""
        if data == {"kind": "all_during_term"}:
            return cls.all_during_term()
        if isinstance(data, dict) and data.get("kind") == "single" and set(data) == {"kind", "version"}:
            return cls.single(data["version"])
        raise OfferError("expected {'kind': 'single', 'version': ...} or {'kind': 'all_during_term'}", "versions")


@dataclass(frozen=True, eq=False)
class Offer:
    """A provider's offer for one dataset: a template, term overrides, a price, versions and audience.

    Construction validates everything (see the module docstring) and computes :attr:`terms`, the
    effective terms. Offers are immutable; ``overrides`` is stored as a read-only deep copy.
    """

    template: LicenseTemplate
    price: Money
    overrides: Mapping[str, Any] = field(default_factory=dict)
    versions: VersionCoverage = field(default_factory=VersionCoverage)
    audience: Audience = field(default_factory=Audience)
    offer_id: str | None = None
    terms: Terms = field(init=False)

    def __post_init__(self) -> None:
        if not isinstance(self.template, LicenseTemplate):
            raise OfferError("expected a LicenseTemplate", "template")
        if not isinstance(self.price, Money):
            raise OfferError("expected Money", "price")
        if not isinstance(self.versions, VersionCoverage):
            raise OfferError("expected VersionCoverage", "versions")
        if not isinstance(self.audience, Audience):
            raise OfferError("expected Audience", "audience")
        if self.offer_id is not None:
            validate_identifier(self.offer_id, "offer_id")
        if not isinstance(self.overrides, Mapping):
            raise OfferError("overrides must be an object", "overrides")
        try:
            canonical_json(dict(self.overrides))
        except CanonicalJSONError as exc:
            raise OfferError(exc.message, "overrides") from exc
        overrides = copy.deepcopy(dict(self.overrides))
        object.__setattr__(self, "overrides", MappingProxyType(overrides))
        if self.template.is_open:
            self._check_open(overrides)
        terms = self.template.terms.with_overrides(overrides)
        if terms.exclusivity is not Exclusivity.NONE and self.audience.is_public:
            raise OfferError(
                "exclusivity can only be promised to one named buyer, not on a public offer",
                ("exclusivity", "audience"),
            )
        object.__setattr__(self, "terms", terms)

    def _check_open(self, overrides: dict[str, Any]) -> None:
        name = self.template.id
        if not self.price.is_zero:
            raise OfferError(f"{name} is an open license: its price must be zero", "price")
        if "seats" in overrides and overrides["seats"] is not None:
            raise OfferError(f"{name} is an open license: it cannot limit seats", "seats")
        fixed = self.template.terms.to_dict()
        for key, value in overrides.items():
            if key == "attribution" and isinstance(value, Mapping) and set(value) <= {"text"}:
                continue
            if key in fixed and fixed[key] == value:
                continue
            raise OfferError(
                f"{name} is an open license: its terms are fixed by the license text "
                "(only the attribution text may be set)",
                key,
            )

    @property
    def license_id(self) -> str:
        """The template's license id."""
        return self.template.id

    @property
    def is_private(self) -> bool:
        """True when only one named buyer may buy the offer."""
        return not self.audience.is_public

    def available_to(self, org_id: str | None) -> bool:
        """Return True when the buyer organisation ``org_id`` may buy this offer."""
        return self.audience.admits(org_id)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Offer):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(canonical_json(self.to_dict()))

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict for persistence (the template is stored by id)."""
        return {
            "offer_id": self.offer_id,
            "license_id": self.template.id,
            "price": self.price.to_dict(),
            "overrides": copy.deepcopy(dict(self.overrides)),
            "versions": self.versions.to_dict(),
            "audience": self.audience.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], registry: TemplateRegistry = DEFAULT_REGISTRY) -> Offer:
        """Rebuild an offer from :meth:`to_dict` output, resolving the template in ``registry``."""
        if not isinstance(data, Mapping):
            raise OfferError("an offer must be an object")
        expected = {"offer_id", "license_id", "price", "overrides", "versions", "audience"}
        if set(data) != expected:
            raise OfferError("offer fields do not match", sorted(set(data) ^ expected))
        try:
            price = Money.from_dict(data["price"])
        except MoneyError as exc:
            raise OfferError(exc.message, "price") from exc
        return cls(
            template=registry.get(data["license_id"]),
            price=price,
            overrides=data["overrides"],
            versions=VersionCoverage.from_dict(data["versions"]),
            audience=Audience.from_dict(data["audience"]),
            offer_id=data["offer_id"],
        )
