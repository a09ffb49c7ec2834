"""Catalog import: all rows or none, every problem located, idempotent re-import; CSV, JSON Lines, Croissant, CLI."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from sqlmodel import Session, col, func, select

from marketplace.accounts.models import Role
from marketplace.catalog import importer, services
from marketplace.catalog.flat_records import flatten
from marketplace.catalog.models import Dataset, DatasetEvent, DatasetVersion
from marketplace.errors import ValidationFailed
from tests.factories import PASSWORD, OrganisationFactory, member
from tests.functional.catalog.conftest import BASE_RECORD, manifest
from tests.helpers import csrf_token, log_in


def to_csv(records: list[dict[str, Any]]) -> bytes:
    """Records as the import's CSV: dotted column names, list values joined with |."""
    rows = [flatten(r) for r in records]
    columns = sorted({key for row in rows for key in row})
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {k: "|".join(map(str, v)) if isinstance(v, list) else ("" if v is None else v) for k, v in row.items()}
        )
    return out.getvalue().encode()


def catalog_rows(n: int) -> list[dict[str, Any]]:
    rows = []
    for i in range(n):
        row = json.loads(json.dumps(BASE_RECORD))
        row.update(external_id=f"SKU-{i:05d}", title=f"Corpus number {i}", tags=["bulk", f"batch-{i % 7}"])
        rows.append(row)
    return rows


@pytest.fixture()
def provider(db_session: Session):  # type: ignore[no-untyped-def]
    org = OrganisationFactory(slug="bulk-data", name="Bulk Data")
    return org, member(org, Role.ADMIN, email="bulk@example.org")


def _count(db_session: Session, org) -> int:  # type: ignore[no-untyped-def]
    return db_session.exec(select(func.count()).select_from(Dataset).where(Dataset.organisation_id == org.id)).one()


def test_thousand_rows_three_bad_nothing_imported_then_fixed_then_idempotent(
    uow, provider, db_session: Session
) -> None:
    org, user = provider
    rows = catalog_rows(1000)
    rows[100]["languages"] = ["en", "xx-zz"]
    rows[501]["sources"] = [{"name": "Scraped", "license": "Bogus-License-9"}]
    rows[902]["modality"] = "smell"
    with pytest.raises(ValidationFailed) as caught:
        importer.import_catalog(uow, user, organisation=org.slug, data=to_csv(rows), filename="catalog.csv")
    problems = [(p.location, p.field) for p in caught.value.details]
    # The header is row 1, so the record at index i is on row i + 2.
    assert problems == [("row 102", "languages"), ("row 503", "sources.0.license"), ("row 904", "modality")]
    assert "xx-zz" in caught.value.details[0].message
    assert "3 problem(s) in 3 row(s)" in caught.value.message
    assert _count(db_session, org) == 0

    rows[100]["languages"] = ["en", "nl"]
    rows[501]["sources"] = [{"name": "Scraped", "license": "CC-BY-SA-4.0"}]
    rows[902]["modality"] = "text"
    data = to_csv(rows)
    seen: list[tuple[int, int]] = []
    report = importer.import_catalog(
        uow, user, organisation=org.slug, data=data, filename="catalog.csv", progress=lambda d, t: seen.append((d, t))
    )
    assert len(report.created) == 1000 and not report.updated and not report.unchanged
    assert seen[-1] == (2000, 2000)
    assert _count(db_session, org) == 1000
    dataset = db_session.exec(select(Dataset).where(Dataset.external_id == "SKU-00100")).one()
    assert services.dataset_record(db_session, dataset)["languages"] == ["en", "nl"]
    stamps = dict(
        db_session.exec(select(Dataset.external_id, Dataset.updated_at).where(Dataset.organisation_id == org.id)).all()
    )
    events = db_session.exec(select(func.count()).select_from(DatasetEvent)).one()

    again = importer.import_catalog(uow, user, organisation=org.slug, data=data, filename="catalog.csv")
    assert len(again.unchanged) == 1000 and not again.created and not again.updated
    assert _count(db_session, org) == 1000
    assert (
        dict(
            db_session.exec(
                select(Dataset.external_id, Dataset.updated_at).where(Dataset.organisation_id == org.id)
            ).all()
        )
        == stamps
    )
    assert db_session.exec(select(func.count()).select_from(DatasetEvent)).one() == events

    rows[7]["title"] = "Corpus number 7, revised"
    changed = importer.import_catalog(uow, user, organisation=org.slug, data=to_csv(rows), filename="catalog.csv")
    assert changed.updated == [db_session.exec(select(Dataset.slug).where(Dataset.external_id == "SKU-00007")).one()]
    assert len(changed.unchanged) == 999


