"""Governed access for providers: reviewers (scope ``access:review``) work the request queue, approve or reject in
batches with reasons, reset, revoke and grant access, export the access report and verify training credentials;
providers (scope ``provider:write``) set a dataset's access mode and policy and publish data-use agreements."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from marketplace.access import agreements, audit, credentials, lists, policy
from marketplace.access import requests as access
from marketplace.access.models import Agreement
from marketplace.access.requests import QueueFilter
from marketplace.access.states import AccessMode, ApprovalState, HolderKind, RequestState, ResignPolicy
from marketplace.accounts.models import Organisation
from marketplace.api import present, schemas
from marketplace.api import present_access as shown
from marketplace.api.core import Call, Result, decode_cursor, operation, page
from marketplace.api.routes._common import organisation, page_limit
from marketplace.api.routes.access import _person, credential_download
from marketplace.apikeys.scopes import ACCESS_REVIEW, PROVIDER_WRITE
from marketplace.catalog import services as catalog
from marketplace.catalog.models import Dataset
from marketplace.errors import NotFound, PermissionDenied, ValidationFailed
from marketplace.permissions import Action, require

TAG = "Access review"


def _provider_dataset(call: Call, slug: str, action: Action) -> Dataset:
    """A dataset of a provider on which the caller may do ``action``; anyone else gets 404 (drafts stay hidden)."""
    session = call.uow.session
    dataset = catalog.get_dataset(session, slug)
    try:
        require(session, call.caller.user, action, session.get(Organisation, dataset.organisation_id))
    except PermissionDenied as error:
        raise NotFound(message=f"No dataset called {slug!r}.") from error
    return dataset


def _dataset_of(call: Call, provider: Organisation, slug: str | None) -> int | None:
    if slug is None:
        return None
    dataset = call.uow.session.exec(select(Dataset).where(Dataset.slug == slug)).first()
    if dataset is None or dataset.organisation_id != provider.id:
        raise ValidationFailed.for_field("dataset", f"{provider.name} has no dataset called {slug!r}")
    return dataset.id


# --- the queue and decisions -------------------------------------------------------------------------------------


@operation(
    "/v1/provider/access-requests",
    "GET",
    summary="The access request queue",
    tag=TAG,
    scope=ACCESS_REVIEW,
    query=schemas.QueueQuerySchema(),
    response=schemas.AccessRequestPageSchema(),
)
def queue(call: Call) -> dict[str, Any]:
    """Requests to a provider, oldest first, by ``state`` (default ``submitted``; ``any`` for all), ``dataset``
    and submission date (``submitted_from``, ``submitted_to``, inclusive, UTC). Its reviewers and admins only."""
    query = call.query
    provider = organisation(call, query.get("organisation"))
    filters = QueueFilter(
        state=None if query["state"] == "any" else RequestState(query["state"]),
        dataset_id=_dataset_of(call, provider, query.get("dataset")),
        submitted_from=query.get("submitted_from"),
        submitted_to=query.get("submitted_to"),
    )
    after = decode_cursor("access-queue", query.get("cursor"))
    limit = page_limit(call)
    rows = lists.queue_page(
        call.uow.session,
        call.caller.user,
        provider,
        filters,
        after_id=after if isinstance(after, int) else None,
        limit=limit + 1,
    )
    result = page("access-queue", rows, limit, lambda r: r.id)
    result["data"] = [shown.request(call.uow.session, r) for r in result["data"]]
    return result


@operation(
    "/v1/provider/access-requests/{request_id}",
    "GET",
    summary="Read a request to review",
    tag=TAG,
    scope=ACCESS_REVIEW,
    path_params={"request_id": "id"},
    response=schemas.AccessRequestSchema(),
)
def get_request(call: Call, request_id: int) -> dict[str, Any]:
    """A request to the caller's provider: the form's answers, the signature and the history. Requests to other
    providers are 404."""
    return shown.request(call.uow.session, access.get_request(call.uow.session, call.caller.user, request_id))


@operation(
    "/v1/provider/access-requests/approve",
    "POST",
    summary="Approve requests (one or many)",
    tag=TAG,
    scope=ACCESS_REVIEW,
    body=schemas.ApprovalBatchSchema(),
    response=schemas.AccessRequestPageSchema(),
)
def approve(call: Call) -> dict[str, Any]:
    """Approve up to 100 requests in one call, all or none, each giving one approval. ``reason`` and
    ``expires_at`` apply to every request unless an item gives its own; without an expiry the dataset's default
    applies. A request already decided, or not signed yet, is refused by its id (409)."""
    body = call.body
    decisions = [
        lists.Decision(
            request_id=item["id"],
            reason=(item["reason"] if item["reason"] is not None else body["reason"]).strip(),
            expires_at=item["expires_at"] or body["expires_at"],
        )
        for item in body["requests"]
    ]
    approvals = lists.approve_batch(call.uow, call.caller.user, decisions)
    rows = [access.get_request(call.uow.session, call.caller.user, a.request_id or 0) for a in approvals]
    return {"data": [shown.request(call.uow.session, r) for r in rows], "next_cursor": None}


@operation(
    "/v1/provider/access-requests/reject",
    "POST",
    summary="Reject requests (one or many)",
    tag=TAG,
    scope=ACCESS_REVIEW,
    body=schemas.RejectionBatchSchema(),
    response=schemas.AccessRequestPageSchema(),
)
def reject(call: Call) -> dict[str, Any]:
    """Reject up to 100 requests in one call, all or none, each with a reason its requester reads (the batch's
    ``reason`` unless an item gives its own; 1 to 200 characters)."""
    body = call.body
    decisions = [
        lists.Decision(request_id=item["id"], reason=item["reason"] if item["reason"] is not None else body["reason"])
        for item in body["requests"]
    ]
    rows = lists.reject_batch(call.uow, call.caller.user, decisions)
    return {"data": [shown.request(call.uow.session, r) for r in rows], "next_cursor": None}


@operation(
    "/v1/provider/access-approvals",
    "GET",
    summary="Who holds access",
    tag=TAG,
    scope=ACCESS_REVIEW,
    query=schemas.ApprovalQuerySchema(),
    response=schemas.ApprovalPageSchema(),
)
def list_approvals(call: Call) -> dict[str, Any]:
    """Approvals to a provider's datasets, newest first, by ``dataset`` and ``state``."""
    provider = organisation(call, call.query.get("organisation"))
    before = decode_cursor("provider-approvals", call.query.get("cursor"))
    limit = page_limit(call)
    state = call.query.get("state")
    rows = lists.provider_approvals_page(
        call.uow.session,
        call.caller.user,
        provider,
        dataset_id=_dataset_of(call, provider, call.query.get("dataset")),
        state=ApprovalState(state) if state else None,
        before_id=before if isinstance(before, int) else None,
        limit=limit + 1,
    )
    result = page("provider-approvals", rows, limit, lambda a: a.id)
    result["data"] = [shown.approval(call.uow.session, a, call.uow.now()) for a in result["data"]]
    return result


