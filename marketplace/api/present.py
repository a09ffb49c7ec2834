"""Domain objects as the plain values the response schemas dump (links, money, related slugs)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin

from flask import current_app
from sqlmodel import Session

import licensing
from marketplace.accounts.models import Organisation
from marketplace.apikeys.models import ApiJob
from marketplace.catalog import services as catalog
from marketplace.catalog.models import Dataset, DatasetFile, DatasetVersion
from marketplace.catalog.schemas import DatasetRecordSchema
from marketplace.delivery.models import FileUpload
from marketplace.invoices import services as invoices
from marketplace.licenses.models import Grant, Offer
from marketplace.orders import services as orders
from marketplace.orders.models import Order

_RECORD = DatasetRecordSchema()


def base_url() -> str:
    return str(current_app.config["BASE_URL"])


def api_url(path: str) -> str:
    return f"{base_url()}/api/v1{path}"


def absolute(url: str) -> str:
    """A storage link as an absolute URL (the local backend hands out same-origin paths)."""
    return urljoin(base_url() + "/", url)


def money(amount: int, currency: str) -> dict[str, Any]:
    return {"amount": amount, "currency": currency, "formatted": licensing.Money(int(amount), currency).format()}


def org_ref(org: Organisation | None) -> dict[str, str]:
    return {"slug": org.slug, "name": org.name} if org is not None else {"slug": "", "name": ""}


def dataset_links(dataset: Dataset) -> dict[str, str]:
    return {
        "self": api_url(f"/datasets/{dataset.slug}"),
        "page": f"{base_url()}/datasets/{dataset.slug}",
        "croissant": api_url(f"/datasets/{dataset.slug}/croissant"),
        "offers": api_url(f"/datasets/{dataset.slug}/offers"),
    }


def search_hit(hit: dict[str, Any]) -> dict[str, Any]:
    dataset: Dataset = hit["dataset"]
    terms = hit["terms"]
    return {
        "slug": dataset.slug,
        "title": dataset.title,
        "summary": dataset.summary,
        "status": dataset.status.value,
        "modality": dataset.modality.value if dataset.modality else None,
        "provider": org_ref(hit["org"]),
        "tags": terms.get("tags", []),
        "tasks": terms.get("tasks", []),
        "languages": terms.get("languages", []),
        "latest_version": hit["latest_version"],
        "ai_act_documentation_complete": hit.get("ai_act_complete", []),
        "published_at": dataset.published_at,
        "links": dataset_links(dataset),
    }


def version_summary(version: DatasetVersion) -> dict[str, Any]:
    return {
        "version": version.version,
        "status": version.status.value,
        "changelog": version.changelog,
        "manifest_digest": version.manifest_digest,
        "file_count": version.file_count,
        "total_bytes": version.total_bytes,
        "created_at": version.created_at,
        "published_at": version.published_at,
    }


def file_entry(file: DatasetFile) -> dict[str, Any]:
    return {
        "id": file.id,
        "path": file.path,
        "size_bytes": file.size_bytes,
        "sha256": file.sha256,
        "media_type": file.media_type,
        "uploaded": file.storage_key is not None,
    }


def version_detail(session: Session, dataset: Dataset, version: DatasetVersion) -> dict[str, Any]:
    return {
        **version_summary(version),
        "dataset": dataset.slug,
        "files": [file_entry(f) for f in catalog.version_files(session, version)],
    }


def dataset_detail(session: Session, dataset: Dataset, *, include_drafts: bool = False) -> dict[str, Any]:
    record = _RECORD.dump(catalog.dataset_record(session, dataset))
    missing = catalog.completeness(session, dataset) if include_drafts and dataset.status.value == "draft" else []
    return {
        "slug": dataset.slug,
        "title": dataset.title,
        "status": dataset.status.value,
        "status_note": dataset.status_note,
        "provider": org_ref(catalog.organisation_of(session, dataset)),
        "record": record,
        "versions": [version_summary(v) for v in catalog.versions_of(session, dataset, include_drafts=include_drafts)],
        "created_at": dataset.created_at,
        "updated_at": dataset.updated_at,
        "published_at": dataset.published_at,
        "missing": [p.to_dict() for p in missing],
        "links": dataset_links(dataset),
    }


def dataset_summary(session: Session, dataset: Dataset) -> dict[str, Any]:
    hits = catalog.search_hits(session, [dataset.id]) if dataset.id is not None else []
    return search_hit(hits[0])


def offer(session: Session, value: Offer) -> dict[str, Any]:
    dataset = session.get(Dataset, value.dataset_id)
    audience = session.get(Organisation, value.audience_org_id) if value.audience_org_id else None
    return {
        "id": value.id,
        "dataset": dataset.slug if dataset else "",
        "title": value.title,
        "license_id": value.license_id,
        "license_family": value.license_family,
        "price": money(value.price_amount, value.currency),
        "version_label": value.version_label,
        "private": value.audience_org_id is not None,
        "audience_organisation": audience.slug if audience else None,
        "expires_at": value.expires_at,
        "active": value.is_active,
        "training_permitted": value.training_permitted,
        "terms": value.terms,
        "terms_hash": value.terms_hash,
        "created_at": value.created_at,
    }


def order(session: Session, value: Order) -> dict[str, Any]:
    buyer = session.get(Organisation, value.buyer_org_id)
    lines = []
    for line in orders.lines_of(session, value):
        dataset = session.get(Dataset, line.dataset_id)
        lines.append(
            {
                "offer_id": line.offer_id,
                "dataset": dataset.slug if dataset else None,
                "description": line.description,
                "amount": line.amount,
                "currency": line.currency,
                "terms_hash": line.terms_hash,
                "license_id": line.grant_id,
            }
        )
    return {
        "id": value.id,
        "reference": value.reference,
        "status": value.status,
        "licensee": buyer.slug if buyer else "",
        "total": money(value.total_amount, value.currency),
        "checkout_url": value.checkout_url if value.status == "pending_payment" else None,
        "created_at": value.created_at,
        "paid_at": value.paid_at,
        "lines": lines,
        "documents": [
            {
                "kind": document.kind,
                "number": document.code,
                "issued_at": document.issued_at,
                "amount": money(document.amount, document.currency),
                "pdf_url": api_url(
                    f"/orders/{value.id}/credit-notes/{document.id}.pdf"
                    if document.is_credit_note
                    else f"/orders/{value.id}/invoice.pdf"
                ),
            }
            for document in invoices.documents_of(session, value)
        ],
    }


def grant(session: Session, value: Grant) -> dict[str, Any]:
    dataset = session.get(Dataset, value.dataset_id)
    terms = value.record.get("terms") if isinstance(value.record, dict) else None
    return {
        "id": value.id,
        "status": value.status,
        "dataset": dataset.slug if dataset else None,
        "license": value.license_id,
        "licensee": org_ref(session.get(Organisation, value.licensee_org_id)),
        "licensor": org_ref(session.get(Organisation, value.licensor_org_id)),
        "versions": list(value.versions),
        "all_versions": value.all_versions,
        "terms_hash": value.terms_hash,
        "terms": terms if isinstance(terms, dict) else {},
        "agreement": value.record.get("agreement") if isinstance(value.record, dict) else None,
        "price": money(value.price_amount, value.currency),
        "issued_at": value.issued_at,
        "valid_from": value.valid_from,
        "valid_until": value.valid_until,
        "links": {
            "self": api_url(f"/licenses/{value.id}"),
            "certificate": api_url(f"/licenses/{value.id}/certificate"),
            "verify": api_url(f"/licenses/{value.id}/verify"),
            "manifest": api_url(f"/licenses/{value.id}/manifest"),
            "training_summary": api_url(f"/licenses/{value.id}/training-summary"),
            "page": f"{base_url()}/licenses/{value.id}",
        },
    }


def upload(session: Session, row: FileUpload, parts_done: list[int] | None = None) -> dict[str, Any]:
    version = session.get(DatasetVersion, row.version_id)
    dataset = session.get(Dataset, version.dataset_id) if version else None
    stored = row.storage_session or {}
    size = int(stored.get("size", row.size_bytes))
    part_size = int(stored.get("part_size", max(1, size)))
    return {
        "id": row.id,
        "dataset": dataset.slug if dataset else "",
        "version": version.version if version else "",
        "path": row.path,
        "size": row.size_bytes,
        "media_type": row.media_type,
        "status": row.status.value,
        "multipart": stored.get("upload_id") is not None,
        "part_size": part_size,
        "part_count": max(1, -(-size // max(1, part_size))),
        "headers": {str(k): str(v) for k, v in dict(stored.get("headers") or []).items()},
        "parts_done": parts_done if parts_done is not None else list(row.parts_done),
        "sha256": row.sha256,
        "expected_sha256": row.expected_sha256,
        "error": row.error,
    }


def job(session: Session, value: ApiJob) -> dict[str, Any]:
    org = session.get(Organisation, value.organisation_id)
    result = dict(value.result) if value.result is not None else None
    problems = (result or {}).pop("problems", []) if result else []
    return {
        "id": value.id,
        "kind": value.kind,
        "status": value.status.value,
        "organisation": org.slug if org else "",
        "result": result,
        "error": value.error,
        "problems": problems,
        "created_at": value.created_at,
        "started_at": value.started_at,
        "finished_at": value.finished_at,
    }
