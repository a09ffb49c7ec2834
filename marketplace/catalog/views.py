"""Catalog pages: search, dataset pages, provider profiles, the provider's listing workflow, review, import,
and the metadata exports (Croissant, SPDX, DCAT-AP). Each view parses its input, calls one service and renders.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from markdown_it import MarkdownIt
from markupsafe import Markup
from marshmallow import ValidationError as MarshmallowError
from werkzeug.wrappers import Response as WerkzeugResponse

from licensing.money import is_currency
from marketplace.access.pages import dataset_access, provider_median_hours
from marketplace.accounts.services import get_organisation
from marketplace.aiact.services import packs_of
from marketplace.analytics.recording import record_listing_view
from marketplace.analytics.views import visit
from marketplace.catalog import cli as catalog_cli
from marketplace.catalog import exports, importer, search, services, vocab
from marketplace.catalog.flat_records import flatten, unflatten
from marketplace.catalog.models import Dataset
from marketplace.catalog.schemas import (
    SECTION_FIELDS,
    SECTION_TITLES,
    SECTIONS,
    SERVICE_SECTION,
    CreateDatasetSchema,
    ImportFormSchema,
    ReasonSchema,
    load_record,
    record_fields,
    sections_for,
)
from marketplace.catalog.services import discovery
from marketplace.delivery.views import dataset_delivery
from marketplace.errors import BadRequest, Conflict, DomainError, FieldProblem, NotFound, ValidationFailed
from marketplace.forms import field_problems
from marketplace.licenses import signals as rights_signals
from marketplace.licenses.views import dataset_offers
from marketplace.money import MoneyInputError, input_value, parse_amount
from marketplace.permissions import Action, can
from marketplace.web import current_user, discard_changes, form_data, login_required, parse, require_user, uow

bp = Blueprint("catalog", __name__, cli_group="catalog")
catalog_cli.register(bp.cli)

ViewResult = str | WerkzeugResponse | tuple[str, int]

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).disable("image")

#: The dataset page's tabs, in order (``?tab=`` chooses one without JavaScript; the first is the default).
DATASET_TABS = ("overview", "data", "files", "licenses", "compliance", "versions")

#: Fields whose inputs are checkbox groups (every other list field is one comma-separated text input).
CHECKBOX_FIELDS = frozenset(
    {
        "tasks",
        "industries",
        "collection_methods",
        "annotation_methods",
        "special_categories",
        "deidentification",
        "service_modalities",
        "deidentification_offered",
    }
)


@bp.app_template_filter("markdown")
def render_markdown(text: str | None) -> Markup:
    """Markdown as HTML; raw HTML in the source is escaped, and unsafe link schemes are refused by markdown-it."""
    return Markup(_markdown.render(text or ""))  # noqa: S704 - markdown-it escapes everything (html disabled)


_VOCABULARIES: dict[str, type[vocab.Vocabulary]] = {
    "task": vocab.Task,
    "industry": vocab.Industry,
    "collection_method": vocab.CollectionMethod,
    "annotation_method": vocab.AnnotationMethod,
    "special_category": vocab.SpecialCategory,
    "deidentification": vocab.Deidentification,
    "modality": vocab.Modality,
}


@bp.app_template_filter("vocab_label")
def vocab_label(value: str, kind: str) -> str:
    """The label of a stored vocabulary value (``asr`` → ``Speech recognition (ASR)``)."""
    return _VOCABULARIES[kind].label_of(value)


@bp.app_template_filter("num")
def number(value: float | int | None) -> str:
    """A count or measure for people: ``1,200`` and ``42.5``, never ``1200.0``; empty when not given."""
    if value is None:
        return ""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{int(value):,}"


@bp.app_template_filter("language_name")
def language_name(tag: str) -> str:
    return f"{vocab.language_name(tag)} ({tag})"


@bp.app_template_filter("country_name")
def country_name(code: str) -> str:
    return vocab.country_name(code)


def _base_url() -> str:
    return str(current_app.config["BASE_URL"])


def _error_context(error: DomainError) -> dict[str, Any]:
    field_errors = {p.field: p.message for p in error.details} if isinstance(error, ValidationFailed) else {}
    return {"error": error.message, "field_errors": field_errors}


def _editable_dataset(slug: str) -> Dataset:
    """The dataset for the provider's pages: only members of its organisation (and admins, read-only) see it."""
    session = uow().session
    dataset = services.get_dataset(session, slug)
    user = current_user()
    if not (can(session, user, Action.DATASET_EDIT, dataset) or can(session, user, Action.DATASET_REVIEW, dataset)):
        raise NotFound(message=f"No dataset called {slug!r}.")
    return dataset


