"""The catalog's metadata in the field's standards: Croissant per version, DCAT for the catalog, schema.org per page.

Addresses are absolute, built from the ``BASE_URL`` setting, so the documents say the same whichever host name
a request came in on.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from marketplace.accounts.models import Organisation
from marketplace.catalog import croissant, linked_data, services, vocab
from marketplace.catalog.models import Dataset, DatasetVersion
from marketplace.catalog.vocab import VersionStatus


def urls(base_url: str, dataset: Dataset, org: Organisation) -> dict[str, str]:
    page = f"{base_url}/datasets/{dataset.slug}"
    return {
        "page_url": page,
        "provider_url": f"{base_url}/providers/{org.slug}",
        "croissant_url": f"{page}/croissant.json",
    }


def croissant_export(
    session: Session,
    dataset: Dataset,
    version_label: str | None,
    *,
    base_url: str,
    license_urls: list[str] | None = None,
) -> dict[str, Any]:
    """The Croissant document of a published version (the latest when ``version_label`` is None)."""
    version = services.get_version(session, dataset, version_label)
    org = services.organisation_of(session, dataset)
    record = services.dataset_record(session, dataset)
    links = urls(base_url, dataset, org)
    return croissant.croissant_document(
        dataset,
        org,
        record,
        version,
        services.version_files(session, version),
        page_url=links["page_url"],
        provider_url=links["provider_url"],
        license_urls=license_urls,
    )


def schema_org_markup(
    session: Session, dataset: Dataset, org: Organisation, record: dict[str, Any], *, base_url: str
) -> dict[str, Any]:
    published = services.versions_of(session, dataset)
    return linked_data.schema_org_dataset(
        dataset, org, record, published[0] if published else None, **urls(base_url, dataset, org)
    )


def dcat_feed(session: Session, *, base_url: str, title: str = "Dataset Marketplace") -> dict[str, Any]:
    """The DCAT 3 catalog of every public listing (published or deprecated), newest first."""
    rows = session.exec(
        select(Dataset, Organisation)
        .join(Organisation, col(Organisation.id) == Dataset.organisation_id)
        .where(col(Dataset.status).in_(vocab.PUBLIC_STATUSES))
        .order_by(col(Dataset.published_at).desc(), col(Dataset.id).desc())
    ).all()
    ids = [dataset.id for dataset, _ in rows if dataset.id is not None]
    terms = services.terms_of(session, ids)
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
    entries = []
    for dataset, org in rows:
        assert dataset.id is not None
        record = services.dataset_record(session, dataset, terms[dataset.id])
        entries.append(
            linked_data.dcat_dataset(dataset, org, record, latest.get(dataset.id), **urls(base_url, dataset, org))
        )
    return linked_data.dcat_catalog(
        entries, catalog_url=f"{base_url}/catalog.jsonld", home_url=f"{base_url}/datasets", title=title
    )
