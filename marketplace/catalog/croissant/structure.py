"""The structural part of a Croissant document: its ``distribution`` and its ``recordSet``\\ s, checked.

Every check reports a :class:`Problem` named by the document's own JSON path (``distribution[4].contentSize``,
``recordSet[1].field[2].dataType``) and goes on, so one pass finds every problem. What is checked is what
Croissant requires and what a consumer would trip over: the resource types, a FileObject's ``contentUrl`` and
``encodingFormat``, a FileSet's ``includes``, readable sizes, unique ``@id``\\ s, and every reference
(``containedIn``, a source's ``fileObject``/``fileSet``/``field``, ``references``, ``key``) naming something the
document defines. Values are otherwise kept as written.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from marketplace.catalog import vocab
from marketplace.catalog.croissant.model import DistributionKind

#: What ``extract.fileProperty`` may name (Croissant 1.0, 1.1).
FILE_PROPERTIES = ("fullpath", "filename", "content", "lines", "lineNumbers")
EXTRACT_KEYS = ("column", "jsonPath", "fileProperty")
#: The longest text kept in one column of a declared distribution entry.
MAX_TEXT = 8192

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGTP]i?B|B|bytes?)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "byte": 1, "bytes": 1}
for _i, _p in enumerate("kmgtp", start=1):
    _UNITS[f"{_p}b"] = 1000**_i
    _UNITS[f"{_p}ib"] = 1024**_i


@dataclass(frozen=True)
class Problem:
    """One problem of a document: where (a JSON path into the document) and what."""

    path: str
    message: str


@dataclass
class Distribution:
    """One checked ``distribution`` entry, as :class:`~.model.DeclaredDistribution` stores it."""

    kind: DistributionKind
    resource_id: str
    name: str = ""
    description: str = ""
    content_url: str = ""
    encoding_format: str = ""
    content_size: str = ""
    size_bytes: int | None = None
    sha256: str = ""
    md5: str = ""
    contained_in: list[str] = field(default_factory=list)
    includes: list[str] = field(default_factory=list)
    excludes: list[str] = field(default_factory=list)
    path: str = ""
    properties: dict[str, Any] = field(default_factory=dict)

    def as_row(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def text(value: Any) -> str:
    """The text of a JSON-LD value: a string, ``{"@value"}``, a language map (English first) or a list."""
    if value is None:
        return ""
    if isinstance(value, list):
        return "\n\n".join(t for t in (text(v) for v in value) if t)
    if isinstance(value, dict):
        if "@value" in value or "name" in value:
            return text(value.get("@value", value.get("name")))
        if value and all(isinstance(k, str) and not k.startswith("@") for k in value):  # a language map
            return text(value.get("en", next(iter(value.values()))))
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip()


def ref_ids(value: Any) -> list[str]:
    """The ids a reference names: ``{"@id": x}``, a bare string, or a list of either."""
    out = []
    for item in as_list(value):
        ident = item.get("@id") if isinstance(item, dict) else item
        if isinstance(ident, str) and ident.strip():
            out.append(ident.strip())
    return out


def size_in_bytes(value: Any) -> int | None:
    """``contentSize`` in bytes ("1024", "1024 B", "53.1 MB", "2 GiB"), or None when it cannot be read."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if value >= 0 else None
    match = _SIZE.match(str(value or ""))
    if not match:
        return None
    return round(float(match.group(1)) * _UNITS[(match.group(2) or "").lower()])


def types_of(item: dict[str, Any]) -> list[str]:
    return [str(t) for t in as_list(item.get("@type"))]


def _is(item: dict[str, Any], name: str) -> bool:
    return any(t.rsplit("/", 1)[-1].rsplit(":", 1)[-1] == name for t in types_of(item))


def _upload_path(content_url: str, name: str) -> str:
    """Where an uploaded file must be to fulfil a FileObject: its relative URL, else its name, else the URL's
    last segment ("" when none is a path within a dataset)."""
    candidates = [content_url, name]
    if "://" in content_url:
        candidates = [name, urllib.parse.unquote(urllib.parse.urlsplit(content_url).path.rsplit("/", 1)[-1])]
    for candidate in candidates:
        if candidate and "://" not in candidate:
            try:
                return vocab.manifest_path(candidate)
            except ValueError:
                continue
    return ""


