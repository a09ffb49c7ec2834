"""Governed access for requesters (scope ``access:request``): read a dataset's access form and agreement, request
access, sign the agreement, follow or withdraw requests, manage the named seats of an organisation's access, and
upload training credentials.

Reviewers' operations are in :mod:`marketplace.api.routes.access_review`.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from flask import request as http_request

from marketplace.access import credentials, holders, lists
from marketplace.access import requests as access
from marketplace.accounts.services import user_by_email
from marketplace.api import present, schemas
from marketplace.api import present_access as shown
from marketplace.api.core import Call, Result, decode_cursor, operation, page
from marketplace.api.routes._common import organisation_slug, page_limit
from marketplace.apikeys.scopes import ACCESS_REQUEST
from marketplace.catalog import services as catalog
from marketplace.errors import FieldProblem, ValidationFailed
from marketplace.web import client_ip

TAG = "Access"

#: File name extensions of the credential media types (the stored name is the person's; the download's is ours).
_EXTENSIONS = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg"}


def _person(call: Call, email: str, field: str) -> Any:
    person = user_by_email(call.uow.session, email)
    if person is None:
        raise ValidationFailed.for_field(field, "no account has this e-mail address")
    return person


@operation(
    "/v1/datasets/{slug}/access",
    "GET",
    summary="Read a dataset's access form",
    tag=TAG,
    scope=ACCESS_REQUEST,
    path_params={"slug": "slug"},
    response=schemas.AccessFormSchema(),
)
def access_form(call: Call, slug: str) -> dict[str, Any]:
    """How access to a listed dataset is governed: its mode, who holds access (each person or an organisation
    with named seats), the fixed and extra fields of the request form, and the current data-use agreement with its
    SHA-256 (the hash you send when you sign)."""
    return shown.access_form(call.uow.session, catalog.get_published_dataset(call.uow.session, slug))


@operation(
    "/v1/datasets/{slug}/access-requests",
    "POST",
    summary="Request access to a dataset",
    tag=TAG,
    scope=ACCESS_REQUEST,
    path_params={"slug": "slug"},
    body=schemas.AccessRequestCreateSchema(),
    response=schemas.AccessRequestSchema(),
    status=201,
)
def submit_request(call: Call, slug: str) -> Result:
    """Ask for access for a buyer organisation: your full name, intended uses (from the form's
    ``intended_uses``) with a description, your country, and the answers to the form's extra fields by ``key``.
    Errors name each field by its label. When the dataset has an agreement, sign it next (the request names the
    exact version); a ``gated_auto`` dataset approves as soon as the form and the signature are complete."""
    body = call.body
    row = access.submit_request(
        call.uow,
        call.caller.user,
        catalog.get_published_dataset(call.uow.session, slug),
        organisation_slug=organisation_slug(call, body.get("organisation")),
        full_name=body["full_name"],
        intended_uses=body["intended_uses"],
        intended_use_text=body["intended_use_text"],
        country=body["country"],
        answers=body["answers"],
    )
    return Result(
        shown.request(call.uow.session, row), headers={"Location": present.api_url(f"/access-requests/{row.id}")}
    )


@operation(
    "/v1/access-requests",
    "GET",
    summary="List your access requests",
    tag=TAG,
    scope=ACCESS_REQUEST,
    query=schemas.PageQuerySchema(),
    response=schemas.AccessRequestPageSchema(),
)
def list_requests(call: Call) -> dict[str, Any]:
    """Your own requests, newest first, each with its state, the reviewer's reason and its history."""
    before = decode_cursor("access-requests", call.query.get("cursor"))
    limit = page_limit(call)
    rows = lists.own_requests_page(
        call.uow.session, call.caller.user, before_id=before if isinstance(before, int) else None, limit=limit + 1
    )
    result = page("access-requests", rows, limit, lambda r: r.id)
    result["data"] = [shown.request(call.uow.session, r) for r in result["data"]]
    return result


