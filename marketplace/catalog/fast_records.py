"""A faster way to load a well-formed record: the record schema's own rules, without marshmallow's machinery.

marshmallow spends most of a record's load in its generic machinery (an error store, a closure and three calls per
field, a validator chain per value), which dominates a catalog import. :func:`compile_schema` walks a schema once
and builds plain functions that apply, for a record every rule of which holds, the very same steps: each field's
own ``_deserialize``, the same validators (``OneOf`` as a set, ``Length``, ``Regexp`` and ``Range`` as direct
comparisons), the schema's ``validates_schema`` and ``post_load`` hooks, in marshmallow's order.

The fast path never decides that a record is wrong: at the first thing it does not handle, or the first rule that
fails, it raises :class:`Fallback`, and the caller loads the record with the schema itself, so every error message
is marshmallow's, unchanged. A schema or field it does not know how to follow (``many``, ``partial``, field-level
hooks, ``data_key``…) is loaded through marshmallow's own ``deserialize``, which is always right.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate
from marshmallow.constants import missing
from marshmallow.decorators import POST_LOAD, PRE_LOAD, VALIDATES, VALIDATES_SCHEMA

Loader = Callable[[Any], Any]


class Fallback(Exception):  # not an error: "load this one the slow way"
    """The fast path cannot vouch for this value: load it with the schema."""


_FALLBACK = Fallback()


def _check(validator: Any) -> Callable[[Any], bool]:
    """A predicate true when ``validator`` accepts the value (any doubt: false)."""
    if type(validator) is validate.OneOf:
        choices = frozenset(c for c in validator.choices if type(c) is str)
        everything = list(validator.choices)
        if len(choices) == len(everything):
            return lambda value: type(value) is str and value in choices
    if type(validator) is validate.Length and validator.equal is None:
        low = validator.min if validator.min is not None else 0
        high = validator.max
        if high is None:
            return lambda value: len(value) >= low
        return lambda value: low <= len(value) <= high
    if type(validator) is validate.Regexp:
        regex: re.Pattern[str] = validator.regex  # type: ignore[assignment]
        return lambda value: type(value) is str and regex.match(value) is not None

    def generic(value: Any) -> bool:
        try:
            return validator(value) is not False
        except (ValidationError, TypeError, ValueError):
            return False

    return generic


def _validated(field: fields.Field[Any], convert: Loader) -> Loader:
    """``convert`` then every validator of ``field``; ``None`` as marshmallow treats it."""
    checks = tuple(_check(v) for v in field.validators)
    allow_none = field.allow_none

    def load(value: Any) -> Any:
        if value is None:
            if allow_none:
                return None
            raise _FALLBACK
        out = convert(value)
        try:
            for check in checks:
                if not check(out):
                    raise _FALLBACK
        except TypeError:
            raise _FALLBACK from None
        return out

    return load


def _marshmallow(field: fields.Field[Any]) -> Loader:
    """The field's own ``deserialize`` (missing values never reach it)."""

    def load(value: Any) -> Any:
        try:
            return field.deserialize(value)
        except ValidationError:
            raise _FALLBACK from None

    return load


def _own_deserialize(field: fields.Field[Any]) -> Loader:
    deserialize = field._deserialize

    def convert(value: Any) -> Any:
        try:
            return deserialize(value, None, None)
        except ValidationError:
            raise _FALLBACK from None

    return convert


def _memoised(convert: Loader, size: int = 4096) -> Loader:
    """``convert`` remembered for up to ``size`` strings it accepted (it must be a pure function of the text)."""
    seen: dict[str, Any] = {}

    def load(value: Any) -> Any:
        if type(value) is not str:
            return convert(value)
        out = seen.get(value, missing)
        if out is missing:
            out = convert(value)
            if len(seen) < size:
                seen[value] = out
        return out

    return load


