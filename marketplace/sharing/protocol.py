"""The Delta Sharing protocol's read responses for one authenticated license (see :mod:`.recipients`).

Listings (shares, schemas, tables, all tables) are JSON objects with ``items`` and, when more remain,
``nextPageToken``: an opaque token signed with the installation's secret and bound to the profile and the listing
it continues, so it cannot be forged or replayed on another listing. Metadata and query responses are
newline-delimited JSON: a ``protocol`` line, a ``metaData`` line (the Parquet schema as Spark schema JSON), and
for a query one ``file`` line per Parquet file with a short-lived pre-signed URL issued through the delivery audit
(channel ``delta-sharing``). ``predicateHints``, ``jsonPredicateHints`` and ``limitHint`` are accepted and
ignored, as the protocol allows: every file is returned and the client filters.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from itsdangerous import BadSignature, URLSafeSerializer

from marketplace.api.present import absolute
from marketplace.db import UnitOfWork
from marketplace.delivery.downloads import Rendition, issue_download_links
from marketplace.delivery.models import DownloadChannel
from marketplace.errors import BadRequest, NotFound
from marketplace.sharing.conversion import PARQUET_MEDIA_TYPE
from marketplace.sharing.errors import SharingErrorCode
from marketplace.sharing.recipients import Access
from marketplace.sharing.tables import TABLE_VERSION, SharedTable, share_id, share_name, shared_tables

__all__ = [
    "MAX_RESULTS",
    "get_share",
    "list_all_tables",
    "list_schemas",
    "list_shares",
    "list_tables",
    "metadata_lines",
    "query_lines",
    "table_of",
]

T = TypeVar("T")
#: The largest page a client may ask for, and the page size when it does not ask.
MAX_RESULTS = 500
_QUERY_FIELDS = {"predicateHints", "jsonPredicateHints", "limitHint", "version", "timestamp"}


def _bad(message: str, code: str = SharingErrorCode.BAD_PARAMETER) -> BadRequest:
    return BadRequest(message=message, code=code)


def _page(items: Sequence[T], params: Mapping[str, str], scope: str, secret: str) -> tuple[list[T], str | None]:
    """One page of ``items`` as ``maxResults`` and ``pageToken`` ask, and the token of the next page (or None)."""
    raw = params.get("maxResults")
    size = MAX_RESULTS
    if raw is not None:
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_RESULTS:
            raise _bad(f"maxResults must be a whole number from 1 to {MAX_RESULTS}.")
        size = int(raw)
    serializer = URLSafeSerializer(secret, salt="delta-sharing-page")
    start = 0
    token = params.get("pageToken")
    if token:
        try:
            payload = serializer.loads(token)
        except BadSignature as error:
            raise _bad("pageToken is not a page token of this listing.", SharingErrorCode.BAD_PAGE_TOKEN) from error
        if not isinstance(payload, dict) or payload.get("s") != scope or not isinstance(payload.get("o"), int):
            raise _bad("pageToken is not a page token of this listing.", SharingErrorCode.BAD_PAGE_TOKEN)
        start = payload["o"]
    chunk = list(items[start : start + size])
    more = start + size < len(items)
    return chunk, str(serializer.dumps({"s": scope, "o": start + size})) if more else None


def _listing(items: list[dict[str, Any]], next_token: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"items": items}
    if next_token is not None:
        body["nextPageToken"] = next_token
    return body


def _share(access: Access) -> dict[str, str]:
    return {"name": share_name(access.grant), "id": share_id(access.grant)}


def _check_share(access: Access, share: str) -> None:
    # Another license's share is answered exactly like a share that does not exist.
    if share.lower() != share_name(access.grant):
        raise NotFound(message=f"Share {share} does not exist or is not shared with this recipient.")


def _check_schema(access: Access, share: str, schema: str) -> None:
    _check_share(access, share)
    if schema != access.dataset.slug:
        raise NotFound(message=f"Schema {schema} does not exist in share {share}.")


def _table_item(table: SharedTable) -> dict[str, str]:
    return {"name": table.name, "schema": table.schema, "share": table.share, "shareId": table.share_id, "id": table.id}


def list_shares(access: Access, params: Mapping[str, str], secret: str) -> dict[str, Any]:
    """``GET /shares``: the one share of the profile's license."""
    items, token = _page([_share(access)], params, f"{access.recipient.id}:shares", secret)
    return _listing(items, token)


def get_share(access: Access, share: str) -> dict[str, Any]:
    """``GET /shares/{share}``."""
    _check_share(access, share)
    return {"share": _share(access)}


