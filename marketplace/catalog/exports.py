"""The catalog's metadata in the field's standards: Croissant and SPDX 3.0 per version, DCAT-AP 3 for the catalog,
schema.org per page.

Addresses are absolute, built from the ``BASE_URL`` setting, so the documents say the same whichever host name
a request came in on. Each document names the license of every public offer of the listing (the catalog alone
does not know them; :mod:`marketplace.licenses.public` does).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from sqlmodel import Session, col, select

import licensing
from marketplace.accounts.models import Organisation
from marketplace.catalog import croissant, dcat, linked_data, services, spdx, vocab
from marketplace.catalog.croissant import store as croissant_store
from marketplace.catalog.linked_data import OfferedLicense
from marketplace.catalog.manifest import canonical_manifest
from marketplace.catalog.models import Dataset, DatasetFile, DatasetVersion
from marketplace.catalog.vocab import VersionStatus
from marketplace.licenses import public
from marketplace.licenses.models import Offer


def urls(base_url: str, dataset: Dataset, org: Organisation) -> dict[str, str]:
    page = f"{base_url}/datasets/{dataset.slug}"
    return {
        "page_url": page,
        "provider_url": f"{base_url}/providers/{org.slug}",
        "croissant_url": f"{page}/croissant.json",
    }


def offered_licenses(session: Session, dataset_ids: list[int], *, base_url: str) -> dict[int, list[OfferedLicense]]:
    """The public offers of each dataset, as the exports name them (SPDX page or our template page, ODRL policy)."""
    return {
        dataset_id: [_offered(offer, base_url) for offer in offers]
        for dataset_id, offers in public.public_offers(session, dataset_ids).items()
    }


def _offered(offer: Offer, base_url: str) -> OfferedLicense:
    template = public.get_template(offer.license_id)
    price = "free" if offer.is_free else licensing.Money(offer.price_amount, offer.currency).format()
    return OfferedLicense(
        title=offer.title,
        license_name=template.name,
        license_url=public.license_url(offer.license_id, base_url),
        policy_url=public.offer_odrl_url(offer, base_url),
        price=price,
        license_id=template.id,
        open_license=template.is_open,
        free=offer.is_free,
    )


def _licenses_of(session: Session, dataset: Dataset, base_url: str) -> list[OfferedLicense]:
    assert dataset.id is not None
    return offered_licenses(session, [dataset.id], base_url=base_url).get(dataset.id, [])


def croissant_export(
    session: Session, dataset: Dataset, version_label: str | None, *, base_url: str, draft: bool = False
) -> dict[str, Any]:
    """The Croissant 1.1 document of a published version (the latest when ``version_label`` is None), its
    ``license`` naming the license of every public offer. With ``draft``, of the listing as it stands (its latest
    version of any status, only uploaded files), for its provider; an imported listing is described as its
    document was, but for what the provider changed since."""
    version: DatasetVersion | None
    if draft:
        drafts = services.versions_of(session, dataset, include_drafts=True)
        version = drafts[0] if drafts else None
        files = [f for f in services.version_files(session, version) if f.storage_key] if version else []
    else:
        version = services.get_version(session, dataset, version_label)
        files = services.version_files(session, version)
    org = services.organisation_of(session, dataset)
    record = services.dataset_record(session, dataset)
    links = urls(base_url, dataset, org)
    return croissant.croissant_document(
        dataset,
        org,
        record,
        version,
        files,
        page_url=links["page_url"],
        provider_url=links["provider_url"],
        license_urls=linked_data.license_urls(_licenses_of(session, dataset, base_url)),
        profile=croissant_store.profile_of(session, dataset),
        declared=croissant_store.declared_of(session, dataset),
    )


def schema_org_markup(
    session: Session, dataset: Dataset, org: Organisation, record: dict[str, Any], *, base_url: str
) -> dict[str, Any]:
    """schema.org markup for the dataset page, with the license of every public offer."""
    published = services.versions_of(session, dataset)
    return linked_data.schema_org_dataset(
        dataset,
        org,
        record,
        published[0] if published else None,
        **urls(base_url, dataset, org),
        licenses=_licenses_of(session, dataset, base_url),
    )


def version_urls(base_url: str, dataset: Dataset, version: DatasetVersion) -> dict[str, str]:
    """The public addresses of a published version's metadata documents."""
    label = quote(version.version, safe="")  # a Semantic Versioning label may carry "+build" metadata
    base = f"{base_url}/datasets/{dataset.slug}/versions/{label}"
    return {
        "manifest_url": f"{base}/manifest.json",
        "spdx_url": f"{base}/spdx.json",
        "croissant_url": f"{base_url}/datasets/{dataset.slug}/croissant.json?version={label}",
    }