# --- public pages ----------------------------------------------------------------------------------------------------


@bp.get("/datasets")
def catalog() -> ViewResult:
    try:
        query = search.parse_search(request.args.to_dict(flat=False))
    except BadRequest as error:
        return render_template("catalog/search.html", query_text="", form=None, error=error), 400
    # ``exact=1`` (the notice's link) searches the words as typed, without correcting them.
    query_text, form = services.shown_search(
        uow(),
        query,
        _search_form,
        variant=("page", request.script_root),  # the form's links, and nothing about the viewer
        correct_spelling=request.args.get("exact") != "1",
    )
    return render_template("catalog/search.html", query_text=query_text, form=form, error=None)


def _search_form(found: services.CatalogSearch) -> tuple[str, Markup]:
    """The text searched for (as corrected) and the search form with its results, as HTML: the same for every
    viewer of the same search. Rendered without the request's template context (no ``current_user``, ``session``,
    ``request`` or ``g``), so nothing about the viewer can get into it."""
    correction = found.correction
    query = correction.corrected if correction else found.results.query
    template = current_app.jinja_env.get_template("catalog/_search_form.html")
    html = template.render(query=query, results=found.results, hits=found.hits, correction=correction)
    return query.text, Markup(html)  # noqa: S704 - rendered by Jinja with autoescaping


@bp.get("/datasets/<slug>")
def dataset_page(slug: str) -> ViewResult:
    session = uow().session
    user = current_user()
    dataset = services.get_dataset(session, slug)
    may_edit = can(session, user, Action.DATASET_EDIT, dataset)
    may_review = can(session, user, Action.DATASET_REVIEW, dataset)
    if dataset.status is vocab.DatasetStatus.WITHDRAWN and not (may_edit or may_review):
        reason = f" Reason: {dataset.status_note}" if dataset.status_note else ""
        return render_template(
            "error.html",
            status=410,
            title="Dataset withdrawn",
            message=f"{dataset.title} was withdrawn by its provider and is no longer offered.{reason}",
            details=[],
        ), 410
    if not dataset.is_public and not (may_edit or may_review):
        raise NotFound(message=f"No dataset called {slug!r}.")
    page = services.dataset_page(session, dataset)
    latest = page["versions"][0] if page["versions"] else None
    page_url = f"{_base_url()}{url_for('catalog.dataset_page', slug=dataset.slug)}"
    markup = exports.schema_org_markup(session, dataset, page["org"], page["record"], base_url=_base_url())
    # Rights signals (TDMRep, RSL) only on what the public may see: never on a draft its provider previews.
    signals = rights_signals.page_signals(session, dataset, _base_url())
    html = render_template(
        "catalog/dataset.html",
        **page,
        json_ld=markup,
        may_edit=may_edit,
        may_review=may_review,
        vocab=vocab,
        offers=dataset_offers(session, user, dataset) if dataset.is_public else None,
        delivery=dataset_delivery(session, user, dataset),
        access=dataset_access(session, user, dataset, uow().now()),
        signals=signals,
        tab=request.args.get("tab") if request.args.get("tab") in DATASET_TABS else DATASET_TABS[0],
        tabs=DATASET_TABS,
        citation=discovery.citation(session, dataset, page["org"], latest, page_url),
        facts=discovery.card_facts(session, [dataset]).get(dataset.id or 0),
        base_url=_base_url(),
    )
    # After the page's own work: one statement, nothing if the visitor is the provider, a crawler or a reload.
    record_listing_view(uow(), visit(), dataset)
    return Response(html, mimetype="text/html", headers=signals.headers if signals else None)


@bp.get("/datasets/<slug>/croissant.json")
def croissant_json(slug: str) -> Response:
    session = uow().session
    dataset = services.get_published_dataset(session, slug)
    version = request.args.get("version") or None
    document = exports.croissant_export(session, dataset, version, base_url=_base_url())
    response = Response(json.dumps(document, indent=2, ensure_ascii=False), mimetype="application/ld+json")
    response.headers["Content-Disposition"] = f'inline; filename="{dataset.slug}-croissant.json"'
    response.headers["Access-Control-Allow-Origin"] = "*"  # public metadata, meant for tools
    return response


