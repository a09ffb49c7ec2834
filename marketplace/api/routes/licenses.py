"""Licenses (scope ``licenses:read``), their public verification, and downloads (scope ``downloads``)."""

from __future__ import annotations

from typing import Any

from flask import request

from marketplace.api import present, schemas
from marketplace.api.core import Call, decode_cursor, operation, page
from marketplace.api.errors import ApiErrorCode
from marketplace.api.routes._common import page_limit
from marketplace.api.schemas.training_summary import LicenseTrainingSummarySchema
from marketplace.apikeys.scopes import DOWNLOADS, LICENSES_READ
from marketplace.delivery import services as delivery
from marketplace.errors import NotFound
from marketplace.licenses import services as licenses
from marketplace.licenses import training_summary, verification
from marketplace.licenses.models import Grant
from marketplace.web import client_ip

TAG = "Licenses"


def _visible_grant(call: Call, license_id: str) -> Grant:
    grant = licenses.get_grant(call.uow.session, license_id)
    licenses.require_view_grant(call.uow.session, call.caller.user, grant)
    return grant


@operation(
    "/v1/licenses",
    "GET",
    summary="List licenses",
    tag=TAG,
    scope=LICENSES_READ,
    query=schemas.LicenseQuerySchema(),
    response=schemas.LicensePageSchema(),
)
def list_licenses(call: Call) -> dict[str, Any]:
    """Licenses held by the credential's organisations (``role=licensee``), or granted by them
    (``role=licensor``), newest first."""
    before = decode_cursor("licenses", call.query.get("cursor"))
    limit = page_limit(call)
    rows = licenses.grants_of(
        call.uow.session,
        call.caller.user,
        role=call.query["role"],
        before_id=before if isinstance(before, str) else None,
        limit=limit + 1,
    )
    result = page("licenses", rows, limit, lambda g: g.id)
    result["data"] = [present.grant(call.uow.session, g) for g in result["data"]]
    return result


@operation(
    "/v1/licenses/{license_id}",
    "GET",
    summary="Read a license",
    tag=TAG,
    scope=LICENSES_READ,
    path_params={"license_id": "license"},
    response=schemas.LicenseSchema(),
)
def get_license(call: Call, license_id: str) -> dict[str, Any]:
    """A license held or granted: parties, dataset, versions, the exact terms and their hash, validity."""
    return present.grant(call.uow.session, _visible_grant(call, license_id))


@operation(
    "/v1/licenses/{license_id}/certificate",
    "GET",
    summary="Get a license's signed certificate",
    tag=TAG,
    scope=LICENSES_READ,
    path_params={"license_id": "license"},
    response=schemas.CertificateSchema(),
)
def certificate(call: Call, license_id: str) -> dict[str, Any]:
    """The certificate (JWS, EdDSA) anyone can verify offline against ``/.well-known/jwks.json``."""
    grant = _visible_grant(call, license_id)
    if not grant.certificate:
        raise NotFound(message="This license has no certificate (it is not active).", code=ApiErrorCode.NO_CERTIFICATE)
    return {
        "license_id": grant.id,
        "certificate": grant.certificate,
        "kid": grant.certificate_kid,
        "jwks_url": present.base_url() + "/.well-known/jwks.json",
    }


@operation(
    "/v1/licenses/{license_id}/training-summary",
    "GET",
    summary="Get a license's training-content summary fragment",
    tag=TAG,
    scope=LICENSES_READ,
    path_params={"license_id": "license"},
    response=LicenseTrainingSummarySchema(),
)
def get_training_summary(call: Call, license_id: str) -> dict[str, Any]:
    """The licensed dataset's part of the public summary of training content a general-purpose AI model's provider
    publishes (EU AI Act Article 53(1)(d), the Commission's template of July 2025): the template section it belongs
    to, modalities with the template's size ranges and exact counts, content types, latest collection date,
    languages, synthetic share, crawling and text-and-data-mining opt-out handling, illegal-content measures, and
    the license and its certificate as evidence. Only the licensee's organisation may read it (the licensor gets
    403)."""
    return training_summary.fragment_for(
        call.uow.session, call.caller.user, license_id, present.base_url(), call.uow.now()
    )


@operation(
    "/v1/licenses/{license_id}/verify",
    "GET",
    summary="Verify a license (public)",
    tag=TAG,
    public=True,
    path_params={"license_id": "license"},
    response=schemas.VerificationSchema(),
)
def verify(call: Call, license_id: str) -> dict[str, Any]:
    """Anyone, with or without a credential: is this license genuine (its certificate checks out against the
    platform's keys) and in force now? Unknown ids get 404 ``unknown_license``."""
    result = verification.verify_grant(call.uow.session, licenses.keyring(call.uow), license_id, call.uow.now())
    if result.reason == "unknown_license":
        raise NotFound(message=result.message, code=ApiErrorCode.UNKNOWN_LICENSE)
    return result.to_dict()


@operation(
    "/v1/licenses/{license_id}/manifest",
    "GET",
    summary="Get the file manifest of a license",
    tag="Downloads",
    scope=DOWNLOADS,
    path_params={"license_id": "license"},
    response=schemas.ManifestSchema(),
)
def manifest(call: Call, license_id: str) -> dict[str, Any]:
    """Every file the license covers, per version, with size and SHA-256 to check downloads against."""
    return delivery.grant_manifest(call.uow.session, _visible_grant(call, license_id))


@operation(
    "/v1/licenses/{license_id}/download-links",
    "POST",
    summary="Get download links",
    tag="Downloads",
    scope=DOWNLOADS,
    path_params={"license_id": "license"},
    body=schemas.DownloadLinksRequestSchema(),
    response=schemas.DownloadLinksSchema(),
    status=201,
)
def download_links(call: Call, license_id: str) -> dict[str, Any]:
    """Short-lived links to files of an active license, in one call: the given ``file_ids`` (up to 100), every
    file of one ``version``, or, with neither, every file the license covers. The batch is all or nothing: it is
    checked once against the license's state and download limit, and each link is audited with the credential
    that asked for it and counts toward the limit. Send an ``Idempotency-Key`` to retry safely: a replay returns
    the same links and issues none. A link stops working when the license is refunded, revoked or suspended
    (local storage), or at ``expires_at`` at the latest (S3)."""
    found = delivery.grant_for_download(call.uow.session, license_id)  # the grant and its dataset, one statement
    if found is None:
        raise NotFound(message="No such license.")
    grant, dataset = found
    licenses.require_view_grant(call.uow.session, call.caller.user, grant)
    requester = delivery.Requester.through_api(
        call.caller, ip=client_ip(), user_agent=request.headers.get("User-Agent", "")
    )
    links = delivery.issue_download_links(
        call.uow,
        grant=grant,
        requester=requester,
        file_ids=call.body.get("file_ids"),
        version_label=call.body.get("version"),
        dataset=dataset,
    )
    return {
        "license_id": grant.id,
        "data": [
            {
                "file_id": link.file.id,
                "path": link.file.path,
                "version": link.version.version,
                "size_bytes": link.file.size_bytes,
                "sha256": link.file.sha256,
                "url": present.absolute(link.url),
                "expires_at": link.expires_at,
            }
            for link in links
        ],
    }
