"""Delivery pages and endpoints: the provider's upload page and its JSON endpoints, the licensee's downloads
(one link, the manifest, a batch list for curl or aria2), and the provider's download statistics."""

from __future__ import annotations

import json
import posixpath
from datetime import timedelta
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from sqlmodel import Session
from werkzeug.wrappers import Response

from marketplace import security
from marketplace.accounts.models import User
from marketplace.catalog import services as catalog
from marketplace.catalog.models import Dataset, DatasetVersion
from marketplace.db import UnitOfWork
from marketplace.delivery import charts
from marketplace.delivery import services as svc
from marketplace.delivery.errors import DeliveryErrorCode, DownloadRefused, RefusalReason
from marketplace.delivery.models import FileUpload, UploadStatus
from marketplace.delivery.schemas import LinkListSchema, PartLinksSchema, StartUploadSchema
from marketplace.errors import Conflict, DomainError, ValidationFailed, error_body, status_for
from marketplace.licenses import services as licenses
from marketplace.licenses.models import Grant
from marketplace.permissions import Action, can, require
from marketplace.web import (
    client_ip,
    current_user,
    discard_changes,
    form_data,
    login_required,
    parse,
    require_user,
    uow,
)

bp = Blueprint("delivery", __name__)
#: JSON endpoints the upload page's script talks to (session cookie + CSRF header; errors as JSON).
uploads_bp = Blueprint("uploads", __name__)

ViewResult = str | Response | tuple[str, int] | tuple[Response, int]


def _draft_context(slug: str, label: str) -> tuple[Dataset, DatasetVersion]:
    session = uow().session
    dataset = catalog.get_dataset(session, slug)
    require(session, current_user(), Action.DATASET_EDIT, dataset)
    return dataset, catalog.get_any_version(session, dataset, label)


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


# --- the upload page -----------------------------------------------------------------------------------------------


def _storage_origin(dataset: Dataset) -> str | None:
    """The origin the browser PUTs to when it is not this site (an S3 bucket), for the page's connect-src."""
    probe = svc.dataset_storage(uow(), dataset).presign_download("csp-probe/probe", expires_in=timedelta(minutes=1))
    parts = urlsplit(probe)
    if not parts.scheme or not parts.netloc:
        return None
    origin = f"{parts.scheme}://{parts.netloc}"
    return None if origin == request.host_url.rstrip("/") else origin


def _upload_page(dataset: Dataset, version: DatasetVersion, *, error: DomainError | None = None) -> Response:
    session = uow().session
    uploads = svc.uploads_of(session, version)
    files = catalog.version_files(session, version)
    problems = svc.deliverability_problems(session, version, allow_declared=False)
    html = render_template(
        "delivery/upload.html",
        dataset=dataset,
        version=version,
        uploads=uploads,
        files=files,
        problems=problems,
        error=error,
        hash_max=int(uow().settings.get("UPLOAD_BROWSER_SHA256_MAX_BYTES") or 0),
        statuses=UploadStatus,
    )
    response = Response(html, mimetype="text/html", status=status_for(error) if error else 200)
    origin = _storage_origin(dataset)
    if origin:
        response.headers["Content-Security-Policy"] = security.CONTENT_SECURITY_POLICY.replace(
            "connect-src 'self'", f"connect-src 'self' {origin}"
        )
    return response


@bp.get("/datasets/<slug>/versions/<label>/upload")
@login_required
def upload_page(slug: str, label: str) -> Response:
    dataset, version = _draft_context(slug, label)
    return _upload_page(dataset, version)


@bp.post("/datasets/<slug>/versions/<label>/publish-uploaded")
@login_required
def publish(slug: str, label: str) -> ViewResult:
    dataset, version = _draft_context(slug, label)
    try:
        svc.publish_uploaded_version(uow(), require_user(), dataset, version)
    except (Conflict, ValidationFailed) as error:
        discard_changes()
        dataset, version = _draft_context(slug, label)
        return _upload_page(dataset, version, error=error)
    flash(f"Version {label} published: every file was uploaded and verified. It can no longer change.", "success")
    return redirect(url_for("catalog.manage", slug=slug))


@bp.post("/datasets/<slug>/versions/<label>/files/remove")
@login_required
def remove_file(slug: str, label: str) -> ViewResult:
    _dataset, version = _draft_context(slug, label)
    upload_id = request.form.get("upload_id", "")
    row = svc.get_upload(uow(), require_user(), int(upload_id)) if upload_id.isdigit() else None
    if row is None or row.version_id != version.id:
        raise ValidationFailed.for_field("upload_id", "no such upload in this version")
    path = row.path
    svc.remove_upload(uow(), require_user(), row)
    flash(f"{path} removed from version {label}.", "success")
    return redirect(url_for("delivery.upload_page", slug=slug, label=label))


# --- JSON endpoints for the upload script --------------------------------------------------------------------------


