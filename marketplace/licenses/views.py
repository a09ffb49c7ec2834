"""License pages: offers on listings, acquiring free licenses, a license's page, public keys and verification."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, flash, jsonify, render_template, request
from sqlmodel import Session
from werkzeug.wrappers import Response as WerkzeugResponse

import licensing
from licensing import LicensingError
from licensing.signals import RSL_MEDIA_TYPE
from licensing.terms import FIELD_NAMES as TERM_NAMES
from marketplace.accounts.models import Organisation, User
from marketplace.catalog import services as catalog
from marketplace.catalog.models import Dataset
from marketplace.delivery.views import grant_downloads
from marketplace.errors import DomainError, PermissionDenied, ValidationFailed
from marketplace.exports.views import license_section
from marketplace.labels import describe_problems
from marketplace.licenses import public, schemas, term_form, training_summary, verification
from marketplace.licenses import services as svc
from marketplace.licenses import signals as rights_signals
from marketplace.licenses.comparison import compare_offers
from marketplace.licenses.models import Offer
from marketplace.permissions import Action, can
from marketplace.sharing.pages import sharing_section
from marketplace.web import (
    client_ip,
    current_user,
    discard_changes,
    form_data,
    login_required,
    parse,
    redirect_to,
    require_user,
    uow,
)
from marketplace.withdrawals import lookup as withdrawal_lookup

bp = Blueprint("licenses", __name__)

ViewResult = str | WerkzeugResponse | tuple[str, int] | tuple[WerkzeugResponse, int]


def _wants_json() -> bool:
    if request.args.get("format") == "json":
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


# --- public keys and verification --------------------------------------------------------------------------------


@bp.get("/.well-known/jwks.json")
def jwks() -> Response:
    """The public keys that sign license certificates; anyone may fetch and cache them."""
    response = jsonify(svc.keyring(uow()).public_jwks(uow().now()))
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/licenses/<grant_id>/verify")
def verify(grant_id: str) -> ViewResult:
    """Public: is this license genuine and in force? As a page, or JSON (``Accept: application/json``)."""
    result = verification.verify_grant(uow().session, svc.keyring(uow()), grant_id, uow().now())
    if _wants_json():
        response = jsonify(result.to_dict())
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Cache-Control"] = "no-store"
        return response, (200 if result.reason != "unknown_license" else 404)
    return render_template("licenses/verify.html", result=result), (200 if result.reason != "unknown_license" else 404)


@bp.route("/verify", methods=["GET", "POST"])
def verify_certificate() -> ViewResult:
    """Public: paste a certificate; it is checked against this site's public keys, then its status online."""
    if request.method == "GET":
        return render_template("licenses/verify_certificate.html", token="", offline=None, online=None)
    token = (request.form.get("certificate") or "").strip()
    if not token or len(token) > 20_000:
        error = ValidationFailed.for_field("certificate", "paste a license certificate (a JWS of three parts)")
        return render_template("licenses/verify_certificate.html", token="", offline=None, online=None,
                               error=error.message), 422  # fmt: skip
    now = uow().now()
    offline = licensing.verify_certificate(token, svc.keyring(uow()).public_jwks(now), now)
    online = None
    if offline.valid and offline.claims:
        online = verification.verify_grant(uow().session, svc.keyring(uow()), str(offline.claims.get("jti", "")), now)
    return render_template("licenses/verify_certificate.html", token=token, offline=offline, online=online)


# --- license templates: public, readable before buying -----------------------------------------------------------


def _base_url() -> str:
    return str(uow().settings["BASE_URL"])


def _public_json(document: dict[str, Any]) -> Response:
    response = Response(json.dumps(document, indent=2, sort_keys=True), mimetype="application/ld+json")
    response.headers["Access-Control-Allow-Origin"] = "*"  # public terms, meant for tools
    return response


@bp.get("/license-templates/<template_id>")
def template_page(template_id: str) -> str:
    """Public: a license template's text (its terms in plain language), before anyone buys it."""
    return render_template("licenses/template.html", **public.template_page(template_id, _base_url()))


@bp.get("/license-templates/<template_id>/odrl.json")
def template_odrl(template_id: str) -> Response:
    return _public_json(public.template_odrl(template_id, _base_url()))


@bp.get("/offers/<int:offer_id>/odrl.json")
def offer_odrl(offer_id: int) -> Response:
    """Public: the terms of an offer anyone may buy, as ODRL (linked from the DCAT feed)."""
    return _public_json(public.offer_odrl(uow().session, offer_id, _base_url()))


