"""The organisation's tamper-evident audit log (scope ``audit:read``, organisation admins only), through
:mod:`marketplace.audit.service`."""

from __future__ import annotations

from typing import Any

from marketplace.api import schemas
from marketplace.api.core import Call, Result, operation
from marketplace.api.routes._common import organisation
from marketplace.apikeys.scopes import AUDIT_READ
from marketplace.audit import service
from marketplace.audit.chain import GENESIS

TAG = "Audit"


@operation(
    "/v1/audit/entries",
    "GET",
    summary="Read the audit log",
    tag=TAG,
    scope=AUDIT_READ,
    query=schemas.AuditQuerySchema(),
    response=schemas.AuditEntryListSchema(),
)
def entries(call: Call) -> dict[str, Any]:
    """The organisation's newest audit entries, newest first; ``next_before_seq`` fetches the older ones."""
    org = organisation(call, call.query.get("organisation"))
    limit = call.query["limit"]
    rows = service.recent_entries(
        call.uow.session, call.caller.user, org, before_seq=call.query.get("before_seq"), limit=limit
    )
    head = service.chain_head(call.uow.session, org)
    return {
        "organisation": org.slug,
        "head": {"seq": head.seq, "hash": head.hash} if head else {"seq": 0, "hash": GENESIS},
        "data": [row.as_chain_entry() for row in rows],
        "next_before_seq": rows[-1].seq if len(rows) == limit and rows[-1].seq > 1 else None,
    }


@operation(
    "/v1/audit/export",
    "GET",
    summary="Export the audit log (JSON Lines)",
    tag=TAG,
    scope=AUDIT_READ,
    query=schemas.AuditExportQuerySchema(),
    response={"type": "string", "description": "JSON Lines: one entry per line, oldest first, as the hash covers it"},
    media_type="application/jsonl",
)
def export(call: Call) -> Result:
    """The organisation's whole chain, one canonical JSON entry per line; ``marketplace audit verify FILE`` checks
    it offline."""
    org = organisation(call, call.query.get("organisation"))
    text = "".join(service.export_lines(call.uow, call.caller.user, org))
    return Result(text, headers={"Content-Disposition": f'attachment; filename="audit-{org.slug}.jsonl"'})