@operation(
    "/v1/access-requests/{request_id}",
    "GET",
    summary="Read an access request",
    tag=TAG,
    scope=ACCESS_REQUEST,
    path_params={"request_id": "id"},
    response=schemas.AccessRequestSchema(),
)
def get_request(call: Call, request_id: int) -> dict[str, Any]:
    """One of your requests: its state, the agreement version to sign, your signature, the reviewer's reason,
    the approval it gave, and every decision (who, when, why). Anyone else's request is 404."""
    return shown.request(call.uow.session, access.get_request(call.uow.session, call.caller.user, request_id))


@operation(
    "/v1/access-requests/{request_id}/signature",
    "POST",
    summary="Sign the data-use agreement of a request",
    tag=TAG,
    scope=ACCESS_REQUEST,
    path_params={"request_id": "id"},
    body=schemas.SignatureCreateSchema(),
    response=schemas.AccessRequestSchema(),
    status=201,
)
def sign(call: Call, request_id: int) -> dict[str, Any]:
    """Sign exactly the version the request names: type your full name and send the SHA-256 of the text you read
    (``agreement.sha256``); if the text differs, nothing is signed (422). The time, your address and user agent are
    recorded; the agreement's id, version and hash go into the license and its certificate."""
    row = access.get_request(call.uow.session, call.caller.user, request_id)
    access.sign_request(
        call.uow,
        call.caller.user,
        row,
        full_name=call.body["full_name"],
        shown_sha256=call.body["sha256"],
        ip_address=client_ip(),
        user_agent=http_request.headers.get("User-Agent", ""),
    )
    return shown.request(call.uow.session, row)


@operation(
    "/v1/access-requests/{request_id}/withdraw",
    "POST",
    summary="Withdraw an access request",
    tag=TAG,
    scope=ACCESS_REQUEST,
    path_params={"request_id": "id"},
    response=schemas.AccessRequestSchema(),
)
def withdraw(call: Call, request_id: int) -> dict[str, Any]:
    """Withdraw your request while it waits for review (a decided one is 409)."""
    row = access.get_request(call.uow.session, call.caller.user, request_id)
    access.withdraw_request(call.uow, call.caller.user, row)
    return shown.request(call.uow.session, row)


@operation(
    "/v1/access-approvals",
    "GET",
    summary="List the access you hold",
    tag=TAG,
    scope=ACCESS_REQUEST,
    query=schemas.PageQuerySchema(),
    response=schemas.ApprovalPageSchema(),
)
def list_approvals(call: Call) -> dict[str, Any]:
    """Approvals you hold, sit on a named seat of, or manage the seats of (as an admin of the holding
    organisation), newest first, each saying whether it is in force now and why not."""
    before = decode_cursor("access-approvals", call.query.get("cursor"))
    limit = page_limit(call)
    rows = lists.held_approvals_page(
        call.uow.session, call.caller.user, before_id=before if isinstance(before, int) else None, limit=limit + 1
    )
    result = page("access-approvals", rows, limit, lambda a: a.id)
    result["data"] = [shown.approval(call.uow.session, a, call.uow.now()) for a in result["data"]]
    return result


@operation(
    "/v1/access-approvals/{approval_id}",
    "GET",
    summary="Read an approval and its seats",
    tag=TAG,
    scope=ACCESS_REQUEST,
    path_params={"approval_id": "id"},
    response=schemas.ApprovalSchema(),
)
def get_approval(call: Call, approval_id: int) -> dict[str, Any]:
    """An approval you hold (or whose seats you manage): its state, expiry, named seats and the seat limit of
    the license terms."""
    row = access.get_approval(call.uow.session, call.caller.user, approval_id)
    return shown.approval(call.uow.session, row, call.uow.now())


@operation(
    "/v1/access-approvals/{approval_id}/seats",
    "POST",
    summary="Name a member on a seat",
    tag=TAG,
    scope=ACCESS_REQUEST,
    path_params={"approval_id": "id"},
    body=schemas.SeatCreateSchema(),
    response=schemas.ApprovalSchema(),
    status=201,
)
def add_seat(call: Call, approval_id: int) -> dict[str, Any]:
    """Admins of the holding organisation name one of its members on a seat, within the seat count of the
    license terms (409 ``seats_exhausted`` when all are taken)."""
    row = access.get_approval(call.uow.session, call.caller.user, approval_id)
    holders.add_seat(call.uow, call.caller.user, row, _person(call, call.body["email"], "email"))
    return shown.approval(call.uow.session, row, call.uow.now())


