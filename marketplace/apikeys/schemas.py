"""marshmallow schemas of the API access settings forms (create a key, create an OAuth client)."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from marshmallow import fields, post_load, validate

from marketplace.apikeys.scopes import SCOPES
from marketplace.forms import FormSchema


class KeyFormSchema(FormSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    owner = fields.String(
        load_default="user",
        validate=validate.Regexp(r"^(user|org:[a-z0-9-]{1,64})$", error="choose yourself or an organisation"),
    )
    scopes = fields.List(fields.String(validate=validate.OneOf(list(SCOPES))), load_default=list)
    environment = fields.String(load_default="live", validate=validate.OneOf(["live", "test"]))
    expires_on = fields.Date(load_default=None, allow_none=True)

    @post_load
    def _expiry(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        day = data.pop("expires_on", None)
        # A key "expiring on" a day works through that day (UTC).
        data["expires_at"] = datetime.combine(day, time.max, tzinfo=UTC) if day else None
        return data


class ClientFormSchema(FormSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    organisation = fields.String(required=True, validate=validate.Length(min=1, max=64))
    scopes = fields.List(fields.String(validate=validate.OneOf(list(SCOPES))), load_default=list)
    environment = fields.String(load_default="live", validate=validate.OneOf(["live", "test"]))