_DISTRIBUTION_KEYS = (
    "@type",
    "@id",
    "name",
    "description",
    "contentUrl",
    "encodingFormat",
    "contentSize",
    "sha256",
    "md5",
    "containedIn",
    "includes",
    "excludes",
)


def read_distribution(document: dict[str, Any], problems: list[Problem]) -> list[Distribution]:
    """The document's ``distribution`` entries, each checked; references checked against each other."""
    raw = document.get("distribution")
    if raw is not None and not isinstance(raw, (list, dict)):
        problems.append(Problem("distribution", "must be a list of cr:FileObject and cr:FileSet entries"))
        return []
    entries: list[Distribution] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(as_list(raw)):
        where = f"distribution[{index}]"
        entry = _read_entry(item, where, problems)
        if entry is None:
            continue
        if entry.resource_id in seen:
            problems.append(
                Problem(
                    f"{where}.@id", f"{entry.resource_id!r} is also the @id of distribution[{seen[entry.resource_id]}]"
                )
            )
        seen.setdefault(entry.resource_id, index)
        entries.append(entry)
    for index, item in enumerate(as_list(raw)):
        if isinstance(item, dict):
            for ident in ref_ids(item.get("containedIn")):
                if ident not in seen:
                    problems.append(
                        Problem(f"distribution[{index}].containedIn", f"no distribution entry has the @id {ident!r}")
                    )
    return entries


def _string_property(item: dict[str, Any], key: str, where: str, problems: list[Problem]) -> str:
    value = item.get(key)
    if value is None:
        return ""
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        problems.append(Problem(f"{where}.{key}", "must be a text value"))
        return ""
    out = str(value).strip()
    if len(out) > MAX_TEXT:
        problems.append(Problem(f"{where}.{key}", f"is longer than {MAX_TEXT} characters"))
        return ""
    return out


def _read_entry(item: Any, where: str, problems: list[Problem]) -> Distribution | None:
    if not isinstance(item, dict):
        problems.append(Problem(where, "must be a cr:FileObject or cr:FileSet object"))
        return None
    if _is(item, "FileObject"):
        kind = DistributionKind.FILE_OBJECT
    elif _is(item, "FileSet"):
        kind = DistributionKind.FILE_SET
    else:
        problems.append(Problem(f"{where}.@type", "must be cr:FileObject or cr:FileSet"))
        return None
    values = {
        key: _string_property(item, key, where, problems)
        for key in ("@id", "name", "description", "contentUrl", "encodingFormat", "sha256", "md5")
    }
    resource_id = values["@id"] or values["name"]
    if not resource_id:
        problems.append(Problem(f"{where}.@id", f"a {kind.croissant_type} needs an @id (or a name)"))
    if not values["encodingFormat"]:
        problems.append(Problem(f"{where}.encodingFormat", f"a {kind.croissant_type} needs an encodingFormat"))
    entry = Distribution(
        kind=kind,
        resource_id=resource_id,
        name=values["name"],
        description=values["description"],
        content_url=values["contentUrl"],
        encoding_format=values["encodingFormat"][:255],
        sha256=values["sha256"],
        md5=values["md5"],
        contained_in=ref_ids(item.get("containedIn")),
        properties={k: v for k, v in item.items() if k not in _DISTRIBUTION_KEYS},
    )
    if len(types_of(item)) > 1:
        entry.properties["@type"] = item["@type"]
    if "contentSize" in item:
        entry.content_size = text(item["contentSize"])[:64]
        entry.size_bytes = size_in_bytes(item["contentSize"])
        if entry.size_bytes is None:
            problems.append(
                Problem(
                    f"{where}.contentSize", f"{entry.content_size!r} is not a size such as 1024, '12 MB' or '3.2 GB'"
                )
            )
    if kind is DistributionKind.FILE_OBJECT:
        if not entry.content_url:
            problems.append(Problem(f"{where}.contentUrl", "a cr:FileObject needs a contentUrl"))
        entry.path = _upload_path(entry.content_url, entry.name)
    else:
        entry.includes = _globs(item.get("includes"), f"{where}.includes", problems)
        entry.excludes = _globs(item.get("excludes"), f"{where}.excludes", problems)
        if not entry.includes:
            problems.append(Problem(f"{where}.includes", "a cr:FileSet needs includes (glob patterns)"))
    return entry


