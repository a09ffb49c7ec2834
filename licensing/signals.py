"""Machine-readable rights signals for a dataset page: W3C TDMRep and RSL 1.0.

No library exists for either format, so both are written here, small and pure (no web framework, no database).
The web layer gives each dataset's public offers as :class:`OfferedTerms` and publishes what this module returns.

**TDMRep** (W3C TDM Reservation Protocol, final community group report): ``tdm-reservation`` is ``1`` when text
and data mining rights are reserved (a TDM agent needs a license) and ``0`` when they are not. A dataset
reserves nothing (``0``) only when anyone may mine it, for any purpose, without paying or asking: some offer
anyone may take is free, under an open license, permits training and allows commercial use (CC-BY-4.0, CC0,
CDLA-Permissive…). The attribution such licenses require is a condition of use, not a reservation of the right
to mine. Everything else reserves the rights (``1``): a price, a non-commercial clause (CC-BY-NC mines only for
non-commercial purposes, so commercial miners need another license), no training permitted, or no offer at all.
``tdm-policy`` points to a TDM policy — an ODRL 2.2 ``Offer`` in the TDMRep profile (:func:`tdm_policy`) — only
when the rights are reserved and a license can be acquired (the specification tells agents to ignore a policy
next to ``0``). The same declaration is published three ways: HTTP response headers (:func:`tdm_headers`),
HTML ``<meta>`` elements, and the site-wide ``/.well-known/tdmrep.json`` (:func:`tdmrep_rules`).

**RSL** (Really Simple Licensing 1.0, RSL-SPEC-1.0): an XML document ``<rsl>`` with one ``<content>`` per
licensable asset and, inside, one ``<license>`` per offer: ``<permits>``/``<prohibits>`` of type ``usage``
(``ai-train`` for training and fine-tuning, ``ai-input`` for retrieval-augmented generation — the uses RSL's
vocabulary names), ``user`` (``commercial``/``non-commercial``) and ``geo`` (ISO 3166-1 codes), a ``<payment>``
(``free``, ``attribution`` when the only price is credit, ``purchase`` for a one-off price, with ``<amount
currency>`` in the currency's decimal form and ``<standard>`` naming where the offer's terms are read), and
``<legal>`` statements derived from the warranty term.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .money import Money
from .terms import Terms, Use, Warranty

RSL_NAMESPACE = "https://rslstandard.org/rsl"
RSL_MEDIA_TYPE = "application/rsl+xml"
TDM_PROFILE = "http://www.w3.org/ns/tdmrep"
TDM_NAMESPACE = "http://www.w3.org/ns/tdmrep#"
ODRL_CONTEXT = "http://www.w3.org/ns/odrl.jsonld"

#: Our uses that RSL's usage vocabulary names: training (and fine-tuning, a kind of training) and AI input.
_RSL_USAGE: tuple[tuple[str, frozenset[Use]], ...] = (
    ("ai-train", frozenset({Use.TRAIN, Use.FINE_TUNE})),
    ("ai-input", frozenset({Use.RAG})),
)
#: Uses that are research in the TDMRep sense (``tdm:research``): mining to learn, not to sell.
_RESEARCH_USES = frozenset({Use.RESEARCH, Use.EVALUATION, Use.BENCHMARK})


@dataclass(frozen=True)
class OfferedTerms:
    """One offer anyone may take, as the signals need it.

    ``url`` is where a person or agent reads the offer and acquires it (its terms as ODRL, or the dataset page);
    ``license_url`` the license document; ``is_open`` is True for an open license (fixed public terms, no price).
    """

    terms: Terms
    price: Money
    is_open: bool
    url: str
    license_url: str

    @property
    def free_for_any_miner(self) -> bool:
        """Anyone may mine under it for any purpose without paying: open, free, training and commercial use."""
        return self.is_open and self.price.is_zero and self.terms.permits_training() and not self.terms.non_commercial


# --- TDMRep --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TdmDeclaration:
    """The TDMRep properties of one web resource: ``reservation`` (0 or 1) and an optional policy URL."""

    reservation: int
    policy: str | None = None

    def __post_init__(self) -> None:
        if self.reservation not in (0, 1):
            raise ValueError("tdm-reservation is 0 or 1")
        if self.reservation == 0 and self.policy is not None:
            raise ValueError("a TDM policy is only published when the rights are reserved")


def tdm_declaration(offers: Sequence[OfferedTerms], policy_url: str) -> TdmDeclaration:
    """The dataset's declaration (see the module docstring for the rule): ``0`` when an offer lets anyone mine
    for any purpose for free; otherwise ``1``, with ``policy_url`` when there is an offer to acquire."""
    if any(offer.free_for_any_miner for offer in offers):
        return TdmDeclaration(0)
    return TdmDeclaration(1, policy_url if offers else None)


def tdm_headers(declaration: TdmDeclaration) -> dict[str, str]:
    """The HTTP response header fields of the declaration (``tdm-reservation`` and, when set, ``tdm-policy``)."""
    headers = {"tdm-reservation": str(declaration.reservation)}
    if declaration.policy:
        headers["tdm-policy"] = declaration.policy
    return headers


def tdm_meta(declaration: TdmDeclaration) -> list[tuple[str, str]]:
    """``(name, content)`` pairs for the HTML ``<meta>`` elements of the declaration, in the specification's order."""
    return list(tdm_headers(declaration).items())


