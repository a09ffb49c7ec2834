"""The whole Croissant 1.1 document of a listing: its properties, distribution and record sets.

A listing made on the website is described by its own metadata (:func:`.export.listing_properties`) and the
version's files. A listing imported from a Croissant document is described by that document: every property
is written back as the document wrote it, unless the provider has since changed the listing fields it was read
into (then the listing's values are written), and nothing the document did not say is added but its ``url`` and
``identifier`` (so a later import finds the listing). Either way the RAI vocabulary is in the context, empty
values are left out, and uploaded files are ``cr:FileObject``\\ s with their SHA-256 and size.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from marketplace.accounts.models import Organisation
from marketplace.catalog.croissant.export import listing_properties
from marketplace.catalog.croissant.model import CroissantProfile, DeclaredDistribution, DistributionKind
from marketplace.catalog.croissant.vocabulary import (
    CONTEXT_1_1,
    CROISSANT_1_1,
    LISTING_FIELDS,
    RAI_1_0,
    SNAPSHOT_FIELDS,
    VERSION_PROPERTIES,
)
from marketplace.catalog.models import Dataset, DatasetFile, DatasetVersion


def croissant_document(
    dataset: Dataset,
    org: Organisation,
    record: dict[str, Any],
    version: DatasetVersion | None,
    files: Sequence[DatasetFile],
    *,
    page_url: str,
    provider_url: str,
    license_urls: list[str] | None = None,
    profile: CroissantProfile | None = None,
    declared: Sequence[DeclaredDistribution] = (),
) -> dict[str, Any]:
    """The Croissant 1.1 JSON-LD document of ``version`` of ``dataset`` (``record`` is its listing record).

    ``files`` are the version's uploaded files; ``profile`` and ``declared`` what an imported document brought.
    """
    own = listing_properties(
        dataset, org, record, version, page_url=page_url, provider_url=provider_url, license_urls=license_urls
    )
    properties = own if profile is None else _faithful(own, profile, record, version, license_urls)
    extra_context = properties.pop("@context", None)
    document: dict[str, Any] = {
        "@context": {**extra_context, **CONTEXT_1_1} if isinstance(extra_context, dict) else CONTEXT_1_1,
        **properties,
        "conformsTo": [CROISSANT_1_1, RAI_1_0],
        "distribution": distribution(declared, files),
        "recordSet": profile.record_sets if profile is not None else [],
    }
    return {key: value for key, value in document.items() if value not in (None, "", [])}


def jsonable(value: Any) -> Any:
    """``value`` as JSON keeps it: dates as ISO strings, containers copied."""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    return value


def listing_snapshot(record: dict[str, Any]) -> dict[str, Any]:
    """The listing fields some Croissant property is read into, as JSON values (see ``LISTING_FIELDS``)."""
    snapshot = {}
    for path in SNAPSHOT_FIELDS:
        node: Any = record
        for part in path.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        snapshot[path] = jsonable(node)
    return snapshot


def _faithful(
    own: dict[str, Any],
    profile: CroissantProfile,
    record: dict[str, Any],
    version: DatasetVersion | None,
    license_urls: list[str] | None,
) -> dict[str, Any]:
    """The imported document's properties, but where the provider changed the listing since."""
    kept = profile.properties
    now, then = listing_snapshot(record), profile.listing_snapshot
    out: dict[str, Any] = {"@type": own["@type"]}
    for name, value in kept.items():
        if name not in LISTING_FIELDS and name not in VERSION_PROPERTIES:
            out[name] = value
    for name, fields in LISTING_FIELDS.items():
        source = kept if all(now.get(f) == then.get(f) for f in fields) else own
        if name in source:
            out[name] = source[name]
    same_version = version is None or version.version == profile.version_label
    for name in VERSION_PROPERTIES:
        source = kept if same_version else own
        if name in source:
            out[name] = source[name]
    if license_urls:
        out["license"] = license_urls  # what the listing is offered under here
    out.setdefault("url", own["url"])
    out.setdefault("identifier", own["identifier"])
    return out


def distribution(declared: Sequence[DeclaredDistribution], files: Sequence[DatasetFile]) -> list[dict[str, Any]]:
    """The declared entries as imported (a FileObject whose file was uploaded with the file's SHA-256 and size),
    then a FileObject for every other uploaded file."""
    uploaded = {file.path: file for file in files}
    used: set[str] = set()
    entries = []
    for entry in declared:
        item = declared_entry(entry)
        file = uploaded.get(entry.path) if entry.kind is DistributionKind.FILE_OBJECT and entry.path else None
        if file is not None and not entry.contained_in:
            used.add(file.path)
            item["sha256"] = file.sha256
            if entry.size_bytes != file.size_bytes:
                item["contentSize"] = f"{file.size_bytes} B"
        entries.append(item)
    ids = {entry.resource_id for entry in declared}
    for index, file in enumerate(files):
        if file.path in used:
            continue
        ident = f"file/{index}" if f"file/{index}" not in ids else f"file/{file.path}"
        entries.append(
            {
                "@type": "cr:FileObject",
                "@id": ident,
                "name": file.path,
                "contentUrl": file.path,  # delivered under license: the path within the dataset
                "contentSize": f"{file.size_bytes} B",
                "encodingFormat": file.media_type,
                "sha256": file.sha256,
            }
        )
    return entries


def declared_entry(entry: DeclaredDistribution) -> dict[str, Any]:
    """A declared distribution entry as Croissant JSON-LD, as it was imported."""
    contained = [{"@id": ident} for ident in entry.contained_in]
    item: dict[str, Any] = {
        "@type": entry.kind.croissant_type,
        "@id": entry.resource_id,
        "name": entry.name,
        "description": entry.description,
        "contentUrl": entry.content_url,
        "encodingFormat": entry.encoding_format,
        "contentSize": entry.content_size,
        "sha256": entry.sha256,
        "md5": entry.md5,
        "containedIn": contained[0] if len(contained) == 1 else contained,
        "includes": entry.includes[0] if len(entry.includes) == 1 else entry.includes,
        "excludes": entry.excludes[0] if len(entry.excludes) == 1 else entry.excludes,
    }
    item = {key: value for key, value in item.items() if value not in ("", [], None)}
    item.update(entry.properties)
    return item


def keep_what_still_holds(
    record: dict[str, Any], properties: dict[str, Any], own: dict[str, Any], current: dict[str, Any]
) -> dict[str, Any]:
    """``record`` (read from a document whose dataset-level ``properties`` are given), but with the listing's
    ``current`` values for every property that says exactly what the listing's own export (``own``) says.

    Re-importing a listing's export then changes none of its fields, even those the export composes from several
    (the AI Act record, the personal-data statement), which reading back could not take apart again.
    """
    settled = {**record, "ai_act": dict(record.get("ai_act") or {})}
    for name, fields in LISTING_FIELDS.items():
        if jsonable(properties.get(name)) != jsonable(own.get(name)):
            continue
        for path in fields:
            head, _, rest = path.partition(".")
            if rest:
                settled[head][rest] = (current.get(head) or {}).get(rest)
            else:
                settled[head] = current.get(head)
    return settled
