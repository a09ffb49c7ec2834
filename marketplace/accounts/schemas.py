"""marshmallow schemas for account and organisation input."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from marketplace.accounts.models import OrgKind, Role


class _Form(Schema):
    class Meta:
        unknown = EXCLUDE


class SignUpSchema(_Form):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024))
    display_name = fields.String(load_default="", validate=validate.Length(max=120))


class LoginSchema(_Form):
    email = fields.String(required=True, validate=validate.Length(min=1, max=254))
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024))
    next = fields.String(load_default="")


class EmailOnlySchema(_Form):
    email = fields.Email(required=True, validate=validate.Length(max=254))


class ResetPasswordSchema(_Form):
    token = fields.String(required=True, validate=validate.Length(min=1, max=512))
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024))


class ChangePasswordSchema(_Form):
    current_password = fields.String(required=True, validate=validate.Length(min=1, max=1024))
    new_password = fields.String(required=True, validate=validate.Length(min=1, max=1024))


class ChangeEmailSchema(_Form):
    current_password = fields.String(required=True, validate=validate.Length(min=1, max=1024))
    new_email = fields.Email(required=True, validate=validate.Length(max=254))


class CreateOrganisationSchema(_Form):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    slug = fields.String(load_default="", validate=validate.Length(max=64))
    kind = fields.Enum(OrgKind, by_value=True, required=True)
    description = fields.String(load_default="", validate=validate.Length(max=2000))


class InviteSchema(_Form):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    role = fields.Enum(Role, by_value=True, required=True)


class ChangeRoleSchema(_Form):
    role = fields.Enum(Role, by_value=True, required=True)


class TokenSchema(_Form):
    token = fields.String(required=True, validate=validate.Length(min=1, max=512))
