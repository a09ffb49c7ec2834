"""Withdrawals: providers file them, publish the patched version and follow each licensee (``/v1/provider/
withdrawals``); licensees read their notices and confirm deletion (``/v1/withdrawal-notices``)."""

from __future__ import annotations

from typing import Any

from marketplace.api import present_withdrawals as present
from marketplace.api import schemas
from marketplace.api.core import Call, operation
from marketplace.api.routes._common import organisation
from marketplace.apikeys.scopes import WITHDRAWALS_READ, WITHDRAWALS_WRITE
from marketplace.catalog import services as catalog
from marketplace.withdrawals import services

TAG = "Withdrawals"


@operation(
    "/v1/provider/withdrawals",
    "POST",
    summary="File a withdrawal",
    tag=TAG,
    scope=WITHDRAWALS_WRITE,
    body=schemas.WithdrawalCreateSchema(),
    response=schemas.WithdrawalSchema(),
    status=201,
)
def file_withdrawal(call: Call) -> dict[str, Any]:
    """Withdraw files (by path in the manifest) and/or records (by id) from a published version, for a reason
    (``consent_withdrawn``, ``legal_takedown``, ``error``). The version stops serving downloads at once, and a
    patched draft version (the manifest minus the withdrawn files) is created: replace files that still hold
    withdrawn records by uploading into it, then publish it with ``.../publish``. Licensees get ``deletion_days``
    (default: the platform's setting) from the notice to delete the withdrawn data."""
    body = call.body
    dataset = catalog.get_dataset(call.uow.session, body["dataset"])
    filing = services.Filing(
        version=body["version"],
        reason=body["reason"],
        details=body["details"],
        files=tuple(body["files"]),
        record_ids=tuple(body["record_ids"]),
        deletion_days=body["deletion_days"],
        patched_version=body["patched_version"],
    )
    row = services.file_withdrawal(call.uow, call.caller.user, dataset, filing)
    return present.withdrawal(call.uow.session, row)


@operation(
    "/v1/provider/withdrawals",
    "GET",
    summary="List withdrawals filed",
    tag=TAG,
    scope=WITHDRAWALS_READ,
    query=schemas.WithdrawalQuerySchema(),
    response=schemas.WithdrawalPageSchema(),
)
def list_withdrawals(call: Call) -> dict[str, Any]:
    """The withdrawals of the credential's provider organisations (or of ``organisation``), newest first."""
    org = organisation(call, call.query["organisation"]) if call.query.get("organisation") else None
    rows = services.withdrawals_filed(call.uow, call.caller.user, org)
    return {"data": [present.withdrawal(call.uow.session, r) for r in rows]}


@operation(
    "/v1/provider/withdrawals/{withdrawal_id}",
    "GET",
    summary="Read a withdrawal",
    tag=TAG,
    scope=WITHDRAWALS_READ,
    path_params={"withdrawal_id": "id"},
    response=schemas.WithdrawalSchema(),
)
def get_withdrawal(call: Call, withdrawal_id: int) -> dict[str, Any]:
    """A withdrawal with its patched version and every licensee's status; 404 for other providers."""
    return present.withdrawal(call.uow.session, services.get_withdrawal(call.uow, call.caller.user, withdrawal_id))


@operation(
    "/v1/provider/withdrawals/{withdrawal_id}/licensees",
    "GET",
    summary="Each licensee's status",
    tag=TAG,
    scope=WITHDRAWALS_READ,
    path_params={"withdrawal_id": "id"},
    response=schemas.LicenseeStatusPageSchema(),
)
def licensees(call: Call, withdrawal_id: int) -> dict[str, Any]:
    """Every licensee told of the withdrawal: ``notified``, ``confirmed`` (with the signed statement) or
    ``overdue``."""
    row = services.get_withdrawal(call.uow, call.caller.user, withdrawal_id)
    notices = services.notices_of(call.uow.session, row)
    return {"withdrawal_id": row.id, "data": [present.licensee_status(call.uow.session, n) for n in notices]}


@operation(
    "/v1/provider/withdrawals/{withdrawal_id}/publish",
    "POST",
    summary="Publish the patched version and notify licensees",
    tag=TAG,
    scope=WITHDRAWALS_WRITE,
    path_params={"withdrawal_id": "id"},
    response=schemas.WithdrawalSchema(),
)
def publish(call: Call, withdrawal_id: int) -> dict[str, Any]:
    """Publish the patched version (every file uploaded and verified, and not the withdrawn version's very files),
    then tell every licensee of the withdrawn version: mail, the ``dataset.withdrawal`` webhook, a notice on the
    license page, with the deadline to delete. A second call is refused (409 ``illegal_transition``)."""
    row = services.get_withdrawal(call.uow, call.caller.user, withdrawal_id)
    services.publish_patched_version(call.uow, call.caller.user, row)
    return present.withdrawal(call.uow.session, row)


@operation(
    "/v1/withdrawal-notices",
    "GET",
    summary="List withdrawal notices received",
    tag=TAG,
    scope=WITHDRAWALS_READ,
    response=schemas.NoticePageSchema(),
)
def list_notices(call: Call) -> dict[str, Any]:
    """Notices sent to the credential's organisations as licensees, newest first."""
    rows = services.notices_received(call.uow, call.caller.user)
    return {"data": [present.notice(call.uow.session, n, w) for n, w in rows]}


@operation(
    "/v1/withdrawal-notices/{notice_id}",
    "GET",
    summary="Read a withdrawal notice",
    tag=TAG,
    scope=WITHDRAWALS_READ,
    path_params={"notice_id": "id"},
    response=schemas.NoticeSchema(),
)
def get_notice(call: Call, notice_id: int) -> dict[str, Any]:
    """What to delete, by when, and what replaces it; 404 for anyone but the licensee and the provider."""
    row, parent = services.get_notice(call.uow, call.caller.user, notice_id)
    return present.notice(call.uow.session, row, parent)


@operation(
    "/v1/withdrawal-notices/{notice_id}/confirmation",
    "POST",
    summary="Confirm deletion",
    tag=TAG,
    scope=WITHDRAWALS_WRITE,
    path_params={"notice_id": "id"},
    body=schemas.ConfirmationCreateSchema(),
    response=schemas.NoticeSchema(),
    status=201,
)
def confirm(call: Call, notice_id: int) -> dict[str, Any]:
    """The licensee confirms deletion, signed by a named member: name, role, what was deleted and when. Only a
    member of the licensee organisation may sign (403); a second confirmation is refused (409)."""
    row, parent = services.get_notice(call.uow, call.caller.user, notice_id)
    body = call.body
    confirmation = services.Confirmation(
        signer_name=body["signer_name"],
        signer_role=body["signer_role"],
        statement=body["statement"],
        deleted_on=body["deleted_on"],
    )
    services.confirm_deletion(call.uow, call.caller.user, row, confirmation)
    return present.notice(call.uow.session, row, parent)