def test_problems_only_the_database_sees(uow, provider, catalog) -> None:
    org, user = provider
    catalog.published("acme-data", title="Someone else's", slug="taken-slug")
    rows = catalog_rows(3)
    rows[0]["slug"] = "taken-slug"
    rows[2]["external_id"] = rows[1]["external_id"]
    rows[1]["parent_datasets"] = [{"title": "Ghost", "slug": "no-such-dataset"}]
    with pytest.raises(ValidationFailed) as caught:
        importer.import_catalog(uow, user, organisation=org.slug, data=to_csv(rows), filename="c.csv")
    assert [(p.location, p.field) for p in caught.value.details] == [
        ("row 2", "slug"),
        ("row 3", "parent_datasets.0.slug"),
        ("row 4", "external_id"),
    ]


def test_malformed_files_are_reported_with_their_line(uow, provider) -> None:
    org, user = provider
    good = json.dumps({**BASE_RECORD, "external_id": "A-1"})
    data = (
        f'{good}\n{{"title": broken\n[1, 2]\n{json.dumps({**BASE_RECORD, "external_id": "A-2", "bogus": 1})}\n'.encode()
    )
    with pytest.raises(ValidationFailed) as caught:
        importer.import_catalog(uow, user, organisation=org.slug, data=data, filename="c.jsonl")
    assert [(p.location, p.field) for p in caught.value.details] == [
        ("line 2", "line"),
        ("line 3", "line"),
        ("line 4", "bogus"),
    ]
    with pytest.raises(ValidationFailed, match="not UTF-8"):
        importer.import_catalog(uow, user, organisation=org.slug, data=b"title\n\xff\xfe", filename="c.csv")
    with pytest.raises(ValidationFailed) as caught:
        importer.import_catalog(uow, user, organisation=org.slug, data=b"title,title\nx,y\n", filename="c.csv")
    assert caught.value.details[0].field == "title"


def test_jsonl_versions_are_imported_and_published_ones_protected(app, uow, provider, db_session: Session) -> None:
    org, user = provider
    line = {**BASE_RECORD, "external_id": "V-1", "versions": [{"version": "1.0.0", "files": manifest("v")}]}
    report = importer.import_catalog(
        uow, user, organisation=org.slug, data=json.dumps(line).encode(), filename="c.jsonl"
    )
    dataset = db_session.exec(select(Dataset).where(Dataset.slug == report.created[0])).one()
    version = services.get_any_version(db_session, dataset, "1.0.0")
    assert version.file_count == 2 and version.manifest_digest == services.compute_manifest_digest(
        line["versions"][0]["files"]
    )
    services.submit_for_review(uow, user, dataset)
    admin = member(OrganisationFactory(), Role.OWNER, is_platform_admin=True)
    with app.app_context():
        services.approve(uow, admin, dataset)
    again = importer.import_catalog(
        uow, user, organisation=org.slug, data=json.dumps(line).encode(), filename="c.jsonl"
    )
    assert again.unchanged == [dataset.slug]
    line["versions"][0]["files"] = manifest("other")
    with pytest.raises(ValidationFailed) as caught:
        importer.import_catalog(uow, user, organisation=org.slug, data=json.dumps(line).encode(), filename="c.jsonl")
    assert caught.value.details[0].field == "versions.0" and "published" in caught.value.details[0].message


