"""Requests for data, quotes and threads for the API tests, made through the real services, and valid bodies."""

from __future__ import annotations

import base64
from typing import Any

from marketplace.accounts.models import User
from marketplace.custom import quotes, requests, threads
from marketplace.db import UnitOfWork
from tests.functional.custom.conftest import quote_data, request_spec


def custom_for_matrix(uow: UnitOfWork, buyer: User, seller: User) -> dict[str, Any]:
    """Ids and bodies with which every custom-data route succeeds for a credential allowed to call it: a quoted
    request (its quote and thread), a second open request to quote on, and a draft to publish."""
    quoted = requests.create_request(uow, buyer, request_spec(), organisation_slug="buy")
    to_quote = requests.create_request(uow, buyer, request_spec(title="Second request"), organisation_slug="buy")
    draft = requests.create_request(uow, buyer, request_spec(title="A draft"), organisation_slug="buy", publish=False)
    uow.session.flush()
    quote = quotes.submit_quote(uow, seller, quoted, quote_data(), organisation_slug="prov")
    thread = threads.open_thread(uow, seller, quoted, provider_slug="prov")
    threads.post_message(uow, seller, thread, "Happy to help.")
    uow.session.flush()
    return {
        "values": {
            "custom_request_id": quoted.id,
            "quote_id": quote.id,
            "thread_id": thread.id,
            "POST /v1/custom/requests/{custom_request_id}/quotes": {"custom_request_id": to_quote.id},
            "POST /v1/custom/requests/{custom_request_id}/publish": {"custom_request_id": draft.id},
        },
        "bodies": {
            "POST /v1/custom/requests": {**request_spec(), "organisation": "buy"},
            "PATCH /v1/custom/requests/{custom_request_id}": {"title": "Swiss German dictation, revised"},
            "POST /v1/custom/requests/{custom_request_id}/invitations": {"provider": "prov"},
            "POST /v1/custom/requests/{custom_request_id}/attachments": attachment_body(b"spec"),
            "POST /v1/custom/requests/{custom_request_id}/quotes": {**quote_data(), "organisation": "prov"},
            "POST /v1/custom/quotes/{quote_id}/revisions": quote_data(2_500_000),
            "POST /v1/custom/quotes/{quote_id}/decline": {"reason": "Too dear."},
            "POST /v1/custom/requests/{custom_request_id}/threads": {"provider": "prov"},
            "POST /v1/custom/threads/{thread_id}/messages": {"body": "When can you start?"},
        },
    }


def attachment_body(content: bytes, filename: str = "spec.txt") -> dict[str, Any]:
    return {"filename": filename, "media_type": "text/plain", "file": base64.b64encode(content).decode()}


#: What each custom-data route requires (merged into the matrix's REQUIRED).
CUSTOM_REQUIRED: dict[str, str] = {
    "POST /v1/custom/requests": "custom:write",
    "GET /v1/custom/requests": "custom:read",
    "GET /v1/custom/board": "custom:read",
    "GET /v1/custom/requests/{custom_request_id}": "custom:read",
    "PATCH /v1/custom/requests/{custom_request_id}": "custom:write",
    "GET /v1/custom/requests/{custom_request_id}/revisions": "custom:read",
    "POST /v1/custom/requests/{custom_request_id}/publish": "custom:write",
    "POST /v1/custom/requests/{custom_request_id}/invitations": "custom:write",
    "POST /v1/custom/requests/{custom_request_id}/attachments": "custom:write",
    "POST /v1/custom/requests/{custom_request_id}/close": "custom:write",
    "GET /v1/custom/requests/{custom_request_id}/quotes": "custom:read",
    "POST /v1/custom/requests/{custom_request_id}/quotes": "custom:write",
    "GET /v1/custom/requests/{custom_request_id}/comparison": "custom:read",
    "GET /v1/custom/quotes/{quote_id}": "custom:read",
    "GET /v1/custom/quotes/{quote_id}/revisions": "custom:read",
    "POST /v1/custom/quotes/{quote_id}/revisions": "custom:write",
    "POST /v1/custom/quotes/{quote_id}/withdraw": "custom:write",
    "POST /v1/custom/quotes/{quote_id}/decline": "custom:write",
    "POST /v1/custom/quotes/{quote_id}/accept": "custom:write",
    "GET /v1/custom/requests/{custom_request_id}/threads": "custom:read",
    "POST /v1/custom/requests/{custom_request_id}/threads": "custom:write",
    "GET /v1/custom/threads/{thread_id}/messages": "custom:read",
    "POST /v1/custom/threads/{thread_id}/messages": "custom:write",
}
