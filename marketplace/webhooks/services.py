"""Webhook endpoints and deliveries: every rule lives here, for the settings pages, the JSON API and the CLI.

Services take the unit of work (or a session, for reads), check permission (organisation admins manage webhooks),
raise domain errors and never commit. :func:`on_event` is the event subscriber that fills the outbox.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from marketplace.accounts.models import Organisation, User
from marketplace.crypto import EncryptionKeys, SecretBox
from marketplace.db import UnitOfWork
from marketplace.errors import Conflict, NotFound, ValidationFailed
from marketplace.events import EVENT_TYPES
from marketplace.permissions import Action, can, require
from marketplace.webhooks.errors import WebhookErrorCode
from marketplace.webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from marketplace.webhooks.targets import TargetPolicy, check_target

#: Most endpoints one organisation may register (each event is sent once per matching endpoint).
MAX_ENDPOINTS_PER_ORGANISATION = 20
MAX_DELIVERIES_PAGE = 100
SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix of generated secrets, not a secret
_BOX_PURPOSE = "webhook-signing-secret"


def secret_box(settings: Mapping[str, Any]) -> SecretBox:
    return SecretBox(EncryptionKeys.from_settings(settings), _BOX_PURPOSE)


def _new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signing_secrets(endpoint: WebhookEndpoint, settings: dict[str, Any], now: datetime) -> list[str]:
    """The secrets to sign with now: the current one, then the previous one while its grace window lasts."""
    box = secret_box(settings)
    found = [box.decrypt(endpoint.secret_ciphertext)]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret_ciphertext and expires is not None and expires > now:
        found.append(box.decrypt(endpoint.previous_secret_ciphertext))
    return found


# --- endpoints ----------------------------------------------------------------------------------------------------


def _clean_events(events: list[str] | tuple[str, ...]) -> list[str]:
    chosen = list(dict.fromkeys(str(e).strip() for e in events if str(e).strip()))
    if not chosen:
        raise ValidationFailed.for_field("events", "choose at least one event type")
    unknown = [e for e in chosen if e not in EVENT_TYPES]
    if unknown:
        raise ValidationFailed.for_field(
            "events", f"unknown event type {unknown[0]!r}; known: {', '.join(sorted(EVENT_TYPES))}"
        )
    return sorted(chosen)


def _clean_description(description: str) -> str:
    description = description.strip()
    if len(description) > 500:
        raise ValidationFailed.for_field("description", "must be at most 500 characters")
    return description


def _organisation(session: Session, endpoint: WebhookEndpoint) -> Organisation:
    org = session.get(Organisation, endpoint.organisation_id)
    if org is None:  # pragma: no cover - the foreign key cascades
        raise NotFound(message="No such webhook endpoint.")
    return org


def _require_manage(session: Session, actor: User | None, endpoint: WebhookEndpoint) -> Organisation:
    """The endpoint's organisation, when ``actor`` may manage its webhooks. Outsiders get a 404 (ids are not
    confirmed to them); members who are not admins a 403."""
    org = _organisation(session, endpoint)
    if actor is not None and not can(session, actor, Action.WEBHOOKS_SEE, org):
        raise NotFound(message="No such webhook endpoint.")
    require(session, actor, Action.WEBHOOKS_MANAGE, org)
    return org


def create_endpoint(
    uow: UnitOfWork, actor: User, org: Organisation, *, url: str, events: list[str], description: str = ""
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint for ``org``; returns it with its signing secret, which is shown only this once."""
    session = uow.session
    require(session, actor, Action.WEBHOOKS_MANAGE, org)
    url = check_target(url, TargetPolicy.from_settings(uow.settings))
    chosen = _clean_events(events)
    description = _clean_description(description)
    count = len(session.exec(select(WebhookEndpoint.id).where(WebhookEndpoint.organisation_id == org.id)).all())
    if count >= MAX_ENDPOINTS_PER_ORGANISATION:
        raise Conflict(
            message=f"An organisation may have at most {MAX_ENDPOINTS_PER_ORGANISATION} webhook endpoints.",
            code=WebhookErrorCode.TOO_MANY_ENDPOINTS,
        )
    secret = _new_secret()
    now = uow.now()
    endpoint = WebhookEndpoint(
        organisation_id=org.id,  # type: ignore[arg-type]
        url=url,
        description=description,
        events=chosen,
        active=True,
        secret_ciphertext=secret_box(uow.settings).encrypt(secret),
        created_by_id=actor.id,
        created_at=now,
        updated_at=now,
    )
    session.add(endpoint)
    session.flush()
    return endpoint, secret


