"""What anyone may read about licenses before buying: license template pages, public offers and their ODRL policies.

A license template has its own public address, ``/license-templates/<license id>``, apart from a bought license
(``/licenses/<grant id>``, for its holders only). Open licenses are named by their SPDX page, which every metadata
tool recognises; our commercial ones by their template page, the only place their text is published.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlmodel import Session, col, select

import licensing
from licensing.terms import FIELD_LABELS
from marketplace.accounts.models import Organisation
from marketplace.catalog.models import Dataset
from marketplace.errors import NotFound
from marketplace.licenses.models import Offer

SPDX_LICENSE_PAGE = "https://spdx.org/licenses/{}.html"
TEMPLATE_PATH = "/license-templates/{}"


def license_url(license_id: str, base_url: str) -> str:
    """The address that names ``license_id`` in exported metadata: its SPDX page when it is an open license,
    otherwise its template page on this site."""
    template = licensing.DEFAULT_REGISTRY.find(license_id)
    if template is not None and template.is_open:
        return SPDX_LICENSE_PAGE.format(template.id)
    return base_url + TEMPLATE_PATH.format(template.id if template else license_id)


def template_odrl_url(license_id: str, base_url: str) -> str:
    return base_url + TEMPLATE_PATH.format(license_id) + "/odrl.json"


def offer_odrl_url(offer: Offer, base_url: str) -> str:
    return f"{base_url}/offers/{offer.id}/odrl.json"


def get_template(license_id: str) -> licensing.LicenseTemplate:
    """The built-in template ``license_id`` (SPDX ids case-insensitively); :class:`NotFound` otherwise."""
    template = licensing.DEFAULT_REGISTRY.find(license_id)
    if template is None:
        raise NotFound(message=f"No license template called {license_id!r}.")
    return template


def template_page(license_id: str, base_url: str) -> dict[str, Any]:
    """What the template page shows: the license's facts, every term in plain language, its notes and links."""
    template = get_template(license_id)
    return {
        "template": template,
        "terms_rows": [(FIELD_LABELS[name], line) for name, line in template.terms.plain_language_by_field().items()],
        "canonical_url": template.url if template.is_open else None,
        "spdx_url": SPDX_LICENSE_PAGE.format(template.id) if template.is_open else None,
        "odrl_url": template_odrl_url(template.id, base_url),
    }


def template_odrl(license_id: str, base_url: str) -> dict[str, Any]:
    """The template's terms as an ODRL 2.2 ``Set``; its target stands for whichever dataset an offer names."""
    template = get_template(license_id)
    page = base_url + TEMPLATE_PATH.format(template.id)
    return licensing.terms_to_odrl(template.terms, uid=f"{page}/odrl.json", target=f"{page}#licensed-dataset")


def public_offers(session: Session, dataset_ids: Iterable[int]) -> dict[int, list[Offer]]:
    """The offers on sale to anyone (active, not addressed to one organisation) of each dataset, cheapest first."""
    ids = list(dataset_ids)
    out: dict[int, list[Offer]] = defaultdict(list)
    for start in range(0, len(ids), 500):
        rows = session.exec(
            select(Offer)
            .where(
                col(Offer.dataset_id).in_(ids[start : start + 500]),
                col(Offer.is_active).is_(True),
                col(Offer.audience_org_id).is_(None),
            )
            .order_by(col(Offer.dataset_id), col(Offer.price_amount), col(Offer.id))
        )
        for offer in rows:
            out[offer.dataset_id].append(offer)
    return out


def offer_odrl(session: Session, offer_id: int, base_url: str) -> dict[str, Any]:
    """A public offer's terms (its template with the offer's overrides) as an ODRL 2.2 ``Offer`` by the provider.

    Private, retired and unlisted offers are :class:`NotFound`: only what anyone may buy is published.
    """
    offer = session.get(Offer, offer_id)
    dataset = session.get(Dataset, offer.dataset_id) if offer is not None else None
    if offer is None or dataset is None or not dataset.is_public or not offer.is_active or offer.audience_org_id:
        raise NotFound(message="No such offer.")
    provider = session.get(Organisation, offer.organisation_id)
    policy = licensing.terms_to_odrl(
        licensing.Terms.from_dict(offer.terms),
        uid=offer_odrl_url(offer, base_url),
        target=f"{base_url}/datasets/{dataset.slug}",
    )
    policy["@type"] = "Offer"
    if provider is not None:
        policy["assigner"] = f"{base_url}/providers/{provider.slug}"
    return policy