def _globs(value: Any, where: str, problems: list[Problem]) -> list[str]:
    out = []
    for index, pattern in enumerate(as_list(value)):
        if not isinstance(pattern, str) or not pattern.strip() or len(pattern) > 1024:
            problems.append(
                Problem(f"{where}[{index}]" if isinstance(value, list) else where, "must be a glob pattern")
            )
        else:
            out.append(pattern.strip())
    return out


# --- record sets -------------------------------------------------------------------------------------------------


@dataclass
class _Index:
    """The ids a record set's references may name."""

    file_objects: set[str]
    file_sets: set[str]
    fields: set[str] = field(default_factory=set)
    record_sets: set[str] = field(default_factory=set)


def read_record_sets(
    document: dict[str, Any], distribution: list[Distribution], problems: list[Problem]
) -> list[dict[str, Any]]:
    """The document's record sets, as written, once every one is checked (references included)."""
    raw = document.get("recordSet")
    if raw is not None and not isinstance(raw, (list, dict)):
        problems.append(Problem("recordSet", "must be a list of cr:RecordSet objects"))
        return []
    record_sets = as_list(raw)
    index = _Index(
        file_objects={d.resource_id for d in distribution if d.kind is DistributionKind.FILE_OBJECT}
        | {d.name for d in distribution if d.kind is DistributionKind.FILE_OBJECT and d.name},
        file_sets={d.resource_id for d in distribution if d.kind is DistributionKind.FILE_SET}
        | {d.name for d in distribution if d.kind is DistributionKind.FILE_SET and d.name},
    )
    for record_set in record_sets:  # first collect every id, since a field may reference a later record set
        if isinstance(record_set, dict):
            index.record_sets.update(i for i in (text(record_set.get("@id")), text(record_set.get("name"))) if i)
            _collect_field_ids(record_set, index.fields, text(record_set.get("@id")) or text(record_set.get("name")))
    for number, record_set in enumerate(record_sets):
        _check_record_set(record_set, f"recordSet[{number}]", index, problems)
    return [r for r in record_sets if isinstance(r, dict)]


def _collect_field_ids(node: dict[str, Any], ids: set[str], prefix: str) -> None:
    for key in ("field", "subField"):
        for item in as_list(node.get(key)):
            if isinstance(item, dict):
                name = text(item.get("name"))
                ids.update(i for i in (text(item.get("@id")), name, f"{prefix}/{name}" if name else "") if i)
                _collect_field_ids(item, ids, text(item.get("@id")) or f"{prefix}/{name}")


def _check_record_set(record_set: Any, where: str, index: _Index, problems: list[Problem]) -> None:
    if not isinstance(record_set, dict):
        problems.append(Problem(where, "must be a cr:RecordSet object"))
        return
    if not (text(record_set.get("@id")) or text(record_set.get("name"))):
        problems.append(Problem(f"{where}.@id", "a cr:RecordSet needs an @id (or a name)"))
    fields = as_list(record_set.get("field"))
    own: set[str] = set()
    _collect_field_ids(record_set, own, text(record_set.get("@id")) or text(record_set.get("name")))
    for ident in ref_ids(record_set.get("key")):
        if ident not in own:
            problems.append(Problem(f"{where}.key", f"{ident!r} is not a field of this record set"))
    data = record_set.get("data")
    if data is not None and not (
        isinstance(data, str) or (isinstance(data, list) and all(isinstance(row, dict) for row in data))
    ):
        problems.append(Problem(f"{where}.data", "must be a list of records (objects keyed by field)"))
    if not fields and data is None:
        problems.append(Problem(f"{where}.field", "a cr:RecordSet needs at least one field"))
    for number, item in enumerate(fields):
        _check_field(item, f"{where}.field[{number}]", index, problems)