def update_endpoint(
    uow: UnitOfWork,
    actor: User,
    endpoint: WebhookEndpoint,
    *,
    url: str | None = None,
    events: list[str] | None = None,
    description: str | None = None,
    active: bool | None = None,
) -> WebhookEndpoint:
    """Change an endpoint's URL, event types, description or active flag (None leaves a field as it is)."""
    _require_manage(uow.session, actor, endpoint)
    if url is not None:
        endpoint.url = check_target(url, TargetPolicy.from_settings(uow.settings))
    if events is not None:
        endpoint.events = _clean_events(events)
    if description is not None:
        endpoint.description = _clean_description(description)
    if active is not None:
        endpoint.active = active
    endpoint.updated_at = uow.now()
    uow.session.add(endpoint)
    uow.session.flush()
    return endpoint


def list_endpoints(session: Session, actor: User, org: Organisation) -> list[WebhookEndpoint]:
    """The organisation's endpoints, oldest first."""
    require(session, actor, Action.WEBHOOKS_MANAGE, org)
    statement = (
        select(WebhookEndpoint).where(WebhookEndpoint.organisation_id == org.id).order_by(col(WebhookEndpoint.id))
    )
    return list(session.exec(statement).all())


def get_endpoint(session: Session, actor: User, endpoint_id: int) -> WebhookEndpoint:
    """The endpoint, when ``actor`` may manage it; :class:`NotFound` for unknown ids and for outsiders."""
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFound(message="No such webhook endpoint.")
    _require_manage(session, actor, endpoint)
    return endpoint


def delete_endpoint(uow: UnitOfWork, actor: User, endpoint: WebhookEndpoint) -> None:
    """Delete the endpoint with its delivery log; deliveries still owed to it are dropped."""
    _require_manage(uow.session, actor, endpoint)
    uow.session.delete(endpoint)
    uow.session.flush()


def rotate_secret(uow: UnitOfWork, actor: User, endpoint: WebhookEndpoint) -> str:
    """Give the endpoint a new signing secret, returned once. The current one keeps signing (as a second ``v1``)
    for ``WEBHOOK_SECRET_GRACE_HOURS``, so receivers can switch without losing deliveries; a secret rotated out
    earlier than that stops at once."""
    _require_manage(uow.session, actor, endpoint)
    now = uow.now()
    secret = _new_secret()
    box = secret_box(uow.settings)
    endpoint.previous_secret_ciphertext = endpoint.secret_ciphertext
    endpoint.previous_secret_expires_at = now + timedelta(hours=uow.settings["WEBHOOK_SECRET_GRACE_HOURS"])
    endpoint.secret_ciphertext = box.encrypt(secret)
    endpoint.updated_at = now
    uow.session.add(endpoint)
    uow.session.flush()
    return secret


# --- deliveries ---------------------------------------------------------------------------------------------------


def list_deliveries(
    session: Session, actor: User, endpoint: WebhookEndpoint, *, limit: int, before_id: int | None = None
) -> list[WebhookDelivery]:
    """The endpoint's deliveries, newest first, at most ``limit`` (capped at 100), older than ``before_id``."""
    _require_manage(session, actor, endpoint)
    limit = max(1, min(int(limit), MAX_DELIVERIES_PAGE))
    statement = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
    if before_id is not None:
        statement = statement.where(col(WebhookDelivery.id) < before_id)
    return list(session.exec(statement.order_by(col(WebhookDelivery.id).desc()).limit(limit)).all())


