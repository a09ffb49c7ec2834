"""The one form base schema and the one marshmallow-errors-to-field-problems helper."""

from __future__ import annotations

import pytest
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from marketplace.accounts.schemas import CreateOrganisationSchema, LoginSchema
from marketplace.apikeys.schemas import KeyFormSchema
from marketplace.apikeys.scopes import SCOPES
from marketplace.catalog.schemas import CreateDatasetSchema, record_fields
from marketplace.delivery.schemas import LinkListSchema, StartUploadSchema
from marketplace.errors import ValidationFailed
from marketplace.forms import FormSchema, field_problems
from marketplace.licenses.schemas import AcquireSchema, OfferFormSchema, UseCheckSchema
from marketplace.orders.schemas import OnboardingSchema
from marketplace.sso.views import SettingsSchema
from marketplace.web import parse
from marketplace.webhooks.views import EndpointSchema


class _Sample(FormSchema):
    name = fields.String(required=True)
    note = fields.String(load_default="none given")


def test_form_drops_unknown_fields_and_reads_blank_as_not_given() -> None:
    loaded = _Sample().load({"name": " Ada ", "note": "   ", "csrf_token": "x", "submit": "Save"})
    assert loaded == {"name": " Ada ", "note": "none given"}  # non-blank values are passed on unchanged
    with pytest.raises(ValidationError) as caught:
        _Sample().load({"name": ""})
    assert caught.value.messages == {"name": ["Please fill this in."]}


@pytest.mark.parametrize(
    "schema",
    [
        CreateOrganisationSchema,
        KeyFormSchema,
        CreateDatasetSchema,
        OfferFormSchema,
        AcquireSchema,
        OnboardingSchema,
        StartUploadSchema,
        LinkListSchema,
        EndpointSchema,
    ],
)
def test_every_form_schema_shares_the_base(schema: type[Schema]) -> None:
    assert issubclass(schema, FormSchema) and schema.blank_is_missing  # type: ignore[attr-defined]


def test_password_and_sso_forms_see_blanks_as_typed() -> None:
    assert issubclass(LoginSchema, FormSchema) and issubclass(SettingsSchema, FormSchema)
    assert LoginSchema().load({"email": "a@example.org", "password": "   "})["password"] == "   "
    assert SettingsSchema().load({"issuer": "x", "client_id": "y", "domains": ""})["domains"] == ""


def test_blank_seats_are_not_asked_and_blank_terms_are_not_accepted() -> None:
    assert UseCheckSchema().load({"action": "train", "seats_in_use": " "})["seats_in_use"] is None
    with pytest.raises(ValidationError) as caught:
        AcquireSchema().load({"licensee": "acme", "accept_terms": ""})
    assert caught.value.messages == {"accept_terms": ["accept the terms first"]}


class _Listing(Schema):
    tags = fields.List(fields.String(validate=validate.Length(max=3)))
    sources = fields.List(fields.Nested(Schema.from_dict({"url": fields.Url(required=True)})))
    title = fields.String()

    @validates_schema
    def _whole(self, data: dict[str, object], **_: object) -> None:
        if data.get("title") == "bad":
            raise ValidationError("the listing as a whole is wrong")


def _problems(data: dict[str, object], **kwargs: str | None) -> list[tuple[str, str, str | None]]:
    with pytest.raises(ValidationError) as caught:
        _Listing().load(data)
    return [(p.field, p.message, p.location) for p in field_problems(caught.value, _Listing(), **kwargs)]


def test_field_problems_name_plain_list_items_by_the_list_and_object_items_by_index() -> None:
    problems = _problems({"tags": ["ok", "too long"], "sources": [{"url": "nope"}]}, location="row 3")
    assert sorted(problems) == [
        ("sources.0.url", "Not a valid URL.", "row 3"),
        ("tags", "Longer than maximum length 3.", "row 3"),
    ]


def test_field_problems_name_whole_input_errors() -> None:
    assert _problems({"title": "bad"}) == [("record", "the listing as a whole is wrong", None)]
    assert _problems({"title": "bad"}, whole="_schema") == [("_schema", "the listing as a whole is wrong", None)]


def test_field_problems_of_a_record_section_match_the_record_paths() -> None:
    with pytest.raises(ValidationError) as caught:
        record_fields(("languages",)).load({"languages": ["en", "not a language"]})
    (problem,) = field_problems(caught.value, record_fields(("languages",)))
    assert problem.field == "languages"


def test_a_bad_item_of_a_form_list_is_named_by_the_list_in_words() -> None:
    # Before one helper, the web form parser reported the item as the text of marshmallow's nested dict.
    good = next(iter(SCOPES))
    with pytest.raises(ValidationFailed) as caught:
        parse(KeyFormSchema(), {"name": "ci", "scopes": [good, "nonsense"]})
    assert caught.value.field_messages()["scopes"].startswith("Must be one of:")