@bp.get("/datasets/<slug>/manage/croissant.json")
@login_required
def draft_croissant_json(slug: str) -> Response:
    """The listing's Croissant as it stands (drafts too), for its provider: what an import made of a document."""
    dataset = _editable_dataset(slug)
    document = exports.croissant_export(uow().session, dataset, None, base_url=_base_url(), draft=True)
    response = Response(json.dumps(document, indent=2, ensure_ascii=False), mimetype="application/ld+json")
    response.headers["Content-Disposition"] = f'attachment; filename="{dataset.slug}-draft-croissant.json"'
    return response


@bp.get("/datasets/<slug>/versions/<label>/spdx.json")
def spdx_json(slug: str, label: str) -> Response:
    """The SPDX 3.0.1 document of a published version: public, like the Croissant export; 404 for a draft."""
    session = uow().session
    dataset = services.get_published_dataset(session, slug)
    document = exports.spdx_export(session, dataset, label, base_url=_base_url())
    response = Response(json.dumps(document, indent=2, ensure_ascii=False), mimetype="application/spdx+json")
    response.headers["Content-Disposition"] = f'inline; filename="{dataset.slug}-{label}.spdx.json"'
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/datasets/<slug>/versions/<label>/manifest.json")
def manifest_json(slug: str, label: str) -> Response:
    """The canonical file manifest of a published version: the exact bytes its manifest digest is the SHA-256 of."""
    session = uow().session
    dataset = services.get_published_dataset(session, slug)
    response = Response(exports.manifest_export(session, dataset, label), mimetype="application/json")
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/catalog.jsonld")
def dcat_catalog() -> Response:
    document = exports.dcat_feed(uow().session, base_url=_base_url())
    response = Response(json.dumps(document, indent=2, ensure_ascii=False), mimetype="application/ld+json")
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/datasets/<slug>/samples/<int:sample_id>/<filename>")
def sample_file(slug: str, sample_id: int, filename: str) -> Response:
    served = services.serve_sample(uow().session, current_user(), slug, sample_id, filename, uow().now())
    sample = served.sample
    # Text previews are served as plain text whatever they are (JSON, CSV…), so no browser renders them.
    content_type = "text/plain; charset=utf-8" if served.kind == "text" else sample.media_type
    response = Response(sample.content, content_type=content_type)
    response.headers["Content-Disposition"] = f'inline; filename="{sample.filename}"'
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    # Samples shown only to some people must never be kept by a shared cache and handed to others.
    response.headers["Cache-Control"] = "public, max-age=300" if served.public else "private, no-store"
    return response


@bp.get("/providers/<slug>")
def provider_profile(slug: str) -> ViewResult:
    session = uow().session
    org = get_organisation(session, slug)
    datasets = services.public_datasets_of(session, org)
    hits = services.search_hits(session, [d.id for d in datasets if d.id is not None])
    median = provider_median_hours(session, org, uow().now())
    return render_template("catalog/provider.html", org=org, hits=hits, median_decision_hours=median)


# --- the provider's workflow ----------------------------------------------------------------------------------------


@bp.get("/datasets/mine")
@login_required
def my_datasets() -> ViewResult:
    session = uow().session
    user = require_user()
    return render_template(
        "catalog/mine.html",
        rows=services.datasets_of_user(session, user),
        providers=services.provider_organisations(session, user),
    )


@bp.route("/datasets/new", methods=["GET", "POST"])
@login_required
def new_dataset() -> ViewResult:
    session = uow().session
    providers = services.provider_organisations(session, require_user())
    context: dict[str, Any] = {
        "providers": providers,
        "provider_choices": [(org.slug, org.name) for org in providers],
        "modalities": vocab.Modality.choices(),
    }
    if request.method == "GET":
        return render_template("catalog/new.html", form={"organisation": request.args.get("org", "")}, **context)
    data = form_data()
    try:
        fields = parse(CreateDatasetSchema(), data)
        dataset = services.create_dataset(uow(), require_user(), **fields)
    except DomainError as error:
        discard_changes()
        return render_template("catalog/new.html", form=data, **context, **_error_context(error)), 422
    flash(
        f"Draft {dataset.title!r} created. Fill in each section, add a version, then submit it for review.", "success"
    )
    return redirect(url_for("catalog.edit_section", slug=dataset.slug, section="identity"))


def _form_values(record: dict[str, Any]) -> dict[str, Any]:
    """The stored record as form values: dotted names; list fields joined with commas unless checkboxes."""
    values: dict[str, Any] = {}
    for name, value in flatten(record).items():
        if isinstance(value, list) and name not in CHECKBOX_FIELDS:
            values[name] = ", ".join(str(v) for v in value)
        elif value is None:
            values[name] = ""
        elif isinstance(value, bool):
            values[name] = "true" if value else "false"
        else:
            values[name] = value if isinstance(value, list) else str(value)
    for name in ("service_price_min", "service_price_max"):  # typed and shown in major units of the currency
        if record.get(name) is not None:
            values[name] = input_value(record[name], record.get("service_price_currency"))
    return values