# --- rights signals for crawlers and AI tools (TDMRep, RSL): public, about public listings only -------------------


def _public_text(body: str | bytes, mimetype: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/robots.txt")
def robots_txt() -> Response:
    return _public_text(rights_signals.robots_txt(_base_url()), "text/plain")


@bp.get("/.well-known/tdmrep.json")
def tdmrep_json() -> Response:
    """W3C TDMRep's site-wide file: the text and data mining reservation of every public listing."""
    return _public_text(
        json.dumps(rights_signals.tdmrep_json(uow().session, _base_url()), indent=2), "application/json"
    )


@bp.get("/rsl.xml")
def site_rsl() -> Response:
    """The site's RSL 1.0 document (named by robots.txt): every public listing's licenses."""
    return _public_text(rights_signals.site_rsl_document(uow().session, _base_url()), RSL_MEDIA_TYPE)


@bp.get("/datasets/<slug>/rsl.xml")
def dataset_rsl(slug: str) -> Response:
    """A public listing's RSL 1.0 document: one license per offer anyone may take. 404 when not public."""
    session = uow().session
    dataset = rights_signals.public_dataset(session, slug)
    return _public_text(rights_signals.rsl_document(session, dataset, _base_url()), RSL_MEDIA_TYPE)


@bp.get("/datasets/<slug>/tdm-policy.json")
def dataset_tdm_policy(slug: str) -> Response:
    """A public listing's TDM policy (ODRL in the TDMRep profile), named by its ``tdm-policy``. 404 when not public."""
    session = uow().session
    dataset = rights_signals.public_dataset(session, slug)
    return _public_json(rights_signals.tdm_policy(session, dataset, _base_url()))


# --- a license's own pages (licensee, licensor, platform admins) -----------------------------------------------------


def _visible_grant(grant_id: str) -> Any:
    grant = svc.get_grant(uow().session, grant_id)
    svc.require_view_grant(uow().session, current_user(), grant)
    return grant


@bp.get("/licenses")
@login_required
def my_licenses() -> str:
    user = require_user()
    grants = svc.grants_for_user(uow().session, user)
    datasets = {g.dataset_id: uow().session.get(Dataset, g.dataset_id) for g in grants}
    offers_for_you = svc.private_offers_for(uow().session, user, uow().now())
    return render_template(
        "licenses/list.html", grants=grants, datasets=datasets, now=uow().now(), offers_for_you=offers_for_you
    )


#: The "May we…?" form's fields as its labels name them, for its error line.
_USE_LABELS = {"action": "Use", "commercial": "Commercial", "territory": "Country", "seats_in_use": "Seats in use"}


@bp.get("/licenses/<grant_id>")
@login_required
def show(grant_id: str) -> ViewResult:
    grant = _visible_grant(grant_id)
    session = uow().session
    value = svc.grant_value(grant)
    dataset = session.get(Dataset, grant.dataset_id)
    decision = None
    use_form: dict[str, Any] = {}
    if request.args.get("action"):
        use_form = dict(request.args)
        try:
            fields = parse(schemas.UseCheckSchema(), use_form)
            decision = verification.check_intended_use(
                grant,
                licensing.IntendedUse(
                    action=fields["action"],
                    commercial=fields["commercial"],
                    territory=fields["territory"] or None,
                    at=uow().now(),
                    seats_in_use=fields["seats_in_use"],
                ),
            )
        except (ValidationFailed, LicensingError) as error:
            message = error.message if isinstance(error, (LicensingError, DomainError)) else str(error)
            if isinstance(error, ValidationFailed) and error.details:
                message = "; ".join(f"{_USE_LABELS.get(d.field, d.field)}: {d.message}" for d in error.details)
            return render_template(
                "licenses/show.html",
                **_show_context(grant, value, dataset),
                use_form=use_form,
                use_error=message,
                decision=None,
            ), 422
    return render_template(
        "licenses/show.html", **_show_context(grant, value, dataset), use_form=use_form, decision=decision
    )


def _show_context(grant: Any, value: licensing.Grant, dataset: Any) -> dict[str, Any]:
    session = uow().session
    template = licensing.get_template(grant.license_id)
    attribution = None
    if value.terms.attribution.required and dataset is not None:
        licensor = session.get(Organisation, grant.licensor_org_id)
        attribution = licensing.build_attribution(
            template,
            title=dataset.title,
            creator=licensor.name if licensor else "the provider",
            source_url=f"{uow().settings['BASE_URL']}/datasets/{dataset.slug}",
            # The marketplace's own licenses (LicenseRef-…) are documents on this site: their URL is relative.
            base_url=uow().settings["BASE_URL"],
        )
    return {
        "grant": grant,
        "value": value,
        "dataset": dataset,
        "template": template,
        "terms_lines": value.terms.plain_language_by_field(),
        "events": svc.grant_events(session, grant),
        "document_html": licensing.render_html(value, certificate_id=grant.id),
        "attribution": attribution,
        "actions": [a.value for a in licensing.usecheck.Action],
        "status_now": value.status_at(uow().now()).value,
        "downloads": grant_downloads(uow(), current_user(), grant),
        "bucket_delivery": license_section(uow(), current_user(), grant),
        "withdrawal_notices": [
            withdrawal_lookup.notice_summary(session, notice, withdrawal)
            for notice, withdrawal in withdrawal_lookup.notices_for_grant(session, grant.id, grant.licensee_org_id)
        ],
        "may_read_training_summary": can(session, current_user(), Action.GRANT_TRAINING_SUMMARY, grant),
        "sharing": sharing_section(uow(), current_user(), grant),
    }


@bp.get("/licenses/<grant_id>/certificate.jws")
@login_required
def certificate(grant_id: str) -> Response:
    grant = _visible_grant(grant_id)
    response = Response(grant.certificate or "", mimetype="application/jose")
    response.headers["Content-Disposition"] = f'attachment; filename="license-{grant.id}.jws"'
    return response


@bp.get("/licenses/<grant_id>/license.txt")
@login_required
def document_text(grant_id: str) -> Response:
    grant = _visible_grant(grant_id)
    text = licensing.render_text(svc.grant_value(grant), certificate_id=grant.id)
    return Response(text, mimetype="text/plain")


@bp.get("/licenses/<grant_id>/odrl.json")
@login_required
def odrl(grant_id: str) -> Response:
    grant = _visible_grant(grant_id)
    body = json.dumps(licensing.to_odrl(svc.grant_value(grant)), indent=2, sort_keys=True)
    return Response(body, mimetype="application/ld+json")


@bp.get("/licenses/<grant_id>/training-summary")
@login_required
def training_summary_page(grant_id: str) -> ViewResult:
    """The licensee's fragment of the AI Act Article 53(1)(d) training-content summary, for people to read."""
    fragment = training_summary.fragment_for(uow().session, current_user(), grant_id, _base_url(), uow().now())
    return render_template("licenses/training_summary.html", fragment=fragment, grant_id=grant_id)


@bp.get("/licenses/<grant_id>/training-summary.json")
@login_required
def training_summary_json(grant_id: str) -> Response:
    """The same fragment as JSON, to paste into the summary (or to keep with the model's documentation)."""
    fragment = training_summary.fragment_for(uow().session, current_user(), grant_id, _base_url(), uow().now())
    response = Response(json.dumps(fragment, indent=2), mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="training-summary-{grant_id}.json"'
    return response


# --- offers -------------------------------------------------------------------------------------------------------


@bp.route("/datasets/<slug>/offers", methods=["GET", "POST"])
@login_required
def manage_offers(slug: str) -> ViewResult:
    """Provider page: the dataset's offers, and a form for a new one."""
    session = uow().session
    dataset = catalog.get_dataset(session, slug)
    owner = catalog.organisation_of(session, dataset)
    user = require_user()
    if not can(session, user, Action.OFFER_MANAGE, dataset):
        raise PermissionDenied(message=f"Only admins of {owner.name} can manage offers.")
    offers = svc.offers_for_dataset(session, dataset, user)
    templates = svc.templates_for_providers()
    context = {
        "dataset": dataset,
        "owner": owner,
        "now": uow().now(),
        "audiences": svc.audience_names(session, offers),
        "offers": offers,
        "templates": templates,
        "versions": catalog.versions_of(session, dataset),
        "form": {},
        "term_choices": term_form.ENUM_CHOICES,
        "use_choices": term_form.USE_CHOICES,
    }
    if request.method == "GET":
        chosen = request.args.get("license_id") or (templates[0].id if templates else "")
        context["form"] = {"license_id": chosen}
        return render_template("licenses/manage_offers.html", **context, **_terms_context(chosen, {}))
    data = form_data()
    data["terms.permitted_uses"] = request.form.getlist("terms.permitted_uses")
    chosen = str(data.get("license_id") or "").strip()
    if term_form.has_term_inputs(data) and data.get("terms_of") != chosen and term_form.terms_of_license(chosen):
        # The term inputs show another license's terms: show the chosen license's terms before selling anything.
        context["form"] = {k: v for k, v in data.items() if not k.startswith("terms")}
        message = "The terms below are now those of the license you chose: check them, then put the offer on sale."
        return render_template(
            "licenses/manage_offers.html", **context, **_terms_context(chosen, {}), notice=message
        ), 422
    try:
        fields = parse(schemas.OfferFormSchema(), data)
        offer = svc.create_offer(uow(), user, dataset, **fields)
    except ValidationFailed as error:
        discard_changes()
        context["form"] = data
        field_errors = _offer_field_errors(error)
        return render_template(
            "licenses/manage_offers.html",
            **context,
            error="Please correct the form: " + describe_problems(error.details),
            field_errors=field_errors,
            terms_of=chosen,
            term_values={k: v for k, v in data.items() if k.startswith("terms.")},
        ), 422
    flash(f"Offer “{offer.title}” is on sale.", "success")
    return redirect_to("licenses.manage_offers", slug=slug)


def _terms_context(license_id: str, overrides: dict[str, Any]) -> dict[str, Any]:
    """The term inputs' values for ``license_id`` (its template's terms with ``overrides``)."""
    terms = term_form.terms_of_license(license_id)
    if terms is None:
        return {"terms_of": license_id, "term_values": {}}
    return {"terms_of": license_id, "term_values": term_form.form_values(terms.with_overrides(overrides))}


def _offer_field_errors(error: ValidationFailed) -> dict[str, str]:
    """The service's field errors keyed by the form's input names (a term's error goes to its input)."""
    field_errors: dict[str, str] = {}
    for name, message in error.field_messages().items():
        if name == "expires_at":  # the form asks for the last day; the service speaks of the moment
            name = "expires_on"
        elif name.split(".")[0] in TERM_NAMES:
            name = f"terms.{name}"
        field_errors[name] = message
    return field_errors


@bp.post("/offers/<int:offer_id>/retire")
@login_required
def retire(offer_id: int) -> WerkzeugResponse:
    offer = svc.get_offer(uow().session, offer_id)
    svc.retire_offer(uow(), require_user(), offer)
    dataset = uow().session.get(Dataset, offer.dataset_id)
    flash("The offer is withdrawn from sale. Licenses already issued stay valid.", "info")
    return redirect_to("licenses.manage_offers", slug=dataset.slug if dataset else "")


@bp.post("/offers/<int:offer_id>/acquire")
@login_required
def acquire(offer_id: int) -> ViewResult:
    """Acquire a free offer at once (terms accepted on the form); paid offers go to checkout."""
    offer = svc.get_offer(uow().session, offer_id)
    fields = parse(schemas.AcquireSchema(), form_data())
    grant = svc.acquire_free(
        uow(),
        require_user(),
        offer,
        licensee_slug=fields["licensee"],
        accepted_terms_hash=fields["accept_terms"],
        ip_address=client_ip(),
    )
    flash("Your license is active. Its certificate is below.", "success")
    return redirect_to("licenses.show", grant_id=grant.id)


def offer_view(offer: Offer) -> dict[str, Any]:
    """What the dataset page shows for one offer: price, plain-language terms and the training badge."""
    terms = svc.offer_terms(offer)
    template = licensing.get_template(offer.license_id)
    return {
        "offer": offer,
        "price": svc.offer_price(offer).format() if not offer.is_free else "Free",
        "template": template,
        "terms_lines": terms.plain_language(),
        "training": offer.training_permitted,
        "private": offer.audience_org_id is not None,
        "expires_at": offer.expires_at,
    }


def dataset_offers(session: Session, user: User | None, dataset: Dataset) -> dict[str, Any]:
    """The dataset page's offers block: the offers ``user`` may see (each as :func:`offer_view`), the buyer
    organisations they may acquire for, and whether they may manage the offers. The dataset page's view passes it
    to the template as ``offers``."""
    offers = svc.offers_for_dataset(session, dataset, user, uow().now())
    may_manage = can(session, user, Action.OFFER_MANAGE, dataset)
    # The provider sees its private offers among the others; a buyer sees those made for it apart.
    for_you = [] if may_manage else [o for o in offers if o.is_private]
    shown = [*for_you, *(o for o in offers if o not in for_you)]
    return {
        "items": [offer_view(o) for o in offers if o not in for_you],
        "for_you": [offer_view(o) for o in for_you],
        "buyer_orgs": svc.buyer_orgs_of(session, user),
        "may_manage": may_manage,
        "dataset": dataset,
        # Every offer shown, side by side (None with fewer than two): the Licenses tab's comparison.
        "comparison": compare_offers(shown),
    }
