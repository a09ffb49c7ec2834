"""Outbound webhook endpoints and their deliveries (scope ``webhooks:manage``), through
:mod:`marketplace.webhooks.services` (organisation admins only)."""

from __future__ import annotations

from typing import Any

from marketplace.accounts.models import Organisation
from marketplace.api import present, schemas
from marketplace.api.core import Call, Result, decode_cursor, operation, page
from marketplace.api.routes._common import organisation, page_limit
from marketplace.apikeys.scopes import WEBHOOKS_MANAGE
from marketplace.webhooks import services as webhooks
from marketplace.webhooks.models import WebhookDelivery, WebhookEndpoint

TAG = "Webhooks"


def _endpoint(call: Call, endpoint: WebhookEndpoint) -> dict[str, Any]:
    org = call.uow.session.get(Organisation, endpoint.organisation_id)
    return {
        "id": endpoint.id,
        "organisation": org.slug if org else "",
        "url": endpoint.url,
        "description": endpoint.description,
        "events": list(endpoint.events or []),
        "active": endpoint.active,
        "created_at": endpoint.created_at,
    }


def _delivery(delivery: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "event_id": delivery.event_id,
        "event_type": delivery.event_type,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "last_status_code": delivery.last_status_code,
        "last_error": delivery.last_error,
        "next_attempt_at": delivery.next_attempt_at,
        "created_at": delivery.created_at,
        "delivered_at": delivery.delivered_at,
    }


@operation(
    "/v1/webhooks/endpoints",
    "GET",
    summary="List webhook endpoints",
    tag=TAG,
    scope=WEBHOOKS_MANAGE,
    query=schemas.EndpointQuerySchema(),
    response=schemas.EndpointListSchema(),
)
def list_endpoints(call: Call) -> dict[str, Any]:
    """The organisation's endpoints, oldest first."""
    org = organisation(call, call.query.get("organisation"))
    return {"data": [_endpoint(call, e) for e in webhooks.list_endpoints(call.uow.session, call.caller.user, org)]}


@operation(
    "/v1/webhooks/endpoints",
    "POST",
    summary="Register a webhook endpoint",
    tag=TAG,
    scope=WEBHOOKS_MANAGE,
    body=schemas.EndpointCreateSchema(),
    response=schemas.EndpointWithSecretSchema(),
    status=201,
)
def create_endpoint(call: Call) -> Result:
    """Subscribe a URL to event types; the response carries the signing secret, shown only this once."""
    org = organisation(call, call.body.get("organisation"))
    endpoint, secret = webhooks.create_endpoint(
        call.uow,
        call.caller.user,
        org,
        url=call.body["url"],
        events=call.body["events"],
        description=call.body["description"],
    )
    return Result(
        {**_endpoint(call, endpoint), "secret": secret},
        headers={"Location": present.api_url(f"/webhooks/endpoints/{endpoint.id}")},
    )


@operation(
    "/v1/webhooks/endpoints/{endpoint_id}",
    "GET",
    summary="Read a webhook endpoint",
    tag=TAG,
    scope=WEBHOOKS_MANAGE,
    path_params={"endpoint_id": "id"},
    response=schemas.EndpointSchema(),
)
def get_endpoint(call: Call, endpoint_id: int) -> dict[str, Any]:
    """One endpoint of the caller's organisation."""
    return _endpoint(call, webhooks.get_endpoint(call.uow.session, call.caller.user, endpoint_id))


@operation(
    "/v1/webhooks/endpoints/{endpoint_id}",
    "DELETE",
    summary="Delete a webhook endpoint",
    tag=TAG,
    scope=WEBHOOKS_MANAGE,
    path_params={"endpoint_id": "id"},
    status=204,
)
def delete_endpoint(call: Call, endpoint_id: int) -> None:
    """Delete the endpoint with its delivery log; deliveries still owed to it are dropped."""
    endpoint = webhooks.get_endpoint(call.uow.session, call.caller.user, endpoint_id)
    webhooks.delete_endpoint(call.uow, call.caller.user, endpoint)


@operation(
    "/v1/webhooks/endpoints/{endpoint_id}/rotate-secret",
    "POST",
    summary="Rotate an endpoint's signing secret",
    tag=TAG,
    scope=WEBHOOKS_MANAGE,
    path_params={"endpoint_id": "id"},
    response=schemas.SecretSchema(),
)
def rotate_secret(call: Call, endpoint_id: int) -> dict[str, Any]:
    """A new signing secret, shown once; the old one keeps signing for a grace period."""
    endpoint = webhooks.get_endpoint(call.uow.session, call.caller.user, endpoint_id)
    return {"secret": webhooks.rotate_secret(call.uow, call.caller.user, endpoint)}


@operation(
    "/v1/webhooks/endpoints/{endpoint_id}/deliveries",
    "GET",
    summary="List an endpoint's deliveries",
    tag=TAG,
    scope=WEBHOOKS_MANAGE,
    path_params={"endpoint_id": "id"},
    query=schemas.PageQuerySchema(),
    response=schemas.DeliveryPageSchema(),
)
def list_deliveries(call: Call, endpoint_id: int) -> dict[str, Any]:
    """Deliveries newest first, with their status, attempts and last answer."""
    endpoint = webhooks.get_endpoint(call.uow.session, call.caller.user, endpoint_id)
    before = decode_cursor("deliveries", call.query.get("cursor"))
    limit = min(page_limit(call), webhooks.MAX_DELIVERIES_PAGE - 1)
    rows = webhooks.list_deliveries(
        call.uow.session,
        call.caller.user,
        endpoint,
        limit=limit + 1,
        before_id=before if isinstance(before, int) else None,
    )
    result = page("deliveries", rows, limit, lambda d: d.id)
    result["data"] = [_delivery(d) for d in result["data"]]
    return result


@operation(
    "/v1/webhooks/deliveries/{delivery_id}/redeliver",
    "POST",
    summary="Redeliver an event",
    tag=TAG,
    scope=WEBHOOKS_MANAGE,
    path_params={"delivery_id": "id"},
    response=schemas.DeliverySchema(),
    status=201,
)
def redeliver(call: Call, delivery_id: int) -> dict[str, Any]:
    """Queue the same event (same id and body) again for the same endpoint."""
    delivery = webhooks.get_delivery(call.uow.session, call.caller.user, delivery_id)
    return _delivery(webhooks.redeliver(call.uow, call.caller.user, delivery))
