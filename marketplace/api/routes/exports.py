"""Bucket delivery (scope ``downloads``): the organisation's S3-compatible destinations, and exports of a licensed
version into one of them, run in the background (:mod:`marketplace.exports`)."""

from __future__ import annotations

from typing import Any

from flask import request

from marketplace.accounts.models import Organisation
from marketplace.api import present, schemas
from marketplace.api.core import Call, Result, operation
from marketplace.api.routes._common import organisation
from marketplace.apikeys.scopes import DOWNLOADS
from marketplace.delivery import services as delivery
from marketplace.exports import destinations, services
from marketplace.exports.models import BucketDestination, BucketExport
from marketplace.web import client_ip

TAG = "Bucket delivery"


def _destination(call: Call, destination: BucketDestination) -> dict[str, Any]:
    org = call.uow.session.get(Organisation, destination.organisation_id)
    return {
        "id": destination.id,
        "organisation": org.slug if org else "",
        "name": destination.name,
        "location": destination.location,
        "bucket": destination.bucket,
        "prefix": destination.prefix,
        "endpoint_url": destination.endpoint_url,
        "region": destination.region,
        "access_key_id": destination.access_key_id,
        "created_at": destination.created_at,
    }


def _export(export: BucketExport) -> dict[str, Any]:
    return {
        "id": export.id,
        "license_id": export.grant_id,
        "destination_id": export.destination_id,
        "destination": export.destination_location,
        "version": export.version_label,
        "state": export.state.value,
        "files_total": export.files_total,
        "files_done": export.files_done,
        "bytes_total": export.bytes_total,
        "bytes_done": export.bytes_done,
        "percent": export.percent,
        "objects": list(export.objects),
        "error": export.error,
        "created_at": export.created_at,
        "started_at": export.started_at,
        "finished_at": export.finished_at,
    }


@operation(
    "/v1/destinations",
    "GET",
    summary="List bucket destinations",
    tag=TAG,
    scope=DOWNLOADS,
    query=schemas.DestinationQuerySchema(),
    response=schemas.DestinationListSchema(),
)
def list_destinations(call: Call) -> dict[str, Any]:
    """The organisation's destinations, by name (its members)."""
    org = organisation(call, call.query.get("organisation"))
    listed = destinations.list_destinations(call.uow.session, call.caller.user, org)
    return {"data": [_destination(call, d) for d in listed]}


@operation(
    "/v1/destinations",
    "POST",
    summary="Add a bucket destination",
    tag=TAG,
    scope=DOWNLOADS,
    body=schemas.DestinationCreateSchema(),
    response=schemas.DestinationSchema(),
    status=201,
)
def create_destination(call: Call) -> Result:
    """Add an S3-compatible bucket (the organisation's admins). The bucket is tried with the credentials first; the
    secret access key is stored encrypted and never returned."""
    body = dict(call.body)
    org = organisation(call, body.pop("organisation"))
    destination = destinations.create_destination(
        call.uow, call.caller.user, org, destinations.DestinationInput(**body)
    )
    location = present.api_url(f"/destinations/{destination.id}")
    return Result(_destination(call, destination), headers={"Location": location})


@operation(
    "/v1/destinations/{destination_id}",
    "DELETE",
    summary="Remove a bucket destination",
    tag=TAG,
    scope=DOWNLOADS,
    path_params={"destination_id": "id"},
    status=204,
)
def delete_destination(call: Call, destination_id: int) -> None:
    """Remove a destination (the organisation's admins); exports made with it keep where they went."""
    destinations.delete_destination(call.uow, call.caller.user, destination_id)


@operation(
    "/v1/licenses/{license_id}/exports",
    "POST",
    summary="Export a licensed version to a bucket",
    tag=TAG,
    scope=DOWNLOADS,
    path_params={"license_id": "license"},
    body=schemas.ExportCreateSchema(),
    response=schemas.ExportSchema(),
    status=202,
)
def create_export(call: Call, license_id: str) -> Result:
    """Queue the copy of every file of ``version`` into the destination, through the same checks as a download
    (each file counts toward the download limit and is audited). Follow it at ``GET /v1/exports/{export_id}``:
    each object is read back from the bucket and its SHA-256 compared with the manifest's."""
    requester = delivery.Requester.through_api(
        call.caller, ip=client_ip(), user_agent=request.headers.get("User-Agent", "")
    )
    export = services.request_export(
        call.uow, requester, license_id, destination_id=call.body["destination_id"], version_label=call.body["version"]
    )
    return Result(_export(export), headers={"Location": present.api_url(f"/exports/{export.id}")})


@operation(
    "/v1/licenses/{license_id}/exports",
    "GET",
    summary="List a license's exports",
    tag=TAG,
    scope=DOWNLOADS,
    path_params={"license_id": "license"},
    response=schemas.ExportListSchema(),
)
def list_exports(call: Call, license_id: str) -> dict[str, Any]:
    """The license's latest exports (up to 20), newest first."""
    return {"data": [_export(e) for e in services.exports_of(call.uow, call.caller.user, license_id)]}


@operation(
    "/v1/exports/{export_id}",
    "GET",
    summary="Read an export",
    tag=TAG,
    scope=DOWNLOADS,
    path_params={"export_id": "id"},
    response=schemas.ExportSchema(),
)
def get_export(call: Call, export_id: int) -> dict[str, Any]:
    """An export's state and progress, with each object written and the SHA-256 read back from the bucket."""
    return _export(services.get_export(call.uow, call.caller.user, export_id))
