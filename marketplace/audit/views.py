"""The audit log page of an organisation (its admins only): recent entries, the chain's head, the JSON Lines
download."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from werkzeug.wrappers import Response

from marketplace.accounts.services import get_organisation
from marketplace.audit import service
from marketplace.audit.chain import GENESIS
from marketplace.web import login_required, require_user, uow

bp = Blueprint("audit", __name__)

PER_PAGE = 50


@bp.get("/orgs/<slug>/audit")
@login_required
def index(slug: str) -> str:
    """The newest entries first, :data:`PER_PAGE` at a time (``?before=<seq>`` for older ones)."""
    session = uow().session
    org = get_organisation(session, slug)
    before = request.args.get("before", type=int)
    entries = service.recent_entries(session, require_user(), org, before_seq=before, limit=PER_PAGE)
    head = service.chain_head(session, org)
    older = entries[-1].seq if len(entries) == PER_PAGE and entries[-1].seq > 1 else None
    return render_template(
        "audit/index.html",
        org=org,
        entries=entries,
        head_seq=head.seq if head else 0,
        head_hash=head.hash if head else GENESIS,
        older=older,
    )


@bp.get("/orgs/<slug>/audit.jsonl")
@login_required
def download(slug: str) -> Response:
    """The whole chain as a JSON Lines attachment."""
    org = get_organisation(uow().session, slug)
    text = "".join(service.export_lines(uow(), require_user(), org))
    return Response(
        text,
        mimetype="application/jsonl",
        headers={
            "Content-Disposition": f'attachment; filename="audit-{org.slug}.jsonl"',
            "Cache-Control": "no-store",
        },
    )
