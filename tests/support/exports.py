"""Bucket delivery for the authorisation matrix: a destination and a finished export of the buyer's, written
directly (no bucket is reached), and a create body pointing at the S3-compatible test server."""

from __future__ import annotations

from typing import Any

from marketplace.exports import destinations
from marketplace.exports.models import BucketDestination, BucketExport
from marketplace.exports.states import ExportState
from tests.contract.storage.conftest import S3RVER_BUCKET


def exports_for_matrix(world: Any, s3rver_endpoint: str) -> dict[str, Any]:
    buyer, grant = world.orgs["buy"], world.objects["grants"]["buy"]
    destination = BucketDestination(
        organisation_id=buyer.id,
        name="Lake",
        bucket=S3RVER_BUCKET,
        endpoint_url=s3rver_endpoint,
        access_key_id="S3RVER",
        secret_ciphertext=destinations.secret_box(world.app.config).encrypt("S3RVER"),
    )
    world.session.add(destination)
    world.session.flush()
    export = BucketExport(
        grant_id=grant.id,
        licensee_org_id=buyer.id,
        destination_id=destination.id,
        destination_location=destination.location,
        version_label="1.0.0",
        state=ExportState.SUCCEEDED,
    )
    world.session.add(export)
    world.session.flush()
    return {
        "values": {"destination_id": destination.id, "export_id": export.id},
        "bodies": {
            "POST /v1/destinations": {
                "organisation": "buy",
                "name": "Second lake",
                "bucket": S3RVER_BUCKET,
                "prefix": "matrix",
                "endpoint_url": s3rver_endpoint,
                "access_key_id": "S3RVER",
                "secret_access_key": "S3RVER",
            },
            "POST /v1/licenses/{license_id}/exports": {"destination_id": destination.id, "version": "1.0.0"},
        },
        "queries": {"GET /v1/destinations": "organisation=buy"},
    }
