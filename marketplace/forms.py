"""Form input: the one base schema of every form, and marshmallow's errors as :class:`FieldProblem`s.

Every browser form and flat JSON body is read by a subclass of :class:`FormSchema`; every marshmallow
``ValidationError`` that reaches a user (a form, an API body, an import row, a manifest line) is turned into
field problems by :func:`field_problems`, so a bad field is named the same way on every channel.
"""

from __future__ import annotations

from typing import Any, ClassVar

from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load

from marketplace.errors import FieldProblem

__all__ = ["FormSchema", "field_at", "field_problems"]


class FormSchema(Schema):
    """The base of every form schema.

    Promises:

    * **Unknown fields are dropped** (``EXCLUDE``): a browser posts more than the schema reads (the CSRF token,
      the name of the pressed button), and an extra field is not the user's mistake.
    * **A blank field is a missing field** while :attr:`blank_is_missing` is true (the default): a text input
      left empty or holding only spaces arrives as ``""``, which means "not given", so an optional field takes
      its ``load_default`` and a required one says "Please fill this in." (:attr:`required_message`).
      Non-blank values are passed on unchanged (not stripped). A form that must see blanks sets
      ``blank_is_missing = False`` and says why.
    """

    blank_is_missing: ClassVar[bool] = True
    #: What a required field left empty says, next to its label (marshmallow's own "Missing data for required
    #: field." speaks of data, not of the form the person is filling in).
    required_message: ClassVar[str] = "Please fill this in."

    class Meta:
        unknown = EXCLUDE

    def on_bind_field(self, field_name: str, field_obj: fields.Field[Any]) -> None:
        current = field_obj.error_messages.get("required")
        if not isinstance(current, str) or current.startswith("Missing"):  # marshmallow's default, not a field's own
            field_obj.error_messages = {**field_obj.error_messages, "required": self.required_message}

    @pre_load
    def _blank_is_missing(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        if not self.blank_is_missing:
            return data
        return {k: v for k, v in data.items() if not (isinstance(v, str) and not v.strip())}


def field_at(schema: Schema, path: list[str]) -> fields.Field[Any] | None:
    """The field of ``schema`` a dotted path names (list indices skipped, nested schemas followed), or None."""
    current: Any = schema
    found: fields.Field[Any] | None = None
    for part in path:
        if part.isdigit():
            continue
        if isinstance(current, fields.List) and isinstance(current.inner, fields.Nested):
            current = current.inner.schema
        elif isinstance(current, fields.Nested):
            current = current.schema
        if not isinstance(current, Schema) or part not in current.fields:
            return None
        found = current.fields[part]
        current = found
    return found


def _is_plain_list(schema: Schema | None, dotted: str) -> bool:
    if schema is None:
        return False
    field = field_at(schema, dotted.split("."))
    return isinstance(field, fields.List) and not isinstance(field.inner, fields.Nested)


def field_problems(
    error: ValidationError, schema: Schema | None = None, *, location: str | None = None, whole: str = "record"
) -> list[FieldProblem]:
    """marshmallow's (possibly nested) error messages as one :class:`FieldProblem` per dotted field path.

    ``schema`` is the schema that raised: an error on an item of a list of plain values ("languages.2") is
    reported on the list ("languages"), whose input shows the item, while an item of a list of objects keeps its
    index ("sources.0.url"). Errors of the whole input (marshmallow's ``_schema``) are named ``whole``. Every
    problem carries ``location`` (a row, a line, "body") when given.
    """
    problems: list[FieldProblem] = []
    _flatten(error.messages, "", schema, whole, problems)
    for problem in problems:
        problem.location = location
    return problems


def _flatten(messages: Any, prefix: str, schema: Schema | None, whole: str, out: list[FieldProblem]) -> None:
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = "" if key == "_schema" else str(key)
            path = f"{prefix}.{name}" if prefix and name else (prefix or name)
            _flatten(value, path, schema, whole, out)
    elif isinstance(messages, list) and messages and all(isinstance(m, str) for m in messages):
        head, _, tail = prefix.rpartition(".")
        list_item = tail.isdigit() and head and _is_plain_list(schema, head)
        out.append(FieldProblem(field=(head if list_item else prefix) or whole, message="; ".join(messages)))
    elif isinstance(messages, list):
        for item in messages:
            _flatten(item, prefix, schema, whole, out)
    else:
        out.append(FieldProblem(field=prefix or whole, message=str(messages)))
