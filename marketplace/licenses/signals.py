"""The rights signals of public dataset pages (TDMRep and RSL), built from each dataset's public offers.

The formats live in :mod:`licensing.signals`; this module only finds the offers and the addresses. Only listings
the public may see (published or deprecated) carry signals: a draft, in-review or withdrawn listing is
:class:`NotFound` here, as its page is to the public, so no crawler is told anything about it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

import licensing
from licensing import signals
from marketplace.accounts.models import Organisation
from marketplace.catalog.models import Dataset
from marketplace.catalog.vocab import DatasetStatus
from marketplace.errors import NotFound
from marketplace.licenses import public
from marketplace.licenses.models import Offer

PUBLIC_STATUSES = (DatasetStatus.PUBLISHED, DatasetStatus.DEPRECATED)


@dataclass(frozen=True)
class PageSignals:
    """What a dataset page publishes: the TDMRep declaration and the addresses of its policy and RSL document."""

    declaration: signals.TdmDeclaration
    policy_url: str
    rsl_url: str

    @property
    def headers(self) -> dict[str, str]:
        """The TDMRep header fields, and a ``Link`` to the RSL license (RSL's HTTP discovery)."""
        return {
            **signals.tdm_headers(self.declaration),
            "Link": f'<{self.rsl_url}>; rel="license"; type="{signals.RSL_MEDIA_TYPE}"',
        }

    @property
    def meta(self) -> list[tuple[str, str]]:
        return signals.tdm_meta(self.declaration)


def dataset_path(dataset: Dataset) -> str:
    return f"/datasets/{dataset.slug}"


def policy_url(dataset: Dataset, base_url: str) -> str:
    return f"{base_url}{dataset_path(dataset)}/tdm-policy.json"


def rsl_url(dataset: Dataset, base_url: str) -> str:
    return f"{base_url}{dataset_path(dataset)}/rsl.xml"


def public_dataset(session: Session, slug: str) -> Dataset:
    """The listing ``slug`` when the public may see it; :class:`NotFound` otherwise (withdrawn ones included)."""
    dataset = session.exec(select(Dataset).where(Dataset.slug == slug)).first()
    if dataset is None or dataset.status not in PUBLIC_STATUSES:
        raise NotFound(message=f"No dataset called {slug!r}.")
    return dataset


def offered_terms(offer: Offer, base_url: str) -> signals.OfferedTerms:
    template = public.get_template(offer.license_id)
    return signals.OfferedTerms(
        terms=licensing.Terms.from_dict(offer.terms),
        price=licensing.Money(offer.price_amount, offer.currency),
        is_open=template.is_open,
        url=public.offer_odrl_url(offer, base_url),
        license_url=public.license_url(offer.license_id, base_url),
    )


def _offers(session: Session, dataset: Dataset, base_url: str) -> list[signals.OfferedTerms]:
    assert dataset.id is not None
    return [offered_terms(o, base_url) for o in public.public_offers(session, [dataset.id]).get(dataset.id, [])]


def page_signals(session: Session, dataset: Dataset, base_url: str) -> PageSignals | None:
    """The signals of the dataset's page, or None when the public may not see the listing."""
    if dataset.status not in PUBLIC_STATUSES:
        return None
    declaration = signals.tdm_declaration(_offers(session, dataset, base_url), policy_url(dataset, base_url))
    return PageSignals(declaration, policy_url(dataset, base_url), rsl_url(dataset, base_url))


def tdm_policy(session: Session, dataset: Dataset, base_url: str) -> dict[str, Any]:
    """The dataset's TDM policy (ODRL ``Offer`` in the TDMRep profile), one permission per public offer;
    :class:`NotFound` when nothing is on offer (a policy needs a permission, and the page then names none)."""
    offers = _offers(session, dataset, base_url)
    if not offers:
        raise NotFound(message=f"{dataset.title} has no license on offer, so no TDM policy.")
    provider = session.get(Organisation, dataset.organisation_id)
    page = base_url + dataset_path(dataset)
    return signals.tdm_policy(
        offers,
        uid=policy_url(dataset, base_url),
        target=page,
        assigner_uid=f"{base_url}/providers/{provider.slug}" if provider else base_url,
        assigner_name=provider.name if provider else "",
        licensing_url=page + "#licenses",
    )


def _rsl_content(dataset: Dataset, offers: list[signals.OfferedTerms], base_url: str) -> signals.RslContent:
    page = base_url + dataset_path(dataset)
    return signals.RslContent(
        url=page,
        licenses=tuple(signals.rsl_license(o) for o in offers) or (signals.NOTHING_OFFERED,),
        terms_url=page + "#licenses",
        lastmod=dataset.updated_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    )


def rsl_document(session: Session, dataset: Dataset, base_url: str) -> bytes:
    """The dataset's RSL 1.0 document: one license per public offer, or, with none on sale, AI uses prohibited.

    No ``server`` attribute: licenses are acquired on the dataset page, not through RSL's license-server protocol,
    which this site does not speak (RSL would oblige clients to ask such a server for every use)."""
    return signals.rsl_document([_rsl_content(dataset, _offers(session, dataset, base_url), base_url)])


def _public_datasets(session: Session, base_url: str) -> list[tuple[Dataset, list[signals.OfferedTerms]]]:
    """Every listing the public may see, by slug, with its public offers."""
    datasets = session.exec(
        select(Dataset).where(col(Dataset.status).in_(PUBLIC_STATUSES)).order_by(col(Dataset.slug))
    ).all()
    offers = public.public_offers(session, [d.id for d in datasets if d.id is not None])
    return [(d, [offered_terms(o, base_url) for o in offers.get(d.id or 0, [])]) for d in datasets]


def site_rsl_document(session: Session, base_url: str) -> bytes:
    """The site's RSL document (named by robots.txt): one ``<content>`` per public listing, as on its own page."""
    return signals.rsl_document(
        [_rsl_content(d, offers, base_url) for d, offers in _public_datasets(session, base_url)]
    )


def tdmrep_json(session: Session, base_url: str) -> list[dict[str, Any]]:
    """``/.well-known/tdmrep.json``: for every public listing, its page (exactly) and everything below it."""
    rules: list[tuple[str, signals.TdmDeclaration]] = []
    for dataset, offers in _public_datasets(session, base_url):
        declaration = signals.tdm_declaration(offers, policy_url(dataset, base_url))
        path = dataset_path(dataset)
        rules.append((signals.location_pattern(path, exact=True), declaration))
        rules.append((signals.location_pattern(path + "/"), declaration))
    return signals.tdmrep_rules(rules)


def robots_txt(base_url: str) -> str:
    """robots.txt: crawling allowed, and RSL's ``License:`` line naming the site's RSL document."""
    return f"User-agent: *\nAllow: /\n\nLicense: {base_url}/rsl.xml\n"