@operation(
    "/v1/access-approvals/{approval_id}/seats/{user_id}",
    "DELETE",
    summary="Take a person off a seat",
    tag=TAG,
    scope=ACCESS_REQUEST,
    path_params={"approval_id": "id", "user_id": "id"},
    status=204,
)
def remove_seat(call: Call, approval_id: int, user_id: int) -> None:
    """Admins of the holding organisation free a seat; the person's downloads stop at once."""
    row = access.get_approval(call.uow.session, call.caller.user, approval_id)
    holders.remove_seat(call.uow, call.caller.user, row, user_id)


# --- training credentials ----------------------------------------------------------------------------------------


def _decoded(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as error:
        raise ValidationFailed(
            message="content_base64: is not valid base64",
            details=[FieldProblem("content_base64", "is not valid base64", "body")],
        ) from error


@operation(
    "/v1/credentials",
    "POST",
    summary="Upload a training credential",
    tag=TAG,
    scope=ACCESS_REQUEST,
    body=schemas.CredentialUploadSchema(),
    response=schemas.TrainingCredentialSchema(),
    status=201,
)
def upload_credential(call: Call) -> Result:
    """Proof of training (PDF, PNG or JPEG, at most 10 MB, base64 in ``content_base64``) with its issuer, course,
    completion and expiry dates. A platform admin or a reviewer a provider trusts verifies it once; credentialed
    datasets accept only verified, unexpired credentials. Only you and your verifiers can read the file. Needs a
    personal API key (not an organisation's)."""
    body = call.body
    row = credentials.upload_credential(
        call.uow,
        call.caller.user,
        content=_decoded(body["content_base64"]),
        filename=body["filename"],
        media_type=body["media_type"],
        issuer=body["issuer"],
        course=body["course"],
        completed_on=body["completed_on"],
        expires_on=body["expires_on"],
    )
    return Result(
        shown.credential(call.uow.session, row), headers={"Location": present.api_url(f"/credentials/{row.id}")}
    )


@operation(
    "/v1/credentials",
    "GET",
    summary="List your training credentials",
    tag=TAG,
    scope=ACCESS_REQUEST,
    response=schemas.TrainingCredentialListSchema(),
)
def list_credentials(call: Call) -> dict[str, Any]:
    """Your credentials, newest first, with their state (submitted, verified, refused with a reason, expired)."""
    rows = credentials.credentials_of(call.uow.session, call.caller.user)
    return {"data": [shown.credential(call.uow.session, c) for c in rows]}


@operation(
    "/v1/credentials/{credential_id}",
    "GET",
    summary="Read a training credential",
    tag=TAG,
    scope=ACCESS_REQUEST,
    path_params={"credential_id": "id"},
    response=schemas.TrainingCredentialSchema(),
)
def get_credential(call: Call, credential_id: int) -> dict[str, Any]:
    """One of your credentials and its state; anyone else's is 404."""
    return shown.credential(
        call.uow.session, credentials.get_credential(call.uow.session, call.caller.user, credential_id)
    )


def credential_download(call: Call, credential_id: int) -> Result:
    """The credential's file as uploaded, for its owner and verifiers only (shared with the reviewers' route)."""
    row, data = credentials.credential_file(call.uow, call.caller.user, credential_id)
    extension = _EXTENSIONS.get(row.media_type, "")
    return Result(
        data,
        headers={
            "Content-Type": row.media_type,
            "Content-Disposition": f'attachment; filename="credential-{row.id}{extension}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


_FILE = {"type": "string", "format": "binary"}


@operation(
    "/v1/credentials/{credential_id}/file",
    "GET",
    summary="Download your credential's file",
    tag=TAG,
    scope=ACCESS_REQUEST,
    path_params={"credential_id": "id"},
    response=_FILE,
    media_type="application/octet-stream",
)
def credential_file(call: Call, credential_id: int) -> Result:
    """The file you uploaded (its own media type: PDF, PNG or JPEG)."""
    return credential_download(call, credential_id)