def compile_field(field: fields.Field[Any]) -> Loader:
    """A loader of a present value of ``field``: its output, or :class:`Fallback`."""
    if field.pre_load or field.post_load or field.data_key is not None or field.attribute is not None:
        return _marshmallow(field)
    from marketplace.catalog.schemas import UniqueList  # here: schemas imports this module

    if type(field) is fields.Nested:
        return _validated(field, _nested(field))
    if isinstance(field, fields.List) and type(field) in (fields.List, UniqueList):
        return _validated(field, _list(field, unique=type(field) is UniqueList))
    if type(field)._deserialize is fields.String._deserialize:
        deserialize = field._deserialize

        def text(value: Any) -> Any:
            if type(value) is str:
                return value
            try:
                return deserialize(value, None, None)
            except ValidationError:
                raise _FALLBACK from None

        return _validated(field, text)
    if hasattr(field, "normalise"):  # a standard code: the same few values over and over
        return _validated(field, _memoised(_own_deserialize(field)))
    if type(field) in (fields.Integer, fields.Float, fields.Boolean, fields.Date):
        return _validated(field, _own_deserialize(field))
    return _marshmallow(field)


def _nested(field: fields.Nested) -> Loader:
    schema = field.schema
    if field.many or schema.many or field.unknown is not None or field.only or field.exclude:
        return _marshmallow_nested(field)
    try:
        return compile_schema(schema)
    except NotImplementedError:
        return _marshmallow_nested(field)


def _marshmallow_nested(field: fields.Field[Any]) -> Loader:
    deserialize = field._deserialize

    def load(value: Any) -> Any:
        try:
            return deserialize(value, None, None)
        except ValidationError:
            raise _FALLBACK from None

    return load


def _list(field: fields.List[Any], *, unique: bool) -> Loader:
    inner = compile_field(field.inner)

    def load(value: Any) -> Any:
        if unique and isinstance(value, str):  # UniqueList: a single value where a list was expected
            value = [value]
        if type(value) is not list:
            raise _FALLBACK
        items = [inner(item) for item in value]
        return list(dict.fromkeys(items)) if unique else items

    return load


def _hooks(schema: Schema, tag: str) -> list[tuple[Callable[..., Any], bool]]:
    found = []
    for name, many, kwargs in schema._hooks[tag]:
        if many:
            raise NotImplementedError(f"{type(schema).__name__}.{name}: collection hooks are not followed")
        found.append((getattr(schema, name), bool(kwargs.get("pass_original", False))))
    return found


def compile_schema(schema: Schema) -> Loader:
    """A loader of a record of ``schema``: what ``schema.load(record)`` returns, or :class:`Fallback`.

    Raises ``NotImplementedError`` for a schema it cannot follow exactly (the caller then keeps marshmallow)."""
    if (
        schema.many
        or schema.partial
        or schema.opts.unknown != RAISE
        or schema.dict_class is not dict
        or schema._hooks[PRE_LOAD]
        or schema._hooks[VALIDATES]
    ):
        raise NotImplementedError(f"{type(schema).__name__}: only plain, strict schemas are followed")
    plan: list[tuple[str, Loader, bool, Any]] = []
    for name, field in schema.load_fields.items():
        if field.data_key is not None or field.attribute is not None:
            raise NotImplementedError(f"{type(schema).__name__}.{name}: renamed fields are not followed")
        plan.append((name, compile_field(field), field.required, field.load_default))
    keys = frozenset(name for name, *_ in plan)
    validators = _hooks(schema, VALIDATES_SCHEMA)
    processors = _hooks(schema, POST_LOAD)
    unknown = schema.unknown

    def load(data: Any) -> Any:
        if type(data) is not dict or not keys.issuperset(data):
            raise _FALLBACK
        out: dict[str, Any] = {}
        for name, loader, required, default in plan:
            value = data.get(name, missing)
            if value is missing:
                if required:
                    raise _FALLBACK
                if default is not missing:
                    out[name] = default() if callable(default) else default
                continue
            out[name] = loader(value)
        try:
            for validator, original in validators:
                if original:
                    validator(out, data, partial=None, many=False, unknown=unknown)
                else:
                    validator(out, partial=None, many=False, unknown=unknown)
            for processor, original in processors:
                if original:
                    out = processor(out, data, many=False, partial=None, unknown=unknown)
                else:
                    out = processor(out, many=False, partial=None, unknown=unknown)
        except ValidationError:
            raise _FALLBACK from None
        return out

    return load