def _check_field(item: Any, where: str, index: _Index, problems: list[Problem]) -> None:
    if not isinstance(item, dict):
        problems.append(Problem(where, "must be a cr:Field object"))
        return
    if not (text(item.get("@id")) or text(item.get("name"))):
        problems.append(Problem(f"{where}.@id", "a cr:Field needs an @id (or a name)"))
    data_types = as_list(item.get("dataType"))
    if not data_types and not item.get("subField"):
        problems.append(Problem(f"{where}.dataType", "a cr:Field needs a dataType (e.g. sc:Text, sc:Integer)"))
    for number, data_type in enumerate(data_types):
        if not isinstance(data_type, str) or not data_type.strip():
            path = f"{where}.dataType[{number}]" if isinstance(item.get("dataType"), list) else f"{where}.dataType"
            problems.append(Problem(path, "must name a type such as sc:Text, sc:Integer or sc:ImageObject"))
    if "repeated" in item and not isinstance(item["repeated"], bool):
        problems.append(Problem(f"{where}.repeated", "must be true or false"))
    if "source" in item:
        _check_source(item["source"], f"{where}.source", index, problems)
    references = item.get("references")
    if references is not None:
        _check_reference(references, f"{where}.references", index, problems)
    for number, sub in enumerate(as_list(item.get("subField"))):
        _check_field(sub, f"{where}.subField[{number}]", index, problems)


def _check_reference(value: Any, where: str, index: _Index, problems: list[Problem]) -> None:
    if not isinstance(value, dict):
        problems.append(Problem(where, 'must name a field: {"field": {"@id": ...}}'))
        return
    targets = (
        ("field", index.fields, "field"),
        ("fileObject", index.file_objects, "cr:FileObject"),
        ("fileSet", index.file_sets, "cr:FileSet"),
        ("recordSet", index.record_sets, "cr:RecordSet"),
    )
    named = False
    for key, known, label in targets:
        for ident in ref_ids(value.get(key)):
            named = True
            if ident not in known:
                problems.append(Problem(f"{where}.{key}", f"no {label} has the @id {ident!r}"))
    if not named and "@id" not in value:
        problems.append(Problem(where, "must name a fileObject, fileSet or field"))


def _check_source(value: Any, where: str, index: _Index, problems: list[Problem]) -> None:
    if isinstance(value, str):
        return  # a bare reference, as Croissant 0.8 wrote them
    if not isinstance(value, dict):
        problems.append(Problem(where, "must be an object naming a fileObject, fileSet or field"))
        return
    _check_reference(
        {k: v for k, v in value.items() if k in ("field", "fileObject", "fileSet", "recordSet", "@id")},
        where,
        index,
        problems,
    )
    extract = value.get("extract")
    if extract is not None:
        if not isinstance(extract, dict):
            problems.append(Problem(f"{where}.extract", "must be an object: column, jsonPath or fileProperty"))
        else:
            for key in extract:
                if key not in EXTRACT_KEYS and not key.startswith("@"):
                    problems.append(
                        Problem(f"{where}.extract.{key}", "unknown extraction (use column, jsonPath or fileProperty)")
                    )
            if "fileProperty" in extract and extract["fileProperty"] not in FILE_PROPERTIES:
                problems.append(
                    Problem(f"{where}.extract.fileProperty", f"must be one of {', '.join(FILE_PROPERTIES)}")
                )
    for number, transform in enumerate(as_list(value.get("transform"))):
        if not isinstance(transform, dict):
            suffix = f"[{number}]" if isinstance(value.get("transform"), list) else ""
            problems.append(Problem(f"{where}.transform{suffix}", "must be an object (regex, jsonPath, format…)"))
