"""Croissant import: every problem in one pass by JSON path, nothing half-written, re-import in place within the
organisation only, declared files fulfilled by uploads, and the schema and declared files on the pages."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, func, select

from marketplace.accounts.models import Role
from marketplace.catalog import exports, importer, services
from marketplace.catalog.croissant import store
from marketplace.catalog.models import Dataset, DatasetFile
from marketplace.db import UnitOfWork
from marketplace.errors import ValidationFailed
from tests.factories import PASSWORD, OrganisationFactory, member
from tests.helpers import csrf_token, log_in

CORPUS = Path(__file__).parents[2] / "data" / "croissant"


def corpus(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((CORPUS / f"{name}.json").read_text())
    return document


@pytest.fixture()
def orgs(db_session: Session):  # type: ignore[no-untyped-def]
    first = OrganisationFactory(slug="first-data", name="First Data")
    second = OrganisationFactory(slug="second-data", name="Second Data")
    return (
        (first, member(first, Role.ADMIN, email="first@example.org")),
        (second, member(second, Role.ADMIN, email="second@example.org")),
    )


def run(uow, org_user, document: Any) -> importer.ImportReport:  # type: ignore[no-untyped-def]
    org, user = org_user
    data = document if isinstance(document, bytes) else json.dumps(document).encode()
    return importer.import_catalog(uow, user, organisation=org.slug, data=data, fmt="croissant")


def count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(Dataset)).one()


def test_every_problem_in_one_pass_named_by_json_path(uow, orgs, db_session: Session) -> None:
    document = corpus("kaggle-zip-archive")
    document.pop("name")
    distribution = document["distribution"]
    distribution[0]["contentSize"] = "lots"
    distribution[1]["containedIn"] = {"@id": "no-such-archive.zip"}
    distribution[2].pop("encodingFormat")
    distribution.append({"@type": "cr:FileSet", "@id": "more", "encodingFormat": "text/csv"})
    distribution.append({"@type": "sc:MediaObject", "@id": "odd"})
    fields = document["recordSet"][0]["field"]
    fields[1].pop("dataType")
    fields[3]["references"] = {"field": {"@id": "makes.csv/nope"}}
    fields[0]["source"]["fileObject"] = {"@id": "missing.csv"}
    fields[2]["source"]["extract"] = {"fileProperty": "colour"}
    document["recordSet"][1]["key"] = {"@id": "cars.csv/price"}
    with pytest.raises(ValidationFailed) as caught:
        run(uow, orgs[0], document)
    problems = {(p.field, p.location) for p in caught.value.details}
    assert problems == {
        ("name", "dataset"),
        ("distribution[0].contentSize", "dataset"),
        ("distribution[1].containedIn", "dataset"),
        ("distribution[2].encodingFormat", "dataset"),
        ("distribution[3].includes", "dataset"),
        ("distribution[4].@type", "dataset"),
        ("recordSet[0].field[0].source.fileObject", "dataset"),
        ("recordSet[0].field[1].dataType", "dataset"),
        ("recordSet[0].field[2].source.extract.fileProperty", "dataset"),
        ("recordSet[0].field[3].references.field", "dataset"),
        ("recordSet[1].key", "dataset"),
    }
    messages = " ".join(p.message for p in caught.value.details)
    assert "'lots' is not a size" in messages and "no cr:FileObject has the @id 'missing.csv'" in messages
    assert "FileProblem" not in messages and "size_bytes" not in messages and "external_id" not in messages
    assert count(db_session) == 0  # nothing half-written


def test_listing_rules_are_reported_in_croissant_terms(uow, orgs, db_session: Session) -> None:
    document = corpus("hf-parquet-splits")
    document["name"] = "x" * 2
    with pytest.raises(ValidationFailed) as caught:
        run(uow, orgs[0], document)
    assert [p.field for p in caught.value.details] == ["name"]


def test_a_document_that_is_no_dataset_is_refused(uow, orgs) -> None:
    with pytest.raises(ValidationFailed) as caught:
        run(uow, orgs[0], [corpus("hf-parquet-splits")])
    assert [p.field for p in caught.value.details] == ["(document)"]
    with pytest.raises(ValidationFailed) as caught:
        run(uow, orgs[0], {**corpus("hf-parquet-splits"), "@type": "sc:SoftwareSourceCode", "recordSet": "x"})
    assert {p.field for p in caught.value.details} == {"@type", "recordSet"}


def test_what_the_listing_cannot_hold_is_kept_as_written(uow, orgs, db_session: Session) -> None:
    document = corpus("openml-arff-md5")
    [slug] = run(uow, orgs[0], document).created
    dataset = db_session.exec(select(Dataset).where(Dataset.slug == slug)).one()
    record = services.dataset_record(db_session, dataset)
    assert record["languages"] == []  # "English" is no BCP 47 tag
    assert dataset.external_id and dataset.external_id.startswith("croissant-")  # the URL has ?, = and &
    profile = store.profile_of(db_session, dataset)
    assert profile is not None
    for name in ("inLanguage", "sameAs", "citeAs", "creator", "license", "version", "datePublished", "url"):
        assert profile.properties[name] == document[name], name
    # "version": 1 becomes the draft version 1.0.0; only MD5s, so no file is a manifest entry yet
    [version] = services.versions_of(db_session, dataset, include_drafts=True)
    assert version.version == "1.0.0" and version.file_count == 0 and profile.version_label == "1.0.0"
    declared = store.declared_of(db_session, dataset)
    assert [(d.md5, d.sha256, d.size_bytes) for d in declared] == [
        ("9a475053fed0c26ee95cd4525e50074c", "", None),
        ("3c48ff58d6e8b66a11c0a6b8f2dd1e0f", "", None),
    ]
    # Found again by its url, though it has no identifier
    assert run(uow, orgs[0], document).unchanged == [slug]


def test_reimport_updates_in_place_and_other_organisations_get_their_own(uow, orgs, db_session: Session) -> None:
    document = corpus("hf-parquet-splits")
    [slug] = run(uow, orgs[0], document).created
    changed = copy.deepcopy(document)
    changed["description"] = "Short product reviews, now with a language column."
    changed["recordSet"][1]["field"].append(
        {
            "@type": "cr:Field",
            "@id": "default/lang",
            "dataType": "sc:Text",
            "source": {"fileSet": {"@id": "parquet-files-for-config-default"}, "extract": {"column": "lang"}},
        }
    )
    assert run(uow, orgs[0], changed).updated == [slug]
    dataset = db_session.exec(select(Dataset).where(Dataset.slug == slug)).one()
    profile = store.profile_of(db_session, dataset)
    assert profile is not None and profile.record_sets == changed["recordSet"]
    assert dataset.description.startswith("Short product reviews, now")

    theirs = run(uow, orgs[1], document)  # the same document, another provider: a listing of its own
    assert len(theirs.created) == 1 and theirs.created[0] != slug
    db_session.refresh(dataset)
    assert dataset.description.startswith("Short product reviews, now") and count(db_session) == 2

    # Our export, imported by the other organisation, updates its own listing of that dataset, never ours.
    ours = exports.croissant_export(db_session, dataset, None, base_url="http://localhost", draft=True)
    assert run(uow, orgs[1], ours).updated == theirs.created and count(db_session) == 2
    db_session.refresh(dataset)
    assert dataset.organisation_id == orgs[0][0].id
    assert run(uow, orgs[0], ours).unchanged == [slug]


def test_our_own_export_of_a_listing_made_here_updates_it(uow, catalog, db_session: Session) -> None:
    source = catalog.published(title="Made on the website", tags=["made", "here"])
    document = exports.croissant_export(db_session, source, None, base_url="http://localhost")
    assert document["url"] == f"http://localhost/datasets/{source.slug}"
    org, user = catalog.provider()
    before, record = count(db_session), services.dataset_record(db_session, source)
    report = importer.import_catalog(
        uow, user, organisation=org.slug, data=json.dumps(document).encode(), filename="x.json"
    )
    assert report.updated == [source.slug] and count(db_session) == before
    db_session.refresh(source)
    # Found by its page; now also by its identifier. Nothing else changed, not even what the export composes
    # from several fields (the AI Act record, the personal-data statement).
    assert source.external_id == source.slug
    assert services.dataset_record(db_session, source) == {**record, "external_id": source.slug}
    again = importer.import_catalog(
        uow, user, organisation=org.slug, data=json.dumps(document).encode(), fmt="croissant"
    )
    assert again.unchanged == [source.slug]


def test_uploaded_files_fulfil_declared_ones_and_the_export_carries_them(uow, orgs, db_session: Session) -> None:
    [slug] = run(uow, orgs[0], corpus("rai-rich-audio")).created
    dataset = db_session.exec(select(Dataset).where(Dataset.slug == slug)).one()
    statuses = [(d.entry.resource_id, d.status) for d in store.declared_files(db_session, dataset)]
    assert statuses == [
        ("clips.tar", "to be uploaded"),
        ("wav-files", "inside clips.tar"),
        ("transcripts.tsv", "to be uploaded"),
    ]
    [version] = services.versions_of(db_session, dataset, include_drafts=True)
    tar = db_session.exec(
        select(DatasetFile).where(DatasetFile.version_id == version.id, DatasetFile.path == "clips.tar")
    ).one()
    tar.storage_key = "uploads/clips.tar"  # as the upload's verification sets it
    db_session.add(tar)
    db_session.flush()
    statuses = [(d.entry.resource_id, d.status) for d in store.declared_files(db_session, dataset)]
    assert statuses == [
        ("clips.tar", "uploaded"),
        ("wav-files", "uploaded"),
        ("transcripts.tsv", "to be uploaded"),
    ]
    document = exports.croissant_export(db_session, dataset, None, base_url="http://localhost", draft=True)
    clips = document["distribution"][0]
    assert clips["sha256"] == tar.sha256 and clips["contentSize"] == "41943040 B"
    assert [d["@id"] for d in document["distribution"]] == ["clips.tar", "wav-files", "transcripts.tsv"]


def test_a_provider_change_is_exported_instead_of_the_documents_wording(uow, orgs, db_session: Session) -> None:
    document = corpus("rai-rich-audio")
    [slug] = run(uow, orgs[0], document).created
    dataset = db_session.exec(select(Dataset).where(Dataset.slug == slug)).one()
    record = services.dataset_record(db_session, dataset)
    record["ai_act"]["bias_examination"] = "Checked again in 2025: urban share now 60%."
    services.apply_record(uow, dataset, record, ("ai_act",))
    exported = exports.croissant_export(db_session, dataset, None, base_url="http://localhost", draft=True)
    assert exported["rai:dataBiases"] == "Checked again in 2025: urban share now 60%."
    assert exported["rai:dataLimitations"] == document["rai:dataLimitations"]  # untouched: as written
    assert exported["rai:dataImputationProtocol"] == "None."  # no listing field: kept as written


def test_pages_show_the_schema_and_the_files_to_upload(client, uow, orgs, db_session: Session) -> None:
    [slug] = run(uow, orgs[0], corpus("kaggle-zip-archive")).created
    db_session.flush()
    log_in(client, "first@example.org", PASSWORD)
    page = client.get(f"/datasets/{slug}").get_data(as_text=True)
    assert 'data-testid="schema"' in page and "Data schema" in page
    assert "<code>price</code>" in page and "Asking price in USD" in page and "Float" in page
    assert "column &#39;price&#39; of file cars.csv_fileobject" in page
    assert "references makes.csv/make_id" in page and "Key: <code>makes.csv/make_id</code>" in page
    assert "to be uploaded" in page and "inside archive.zip" in page
    manage = client.get(f"/datasets/{slug}/manage").get_data(as_text=True)
    assert "Files to upload" in manage and "to be uploaded" in manage and "archive.zip" in manage
    assert db_session.exec(select(func.count()).select_from(Dataset).where(col(Dataset.slug) == slug)).one() == 1


def test_the_demo_seed_has_an_imported_croissant_draft_and_runs_twice(app, db_session: Session) -> None:
    from marketplace.seed import seed_demo

    with app.app_context():
        seed_demo(uow := UnitOfWork(db_session, app.extensions["marketplace.context"]))
        again = seed_demo(uow)
    dataset = db_session.exec(select(Dataset).where(Dataset.title.startswith("Used Car Prices"))).one()  # type: ignore[attr-defined]
    profile = store.profile_of(db_session, dataset)
    assert profile is not None and len(profile.record_sets) == 2
    assert [d.status for d in store.declared_files(db_session, dataset)] == [
        "to be uploaded",
        "inside archive.zip",
        "inside archive.zip",
    ]
    assert not any("Croissant" in line for line in again)


def test_the_command_line_names_each_problem_by_its_path(app, orgs, db_session: Session, tmp_path) -> None:
    member(orgs[0][0], Role.OWNER, email="owner-first@example.org")
    document = corpus("git-repo-fileset-excludes")
    path = tmp_path / "metadata.json"
    path.write_text(json.dumps(document))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["catalog", "import", str(path), "--org", "first-data"])
    assert result.exit_code == 0 and "1 created" in result.output, result.output
    document["distribution"][1]["includes"] = []
    document["recordSet"][0]["field"][1]["repeated"] = "yes"
    path.write_text(json.dumps(document))
    result = runner.invoke(args=["catalog", "import", str(path), "--org", "first-data"])
    assert result.exit_code == 1
    assert "dataset: distribution[1].includes: a cr:FileSet needs includes" in result.output
    assert "dataset: recordSet[0].field[1].repeated: must be true or false" in result.output


def test_a_published_listing_gains_record_sets_and_its_public_croissant_serves_them(
    client, uow, catalog, db_session: Session
) -> None:
    dataset = catalog.published(title="Published with a schema")
    document = exports.croissant_export(db_session, dataset, None, base_url="http://localhost")
    objects = [d for d in document["distribution"] if d["@type"] == "cr:FileObject"]
    document["recordSet"] = [
        {
            "@type": "cr:RecordSet",
            "@id": "rows",
            "field": [
                {
                    "@type": "cr:Field",
                    "@id": "rows/text",
                    "dataType": "sc:Text",
                    "source": {"fileObject": {"@id": objects[0]["@id"]}, "extract": {"column": "text"}},
                }
            ],
        }
    ]
    org, user = catalog.provider()
    report = importer.import_catalog(
        uow, user, organisation=org.slug, data=json.dumps(document).encode(), fmt="croissant"
    )
    assert report.updated == [dataset.slug]
    db_session.flush()
    served = client.get(f"/datasets/{dataset.slug}/croissant.json").get_json(force=True)
    api = exports.croissant_export(db_session, dataset, None, base_url="http://localhost")
    assert served["recordSet"] == document["recordSet"] == api["recordSet"]
    files = services.version_files(db_session, services.get_version(db_session, dataset, None))
    served_objects = [d for d in served["distribution"] if d["@type"] == "cr:FileObject"]
    assert [(o["contentUrl"], o["sha256"]) for o in served_objects] == [(f.path, f.sha256) for f in files]
    assert all(o["contentSize"] == f"{f.size_bytes} B" for o, f in zip(served_objects, files, strict=True))
    page = client.get(f"/datasets/{dataset.slug}").get_data(as_text=True)
    assert 'data-testid="schema"' in page and "<code>text</code>" in page
    # Visitors see the declared files, not the provider's upload status.
    assert 'data-testid="declared-files"' in page and "to be uploaded" not in page and "<th>Status</th>" not in page


def test_the_schema_indents_sub_fields_without_inline_styles(client, uow, orgs, db_session: Session) -> None:
    """The page's Content-Security-Policy refuses inline styles: the nesting is a class the stylesheet indents."""
    [slug] = run(uow, orgs[0], corpus("nested-subfields-jsonl")).created
    db_session.flush()
    log_in(client, "first@example.org", PASSWORD)
    page = client.get(f"/datasets/{slug}").get_data(as_text=True)
    assert 'data-testid="schema"' in page and " style=" not in page
    assert '<td class="field-depth-1"><code>grams</code></td>' in page
    assert '<td class="field-depth-0"><code>nutrition</code></td>' in page


