"""The withdrawal pages' form schemas: what a provider files and what a licensee signs."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, fields, pre_load, validate

from marketplace.withdrawals.states import WithdrawalReason


class FilingFormSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    version = fields.String(required=True, validate=validate.Length(min=1, max=64))
    reason = fields.String(required=True, validate=validate.OneOf([r.value for r in WithdrawalReason]))
    details = fields.String(load_default="", validate=validate.Length(max=5000))
    files = fields.List(fields.String(validate=validate.Length(min=1, max=1024)), load_default=list)
    record_ids = fields.List(fields.String(), load_default=list)
    deletion_days = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=365))

    @pre_load
    def _split(self, data: Any, **_: Any) -> Any:
        """Record ids come one a line (or separated by commas); an empty number of days means the default."""
        out = dict(data)
        raw = str(out.get("record_ids") or "")
        out["record_ids"] = [part.strip() for line in raw.splitlines() for part in line.split(",") if part.strip()]
        if not str(out.get("deletion_days") or "").strip():
            out["deletion_days"] = None
        return out


class ConfirmationFormSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    signer_name = fields.String(required=True, validate=validate.Length(min=2, max=200))
    signer_role = fields.String(required=True, validate=validate.Length(min=2, max=200))
    statement = fields.String(required=True, validate=validate.Length(min=10, max=5000))
    deleted_on = fields.Date(required=True)