def manifest_export(session: Session, dataset: Dataset, version_label: str) -> bytes:
    """The canonical manifest of a published version: the bytes whose SHA-256 is its manifest digest."""
    return canonical_manifest(services.version_files(session, services.get_version(session, dataset, version_label)))


def spdx_export(session: Session, dataset: Dataset, version_label: str, *, base_url: str) -> dict[str, Any]:
    """The SPDX 3.0.1 document of a published version (:class:`NotFound` for a draft or an unknown label)."""
    version = services.get_version(session, dataset, version_label)
    org = services.organisation_of(session, dataset)
    links = urls(base_url, dataset, org)
    return spdx.build_document(
        dataset,
        org,
        services.dataset_record(session, dataset),
        version,
        services.version_files(session, version),
        _licenses_of(session, dataset, base_url),
        spdx.SpdxLinks(
            document_url=version_urls(base_url, dataset, version)["spdx_url"],
            page_url=links["page_url"],
            provider_url=links["provider_url"],
            base_url=base_url,
        ),
    )


def _latest_versions(session: Session, ids: list[int]) -> dict[int, DatasetVersion]:
    latest: dict[int, DatasetVersion] = {}
    for start in range(0, len(ids), 500):
        for version in session.exec(
            select(DatasetVersion).where(
                col(DatasetVersion.dataset_id).in_(ids[start : start + 500]),
                DatasetVersion.status == VersionStatus.PUBLISHED,
            )
        ):
            best = latest.get(version.dataset_id)
            if best is None or vocab.semver_key(version.version) > vocab.semver_key(best.version):
                latest[version.dataset_id] = version
    return latest


def _version_exports(session: Session, base_url: str, dataset: Dataset, version: DatasetVersion) -> dcat.VersionExports:
    files = list(session.exec(select(DatasetFile).where(DatasetFile.version_id == version.id)))
    return dcat.VersionExports(
        version=version,
        manifest_bytes=len(canonical_manifest(files)),
        media_types=tuple(sorted({f.media_type for f in files})),
        **version_urls(base_url, dataset, version),
    )


def dcat_feed(session: Session, *, base_url: str, title: str = "Dataset Marketplace") -> dict[str, Any]:
    """The DCAT-AP 3 catalog of every public listing (published or deprecated), newest first."""
    rows = session.exec(
        select(Dataset, Organisation)
        .join(Organisation, col(Organisation.id) == Dataset.organisation_id)
        .where(col(Dataset.status).in_(vocab.PUBLIC_STATUSES))
        .order_by(col(Dataset.published_at).desc(), col(Dataset.id).desc())
    ).all()
    ids = [dataset.id for dataset, _ in rows if dataset.id is not None]
    terms = services.terms_of(session, ids)
    offered = offered_licenses(session, ids, base_url=base_url)
    latest = _latest_versions(session, ids)
    entries = []
    for dataset, org in rows:
        assert dataset.id is not None
        record = services.dataset_record(session, dataset, terms[dataset.id])
        version = latest.get(dataset.id)
        links = urls(base_url, dataset, org)
        entries.append(
            dcat.dcat_ap_dataset(
                dataset,
                org,
                record,
                _version_exports(session, base_url, dataset, version) if version is not None else None,
                page_url=links["page_url"],
                provider_url=links["provider_url"],
                licenses=offered.get(dataset.id, []),
            )
        )
    return dcat.dcat_ap_catalog(
        entries,
        catalog_url=f"{base_url}/catalog.jsonld",
        home_url=f"{base_url}/datasets",
        title=title,
        modified=max((dataset.updated_at for dataset, _ in rows), default=None),
    )
