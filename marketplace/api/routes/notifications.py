"""The credential holder's own notifications (scope ``notifications``; personal credentials only), through
:mod:`marketplace.notifications.services`."""

from __future__ import annotations

from typing import Any

from marketplace.api import schemas
from marketplace.api.core import Call, operation
from marketplace.apikeys.scopes import NOTIFICATIONS
from marketplace.notifications import services
from marketplace.notifications.models import Notification

TAG = "Notifications"


def _present(row: Notification) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind.value,
        "title": row.title,
        "body": row.body,
        "link": row.link,
        "created_at": row.created_at,
        "read_at": row.read_at,
    }


@operation(
    "/v1/notifications",
    "GET",
    summary="List your notifications",
    tag=TAG,
    scope=NOTIFICATIONS,
    query=schemas.NotificationQuerySchema(),
    response=schemas.NotificationPageSchema(),
)
def list_notifications(call: Call) -> dict[str, Any]:
    """The notifications given to the credential's person, newest first, 20 a page (``unread=true``: only those
    not read yet). An organisation's credential is refused: notifications are personal."""
    page = services.list_page(call.uow.session, call.caller.user, call.query["page"], unread_only=call.query["unread"])
    return {
        "data": [_present(n) for n in page.items],
        "page": page.page,
        "pages": page.pages,
        "total": page.total,
        "unread": page.unread,
    }


@operation(
    "/v1/notifications/{notification_id}/read",
    "POST",
    summary="Mark a notification read",
    tag=TAG,
    scope=NOTIFICATIONS,
    path_params={"notification_id": "id"},
    response=schemas.NotificationSchema(),
)
def mark_read(call: Call, notification_id: int) -> dict[str, Any]:
    """Mark one of your notifications read (again: no change). Anyone else's is 404, as if it did not exist."""
    return _present(services.mark_read(call.uow, call.caller.user, notification_id))


@operation(
    "/v1/notifications/read-all",
    "POST",
    summary="Mark all your notifications read",
    tag=TAG,
    scope=NOTIFICATIONS,
    response=schemas.NotificationReadAllSchema(),
)
def mark_all_read(call: Call) -> dict[str, Any]:
    """Mark every unread notification of yours read."""
    return {"marked": services.mark_all_read(call.uow, call.caller.user)}
