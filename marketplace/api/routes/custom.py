"""Custom data (scopes ``custom:read`` and ``custom:write``): requests for data, invitations, attachments, quotes,
the side-by-side comparison, accepting or declining a quote, and the private thread per request × provider.

Custom data has scopes of its own rather than ``orders:write``/``provider:write``: negotiating a bespoke
collection is a different power from buying off the shelf or editing listings. Paying for and delivering the
contract that accepting a quote makes are the contract routes (``/v1/contracts``), under the buying and providing
scopes.

What a caller may not see does not exist for them (404): an invited-only request for providers not invited,
another provider's quote or thread. Files travel base64-encoded in the JSON body (the API takes JSON only).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from marketplace.accounts.models import OrgKind
from marketplace.api import present_custom as present
from marketplace.api.core import Call, Result, decode_cursor, operation, page
from marketplace.api.present import api_url
from marketplace.api.routes._common import page_limit
from marketplace.api.schemas import custom as schemas
from marketplace.api.schemas.common import PageQuerySchema
from marketplace.apikeys.scopes import CUSTOM_READ, CUSTOM_WRITE
from marketplace.custom import access, contracts, quotes, requests, threads
from marketplace.custom import schemas as spec
from marketplace.custom.models import DataRequest, Thread
from marketplace.errors import ValidationFailed

TAG = "Custom data"
_REQUEST = "/v1/custom/requests/{custom_request_id}"
_QUOTE = "/v1/custom/quotes/{quote_id}"
_THREAD = "/v1/custom/threads/{thread_id}"
_REQUEST_ID = {"custom_request_id": "id"}
_QUOTE_ID = {"quote_id": "id"}
_THREAD_ID = {"thread_id": "id"}


def _own_org(call: Call, slug: str | None) -> str | None:
    """The organisation a body names, else the credential's own; None lets the service pick the user's only one."""
    if slug:
        return slug
    return call.caller.organisation.slug if call.caller.organisation is not None else None


def _request(call: Call, custom_request_id: int) -> DataRequest:
    return access.get_request(call.uow.session, call.caller.user, custom_request_id)


def _detail(call: Call, request: DataRequest) -> dict[str, Any]:
    return present.data_request(call.uow, call.caller.user, request)


def _decode(item: dict[str, Any], field: str) -> tuple[str, str, bytes]:
    """(filename, media type, bytes) of an uploaded file; a 422 naming ``field`` when it is not base64."""
    try:
        content = base64.b64decode(item["file"], validate=True)
    except (binascii.Error, ValueError) as error:
        raise ValidationFailed.for_field(field, "the file must be base64-encoded") from error
    return item["filename"], item["media_type"], content


def _request_page(call: Call, kind: str, rows: list[DataRequest], limit: int) -> dict[str, Any]:
    result = page(kind, rows, limit, lambda r: r.id)
    result["data"] = [_detail(call, r) for r in result["data"]]
    return result


def _before(kind: str, call: Call) -> int | None:
    before = decode_cursor(kind, call.query.get("cursor"))
    return before if isinstance(before, int) else None


# --- requests ----------------------------------------------------------------------------------------------------


@operation(
    "/v1/custom/requests",
    "POST",
    summary="Post a request for data",
    tag=TAG,
    scope=CUSTOM_WRITE,
    body=spec.RequestCreateSchema(),
    response=schemas.DataRequestSchema(),
    status=201,
)
def create_request(call: Call) -> Result:
    """A request for custom data with its structured specification, for a buyer organisation (``organisation``,
    by default the credential's). ``publish: false`` keeps it a draft; ``invite`` names provider organisations to
    invite; ``source_dataset`` names the custom listing it started from (its provider is invited). Every field is
    validated before anything is written."""
    body = call.body
    request = requests.create_request(
        call.uow,
        call.caller.user,
        body,
        organisation_slug=_own_org(call, body.get("organisation")),
        publish=body["publish"],
        invite=body["invite"],
        source_dataset_slug=body.get("source_dataset"),
    )
    return Result(_detail(call, request), headers={"Location": api_url(f"/custom/requests/{request.id}")})


@operation(
    "/v1/custom/requests",
    "GET",
    summary="List your requests and invitations",
    tag=TAG,
    scope=CUSTOM_READ,
    query=PageQuerySchema(),
    response=schemas.DataRequestPageSchema(),
)
def list_requests(call: Call) -> dict[str, Any]:
    """Your buyer organisations' requests (drafts too) and the invited-only requests your provider organisations
    were invited to, newest first. Open requests are on the board."""
    limit = page_limit(call)
    rows = requests.requests_for_user(
        call.uow.session, call.caller.user, before_id=_before("custom-requests", call), limit=limit + 1
    )
    return _request_page(call, "custom-requests", rows, limit)


@operation(
    "/v1/custom/board",
    "GET",
    summary="The requests board",
    tag=TAG,
    scope=CUSTOM_READ,
    query=schemas.BoardQuerySchema(),
    response=schemas.DataRequestPageSchema(),
)
def board(call: Call) -> dict[str, Any]:
    """Published requests open to every provider, newest first; the buyer's name is null unless the buyer shows
    it."""
    limit = page_limit(call)
    rows = requests.request_board(call.uow.session, before_id=_before("custom-board", call), limit=limit + 1)
    return _request_page(call, "custom-board", rows, limit)


@operation(
    _REQUEST,
    "GET",
    summary="Read a request for data",
    tag=TAG,
    scope=CUSTOM_READ,
    path_params=_REQUEST_ID,
    response=schemas.DataRequestSchema(),
)
def get_request(call: Call, custom_request_id: int) -> dict[str, Any]:
    """The request's current specification, attachments, timeline, and (for the buyer) the invited providers."""
    return _detail(call, _request(call, custom_request_id))


@operation(
    _REQUEST,
    "PATCH",
    summary="Change a request for data",
    tag=TAG,
    scope=CUSTOM_WRITE,
    path_params=_REQUEST_ID,
    body=schemas.RequestUpdateSchema(partial=True),
    response=schemas.DataRequestSchema(),
)
def update_request(call: Call, custom_request_id: int) -> dict[str, Any]:
    """Change fields of the specification (the others keep their values) while the request takes quotes. Once a
    quote exists the earlier version is kept (``revision`` goes up) and the quoting providers are told."""
    request = requests.update_request(call.uow, call.caller.user, _request(call, custom_request_id), call.body)
    return _detail(call, request)


@operation(
    _REQUEST + "/revisions",
    "GET",
    summary="Earlier versions of a request",
    tag=TAG,
    scope=CUSTOM_READ,
    path_params=_REQUEST_ID,
    response=schemas.RequestRevisionListSchema(),
)
def request_revisions(call: Call, custom_request_id: int) -> dict[str, Any]:
    """The kept earlier versions of the specification, oldest first."""
    request = _request(call, custom_request_id)
    rows = requests.request_revisions(call.uow.session, call.caller.user, request)
    return {"data": [{"number": r.number, "spec": r.spec, "created_at": r.created_at} for r in rows]}


@operation(
    _REQUEST + "/publish",
    "POST",
    summary="Publish a draft request",
    tag=TAG,
    scope=CUSTOM_WRITE,
    path_params=_REQUEST_ID,
    response=schemas.DataRequestSchema(),
)
def publish_request(call: Call, custom_request_id: int) -> dict[str, Any]:
    """Open a draft to providers (on the board if its visibility is ``open``, else to the invited ones)."""
    request = _request(call, custom_request_id)
    requests.publish_request(call.uow, call.caller.user, request)
    return _detail(call, request)


@operation(
    _REQUEST + "/invitations",
    "POST",
    summary="Invite a provider",
    tag=TAG,
    scope=CUSTOM_WRITE,
    path_params=_REQUEST_ID,
    body=spec.InviteSchema(),
    response=schemas.DataRequestSchema(),
    status=201,
)
def invite(call: Call, custom_request_id: int) -> dict[str, Any]:
    """Invite a provider organisation (by slug) to see and quote on the request; inviting it again is harmless."""
    request = _request(call, custom_request_id)
    requests.invite_provider(call.uow, call.caller.user, request, call.body["provider"])
    return _detail(call, request)


@operation(
    _REQUEST + "/attachments",
    "POST",
    summary="Attach a file to a request",
    tag=TAG,
    scope=CUSTOM_WRITE,
    path_params=_REQUEST_ID,
    body=schemas.AttachmentUploadSchema(),
    response=schemas.AttachmentSchema(),
    status=201,
)
def attach(call: Call, custom_request_id: int) -> dict[str, Any]:
    """Keep a specification document or example file with the request (in object storage), up to
    ``CUSTOM_ATTACHMENT_MAX_BYTES``; its SHA-256 and size are returned."""
    request = _request(call, custom_request_id)
    filename, media_type, content = _decode(call.body, "file")
    row = requests.attach_to_request(
        call.uow, call.caller.user, request, filename=filename, media_type=media_type, content=content
    )
    return present.attachment(row)


@operation(
    _REQUEST + "/close",
    "POST",
    summary="Close a request without awarding it",
    tag=TAG,
    scope=CUSTOM_WRITE,
    path_params=_REQUEST_ID,
    body=schemas.CustomReasonSchema(),
    response=schemas.DataRequestSchema(),
)
def close(call: Call, custom_request_id: int) -> dict[str, Any]:
    """Close the request; every standing quote is declined with the reason given."""
    request = _request(call, custom_request_id)
    requests.close_request(call.uow, call.caller.user, request, reason=call.body["reason"])
    return _detail(call, request)


# --- quotes ------------------------------------------------------------------------------------------------------


@operation(
    _REQUEST + "/quotes",
    "GET",
    summary="Quotes on a request",
    tag=TAG,
    scope=CUSTOM_READ,
    path_params=_REQUEST_ID,
    response=schemas.QuoteListSchema(),
)
def list_quotes(call: Call, custom_request_id: int) -> dict[str, Any]:
    """Every quote for the buyer; a provider sees only its own. Nobody else sees any."""
    request = _request(call, custom_request_id)
    rows = quotes.quotes_for_request(call.uow.session, call.caller.user, request)
    return {"data": [present.quote(call.uow, q) for q in rows]}


@operation(
    _REQUEST + "/quotes",
    "POST",
    summary="Submit a quote",
    tag=TAG,
    scope=CUSTOM_WRITE,
    path_params=_REQUEST_ID,
    body=spec.QuoteSubmitSchema(),
    response=schemas.QuoteDetailSchema(),
    status=201,
)
def submit_quote(call: Call, custom_request_id: int) -> Result:
    """A provider's quote: price, milestones (at most 20; their amounts add up to the price; due dates from today
    to the request's deadline), payment plan, proposed license (template plus overrides, checked by the licensing
    engine), validity and a message. One standing quote per provider: revise it rather than submit another."""
    request = _request(call, custom_request_id)
    row = quotes.submit_quote(
        call.uow,
        call.caller.user,
        request,
        call.body,
        organisation_slug=_own_org(call, call.body.get("organisation")),
    )
    return Result(present.quote(call.uow, row), headers={"Location": api_url(f"/custom/quotes/{row.id}")})


@operation(
    "/v1/custom/requests/{custom_request_id}/comparison",
    "GET",
    summary="Compare the standing quotes",
    tag=TAG,
    scope=CUSTOM_READ,
    path_params=_REQUEST_ID,
    response=schemas.QuoteComparisonSchema(),
)
def compare(call: Call, custom_request_id: int) -> dict[str, Any]:
    """The buyer's side-by-side view: price, payment plan, milestones and last due date of each standing quote,
    the licensing engine's plain-language line of each term, and which terms differ."""
    request = _request(call, custom_request_id)
    return present.comparison(call.uow, quotes.compare_quotes(call.uow.session, call.caller.user, request))


@operation(
    _QUOTE,
    "GET",
    summary="Read a quote",
    tag=TAG,
    scope=CUSTOM_READ,
    path_params=_QUOTE_ID,
    response=schemas.QuoteDetailSchema(),
)
def get_quote(call: Call, quote_id: int) -> dict[str, Any]:
    """The quote, its current version with milestones and plain-language terms, and its timeline."""
    return present.quote(call.uow, access.get_quote(call.uow.session, call.caller.user, quote_id))


@operation(
    _QUOTE + "/revisions",
    "GET",
    summary="Every version of a quote",
    tag=TAG,
    scope=CUSTOM_READ,
    path_params=_QUOTE_ID,
    response=schemas.QuoteVersionListSchema(),
)
def quote_revisions(call: Call, quote_id: int) -> dict[str, Any]:
    """Every version of the quote, oldest first (revisions keep the earlier ones)."""
    row = access.get_quote(call.uow.session, call.caller.user, quote_id)
    return {"data": [present.quote_version(call.uow, r) for r in quotes.quote_revisions(call.uow.session, row)]}


@operation(
    _QUOTE + "/revisions",
    "POST",
    summary="Revise a quote",
    tag=TAG,
    scope=CUSTOM_WRITE,
    path_params=_QUOTE_ID,
    body=spec.QuoteSchema(),
    response=schemas.QuoteDetailSchema(),
    status=201,
)
def revise_quote(call: Call, quote_id: int) -> dict[str, Any]:
    """State the whole quote again (same rules as submitting); the earlier version is kept and the buyer told."""
    row = access.get_quote(call.uow.session, call.caller.user, quote_id)
    return present.quote(call.uow, quotes.revise_quote(call.uow, call.caller.user, row, call.body))


@operation(
    _QUOTE + "/withdraw",
    "POST",
    summary="Withdraw a quote",
    tag=TAG,
    scope=CUSTOM_WRITE,
    path_params=_QUOTE_ID,
    body=schemas.CustomReasonSchema(),
    response=schemas.QuoteDetailSchema(),
)
def withdraw_quote(call: Call, quote_id: int) -> dict[str, Any]:
    """Take back a standing quote (the provider's members)."""
    row = access.get_quote(call.uow.session, call.caller.user, quote_id)
    quotes.withdraw_quote(call.uow, call.caller.user, row, reason=call.body["reason"])
    return present.quote(call.uow, row)


@operation(
    _QUOTE + "/decline",
    "POST",
    summary="Decline a quote",
    tag=TAG,
    scope=CUSTOM_WRITE,
    path_params=_QUOTE_ID,
    body=schemas.CustomReasonSchema(),
    response=schemas.QuoteDetailSchema(),
)
def decline_quote(call: Call, quote_id: int) -> dict[str, Any]:
    """Turn a standing quote down with a reason the provider reads (the buyer's members; ``reason`` required)."""
    row = access.get_quote(call.uow.session, call.caller.user, quote_id)
    quotes.decline_quote(call.uow, call.caller.user, row, reason=call.body["reason"])
    return present.quote(call.uow, row)


@operation(
    _QUOTE + "/accept",
    "POST",
    summary="Accept a quote",
    tag=TAG,
    scope=CUSTOM_WRITE,
    path_params=_QUOTE_ID,
    response=schemas.AcceptedQuoteSchema(),
    status=201,
    extra_statuses={409: "The request was already awarded, or the quote is no longer valid."},
)
def accept_quote(call: Call, quote_id: int) -> Result:
    """Accept the quote: a contract is made (a private dataset, a private offer holding the terms snapshot and
    its hash, the milestone schedule) and every other standing quote is declined. Pay and follow the contract
    with the contract routes (``contract_url``)."""
    row = access.get_quote(call.uow.session, call.caller.user, quote_id)
    contract = contracts.accept_quote(call.uow, call.caller.user, row)
    url = api_url(f"/contracts/{contract.id}")
    return Result(
        {"contract_id": contract.id, "contract_url": url, "quote": present.quote(call.uow, row)},
        headers={"Location": url},
    )


# --- threads -----------------------------------------------------------------------------------------------------


@operation(
    _REQUEST + "/threads",
    "GET",
    summary="Private threads of a request",
    tag=TAG,
    scope=CUSTOM_READ,
    path_params=_REQUEST_ID,
    response=schemas.ThreadListSchema(),
)
def list_threads(call: Call, custom_request_id: int) -> dict[str, Any]:
    """The buyer sees its thread with each provider; a provider only its own."""
    request = _request(call, custom_request_id)
    rows = threads.threads_for_request(call.uow.session, call.caller.user, request)
    return {"data": [present.thread(call.uow, t) for t in rows]}


@operation(
    _REQUEST + "/threads",
    "POST",
    summary="Open the private thread with one provider",
    tag=TAG,
    scope=CUSTOM_WRITE,
    path_params=_REQUEST_ID,
    body=schemas.ThreadOpenSchema(),
    response=schemas.ThreadSchema(),
)
def open_thread(call: Call, custom_request_id: int) -> dict[str, Any]:
    """The thread of this request with one provider, made on first use (there is one per request × provider):
    the buyer names an invited or quoting provider; a provider gets its own."""
    request = _request(call, custom_request_id)
    provider = call.body.get("provider")
    own = call.caller.organisation
    if provider is None and own is not None and own.kind is OrgKind.PROVIDER:
        provider = own.slug  # a provider organisation's credential opens its own thread
    row = threads.open_thread(call.uow, call.caller.user, request, provider_slug=provider)
    return present.thread(call.uow, row)


def _thread(call: Call, thread_id: int) -> Thread:
    return access.get_thread(call.uow.session, call.caller.user, thread_id)


@operation(
    _THREAD + "/messages",
    "GET",
    summary="Read a private thread",
    tag=TAG,
    scope=CUSTOM_READ,
    path_params=_THREAD_ID,
    query=PageQuerySchema(),
    response=schemas.ThreadMessagePageSchema(),
)
def list_messages(call: Call, thread_id: int) -> dict[str, Any]:
    """The thread's messages, oldest first, each with its attachments."""
    row = _thread(call, thread_id)
    after = decode_cursor("custom-messages", call.query.get("cursor"))
    limit = page_limit(call)
    items = [
        (m, files)
        for m, files in threads.thread_messages(call.uow.session, row)
        if not isinstance(after, int) or (m.id or 0) > after
    ]
    result = page("custom-messages", items[: limit + 1], limit, lambda item: item[0].id)
    result["data"] = present.messages(call.caller.user, row, result["data"])
    return result


@operation(
    _THREAD + "/messages",
    "POST",
    summary="Write in a private thread",
    tag=TAG,
    scope=CUSTOM_WRITE,
    path_params=_THREAD_ID,
    body=schemas.MessagePostSchema(),
    response=schemas.ThreadMessageSchema(),
    status=201,
)
def post_message(call: Call, thread_id: int) -> dict[str, Any]:
    """A message to the other side, with up to 10 files (base64, each up to ``CUSTOM_ATTACHMENT_MAX_BYTES``)."""
    row = _thread(call, thread_id)
    files = []
    for index, item in enumerate(call.body["attachments"]):
        field = f"attachments.{index}.file"
        filename, media_type, content = _decode(item, field)
        # Checked here too so that a refusal names the attachment it is about, not just "file".
        requests.check_file(call.uow, filename, content, field=field)
        files.append((filename, media_type, content))
    message = threads.post_message(call.uow, call.caller.user, row, call.body["body"], files=files)
    attached = next(found for m, found in threads.thread_messages(call.uow.session, row) if m.id == message.id)
    return present.message(call.caller.user, row, message, attached)
