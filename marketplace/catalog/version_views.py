"""The provider's pages for a listing's versions (adding one, replacing its file manifest, publishing, deleting a
draft), the public page of one version, and the listing's sample files. Routes of the ``catalog`` blueprint
(:mod:`marketplace.catalog.views` imports this module to register them), so their endpoints keep the ``catalog.``
prefix.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for

from marketplace.catalog import services
from marketplace.catalog.manifest import parse_manifest_text
from marketplace.catalog.models import Dataset
from marketplace.catalog.schemas import SampleFormSchema, VersionFormSchema
from marketplace.catalog.views import ViewResult, bp, manage_action, manage_error
from marketplace.errors import Conflict, NotFound, ValidationFailed
from marketplace.permissions import Action, can
from marketplace.sharing.conversion import tables_of_version
from marketplace.web import current_user, form_data, login_required, parse, require_user, uow


def _manifest_from_request(text: str) -> list[dict[str, Any]] | None:
    upload = request.files.get("manifest_file")
    if upload is not None and upload.filename:
        raw = upload.read()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ValidationFailed.for_field("manifest", "the manifest file is not UTF-8 text") from exc
    return parse_manifest_text(text) if text.strip() else None


@bp.post("/datasets/<slug>/versions")
@login_required
def add_version(slug: str) -> ViewResult:
    dataset = services.get_dataset(uow().session, slug)
    data = form_data()
    try:
        fields = parse(VersionFormSchema(), data)
        files = _manifest_from_request(fields["manifest"])
        version = services.add_version(
            uow(), require_user(), dataset, version=fields["version"], changelog=fields["changelog"], files=files
        )
    except (ValidationFailed, Conflict) as error:
        return manage_error(slug, error, version_form=data)
    flash(f"Version {version.version} added ({version.file_count} files).", "success")
    return redirect(url_for("catalog.manage", slug=slug))


@bp.post("/datasets/<slug>/versions/<label>/manifest")
@login_required
def replace_manifest(slug: str, label: str) -> ViewResult:
    dataset = services.get_dataset(uow().session, slug)
    data = form_data()
    try:
        version = services.get_any_version(uow().session, dataset, label)
        files = _manifest_from_request(str(data.get("manifest", "")))
        if files is None:
            raise ValidationFailed.for_field("manifest", "paste or upload the manifest")
        services.update_version(uow(), require_user(), dataset, version, files=files, changelog=data.get("changelog"))
    except (ValidationFailed, Conflict) as error:
        return manage_error(slug, error)
    flash(f"Manifest of version {label} replaced.", "success")
    return redirect(url_for("catalog.manage", slug=slug))


@bp.post("/datasets/<slug>/versions/<label>/publish")
@login_required
def publish_version(slug: str, label: str) -> ViewResult:
    def run(dataset: Dataset) -> None:
        services.publish_version(
            uow(), require_user(), dataset, services.get_any_version(uow().session, dataset, label)
        )

    return manage_action(slug, run, f"Version {label} published. It can no longer change.")


@bp.post("/datasets/<slug>/versions/<label>/delete")
@login_required
def delete_version(slug: str, label: str) -> ViewResult:
    def run(dataset: Dataset) -> None:
        services.delete_version(uow(), require_user(), dataset, services.get_any_version(uow().session, dataset, label))

    return manage_action(slug, run, f"Draft version {label} deleted.")


@bp.get("/datasets/<slug>/versions/<label>")
def version_page(slug: str, label: str) -> ViewResult:
    session = uow().session
    dataset = services.get_dataset(session, slug)
    user = current_user()
    private = not (
        can(session, user, Action.DATASET_EDIT, dataset) or can(session, user, Action.DATASET_REVIEW, dataset)
    )
    if private and not dataset.is_public:
        raise NotFound(message=f"No dataset called {slug!r}.")
    version = (
        services.get_version(session, dataset, label) if private else services.get_any_version(session, dataset, label)
    )
    return render_template(
        "catalog/version.html",
        dataset=dataset,
        version=version,
        files=services.version_files(session, version),
        parquet_tables=tables_of_version(session, version.id),  # type: ignore[arg-type]
    )


@bp.post("/datasets/<slug>/samples")
@login_required
def add_sample(slug: str) -> ViewResult:
    dataset = services.get_dataset(uow().session, slug)
    upload = request.files.get("file")
    try:
        fields = parse(SampleFormSchema(), form_data())
        if upload is None or not upload.filename:
            raise ValidationFailed.for_field("file", "choose a file")
        sample = services.add_sample(
            uow(),
            require_user(),
            dataset,
            filename=upload.filename,
            content=upload.read(),
            media_type=upload.mimetype or "application/octet-stream",
            description=fields["description"],
        )
    except (ValidationFailed, Conflict) as error:
        return manage_error(slug, error)
    flash(f"Sample {sample.filename} added.", "success")
    return redirect(url_for("catalog.manage", slug=slug))


@bp.post("/datasets/<slug>/samples/<int:sample_id>/delete")
@login_required
def delete_sample(slug: str, sample_id: int) -> ViewResult:
    return manage_action(slug, lambda d: services.delete_sample(uow(), require_user(), d, sample_id), "Sample deleted.")