def location_pattern(path: str, *, exact: bool = False) -> str:
    """A ``tdmrep.json`` location for ``path``: its special characters ``*`` and ``$`` percent-encoded (the
    specification's rule for matching them verbatim), then ``$`` to match this path only, or ``*`` to match
    everything below it when the path ends with ``/``."""
    if not path.startswith("/"):
        raise ValueError("a location is a path starting with /")
    escaped = path.replace("%", "%25").replace("*", "%2A").replace("$", "%24")
    return escaped + "$" if exact else escaped + ("*" if escaped.endswith("/") else "")


def tdmrep_rules(rules: Iterable[tuple[str, TdmDeclaration]]) -> list[dict[str, Any]]:
    """The ``/.well-known/tdmrep.json`` array: one ``{"location", "tdm-reservation"[, "tdm-policy"]}`` object per
    ``(location pattern, declaration)``, in the order given (agents use the first match, so give the most
    specific first)."""
    out: list[dict[str, Any]] = []
    for location, declaration in rules:
        rule: dict[str, Any] = {"location": location, "tdm-reservation": declaration.reservation}
        if declaration.policy:
            rule["tdm-policy"] = declaration.policy
        out.append(rule)
    return out


def _tdm_permission(offer: OfferedTerms, target: str) -> dict[str, Any]:
    permission: dict[str, Any] = {"target": target, "action": "tdm:mine"}
    duties: list[dict[str, Any]] = []
    if not (offer.is_open and offer.price.is_zero):
        duties.append({"action": "obtainConsent"})
    if not offer.price.is_zero:
        duties.append({"action": "compensate"})
    if duties:
        permission["duty"] = duties
    purpose = None
    if offer.terms.non_commercial or not (offer.terms.permitted_uses - _RESEARCH_USES):
        purpose = "tdm:research"
    if purpose:
        permission["constraint"] = [{"leftOperand": "purpose", "operator": "eq", "rightOperand": purpose}]
    return permission


def tdm_policy(
    offers: Sequence[OfferedTerms], *, uid: str, target: str, assigner_uid: str, assigner_name: str, licensing_url: str
) -> dict[str, Any]:
    """The TDM policy of a dataset: an ODRL 2.2 ``Offer`` in the TDMRep profile, one ``tdm:mine`` permission per
    offer. A permission has the duty ``obtainConsent`` unless the offer is a free open license (whose public text
    already grants it; other licenses are acquired on the offer's page, even free ones) and ``compensate`` when the
    offer has a price; offers that only allow research, evaluation and
    benchmarks, or are non-commercial, are constrained to the purpose ``tdm:research``. The assigner is the
    provider (``vcard:fn``), with ``vcard:hasURL`` pointing to where licenses are acquired."""
    return {
        "@context": [ODRL_CONTEXT, {"tdm": TDM_NAMESPACE}],
        "@type": "Offer",
        "profile": TDM_PROFILE,
        "uid": uid,
        "assigner": {"uid": assigner_uid, "vcard:fn": assigner_name, "vcard:hasURL": licensing_url},
        "permission": [_tdm_permission(offer, target) for offer in offers],
    }