def list_schemas(access: Access, share: str, params: Mapping[str, str], secret: str) -> dict[str, Any]:
    """``GET /shares/{share}/schemas``: the licensed dataset."""
    _check_share(access, share)
    schemas = [{"name": access.dataset.slug, "share": share_name(access.grant)}]
    items, token = _page(schemas, params, f"{access.recipient.id}:schemas", secret)
    return _listing(items, token)


def _tables(uow: UnitOfWork, access: Access) -> list[SharedTable]:
    return shared_tables(uow.session, access.grant, access.value, access.dataset)


def list_tables(
    uow: UnitOfWork, access: Access, share: str, schema: str, params: Mapping[str, str], secret: str
) -> dict[str, Any]:
    """``GET /shares/{share}/schemas/{schema}/tables``."""
    _check_schema(access, share, schema)
    items, token = _page(_tables(uow, access), params, f"{access.recipient.id}:tables", secret)
    return _listing([_table_item(t) for t in items], token)


def list_all_tables(
    uow: UnitOfWork, access: Access, share: str, params: Mapping[str, str], secret: str
) -> dict[str, Any]:
    """``GET /shares/{share}/all-tables``: every table of every schema of the share."""
    _check_share(access, share)
    items, token = _page(_tables(uow, access), params, f"{access.recipient.id}:all-tables", secret)
    return _listing([_table_item(t) for t in items], token)


def table_of(uow: UnitOfWork, access: Access, share: str, schema: str, table: str) -> SharedTable:
    """The named table of the license's share; NotFound otherwise."""
    _check_schema(access, share, schema)
    for candidate in _tables(uow, access):
        if candidate.name == table:
            return candidate
    raise NotFound(message=f"Table {table} does not exist in schema {schema}.")


def _protocol_and_metadata(table: SharedTable) -> list[dict[str, Any]]:
    return [
        {"protocol": {"minReaderVersion": 1}},
        {
            "metaData": {
                "id": table.id,
                "name": table.name,
                "format": {"provider": "parquet", "options": {}},
                "schemaString": table.table.schema_string,
                "partitionColumns": [],
                "configuration": {},
                "version": TABLE_VERSION,
                "size": table.table.size_bytes,
                "numFiles": 1,
            }
        },
    ]


def metadata_lines(uow: UnitOfWork, access: Access, share: str, schema: str, table: str) -> list[str]:
    """``GET .../metadata``: the protocol and metaData lines of the named table."""
    found = table_of(uow, access, share, schema, table)
    return [json.dumps(line, separators=(",", ":")) for line in _protocol_and_metadata(found)]


def _check_query(body: Any) -> None:
    if not isinstance(body, dict):
        raise _bad("The query body must be a JSON object.")
    unknown = sorted(set(body) - _QUERY_FIELDS)
    if unknown:
        raise _bad(f"{', '.join(unknown)}: not supported by this server (it shares immutable published versions).")
    hints = body.get("predicateHints")
    if hints is not None and (not isinstance(hints, list) or not all(isinstance(h, str) for h in hints)):
        raise _bad("predicateHints must be a list of strings.")
    if body.get("jsonPredicateHints") is not None and not isinstance(body["jsonPredicateHints"], str):
        raise _bad("jsonPredicateHints must be a string.")
    limit = body.get("limitHint")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise _bad("limitHint must be a whole number, 0 or more.")
    version = body.get("version")
    if version is not None and (isinstance(version, bool) or version != TABLE_VERSION):
        raise _bad(f"version: this table has only version {TABLE_VERSION}.")


def query_lines(uow: UnitOfWork, access: Access, share: str, schema: str, table_name: str, body: Any) -> list[str]:
    """``POST .../query``: protocol, metaData and one ``file`` line with a fresh audited link to the Parquet file.

    The link is issued by the delivery gate for the table's source file (it counts toward the license's download
    limit and is written to the download audit with channel ``delta-sharing``) and points at the Parquet form.
    """
    _check_query(body)
    table = table_of(uow, access, share, schema, table_name)
    row = table.table
    [link] = issue_download_links(
        uow,
        grant=access.grant,
        requester=access.requester,
        file_ids=[row.source_file_id],
        channel=DownloadChannel.DELTA_SHARING,
        renditions={row.source_file_id: Rendition(row.path, row.storage_key, row.sha256, PARQUET_MEDIA_TYPE)},
    )
    stats = json.dumps({"numRecords": row.num_rows}, separators=(",", ":"))
    file_line = {
        "file": {
            "url": absolute(link.url),
            "id": row.sha256,
            "partitionValues": {},
            "size": row.size_bytes,
            "stats": stats,
            "version": TABLE_VERSION,
            "expirationTimestamp": int(link.expires_at.timestamp() * 1000),
        }
    }
    lines = [*_protocol_and_metadata(table), file_line]
    return [json.dumps(line, separators=(",", ":")) for line in lines]