def test_croissant_round_trip(uow, catalog, provider, db_session: Session) -> None:
    from marketplace.catalog import exports

    source = catalog.published(title="Round trip corpus", tags=["round", "trip"], languages=["en", "de-CH"])
    document = exports.croissant_export(db_session, source, None, base_url="http://localhost")
    org, user = provider
    report = importer.import_catalog(
        uow, user, organisation=org.slug, data=json.dumps(document).encode(), filename="x.json"
    )
    copy = db_session.exec(select(Dataset).where(Dataset.slug == report.created[0])).one()
    record = services.dataset_record(db_session, copy)
    assert copy.title == "Round trip corpus" and record["tags"] == ["round", "trip"]
    assert record["languages"] == ["en", "de-CH"] and record["countries"] == ["DE"]
    assert record["collection_methods"] == ["manual_curation"]
    assert record["ai_act"]["bias_examination"].startswith("Class balance checked.")
    imported = services.get_any_version(db_session, copy, "1.0.0")
    original = services.get_version(db_session, source, None)
    assert imported.manifest_digest == original.manifest_digest


def test_croissant_without_checksums_is_read_as_declared_files() -> None:
    document = {
        "@type": "sc:Dataset",
        "name": "X files",
        "distribution": [
            {"@type": "cr:FileObject", "@id": "a", "contentUrl": "a.csv", "encodingFormat": "text/csv", "md5": "ab"}
        ],
    }
    rows, problems = importer.read_rows(json.dumps(document).encode(), "croissant", max_rows=10)
    assert problems == []
    [row] = rows
    assert row.croissant is not None and row.croissant.distribution[0].path == "a.csv"
    assert row.record["versions"] == []  # declared, to be uploaded: no manifest entry without a SHA-256 and size


def test_import_page_shows_every_problem(client, provider) -> None:
    log_in(client, "bulk@example.org", PASSWORD)
    rows = catalog_rows(2)
    rows[1]["countries"] = ["Narnia"]
    token = csrf_token(client, "/datasets/import")
    response = client.post(
        "/datasets/import",
        data={"csrf_token": token, "organisation": "bulk-data", "file": (io.BytesIO(to_csv(rows)), "catalog.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "row 3" in body and "countries" in body and "Nothing was imported" in body
    assert '<option value="bulk-data" selected>' in body  # the form, still there, keeps its provider to choose
    rows[1]["countries"] = ["NL"]
    response = client.post(
        "/datasets/import",
        data={"csrf_token": token, "organisation": "bulk-data", "file": (io.BytesIO(to_csv(rows)), "catalog.csv")},
        content_type="multipart/form-data",
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "2 created, 0 updated, 0 unchanged" in body
    assert '<option value="bulk-data" selected>' in body


def test_cli_import_with_progress(app, provider, db_session: Session, tmp_path) -> None:
    org, _ = provider
    member(org, Role.OWNER, email="owner-bulk@example.org")
    path = tmp_path / "catalog.csv"
    path.write_bytes(to_csv(catalog_rows(5)))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["catalog", "import", str(path), "--org", "bulk-data"])
    assert result.exit_code == 0, result.output
    assert "5 created" in result.output and "Importing catalog.csv" in result.output
    assert (
        db_session.exec(select(func.count()).select_from(Dataset).where(Dataset.organisation_id == org.id)).one() == 5
    )
    bad = tmp_path / "bad.csv"
    rows = catalog_rows(2)
    rows[0]["tasks"] = ["telepathy"]
    bad.write_bytes(to_csv(rows))
    result = runner.invoke(args=["catalog", "import", str(bad), "--org", "bulk-data"])
    assert result.exit_code == 1 and "row 2: tasks: must be one of" in result.output
    assert db_session.exec(select(func.count()).select_from(DatasetVersion)).one() >= 0
    assert (
        db_session.exec(select(func.count()).select_from(Dataset).where(col(Dataset.organisation_id) == org.id)).one()
        == 5
    )
