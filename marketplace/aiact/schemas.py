"""The sign-off form (the website's and the API's body): who signs, in which role, and that they confirm."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from marketplace.forms import FormSchema

_YES = frozenset({"on", "yes", "true", "1"})


class SignOffSchema(FormSchema):
    name = fields.String(
        required=True,
        validate=validate.Length(min=2, max=200, error="give your full name (2 to 200 characters)"),
        metadata={"description": "The full name of the person signing off (a person, not a team)."},
    )
    role = fields.String(
        load_default="",
        validate=validate.Length(max=200),
        metadata={"description": "The signer's role in the provider, e.g. Head of data governance."},
    )
    confirm = fields.Raw(
        load_default="",
        metadata={"description": "true: the signer confirms the documentation is accurate and complete."},
    )

    @validates_schema
    def _confirmed(self, data: dict[str, Any], **_: Any) -> None:
        # Checked on the whole form: an unticked box is not posted at all, and must still be refused.
        if str(data.get("confirm", "")).strip().lower() not in _YES:
            raise ValidationError("confirm that the documentation is accurate and complete", "confirm")