def attempts_of(session: Session, deliveries: list[WebhookDelivery]) -> dict[int, list[WebhookAttempt]]:
    """Each delivery's attempts, in order (for the delivery log; the caller already checked permission)."""
    ids = [d.id for d in deliveries if d.id is not None]
    found: dict[int, list[WebhookAttempt]] = {i: [] for i in ids}
    if not ids:
        return found
    rows = session.exec(
        select(WebhookAttempt)
        .where(col(WebhookAttempt.delivery_id).in_(ids))
        .order_by(col(WebhookAttempt.delivery_id), col(WebhookAttempt.number))
    ).all()
    for attempt in rows:
        found[attempt.delivery_id].append(attempt)
    return found


def get_delivery(session: Session, actor: User, delivery_id: int) -> WebhookDelivery:
    """The delivery, when ``actor`` may manage its endpoint."""
    delivery = session.get(WebhookDelivery, delivery_id)
    endpoint = session.get(WebhookEndpoint, delivery.endpoint_id) if delivery else None
    if delivery is None or endpoint is None:
        raise NotFound(message="No such webhook delivery.")
    _require_manage(session, actor, endpoint)
    return delivery


def redeliver(uow: UnitOfWork, actor: User, delivery: WebhookDelivery) -> WebhookDelivery:
    """Queue the same event (same ``id`` and body) again for the same endpoint, as a new delivery due now."""
    session = uow.session
    endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
    if endpoint is None:
        raise NotFound(message="No such webhook delivery.")
    _require_manage(session, actor, endpoint)
    if not endpoint.active:
        raise Conflict(
            message="The endpoint is disabled: enable it before redelivering.", code=WebhookErrorCode.ENDPOINT_DISABLED
        )
    now = uow.now()
    again = WebhookDelivery(
        endpoint_id=endpoint.id,  # type: ignore[arg-type]
        event_id=delivery.event_id,
        event_type=delivery.event_type,
        payload=delivery.payload,
        status=DeliveryStatus.PENDING.value,
        next_attempt_at=now,
        redelivery_of_id=delivery.id,
        created_at=now,
    )
    session.add(again)
    session.flush()
    _deliver_after_commit(uow)
    return again


# --- the outbox ---------------------------------------------------------------------------------------------------


def event_body(event_id: str, event_type: str, created: datetime, data: dict[str, Any]) -> str:
    """The JSON body every endpoint receives for one event."""
    return json.dumps(
        {"id": event_id, "type": event_type, "created": int(created.timestamp()), "data": data},
        separators=(",", ":"),
        default=str,
    )


def on_event(uow: UnitOfWork, event_type: str, data: dict[str, Any], audience: list[int]) -> None:
    """Event subscriber: one pending delivery per active endpoint of an audience organisation subscribed to
    ``event_type``, written in the event's own transaction (if the change rolls back, nothing is sent)."""
    org_ids = sorted({int(i) for i in audience})
    if not org_ids:
        return
    endpoints = uow.session.exec(
        select(WebhookEndpoint).where(
            col(WebhookEndpoint.organisation_id).in_(org_ids), col(WebhookEndpoint.active).is_(True)
        )
    ).all()
    matching = [e for e in endpoints if e.subscribes_to(event_type)]
    if not matching:
        return
    now = uow.now()
    event_id = "evt_" + secrets.token_hex(12)
    body = event_body(event_id, event_type, now, data)
    for endpoint in matching:
        uow.session.add(
            WebhookDelivery(
                endpoint_id=endpoint.id,  # type: ignore[arg-type]
                event_id=event_id,
                event_type=event_type,
                payload=body,
                status=DeliveryStatus.PENDING.value,
                next_attempt_at=now,
                created_at=now,
            )
        )
    uow.session.flush()
    _deliver_after_commit(uow)


def _deliver_after_commit(uow: UnitOfWork) -> None:
    """A delivery job, in the same transaction as the deliveries: it runs once they are committed."""
    from marketplace.jobs.models import JobKind
    from marketplace.jobs.queue import enqueue

    if uow.context.webhooks is not None:
        enqueue(uow, JobKind.WEBHOOK_DELIVERY, {})
