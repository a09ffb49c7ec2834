"""Notifications: a person's own notices, paged, and marking them read."""

from __future__ import annotations

from marshmallow import fields, validate

from marketplace.api.schemas.common import In, Out, nullable_dt
from marketplace.notifications.kinds import NotificationKind

__all__ = ["NotificationPageSchema", "NotificationQuerySchema", "NotificationReadAllSchema", "NotificationSchema"]


class NotificationQuerySchema(In):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    unread = fields.Boolean(load_default=False, metadata={"description": "Only the notifications not read yet."})


class NotificationSchema(Out):
    id = fields.Integer(required=True)
    kind = fields.String(required=True, metadata={"enum": [k.value for k in NotificationKind]})
    title = fields.String(required=True)
    body = fields.String(required=True)
    link = fields.String(required=True, metadata={"description": "The site page it is about (a path), or empty."})
    created_at = fields.DateTime(required=True)
    read_at = nullable_dt()


class NotificationPageSchema(Out):
    data = fields.List(fields.Nested(NotificationSchema), required=True)
    page = fields.Integer(required=True)
    pages = fields.Integer(required=True)
    total = fields.Integer(required=True)
    unread = fields.Integer(required=True, metadata={"description": "How many of the person's are unread."})


class NotificationReadAllSchema(Out):
    marked = fields.Integer(required=True, metadata={"description": "How many were unread and are now read."})