@operation(
    "/v1/provider/access-approvals/{approval_id}/reset",
    "POST",
    summary="Reset a decision",
    tag=TAG,
    scope=ACCESS_REVIEW,
    path_params={"approval_id": "id"},
    body=schemas.ReasonSchema(),
    response=schemas.ApprovalSchema(),
)
def reset(call: Call, approval_id: int) -> dict[str, Any]:
    """End access now; the person must request it again. Downloads stop at once, links issued before too."""
    row = access.get_approval(call.uow.session, call.caller.user, approval_id)
    access.reset_approval(call.uow, call.caller.user, row, reason=call.body["reason"].strip())
    return shown.approval(call.uow.session, row, call.uow.now())


@operation(
    "/v1/provider/access-approvals/{approval_id}/revoke",
    "POST",
    summary="Revoke access",
    tag=TAG,
    scope=ACCESS_REVIEW,
    path_params={"approval_id": "id"},
    body=schemas.ReasonSchema(),
    response=schemas.ApprovalSchema(),
)
def revoke(call: Call, approval_id: int) -> dict[str, Any]:
    """End access for a reason (required), e.g. a breach of the agreement. Downloads stop at once."""
    row = access.get_approval(call.uow.session, call.caller.user, approval_id)
    access.revoke_approval(call.uow, call.caller.user, row, reason=call.body["reason"])
    return shown.approval(call.uow.session, row, call.uow.now())


@operation(
    "/v1/provider/datasets/{slug}/access-grants",
    "POST",
    summary="Grant access without a request",
    tag=TAG,
    scope=ACCESS_REVIEW,
    path_params={"slug": "slug"},
    body=schemas.GrantAccessSchema(),
    response=schemas.ApprovalSchema(),
    status=201,
)
def grant(call: Call, slug: str) -> dict[str, Any]:
    """Give a person (by account e-mail) access for a buyer organisation, with an optional expiry (default: the
    dataset's). They still sign the dataset's agreement before the access is in force."""
    dataset = _provider_dataset(call, slug, Action.ACCESS_REVIEW)
    row = access.grant_access(
        call.uow,
        call.caller.user,
        dataset,
        person=_person(call, call.body["email"], "email"),
        organisation_slug=call.body["organisation"],
        expires_at=call.body["expires_at"],
        reason=call.body["reason"].strip(),
    )
    return shown.approval(call.uow.session, row, call.uow.now())