# --- RSL 1.0 ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RslLicense:
    """One ``<license>`` of an RSL document, in RSL's own terms (token lists in document order)."""

    permits_usage: tuple[str, ...] = ()
    prohibits_usage: tuple[str, ...] = ()
    permits_user: tuple[str, ...] = ()
    prohibits_user: tuple[str, ...] = ()
    permits_geo: tuple[str, ...] = ()
    payment: str = "free"
    amount: Money | None = None
    standard: str | None = None
    legal: tuple[tuple[str, str], ...] = ()


def rsl_license(offer: OfferedTerms) -> RslLicense:
    """Map one offer onto RSL: usage (``ai-train``, ``ai-input``) permitted or prohibited as the terms say;
    non-commercial terms permit the ``non-commercial`` user type and prohibit ``commercial``; a territory other
    than worldwide becomes ``geo``; the payment is ``purchase`` with the price for a paid offer, ``attribution``
    for a free one that requires credit, else ``free``; the warranty becomes ``legal`` statements."""
    terms = offer.terms
    permitted = [token for token, uses in _RSL_USAGE if terms.permitted_uses & uses]
    prohibited = [token for token, uses in _RSL_USAGE if not terms.permitted_uses & uses]
    if not offer.price.is_zero:
        payment, amount = "purchase", offer.price
    elif terms.attribution.required:
        payment, amount = "attribution", None
    else:
        payment, amount = "free", None
    warranty: tuple[tuple[str, str], ...]
    if terms.warranty is Warranty.AS_IS:
        warranty = (("disclaimer", "as-is,no-warranty"),)
    else:
        warranty = (("warranty", "ownership,authority"),)
    return RslLicense(
        permits_usage=tuple(permitted),
        prohibits_usage=tuple(prohibited),
        permits_user=("non-commercial",) if terms.non_commercial else (),
        prohibits_user=("commercial",) if terms.non_commercial else (),
        permits_geo=terms.territory.countries or (),
        payment=payment,
        amount=amount,
        standard=offer.url,
        legal=warranty,
    )


#: What a dataset with nothing on offer says: AI uses are not licensed here.
NOTHING_OFFERED = RslLicense(prohibits_usage=("ai-all",), payment="free")


def _tokens(parent: ET.Element, tag: str, kind: str, tokens: Sequence[str]) -> None:
    if tokens:
        ET.SubElement(parent, tag, {"type": kind}).text = ",".join(tokens)


def _license_element(parent: ET.Element, item: RslLicense) -> None:
    element = ET.SubElement(parent, "license")
    _tokens(element, "permits", "usage", item.permits_usage)
    _tokens(element, "permits", "user", item.permits_user)
    _tokens(element, "permits", "geo", item.permits_geo)
    _tokens(element, "prohibits", "usage", item.prohibits_usage)
    _tokens(element, "prohibits", "user", item.prohibits_user)
    payment = ET.SubElement(element, "payment", {"type": item.payment})
    if item.standard:
        ET.SubElement(payment, "standard").text = item.standard
    if item.amount is not None:
        ET.SubElement(payment, "amount", {"currency": item.amount.currency}).text = item.amount.decimal_string()
    for kind, text in item.legal:
        ET.SubElement(element, "legal", {"type": kind}).text = text


@dataclass(frozen=True)
class RslContent:
    """One ``<content>`` of an RSL document: the asset at ``url`` and its licenses (at least one).

    ``server`` names an RSL License Server; it is only given when one exists (RSL tells clients to obtain a
    license from it for every use). ``lastmod`` is an RFC 3339 timestamp; ``terms_url`` a page with further
    licensing information.
    """

    url: str
    licenses: tuple[RslLicense, ...]
    terms_url: str | None = None
    lastmod: str | None = None
    server: str | None = None

    def __post_init__(self) -> None:
        if not self.licenses:
            raise ValueError("an RSL content element needs at least one license")


def rsl_document(contents: Sequence[RslContent]) -> bytes:
    """The RSL 1.0 document (UTF-8 XML with its declaration) of the given assets, in the order given."""
    root = ET.Element("rsl", {"xmlns": RSL_NAMESPACE})
    for item in contents:
        attributes = {"url": item.url}
        if item.server:
            attributes["server"] = item.server
        if item.lastmod:
            attributes["lastmod"] = item.lastmod
        content = ET.SubElement(root, "content", attributes)
        for one in item.licenses:
            _license_element(content, one)
        if item.terms_url:
            ET.SubElement(content, "terms").text = item.terms_url
    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document + b"\n"
