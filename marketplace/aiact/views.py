"""AI Act documentation pages: a version's pack as JSON and as PDF (public for published versions), and the
provider's page that lists what is missing and signs the pack off. Each view parses, calls one service, renders."""

from __future__ import annotations

import json

from flask import Blueprint, Response, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from marketplace.aiact import services
from marketplace.aiact.pack import PARTS
from marketplace.aiact.pdf import render_pdf
from marketplace.aiact.schemas import SignOffSchema
from marketplace.aiact.states import DocumentationState
from marketplace.catalog import services as catalog
from marketplace.errors import Conflict, DomainError, NotFound, ValidationFailed
from marketplace.permissions import Action, can
from marketplace.web import current_user, discard_changes, form_data, login_required, parse, require_user, uow

bp = Blueprint("aiact", __name__)

#: Where the provider fills in each part of the pack: a section of the listing form, or the manage page.
PART_SECTIONS: dict[str, str] = {
    "design_choices": "ai_act",
    "collection": "ai_act",
    "preparation": "ai_act",
    "assumptions": "ai_act",
    "suitability": "ai_act",
    "bias": "ai_act",
    "gaps": "ai_act",
    "special_categories": "personal_data",
    "provenance": "provenance",
}


def _headers(response: Response, pack: services.Pack, filename: str, disposition: str = "inline") -> Response:
    response.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    # A signed-off pack never changes; a draft changes with the listing and must not be kept by caches.
    signed = pack.state is DocumentationState.SIGNED_OFF
    response.headers["Cache-Control"] = "public, max-age=3600" if signed else "no-cache"
    if pack.version.is_published and pack.dataset.is_public:
        response.headers["Access-Control-Allow-Origin"] = "*"  # public documentation, meant for tools
    return response


@bp.get("/datasets/<slug>/versions/<label>/ai-act.json")
def pack_json(slug: str, label: str) -> Response:
    pack = services.read_pack(uow().session, current_user(), slug, label)
    body = json.dumps(pack.to_dict(), indent=2, ensure_ascii=False)
    return _headers(Response(body, mimetype="application/json"), pack, f"{slug}-{label}-ai-act.json")


@bp.get("/datasets/<slug>/versions/<label>/ai-act.pdf")
def pack_pdf(slug: str, label: str) -> Response:
    pack = services.read_pack(uow().session, current_user(), slug, label)
    response = Response(render_pdf(pack.to_dict()), mimetype="application/pdf")
    return _headers(response, pack, f"{slug}-{label}-ai-act.pdf")


def _sign_off_page(slug: str, label: str, *, form: dict[str, str], error: DomainError | None = None) -> str:
    session = uow().session
    user = require_user()
    dataset = catalog.get_dataset(session, slug)
    if not can(session, user, Action.AI_ACT_SIGN_OFF, dataset):
        raise NotFound(message=f"No dataset called {slug!r}.")
    pack = services.read_pack(session, user, slug, label)
    field_errors = {p.field: p.message for p in error.details} if isinstance(error, ValidationFailed) else {}
    return render_template(
        "aiact/sign_off.html",
        pack=pack,
        dataset=dataset,
        parts=PARTS,
        part_sections=PART_SECTIONS,
        form=form,
        field_errors=field_errors,
        error=error.message if error else None,
    )


@bp.get("/datasets/<slug>/versions/<label>/ai-act")
@login_required
def sign_off_page(slug: str, label: str) -> str:
    """The provider's page for one version's pack: its state, what is missing, and the sign-off form."""
    return _sign_off_page(slug, label, form={"name": (require_user().display_name or "")})


@bp.post("/datasets/<slug>/versions/<label>/ai-act/sign-off")
@login_required
def sign_off(slug: str, label: str) -> WerkzeugResponse | tuple[str, int]:
    session = uow().session
    dataset = catalog.get_dataset(session, slug)
    if not can(session, require_user(), Action.AI_ACT_SIGN_OFF, dataset):
        raise NotFound(message=f"No dataset called {slug!r}.")  # another provider's listing: as if it did not exist
    version = catalog.get_any_version(session, dataset, label)
    data = form_data()
    try:
        fields = parse(SignOffSchema(), data)
        services.sign_off(uow(), require_user(), dataset, version, name=fields["name"], role=fields["role"])
    except (ValidationFailed, Conflict) as error:
        discard_changes()
        status = 422 if isinstance(error, ValidationFailed) else 409
        return _sign_off_page(slug, label, form=data, error=error), status
    flash(f"The AI Act documentation of version {label} is signed off. It will not change again.", "success")
    return redirect(url_for("aiact.sign_off_page", slug=slug, label=label))