@operation(
    "/v1/provider/access-report",
    "GET",
    summary="Export the access report (CSV)",
    tag=TAG,
    scope=ACCESS_REVIEW,
    query=schemas.ReportQuerySchema(),
    response={"type": "string", "description": "CSV: " + ", ".join(audit.CSV_COLUMNS)},
    media_type="text/csv",
)
def report(call: Call) -> Result:
    """Every logged decision about access to a provider's datasets (who, when, what, why), oldest first, from
    ``since`` when given."""
    provider = organisation(call, call.query.get("organisation"))
    text = audit.export_csv(call.uow.session, call.caller.user, provider, since=call.query.get("since"))
    filename = f"access-report-{provider.slug}.csv"
    return Result(text, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


# --- credentials -------------------------------------------------------------------------------------------------


@operation(
    "/v1/provider/credentials",
    "GET",
    summary="Credentials waiting for verification",
    tag=TAG,
    scope=ACCESS_REVIEW,
    response=schemas.TrainingCredentialListSchema(),
)
def pending_credentials(call: Call) -> dict[str, Any]:
    """Submitted credentials of people who asked the caller's provider for access, if the provider trusts the
    caller with credentials; oldest first, at most 100."""
    rows = credentials.pending_credentials(call.uow.session, call.caller.user)
    return {"data": [shown.credential(call.uow.session, c, for_verifier=True) for c in rows]}


@operation(
    "/v1/provider/credentials/{credential_id}",
    "GET",
    summary="Read a credential to verify",
    tag=TAG,
    scope=ACCESS_REVIEW,
    path_params={"credential_id": "id"},
    response=schemas.TrainingCredentialSchema(),
)
def get_credential(call: Call, credential_id: int) -> dict[str, Any]:
    """A credential the caller may verify (404 otherwise)."""
    row = credentials.get_credential(call.uow.session, call.caller.user, credential_id)
    return shown.credential(call.uow.session, row, for_verifier=True)


@operation(
    "/v1/provider/credentials/{credential_id}/file",
    "GET",
    summary="Download a credential's file",
    tag=TAG,
    scope=ACCESS_REVIEW,
    path_params={"credential_id": "id"},
    response={"type": "string", "format": "binary"},
    media_type="application/octet-stream",
)
def credential_file(call: Call, credential_id: int) -> Result:
    """The uploaded certificate, for its owner's verifiers only (404 for everyone else)."""
    return credential_download(call, credential_id)


def _decide(call: Call, credential_id: int, *, verified: bool) -> dict[str, Any]:
    row = credentials.get_credential(call.uow.session, call.caller.user, credential_id)
    credentials.decide_credential(call.uow, call.caller.user, row, verified=verified, reason=call.body["reason"])
    return shown.credential(call.uow.session, row, for_verifier=True)


@operation(
    "/v1/provider/credentials/{credential_id}/verify",
    "POST",
    summary="Verify a credential",
    tag=TAG,
    scope=ACCESS_REVIEW,
    path_params={"credential_id": "id"},
    body=schemas.CredentialDecisionSchema(),
    response=schemas.TrainingCredentialSchema(),
)
def verify_credential(call: Call, credential_id: int) -> dict[str, Any]:
    """Verify a submitted, unexpired credential (once); trusted reviewers only."""
    return _decide(call, credential_id, verified=True)


@operation(
    "/v1/provider/credentials/{credential_id}/refuse",
    "POST",
    summary="Refuse a credential",
    tag=TAG,
    scope=ACCESS_REVIEW,
    path_params={"credential_id": "id"},
    body=schemas.CredentialDecisionSchema(),
    response=schemas.TrainingCredentialSchema(),
)
def refuse_credential(call: Call, credential_id: int) -> dict[str, Any]:
    """Refuse a submitted credential with a reason (required) the person reads."""
    return _decide(call, credential_id, verified=False)


# --- policy and agreements (scope provider:write) -----------------------------------------------------------------


@operation(
    "/v1/provider/datasets/{slug}/access",
    "GET",
    summary="Read a listing's access policy",
    tag=TAG,
    scope=PROVIDER_WRITE,
    path_params={"slug": "slug"},
    response=schemas.AccessFormSchema(),
)
def get_policy(call: Call, slug: str) -> dict[str, Any]:
    """The listing's access mode and policy as requesters will see it, drafts too."""
    return shown.access_form(call.uow.session, _provider_dataset(call, slug, Action.ORG_ACT_FOR))


@operation(
    "/v1/provider/datasets/{slug}/access",
    "PUT",
    summary="Set a listing's access mode and policy",
    tag=TAG,
    scope=PROVIDER_WRITE,
    path_params={"slug": "slug"},
    body=schemas.AccessPolicyUpdateSchema(),
    response=schemas.AccessFormSchema(),
)
def set_policy(call: Call, slug: str) -> dict[str, Any]:
    """Admins of the provider: the mode (``open``, ``gated_auto``, ``gated_manual``, ``credentialed``, which needs
    an agreement), who holds access, whether samples stay public, the default expiry in days, the agreement
    (``agreement_id``) and the form's extra fields. Fields left out keep their value."""
    dataset = _provider_dataset(call, slug, Action.ORG_ACT_FOR)
    body = call.body
    options: dict[str, Any] = {k: body[k] for k in ("default_expiry_days", "agreement_id") if k in body}
    policy.configure_access(
        call.uow,
        call.caller.user,
        dataset,
        mode=AccessMode(body["mode"]) if "mode" in body else None,
        holder=HolderKind(body["holder"]) if "holder" in body else None,
        samples_public=body.get("samples_public"),
        form_fields=body.get("form_fields"),
        **options,
    )
    return shown.access_form(call.uow.session, dataset)


@operation(
    "/v1/provider/agreements",
    "GET",
    summary="List the provider's data-use agreements",
    tag=TAG,
    scope=PROVIDER_WRITE,
    query=schemas.OrganisationQuerySchema(),
    response=schemas.AgreementListSchema(),
)
def list_agreements(call: Call) -> dict[str, Any]:
    """The provider's agreements with every version, and the platform's templates to start from."""
    provider = organisation(call, call.query.get("organisation"))
    require(call.uow.session, call.caller.user, Action.ACCESS_MANAGE, provider)
    rows = agreements.agreements_of(call.uow.session, provider)
    return {
        "data": [shown.agreement(call.uow.session, a) for a in rows],
        "templates": {key: title for key, (title, _body) in agreements.TEMPLATES.items()},
    }


@operation(
    "/v1/provider/agreements",
    "POST",
    summary="Create a data-use agreement",
    tag=TAG,
    scope=PROVIDER_WRITE,
    body=schemas.AgreementCreateSchema(),
    response=schemas.AgreementSchema(),
    status=201,
)
def create_agreement(call: Call) -> Result:
    """An agreement with its version 1: your own Markdown text, or a platform ``template``
    (``credentialed-research``, ``research-only``, ``evaluation-only``). ``resign_policy`` says whether a later
    version must be signed at once (``immediately``) or when access is renewed (``at_renewal``)."""
    body = call.body
    row = agreements.create_agreement(
        call.uow,
        call.caller.user,
        organisation(call, body.get("organisation")),
        title=body["title"],
        body=body["body"],
        template=body["template"],
        resign_policy=ResignPolicy(body["resign_policy"]),
        term_days=body["term_days"],
    )
    return Result(
        shown.agreement(call.uow.session, row), headers={"Location": present.api_url(f"/provider/agreements/{row.id}")}
    )


def _own_agreement(call: Call, agreement_id: int) -> Agreement:
    row = agreements.get_agreement(call.uow.session, agreement_id)
    provider = call.uow.session.get(Organisation, row.organisation_id)
    try:
        require(call.uow.session, call.caller.user, Action.ACCESS_MANAGE, provider)
    except PermissionDenied as error:
        raise NotFound(message="No such agreement.") from error
    return row


@operation(
    "/v1/provider/agreements/{agreement_id}",
    "GET",
    summary="Read a data-use agreement",
    tag=TAG,
    scope=PROVIDER_WRITE,
    path_params={"agreement_id": "id"},
    response=schemas.AgreementSchema(),
)
def get_agreement(call: Call, agreement_id: int) -> dict[str, Any]:
    """One of the provider's agreements with every version and its SHA-256 (other providers' are 404)."""
    return shown.agreement(call.uow.session, _own_agreement(call, agreement_id))


@operation(
    "/v1/provider/agreements/{agreement_id}/versions",
    "POST",
    summary="Publish a new agreement version",
    tag=TAG,
    scope=PROVIDER_WRITE,
    path_params={"agreement_id": "id"},
    body=schemas.AgreementVersionCreateSchema(),
    response=schemas.AgreementSchema(),
    status=201,
)
def publish_version(call: Call, agreement_id: int) -> dict[str, Any]:
    """A new text: earlier versions stay as signed. With ``resign_policy`` ``immediately`` everyone who signed an
    older version is suspended until they sign this one; with ``at_renewal`` the old signature holds until their
    access ends."""
    row = _own_agreement(call, agreement_id)
    body = call.body
    agreements.publish_version(
        call.uow,
        call.caller.user,
        row,
        body=body["body"],
        term_days=body["term_days"],
        resign_policy=ResignPolicy(body["resign_policy"]) if body["resign_policy"] else None,
    )
    return shown.agreement(call.uow.session, row)