def _service_prices(flat: dict[str, Any]) -> None:
    """The service section's prices, typed in major units, as minor units (in place); bad ones name the field."""
    currency = str(flat.get("service_price_currency") or "").strip().upper() or "EUR"
    if not is_currency(currency):
        return  # the record's schema names the currency; nothing is saved
    problems = []
    for name, label in (("service_price_min", "Lowest price"), ("service_price_max", "Highest price")):
        text = str(flat.get(name) or "").strip()
        if not text:
            continue
        try:
            flat[name] = str(parse_amount(text, currency, label))
        except MoneyInputError as error:
            problems.append(FieldProblem(name if error.label == label else "service_price_currency", error.reason))
    if problems:
        raise ValidationFailed(message="Please correct the highlighted fields.", details=problems)


def _posted_record(section: str) -> dict[str, Any]:
    """The posted section as a nested record (checkbox groups as lists, text lists split at commas)."""
    flat: dict[str, Any] = {}
    for key in request.form:
        if key == "csrf_token" or key.startswith("_"):
            continue
        if key in CHECKBOX_FIELDS:
            flat[key] = request.form.getlist(key)
        else:
            flat[key] = request.form.get(key, "")
    if section == SERVICE_SECTION:
        _service_prices(flat)
    try:
        nested = unflatten(flat, split=lambda v: v.split(","))
    except Exception as exc:  # a malformed field name cannot come from our form
        raise BadRequest(message="The form could not be read.") from exc
    names = SECTION_FIELDS[section]
    return {key: value for key, value in nested.items() if key in names}


def _section_context(dataset: Dataset, section: str, form: dict[str, Any]) -> dict[str, Any]:
    session = uow().session
    return {
        "dataset": dataset,
        "section": section,
        "sections": sections_for(dataset.offering_type.value),
        "section_title": SECTION_TITLES[section],
        "form": form,
        "field_errors": {},
        "vocab": vocab,
        "missing": {p.field.split(".")[0] for p in services.completeness(session, dataset)},
        "section_fields": SECTION_FIELDS,
    }


@bp.route("/datasets/<slug>/edit/<section>", methods=["GET", "POST"])
@login_required
def edit_section(slug: str, section: str) -> ViewResult:
    if section not in SECTION_FIELDS:
        abort(404)
    session = uow().session
    dataset = services.get_dataset(session, slug)
    if not can(session, require_user(), Action.DATASET_EDIT, dataset):
        raise NotFound(message=f"No dataset called {slug!r}.")
    if section not in {key for key, _, _ in sections_for(dataset.offering_type.value)}:
        abort(404)  # the custom-collection section of a listing that is not a custom offering
    if request.method == "GET":
        form = _form_values(services.dataset_record(session, dataset))
        return render_template("catalog/edit.html", **_section_context(dataset, section, form))
    posted = {k: (request.form.getlist(k) if k in CHECKBOX_FIELDS else v) for k, v in request.form.items()}
    try:
        record = _posted_record(section)
        try:
            loaded = load_record(record, SECTION_FIELDS[section])
        except MarshmallowError as exc:
            problems = field_problems(exc, record_fields(SECTION_FIELDS[section]))
            raise ValidationFailed(message="Please correct the highlighted fields.", details=problems) from exc
        services.update_section(uow(), require_user(), dataset, section, loaded)
    except DomainError as error:
        discard_changes()
        context = _section_context(services.get_dataset(uow().session, slug), section, posted)
        context.update(_error_context(error))
        return render_template("catalog/edit.html", **context), 422
    flash(f"{SECTION_TITLES[section]} saved.", "success")
    keys = [key for key, _, _ in sections_for(dataset.offering_type.value)]
    if request.form.get("_next") and keys.index(section) + 1 < len(keys):
        return redirect(url_for("catalog.edit_section", slug=slug, section=keys[keys.index(section) + 1]))
    if request.form.get("_next"):
        return redirect(url_for("catalog.manage", slug=slug))
    return redirect(url_for("catalog.edit_section", slug=slug, section=section))


@bp.get("/datasets/<slug>/manage")
@login_required
def manage(slug: str) -> ViewResult:
    dataset = _editable_dataset(slug)
    return render_template("catalog/manage.html", **_manage_context(dataset))


