"""marshmallow schemas for account and organisation input."""

from __future__ import annotations

from marshmallow import fields, validate

from marketplace.accounts.models import OrgKind, Role
from marketplace.forms import FormSchema


class _PasswordForm(FormSchema):
    # A password is a secret taken exactly as typed: one made of spaces is checked as typed (and refused by the
    # password rules or by the login), never quietly treated as "not given".
    blank_is_missing = False


class SignUpSchema(_PasswordForm):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024))
    display_name = fields.String(load_default="", validate=validate.Length(max=120))


class LoginSchema(_PasswordForm):
    email = fields.String(required=True, validate=validate.Length(min=1, max=254))
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024))
    next = fields.String(load_default="")


class EmailOnlySchema(FormSchema):
    email = fields.Email(required=True, validate=validate.Length(max=254))


class ResetPasswordSchema(_PasswordForm):
    token = fields.String(required=True, validate=validate.Length(min=1, max=512))
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024))


class ChangePasswordSchema(_PasswordForm):
    current_password = fields.String(required=True, validate=validate.Length(min=1, max=1024))
    new_password = fields.String(required=True, validate=validate.Length(min=1, max=1024))


class ChangeEmailSchema(_PasswordForm):
    current_password = fields.String(required=True, validate=validate.Length(min=1, max=1024))
    new_email = fields.Email(required=True, validate=validate.Length(max=254))


class CreateOrganisationSchema(FormSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    slug = fields.String(load_default="", validate=validate.Length(max=64))
    kind = fields.Enum(OrgKind, by_value=True, required=True)
    description = fields.String(load_default="", validate=validate.Length(max=2000))


class BillingSchema(FormSchema):
    billing_name = fields.String(load_default="", validate=validate.Length(max=200))
    billing_address = fields.String(load_default="", validate=validate.Length(max=1000))
    tax_id = fields.String(load_default="", validate=validate.Length(max=64))


class InviteSchema(FormSchema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    role = fields.Enum(Role, by_value=True, required=True)


class ChangeRoleSchema(FormSchema):
    role = fields.Enum(Role, by_value=True, required=True)
