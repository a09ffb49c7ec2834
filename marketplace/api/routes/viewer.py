"""The data viewer in the API, in the spirit of Hugging Face's dataset-viewer API: ``/rows``, ``/search`` and
``/statistics`` of a listing's samples (scope ``catalog:read``) and of a published version's full files (scope
``downloads``: only for a credential whose organisation holds a license that lets it download the file now; each
call is recorded as a view, never as a download)."""

from __future__ import annotations

from typing import Any

from flask import request

from marketplace.api.core import Call, operation
from marketplace.api.schemas import viewer as schemas
from marketplace.apikeys.scopes import CATALOG_READ, DOWNLOADS
from marketplace.delivery.downloads import Requester
from marketplace.viewer import services
from marketplace.viewer.engine import Page
from marketplace.viewer.files import Target
from marketplace.web import client_ip

TAG = "Data viewer"
_SAMPLE = "/v1/datasets/{slug}/samples/{sample_id}"
_FILE = "/v1/datasets/{slug}/versions/{version}/files/{file_id}"
_SAMPLE_PARAMS = {"slug": "slug", "sample_id": "id"}
_FILE_PARAMS = {"slug": "slug", "version": "version", "file_id": "id"}
_REFUSED = {403: "No license of the credential's organisation lets it download this file now (the code says why)."}
_UNREADABLE = {409: "The file is not a table the viewer reads, is malformed, or is too large to read on the fly."}


def _requester(call: Call) -> Requester:
    return Requester.through_api(call.caller, ip=client_ip(), user_agent=request.headers.get("User-Agent", ""))


def _file(target: Target) -> dict[str, Any]:
    return {
        "name": target.name,
        "media_type": target.media_type,
        "size_bytes": target.size_bytes,
        "format": target.fmt.value if target.fmt else None,
        "version": target.version.version if target.version else None,
        "sample_id": target.sample.id if target.sample else None,
        "file_id": target.file.id if target.file else None,
    }


def _page(target: Target, page: Page, query: str | None) -> dict[str, Any]:
    body = page.to_dict()
    return {
        "file": _file(target),
        "features": body["columns"],
        "rows": body["rows"],
        "offset": page.offset,
        "length": page.length,
        "num_rows_total": page.total,
        "query": query,
    }


def _rows(call: Call, ref: services.FileRef) -> dict[str, Any]:
    target, page = services.file_rows(
        call.uow, _requester(call), ref, offset=call.query["offset"], length=call.query["length"]
    )
    return _page(target, page, None)


def _search(call: Call, ref: services.FileRef) -> dict[str, Any]:
    query = call.query["q"]
    target, page = services.file_search(
        call.uow, _requester(call), ref, query=query, offset=call.query["offset"], length=call.query["length"]
    )
    return _page(target, page, query)


def _statistics(call: Call, ref: services.FileRef) -> dict[str, Any]:
    target, view = services.file_statistics(call.uow, _requester(call), ref)
    return {"file": _file(target), **view.to_dict()}


@operation(f"{_SAMPLE}/rows", "GET", summary="Rows of a sample", tag=TAG, scope=CATALOG_READ,
           path_params=_SAMPLE_PARAMS, query=schemas.RowsQuerySchema(), response=schemas.RowsPageSchema(),
           extra_statuses=_UNREADABLE)  # fmt: skip
def sample_rows(call: Call, slug: str, sample_id: int) -> dict[str, Any]:
    """Rows ``offset`` to ``offset + length`` (at most 100) of a table sample (CSV, JSON Lines, Parquet or text),
    with each column's type and the total row count. Open to whoever may see the listing's samples."""
    return _rows(call, services.FileRef(slug, sample_id=sample_id))


@operation(f"{_SAMPLE}/search", "GET", summary="Search the rows of a sample", tag=TAG, scope=CATALOG_READ,
           path_params=_SAMPLE_PARAMS, query=schemas.SearchQuerySchema(), response=schemas.RowsPageSchema(),
           extra_statuses=_UNREADABLE)  # fmt: skip
def sample_search(call: Call, slug: str, sample_id: int) -> dict[str, Any]:
    """The rows of a table sample where any column contains ``q`` (case-insensitive), a page of them and how many
    match."""
    return _search(call, services.FileRef(slug, sample_id=sample_id))


@operation(f"{_SAMPLE}/statistics", "GET", summary="Statistics of a sample", tag=TAG, scope=CATALOG_READ,
           path_params=_SAMPLE_PARAMS, response=schemas.StatisticsSchema(), extra_statuses=_UNREADABLE)  # fmt: skip
def sample_statistics(call: Call, slug: str, sample_id: int) -> dict[str, Any]:
    """Per-column nulls, distinct values, min/max and histogram of a table sample, computed once in the
    background: ``state`` is ``pending`` until they are ready (ask again), ``failed`` with the reason if they
    cannot be."""
    return _statistics(call, services.FileRef(slug, sample_id=sample_id))


@operation(f"{_FILE}/rows", "GET", summary="Rows of a licensed file", tag=TAG, scope=DOWNLOADS,
           path_params=_FILE_PARAMS, query=schemas.RowsQuerySchema(), response=schemas.RowsPageSchema(),
           extra_statuses={**_REFUSED, **_UNREADABLE})  # fmt: skip
def file_rows(call: Call, slug: str, version: str, file_id: int) -> dict[str, Any]:
    """Rows of a published version's full file, for a credential whose organisation holds a license that lets it
    download the file now (the same check as download links). Recorded as a view; it counts toward no download
    limit."""
    return _rows(call, services.FileRef(slug, label=version, file_id=file_id))


@operation(f"{_FILE}/search", "GET", summary="Search the rows of a licensed file", tag=TAG, scope=DOWNLOADS,
           path_params=_FILE_PARAMS, query=schemas.SearchQuerySchema(), response=schemas.RowsPageSchema(),
           extra_statuses={**_REFUSED, **_UNREADABLE})  # fmt: skip
def file_search(call: Call, slug: str, version: str, file_id: int) -> dict[str, Any]:
    """The rows of a licensed full file containing ``q`` (case-insensitive, any column); recorded as a view."""
    return _search(call, services.FileRef(slug, label=version, file_id=file_id))


@operation(f"{_FILE}/statistics", "GET", summary="Statistics of a licensed file", tag=TAG, scope=DOWNLOADS,
           path_params=_FILE_PARAMS, response=schemas.StatisticsSchema(),
           extra_statuses={**_REFUSED, **_UNREADABLE})  # fmt: skip
def file_statistics(call: Call, slug: str, version: str, file_id: int) -> dict[str, Any]:
    """Per-column statistics of a licensed full file, computed once when the version was published (``pending``
    until ready); recorded as a view."""
    return _statistics(call, services.FileRef(slug, label=version, file_id=file_id))