def test_the_import_page_lists_croissant_problems_by_path(client, orgs, db_session: Session) -> None:
    log_in(client, "first@example.org", PASSWORD)
    document = corpus("openml-csv-enumerations")
    document["distribution"][0]["contentSize"] = "big"
    document["recordSet"][1]["field"][2]["references"] = {"field": {"@id": "species/nope"}}
    token = csrf_token(client, "/datasets/import")
    response = client.post(
        "/datasets/import",
        data={
            "csrf_token": token,
            "organisation": "first-data",
            "file": (io.BytesIO(json.dumps(document).encode()), "metadata.json"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "distribution[0].contentSize" in body and "recordSet[1].field[2].references.field" in body
    assert count(db_session) == 0


def test_the_provider_downloads_the_drafts_croissant_and_no_one_else(client, uow, orgs, db_session: Session) -> None:
    document = corpus("kaggle-zip-archive")
    [slug] = run(uow, orgs[0], document).created
    db_session.flush()
    url = f"/datasets/{slug}/manage/croissant.json"
    assert client.get(url).status_code in (302, 303)  # to the log-in page
    log_in(client, "second@example.org", PASSWORD)
    assert client.get(url).status_code == 404  # another organisation's listing
    client.post("/logout", data={"csrf_token": csrf_token(client, "/settings")})
    log_in(client, "first@example.org", PASSWORD)
    assert f'href="{url}"' in client.get(f"/datasets/{slug}/manage").get_data(as_text=True)
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "application/ld+json"
    exported = response.get_json(force=True)
    assert exported["recordSet"] == document["recordSet"] and exported["url"] == document["url"]
    assert client.get(f"/datasets/{slug}/croissant.json").status_code == 404  # the public one: published only
