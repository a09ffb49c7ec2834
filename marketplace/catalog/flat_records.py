"""Flat ↔ nested listing records: the dotted names of CSV columns and form fields (``ai_act.design_choices``,
``sources.0.name``) turned into the nested record :class:`marketplace.catalog.schemas.DatasetRecordSchema` loads,
and back again for filling forms and writing CSV.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from marshmallow import ValidationError, fields

from marketplace.catalog.schemas import record_fields
from marketplace.forms import field_at


@functools.lru_cache(maxsize=1024)
def is_list_field(name: str) -> bool:
    """True when the dotted ``name`` is a list of plain values (tags, tasks, languages…)."""
    field = field_at(record_fields(), name.split("."))
    return isinstance(field, fields.List) and not isinstance(field.inner, fields.Nested)


def unflatten(flat: Mapping[str, Any], *, split: Callable[[str], list[str]]) -> dict[str, Any]:
    """Turn ``{"ai_act.design_choices": "...", "sources.0.name": "..."}`` into the nested record.

    Empty values are left out (so optional fields load as empty); list-valued fields given as one string are cut
    with ``split``; rows of a list of objects whose values are all empty (blank form rows) are dropped.
    """
    nested: dict[str, Any] = {}
    for key, raw in flat.items():
        name = str(key).strip()
        if not name:
            continue
        if isinstance(raw, str):
            value: Any = raw.strip()
            if value == "":
                continue
            if is_list_field(name):
                value = [part for part in (p.strip() for p in split(value)) if part]
        elif isinstance(raw, list):
            value = [item.strip() if isinstance(item, str) else item for item in raw]
            value = [item for item in value if item != ""]
            if not value:
                continue
        else:
            value = raw
        parts = name.split(".")
        target: dict[str, Any] = nested
        for part in parts[:-1]:
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                raise ValidationError({name: ["conflicts with another column of the same name"]})
        target[parts[-1]] = value
    result: dict[str, Any] = _indexed_to_lists(nested)
    return result


def _indexed_to_lists(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {key: _indexed_to_lists(value) for key, value in node.items()}
    if converted and all(key.isdigit() for key in converted):
        return [converted[key] for key in sorted(converted, key=int)]
    return converted


def flatten(record: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """The inverse of :func:`unflatten` for filling forms and writing CSV: dotted names, lists kept as lists."""
    flat: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            flat.update(flatten(value, name))
        elif isinstance(value, list) and value and isinstance(value[0], Mapping):
            for index, item in enumerate(value):
                flat.update(flatten(item, f"{name}.{index}"))
        else:
            flat[name] = value
    return flat