def upload_json(row: FileUpload, parts_done: list[int] | None = None) -> dict[str, Any]:
    session = row.storage_session
    size = int(session.get("size", row.size_bytes))
    part_size = int(session.get("part_size", max(1, size)))
    return {
        "id": row.id,
        "path": row.path,
        "size": row.size_bytes,
        "media_type": row.media_type,
        "status": row.status.value,
        "multipart": session.get("upload_id") is not None,
        "part_size": part_size,
        "part_count": max(1, -(-size // part_size)),
        "headers": dict(session.get("headers") or []),
        "parts_done": parts_done if parts_done is not None else list(row.parts_done),
        "sha256": row.sha256,
        "expected_sha256": row.expected_sha256,
        "error": row.error,
    }


def _json_body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValidationFailed.for_field("body", "send a JSON object")
    return data


@uploads_bp.errorhandler(DomainError)
def _json_error(error: DomainError) -> tuple[Response, int]:
    return jsonify(error_body(error.code, error.message, [d.to_dict() for d in error.details])), status_for(error)


@uploads_bp.post("/datasets/<slug>/versions/<label>/upload-sessions")
def start(slug: str, label: str) -> tuple[Response, int]:
    user = require_user()
    fields = parse(StartUploadSchema(), _json_body())
    if fields.pop("confirm_empty") is not True and fields["size"] == 0:
        raise ValidationFailed.for_field(
            "confirm_empty", "the file is empty: tick “Upload an empty file” to upload it anyway"
        )
    dataset = catalog.get_dataset(uow().session, slug)
    require(uow().session, user, Action.DATASET_EDIT, dataset)
    version = catalog.get_any_version(uow().session, dataset, label)
    row = svc.start_upload(uow(), user, dataset, version, **fields)
    done = [p.part_number for p in svc.upload_progress(uow(), row)]
    return _no_store(jsonify(upload_json(row, done))), 201


@uploads_bp.get("/upload-sessions/<int:upload_id>")
def progress(upload_id: int) -> Response:
    row = svc.get_upload(uow(), require_user(), upload_id)
    done = [p.part_number for p in svc.upload_progress(uow(), row)]
    return _no_store(jsonify(upload_json(row, done)))


@uploads_bp.post("/upload-sessions/<int:upload_id>/links")
def links(upload_id: int) -> Response:
    row = svc.get_upload(uow(), require_user(), upload_id)
    fields = parse(PartLinksSchema(), _json_body())
    urls = svc.upload_links(uow(), row, fields["parts"])
    return _no_store(jsonify({"urls": {str(n): url for n, url in urls.items()}}))


@uploads_bp.post("/upload-sessions/<int:upload_id>/complete")
def complete(upload_id: int) -> tuple[Response, int]:
    row = svc.complete_upload(uow(), svc.get_upload(uow(), require_user(), upload_id))
    if row.status is UploadStatus.FAILED:
        # Recorded (the request still commits): the page shows why, and the bytes are deleted.
        body = error_body(
            DeliveryErrorCode.UPLOAD_VERIFICATION_FAILED, row.error, [{"field": "file", "message": row.error}]
        )
        body["upload"] = upload_json(row)
        return _no_store(jsonify(body)), 422
    return _no_store(jsonify(upload_json(row))), 200


@uploads_bp.post("/upload-sessions/<int:upload_id>/abort")
def abort(upload_id: int) -> Response:
    row = svc.get_upload(uow(), require_user(), upload_id)
    svc.remove_upload(uow(), require_user(), row)
    return _no_store(jsonify({"removed": upload_id}))


# --- downloads (licensee) ------------------------------------------------------------------------------------------


_Found = TypeVar("_Found", bound=tuple[Any, ...])


def _grant_for_download(grant_id: str) -> tuple[Grant, Dataset]:
    return _licensee_only(svc.grant_for_download(uow().session, grant_id))


def _licensee_only(found: _Found | None) -> _Found:
    """``found``, or a refusal: a stranger asking about a grant id gets the same "not the licensee" answer whether
    or not it exists."""
    if found is None:
        raise DownloadRefused.because(RefusalReason.NOT_LICENSEE)
    return found


def site_requester() -> svc.Requester:
    """The logged-in person asking for links, with where they ask from (recorded with each link)."""
    return svc.Requester(user=require_user(), ip=client_ip(), user_agent=request.headers.get("User-Agent", ""))


@bp.post("/licenses/<grant_id>/files/<int:file_id>/download")
@login_required
def download(grant_id: str, file_id: int) -> Response:
    # The grant, its dataset and the file in one read; holding the file (``_file``) keeps it in the session, where
    # the gate looks it up.
    grant, dataset, _file = _licensee_only(svc.grant_for_file_download(uow().session, grant_id, file_id))
    link = svc.issue_download_link(uow(), grant=grant, file_id=file_id, requester=site_requester(), dataset=dataset)
    response = redirect(link.url, code=303)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/licenses/<grant_id>/manifest.json")
@login_required
def manifest(grant_id: str) -> Response:
    grant = licenses.get_grant(uow().session, grant_id)
    licenses.require_view_grant(uow().session, current_user(), grant)
    response = Response(
        json.dumps(svc.grant_manifest(uow().session, grant), indent=2, ensure_ascii=False) + "\n",
        mimetype="application/json",
    )
    response.headers["Content-Disposition"] = f'attachment; filename="license-{grant.id}-manifest.json"'
    return _no_store(response)


def _curl_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def link_list(links: list[svc.DownloadLink], dataset_slug: str, *, fmt: str, base: str) -> str:
    """The batch list: ``curl --parallel --create-dirs -K FILE`` or ``aria2c -i FILE`` fetch every file."""
    lines = [
        f"# {len(links)} download links for {dataset_slug}; each expires at the time shown and was logged.",
        "# curl: curl --fail --parallel --create-dirs -K THIS_FILE     aria2c: aria2c -i THIS_FILE",
    ]
    for link in links:
        url = urljoin(base, link.url)
        out = posixpath.join(dataset_slug, link.version.version, link.file.path)
        lines.append(f"# {link.file.path} ({link.file.size_bytes} bytes, sha256 {link.file.sha256})")
        if fmt == "aria2":
            lines += [url, f"  out={out}", f"  checksum=sha-256={link.file.sha256}"]
        else:
            lines += [f"url = {_curl_quote(url)}", f"output = {_curl_quote(out)}"]
    return "\n".join(lines) + "\n"


@bp.post("/licenses/<grant_id>/links.txt")
@login_required
def batch_links(grant_id: str) -> Response:
    fields = parse(LinkListSchema(), form_data())
    grant, dataset = _grant_for_download(grant_id)
    links = svc.issue_download_links(
        uow(), grant=grant, requester=site_requester(), version_label=fields["version"] or None, dataset=dataset
    )
    slug = dataset.slug
    body = link_list(links, slug, fmt=fields["format"], base=request.host_url)
    response = Response(body, mimetype="text/plain")
    response.headers["Content-Disposition"] = f'attachment; filename="{slug}-links-{fields["format"]}.txt"'
    return _no_store(response)


@bp.get("/delivery")
@login_required
def index() -> str:
    session = uow().session
    datasets = catalog.datasets_of_user(session, require_user())
    versions = {d.id: catalog.versions_of(session, d, include_drafts=True) for d, _org in datasets}
    return render_template("delivery/index.html", datasets=datasets, versions=versions)


# --- download statistics (provider) --------------------------------------------------------------------------------


@bp.get("/datasets/<slug>/downloads")
@login_required
def download_stats(slug: str) -> str:
    session = uow().session
    dataset = catalog.get_dataset(session, slug)
    stats = svc.download_stats(uow(), current_user(), dataset)
    return render_template(
        "delivery/stats.html",
        dataset=dataset,
        stats=stats,
        chart=charts.bar_chart(stats.days, title=f"Download links issued per day for {dataset.title}"),
        versions=catalog.versions_of(session, dataset, include_drafts=True),
    )


# --- data for the license page and the dataset page (their views pass it to the templates) --------------------


def grant_downloads(work: UnitOfWork, user: User | None, grant: Grant) -> dict[str, Any]:
    """The license page's files block: whether ``user`` may download and, if refused now, why; the covered
    versions with their files; the download limit and how much of it is used; how long a link works."""
    session = work.session
    value = licenses.grant_value(grant)
    may_download = can(session, user, Action.GRANT_DOWNLOAD, grant)
    refusal = None
    try:
        svc.check_download_allowed(work, grant, user=user)
    except DownloadRefused as error:
        refusal = error.message
    versions = [
        {"version": version, "files": catalog.version_files(session, version)}
        for version in svc.covered_versions(session, grant, value)
    ]
    limit = value.terms.download_limit
    return {
        "grant": grant,
        "may_download": may_download,
        "refusal": refusal,
        "versions": versions,
        "limit": limit,
        "used": svc.downloads_used(session, grant) if limit is not None else None,
        "link_minutes": max(1, int(work.settings.get("DOWNLOAD_LINK_SECONDS") or 900) // 60),
    }


def dataset_delivery(session: Session, user: User | None, dataset: Dataset) -> dict[str, Any]:
    """The dataset page's delivery links for its provider: whether ``user`` may upload files and see download
    figures, and the draft versions whose files can be uploaded."""
    return {
        "may_upload": can(session, user, Action.DATASET_EDIT, dataset),
        "may_see_downloads": can(session, user, Action.DATASET_DOWNLOAD_STATS, dataset),
        "drafts": [v for v in catalog.versions_of(session, dataset, include_drafts=True) if not v.is_published],
    }
