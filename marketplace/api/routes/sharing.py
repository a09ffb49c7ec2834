"""Delta Sharing recipient profiles of a license (scope ``downloads``): the profile file for pandas and Spark."""

from __future__ import annotations

from typing import Any

from flask import request
from marshmallow import fields

from marketplace.api.core import Call, operation
from marketplace.api.schemas.common import Out
from marketplace.apikeys.scopes import DOWNLOADS
from marketplace.delivery.downloads import Requester
from marketplace.licenses import services as licenses
from marketplace.sharing import recipients
from marketplace.sharing.pages import endpoint_url
from marketplace.sharing.tables import share_name
from marketplace.web import client_ip


class SharingProfileDocumentSchema(Out):
    shareCredentialsVersion = fields.Integer(required=True)  # the protocol's own field names
    endpoint = fields.String(required=True)
    bearerToken = fields.String(required=True)
    expirationTime = fields.String()


class SharingProfileSchema(Out):
    id = fields.Integer(required=True)
    license_id = fields.String(required=True)
    share = fields.String(required=True)
    profile = fields.Nested(SharingProfileDocumentSchema, required=True)


@operation(
    "/v1/licenses/{license_id}/sharing-profiles",
    "POST",
    summary="Create a Delta Sharing recipient profile",
    tag="Downloads",
    scope=DOWNLOADS,
    path_params={"license_id": "license"},
    response=SharingProfileSchema(),
    status=201,
)
def create_profile(call: Call, license_id: str) -> dict[str, Any]:
    """A new recipient profile of an active license that covers CSV, JSON Lines or Parquet files: save
    ``profile`` as a ``.share`` file and read ``<share>.<dataset>.<table>`` with the ``delta-sharing`` client. The
    bearer token appears only in this response. It acts for the credential's user, is checked on every request and
    stops when the license is revoked, suspended or expires. Each file URL it is handed is an audited download."""
    grant = licenses.get_grant(call.uow.session, license_id)
    licenses.require_view_grant(call.uow.session, call.caller.user, grant)
    requester = Requester.through_api(call.caller, ip=client_ip(), user_agent=request.headers.get("User-Agent", ""))
    minted = recipients.mint_profile(call.uow, requester, grant, endpoint=endpoint_url(call.uow.settings))
    return {"id": minted.recipient.id, "license_id": grant.id, "share": share_name(grant), "profile": minted.document}