def _manage_context(dataset: Dataset, **extra: Any) -> dict[str, Any]:
    session = uow().session
    user = current_user()
    context = services.manage_page(session, dataset)
    context.update(
        may_edit=can(session, user, Action.DATASET_EDIT, dataset),
        may_review=can(session, user, Action.DATASET_REVIEW, dataset),
        may_manage_access=can(session, user, Action.ACCESS_MANAGE, context["org"]),
        ai_act_packs={pack.version.id: pack for pack in packs_of(session, dataset)},
        sections=SECTIONS,
        vocab=vocab,
        form={},
        field_errors={},
        error=None,
    )
    context.update(extra)
    return context


def manage_error(slug: str, error: DomainError, **extra: Any) -> tuple[str, int]:
    """The dataset's manage page again, with ``error`` shown (422 for bad input, 409 for a refused move)."""
    discard_changes()
    dataset = services.get_dataset(uow().session, slug)
    context = _manage_context(dataset, **_error_context(error), **extra)
    return render_template("catalog/manage.html", **context), 422 if isinstance(error, ValidationFailed) else 409


def manage_action(slug: str, run: Any, message: str) -> ViewResult:
    """Run ``run(dataset)``; back to the manage page with ``message`` flashed, or with the error if it was refused."""
    dataset = services.get_dataset(uow().session, slug)
    try:
        run(dataset)
    except (ValidationFailed, Conflict) as error:
        return manage_error(slug, error)
    flash(message, "success")
    return redirect(url_for("catalog.manage", slug=slug))


@bp.post("/datasets/<slug>/submit")
@login_required
def submit(slug: str) -> ViewResult:
    return manage_action(
        slug,
        lambda d: services.submit_for_review(uow(), require_user(), d),
        "Submitted for review. A platform admin will approve it or tell you what to change.",
    )


@bp.post("/datasets/<slug>/retract")
@login_required
def retract(slug: str) -> ViewResult:
    return manage_action(slug, lambda d: services.retract_submission(uow(), require_user(), d), "Submission retracted.")


@bp.post("/datasets/<slug>/approve")
@login_required
def approve(slug: str) -> ViewResult:
    return manage_action(slug, lambda d: services.approve(uow(), require_user(), d), "Approved and published.")


@bp.post("/datasets/<slug>/reject")
@login_required
def reject(slug: str) -> ViewResult:
    fields = parse(ReasonSchema(), form_data())
    return manage_action(
        slug, lambda d: services.reject(uow(), require_user(), d, fields["reason"]), "Rejected; the provider sees why."
    )


@bp.post("/datasets/<slug>/deprecate")
@login_required
def deprecate(slug: str) -> ViewResult:
    fields = parse(ReasonSchema(), form_data())
    return manage_action(
        slug, lambda d: services.deprecate(uow(), require_user(), d, fields["reason"]), "Marked as deprecated."
    )


@bp.post("/datasets/<slug>/withdraw")
@login_required
def withdraw(slug: str) -> ViewResult:
    fields = parse(ReasonSchema(), form_data())
    return manage_action(slug, lambda d: services.withdraw(uow(), require_user(), d, fields["reason"]), "Withdrawn.")


# --- review and import ---------------------------------------------------------------------------------------------


@bp.get("/reviews")
@login_required
def reviews() -> ViewResult:
    return render_template("catalog/reviews.html", rows=services.review_queue(uow().session, require_user()))


@bp.route("/datasets/import", methods=["GET", "POST"])
@login_required
def import_catalog() -> ViewResult:
    session = uow().session
    providers = services.provider_organisations(session, require_user())
    # Every rendering offers the providers again: the form stays on the page after a report or a problem.
    page = {"providers": providers, "provider_choices": [(org.slug, org.name) for org in providers]}
    if request.method == "GET":
        return render_template("catalog/import.html", **page, form={}, problems=[], report=None)
    data = form_data()
    upload = request.files.get("file")
    try:
        fields = parse(ImportFormSchema(), data)
        if upload is None or not upload.filename:
            raise ValidationFailed.for_field("file", "choose a CSV, JSON Lines or Croissant file")
        report = importer.import_catalog(
            uow(),
            require_user(),
            organisation=fields["organisation"],
            data=upload.read(),
            filename=upload.filename,
            fmt=fields["format"] or None,
        )
    except ValidationFailed as error:
        discard_changes()
        return render_template(
            "catalog/import.html", **page, form=data, problems=error.details, error=error.message, report=None
        ), 422
    return render_template("catalog/import.html", **page, form=data, problems=[], report=report)


# A listing's versions and samples are routes of this blueprint too, kept in their own module.
from marketplace.catalog import version_views  # noqa: E402, F401
