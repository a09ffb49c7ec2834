"""Bulk catalog import: new listings written together store exactly what the services store one by one; a failure
anywhere writes nothing; the database checks are made for the whole file at once."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlmodel import Session, col, func, select

from marketplace.accounts.models import Organisation, Role, User
from marketplace.catalog import importer, search_index, services, vocab
from marketplace.catalog.models import Dataset, DatasetEvent, DatasetFile, DatasetTerm, DatasetVersion, TermScheme
from marketplace.catalog.services import bulk
from marketplace.catalog.services.rows import delete_rows, update_rows
from marketplace.db import UnitOfWork, any_of
from marketplace.errors import ValidationFailed
from tests.factories import OrganisationFactory, member
from tests.functional.catalog.conftest import BASE_RECORD, Catalog, manifest
from tests.functional.catalog.test_import import to_csv

NOW = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
LANGUAGES = ["en", "de-CH", "fr", "ja", "pt-BR", "sr-Latn-RS", "nl"]


@pytest.fixture()
def provider(db_session: Session) -> tuple[Organisation, User]:
    org = OrganisationFactory(slug="bulk-data", name="Bulk Data")
    return org, member(org, Role.ADMIN, email="bulk@example.org")


@pytest.fixture()
def fixed_uow(app: Flask, db_session: Session) -> UnitOfWork:
    """A unit of work whose clock stands still, so two ways of writing can be compared value for value."""
    return UnitOfWork(db_session, app.extensions["marketplace.context"].at(lambda: NOW))


def varied_rows(n: int, parent_slug: str) -> list[dict[str, Any]]:
    """``n`` records using every kind of field: given and derived slugs (some titles repeated), terms in several
    languages, versions with and without files, sources, parents, the AI Act record and the training summary."""
    rows = []
    for i in range(n):
        row = json.loads(json.dumps(BASE_RECORD))
        row.update(
            external_id=f"MIX-{i:04d}",
            title=f"  Mixed corpus {i % 150}  " if i % 3 else f"Mixed corpus number {i}",
            tags=["bulk", f"batch-{i % 7}"] if i % 5 else [],
            languages=LANGUAGES[i % 4 : i % 4 + 1 + i % 3],
            countries=["DE", "FR"] if i % 2 else [],
            tasks=["classification", "translation"][: 1 + i % 2],
            sources=[{"name": "Writers", "license": "CC-BY-4.0", "url": None if i % 2 else "https://example.org/s"}],
            parent_datasets=[{"title": "Parent", "slug": parent_slug}] if i % 11 == 0 else [],
            training_summary={"rights_basis": "rights_holder", "crawled": False} if i % 4 == 0 else {},
            versions=[{"version": "1.0.0", "changelog": " First. ", "files": manifest(f"m{i}")}]
            + ([{"version": "1.1.0", "files": []}] if i % 6 == 0 else []),
        )
        row["ai_act"]["bias_reviewed_on"] = "2025-01-02" if i % 2 else None
        if i % 9 == 0:
            row["modality"] = None
            row["modality_details"] = {}
            row["annotator_qualifications"] = ""
        if i % 4 == 1:
            row["slug"] = f"mixed-given-{i}"
        rows.append(row)
    return rows


def one_by_one(uow: UnitOfWork, user: User, org: Organisation, text: bytes) -> list[str]:
    """What the importer wrote before it wrote in bulk: each row through the services, one after the other."""
    rows, problems = importer.read_rows(text, "jsonl", max_rows=10_000)
    assert problems == []
    slugs = []
    for row in rows:
        record = row.record
        dataset = services.new_dataset(uow, user, org, title=record["title"], slug=record.get("slug") or None)
        services.apply_record(uow, dataset, record, importer.ALL_FIELDS, current={})
        for version in record["versions"]:
            services.add_version(
                uow, user, dataset, version=version["version"], changelog=version["changelog"], files=version["files"]
            )
        services.record_event(uow, dataset, user, "imported", row.location)
        slugs.append(dataset.slug)
    uow.session.flush()
    return slugs


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def snapshot(session: Session, org: Organisation) -> dict[str, Any]:
    """Every row the import wrote for ``org``'s listings, keyed by external id instead of database ids."""
    connection = session.connection()
    datasets = connection.execute(sa.select(Dataset.__table__).where(Dataset.__table__.c.organisation_id == org.id))  # type: ignore[attr-defined]
    by_id: dict[int, str] = {}
    listing: dict[str, dict[str, Any]] = {}
    for row in datasets.mappings():
        by_id[row["id"]] = row["external_id"]
        listing[row["external_id"]] = {k: _plain(v) for k, v in row.items() if k not in ("id", "search_vector")}
    ids = list(by_id)
    terms = session.exec(select(DatasetTerm).where(col(DatasetTerm.dataset_id).in_(ids))).all()
    versions = session.exec(select(DatasetVersion).where(col(DatasetVersion.dataset_id).in_(ids))).all()
    version_of = {v.id: (by_id[v.dataset_id], v.version) for v in versions}
    files = session.exec(select(DatasetFile).where(col(DatasetFile.version_id).in_(list(version_of)))).all()
    events = session.exec(
        select(DatasetEvent).where(col(DatasetEvent.dataset_id).in_(ids)).order_by(col(DatasetEvent.id))
    ).all()
    return {
        "datasets": listing,
        "terms": sorted((by_id[t.dataset_id], t.scheme.value, t.value, t.position) for t in terms),
        "versions": sorted(
            (by_id[v.dataset_id], json.dumps(v.model_dump(exclude={"id", "dataset_id"}), default=str, sort_keys=True))
            for v in versions
        ),
        "files": sorted(
            (*version_of[f.version_id], f.path, f.size_bytes, f.sha256, f.media_type, f.storage_key) for f in files
        ),
        "events": [
            (by_id[e.dataset_id], e.action, e.note, e.at.isoformat(), e.actor_id)
            for e in sorted(events, key=lambda e: (by_id[e.dataset_id], e.id or 0))
        ],
    }


def test_bulk_import_writes_what_the_services_write_one_by_one(
    fixed_uow: UnitOfWork, provider, catalog: Catalog, db_session: Session
) -> None:
    org, user = provider
    parent = catalog.published(title="Parent corpus", slug="parent-corpus")
    db_session.add(Dataset(slug="mixed-corpus-7", organisation_id=parent.organisation_id, title="Taken"))
    db_session.flush()
    text = "".join(json.dumps(row) + "\n" for row in varied_rows(200, parent.slug)).encode()

    savepoint = db_session.begin_nested()
    expected_slugs = one_by_one(fixed_uow, user, org, text)
    expected = snapshot(db_session, org)
    savepoint.rollback()
    assert (
        db_session.exec(select(func.count()).select_from(Dataset).where(Dataset.organisation_id == org.id)).one() == 0
    )

    report = importer.import_catalog(fixed_uow, user, organisation=org.slug, data=text, fmt="jsonl")
    assert report.created == expected_slugs
    assert "mixed-corpus-7-2" in report.created and "mixed-corpus-2-2" in report.created  # taken, repeated titles
    got = snapshot(db_session, org)
    assert len(got["datasets"]) == 200 and len(got["terms"]) > 1000 and len(got["files"]) == 400
    for key in ("terms", "versions", "files", "events"):
        assert got[key] == expected[key], key
    for external_id, row in expected["datasets"].items():
        assert got["datasets"][external_id] == row, external_id


def test_a_slug_given_later_in_the_file_is_kept_and_a_derived_one_steps_aside(uow, provider) -> None:
    org, user = provider
    rows = [
        {**BASE_RECORD, "external_id": "A", "title": "Speech corpus"},
        {**BASE_RECORD, "external_id": "B", "title": "Something else", "slug": "speech-corpus"},
        {**BASE_RECORD, "external_id": "C", "title": "Speech corpus"},
    ]
    report = importer.import_catalog(uow, user, organisation=org.slug, data=to_csv(rows), filename="c.csv")
    assert report.created == ["speech-corpus-2", "speech-corpus", "speech-corpus-3"]


def test_a_slug_twice_in_the_file_is_reported_on_the_second_row(uow, provider, db_session: Session) -> None:
    org, user = provider
    rows = [
        {**BASE_RECORD, "external_id": "A", "slug": "same-slug"},
        {**BASE_RECORD, "external_id": "B"},
        {**BASE_RECORD, "external_id": "C", "slug": "same-slug"},
    ]
    with pytest.raises(ValidationFailed) as caught:
        importer.import_catalog(uow, user, organisation=org.slug, data=to_csv(rows), filename="c.csv")
    assert [(p.location, p.field, p.message) for p in caught.value.details] == [
        ("row 4", "slug", "'same-slug' is also used by row 2")
    ]
    assert db_session.exec(select(func.count()).select_from(Dataset)).one() == 0


def test_a_listing_named_as_its_own_parent_is_reported_with_its_row(uow, provider, catalog: Catalog) -> None:
    org, user = provider
    line = {**BASE_RECORD, "external_id": "P", "versions": [{"version": "1.0.0", "files": manifest("p")}]}
    importer.import_catalog(uow, user, organisation=org.slug, data=json.dumps(line).encode(), fmt="jsonl")
    dataset = uow.session.exec(select(Dataset).where(Dataset.external_id == "P")).one()
    services.submit_for_review(uow, user, dataset)
    with catalog.app.app_context():
        services.approve(uow, catalog.admin, dataset)
    again = {**line, "parent_datasets": [{"title": "Me", "slug": dataset.slug}]}
    with pytest.raises(ValidationFailed) as caught:
        importer.import_catalog(uow, user, organisation=org.slug, data=json.dumps(again).encode(), fmt="jsonl")
    assert [(p.location, p.field, p.message) for p in caught.value.details] == [
        ("line 1", "parent_datasets.0.slug", "a dataset cannot be its own parent")
    ]


def _numbered(n: int) -> list[dict[str, Any]]:
    return [{**BASE_RECORD, "external_id": f"N-{i:05d}", "title": f"Numbered corpus {i}"} for i in range(n)]


def test_a_bad_row_at_the_end_of_ten_thousand_writes_nothing(uow, provider, db_session: Session) -> None:
    org, user = provider
    rows = _numbered(10_000)
    rows[9_998]["languages"] = ["en", "xx-zz"]
    seen: list[tuple[int, int]] = []
    with pytest.raises(ValidationFailed) as caught:
        importer.import_catalog(
            uow, user, organisation=org.slug, data=to_csv(rows), filename="c.csv", progress=lambda *p: seen.append(p)
        )
    assert [(p.location, p.field) for p in caught.value.details] == [("row 10000", "languages")]
    assert db_session.exec(select(func.count()).select_from(Dataset)).one() == 0
    assert db_session.exec(select(func.count()).select_from(DatasetEvent)).one() == 0
    # Progress is reported about every 1 %, not per row, and up to the last row read.
    assert len(seen) <= 101 and seen[-1] == (10_000, 20_000)


def test_a_write_failing_in_the_last_batch_leaves_nothing_behind(
    uow, provider, db_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """All or nothing holds even if the database refuses a row after earlier batches were written (a listing
    created meanwhile under the same slug): the error reaches the caller, whose transaction is rolled back."""
    org, user = provider
    monkeypatch.setattr(bulk, "CHUNK", 100)
    monkeypatch.setattr(importer, "_taken_slugs", lambda _uow, _rows: set())
    other = OrganisationFactory()
    db_session.add(Dataset(slug="numbered-corpus-998", organisation_id=other.id, title="Meanwhile"))
    db_session.flush()
    rows = _numbered(1_000)
    rows[998]["slug"] = "numbered-corpus-998"
    savepoint = db_session.begin_nested()
    with pytest.raises(sa.exc.IntegrityError):
        importer.import_catalog(uow, user, organisation=org.slug, data=to_csv(rows), filename="c.csv")
    savepoint.rollback()
    assert (
        db_session.exec(select(func.count()).select_from(Dataset).where(Dataset.organisation_id == org.id)).one() == 0
    )
    assert db_session.exec(select(func.count()).select_from(DatasetTerm)).one() == 0


def revised_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` edited as a provider's next export would be: titles, terms added and cleared, the AI Act record,
    sources, the modality, a new version; every tenth row left as it was."""
    out = []
    for i, original in enumerate(rows):
        row = json.loads(json.dumps(original))
        if i % 10:
            if i % 3 == 0:
                row["title"] = f"Revised corpus {i}"
            if i % 4 == 0:
                row["tags"] = [*row["tags"], "revised"]
            if i % 5 == 0:
                row["languages"] = []
            if i % 7 == 0:
                row["ai_act"]["bias_reviewed_on"] = "2026-02-03"
            if i % 8 == 0:
                row["sources"] = [{"name": "Editors", "license": "CC0-1.0", "url": "https://example.org/e"}]
            if i % 9 == 1:
                row["modality"] = None
                row["modality_details"] = {}
            if i % 6 == 1:
                row["versions"].append({"version": "2.0.0", "changelog": "Second.", "files": manifest(f"r{i}")})
        out.append(row)
    return out


def updated_one_by_one(uow: UnitOfWork, user: User, text: bytes) -> list[str]:
    """What the importer wrote for existing listings before it wrote their changes together: each row through
    :func:`services.apply_record` and the version commands, one after the other."""
    rows, problems = importer.read_rows(text, "jsonl", max_rows=10_000)
    assert problems == []
    updated = []
    for row in rows:
        record = row.record
        dataset = uow.session.exec(select(Dataset).where(Dataset.external_id == record["external_id"])).one()
        changed = services.apply_record(uow, dataset, record, importer.ALL_FIELDS, references_checked=True)
        stored = {v.version for v in services.versions_of(uow.session, dataset, include_drafts=True)}
        for version in record["versions"]:
            if vocab.semantic_version(version["version"]) not in stored:
                services.add_version(
                    uow,
                    user,
                    dataset,
                    version=version["version"],
                    changelog=version["changelog"],
                    files=version["files"],
                )
                changed = True
        if changed:
            services.record_event(uow, dataset, user, "imported", row.location)
            updated.append(dataset.slug)
    uow.session.flush()
    return updated


def test_bulk_reimport_writes_what_the_services_write_one_by_one(
    fixed_uow: UnitOfWork, provider, catalog: Catalog, db_session: Session
) -> None:
    org, user = provider
    parent = catalog.published(title="Parent corpus", slug="parent-corpus")
    first_rows = varied_rows(120, parent.slug)
    first = "".join(json.dumps(row) + "\n" for row in first_rows).encode()
    second = "".join(json.dumps(row) + "\n" for row in revised_rows(first_rows)).encode()
    importer.import_catalog(fixed_uow, user, organisation=org.slug, data=first, fmt="jsonl")
    db_session.flush()

    savepoint = db_session.begin_nested()
    expected_updated = updated_one_by_one(fixed_uow, user, second)
    expected = snapshot(db_session, org)
    savepoint.rollback()
    db_session.expire_all()
    held = db_session.exec(select(Dataset).where(Dataset.external_id == "MIX-0003")).one()
    assert held.title == "Mixed corpus number 3"

    report = importer.import_catalog(fixed_uow, user, organisation=org.slug, data=second, fmt="jsonl")
    assert report.updated == expected_updated and len(report.unchanged) == 120 - len(expected_updated)
    assert len(expected_updated) > 80
    got = snapshot(db_session, org)
    for key in ("terms", "versions", "files", "events"):
        assert got[key] == expected[key], key
    for external_id, row in expected["datasets"].items():
        assert got["datasets"][external_id] == row, external_id
    # The session's objects hold what the rows hold (nothing stale is left to read or to flush over them).
    assert held.title == "Revised corpus 3" and held.updated_at == NOW
    db_session.flush()
    assert got == snapshot(db_session, org)


def test_a_reimport_of_published_listings_keeps_the_search_index(
    fixed_uow: UnitOfWork, provider, db_session: Session
) -> None:
    org, user = provider
    rows = [
        {**json.loads(json.dumps(BASE_RECORD)), "external_id": f"P-{i}", "title": f"Alpine corpus {i}"}
        for i in range(6)
    ]
    text = "".join(json.dumps(row) + "\n" for row in rows).encode()
    importer.import_catalog(fixed_uow, user, organisation=org.slug, data=text, fmt="jsonl")
    for dataset in db_session.exec(select(Dataset).where(Dataset.organisation_id == org.id)):
        dataset.status = vocab.DatasetStatus.PUBLISHED
        dataset.published_at = NOW
        db_session.add(dataset)
    search_index.sync(db_session)
    for row in rows:
        row["title"] = row["title"].replace("Alpine", "Glacier")
        row["languages"] = ["fr"]
    text = "".join(json.dumps(row) + "\n" for row in rows).encode()
    report = importer.import_catalog(fixed_uow, user, organisation=org.slug, data=text, fmt="jsonl")
    assert len(report.updated) == 6
    search_index.sync(db_session)
    connection = db_session.connection()
    kept = search_index.snapshot(connection)
    search_index.rebuild(connection)
    assert kept == search_index.snapshot(connection)
    assert len(kept["documents"]) == 6
    assert all(("language", "fr") in document["facets"] for document in kept["documents"].values())


def _imported(uow: UnitOfWork, provider: tuple[Organisation, User], n: int) -> list[int]:
    org, user = provider
    rows = [
        {**json.loads(json.dumps(BASE_RECORD)), "external_id": f"R-{i}", "title": f"Row corpus {i}"} for i in range(n)
    ]
    importer.import_catalog(uow, user, organisation=org.slug, data=_jsonl(rows), fmt="jsonl")
    found = uow.session.exec(select(Dataset.id).where(Dataset.organisation_id == org.id).order_by(col(Dataset.id)))
    return [i for i in found if i is not None]


def _jsonl(rows: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(row) + "\n" for row in rows).encode()


def test_rows_updated_together_store_each_value_as_its_column_binds_it(
    fixed_uow: UnitOfWork, provider, db_session: Session
) -> None:
    """Whole and fractional numbers in one column, enum members, JSON documents, dates and NULLs: one statement
    (PostgreSQL: the values as arrays) stores what one UPDATE per row would."""
    ids = _imported(fixed_uow, provider, 3)
    table = Dataset.__table__  # type: ignore[attr-defined]
    connection = db_session.connection()
    update_rows(
        connection,
        table,
        "id",
        [
            {"id": ids[0], "agreement_value": 1, "modality": vocab.Modality.AUDIO, "ai_act": {"a": [1, 2]},
             "collection_start": date(2020, 1, 2), "title": "First, \"quoted\" {braces}", "record_count": 2**40},
            {"id": ids[1], "agreement_value": 0.25, "modality": None, "ai_act": {}, "collection_start": None,
             "title": "Second", "record_count": None},
        ],
    )  # fmt: skip
    stored = {
        row.id: row
        for row in connection.execute(
            sa.select(table.c.id, table.c.agreement_value, table.c.modality, table.c.ai_act, table.c.collection_start,
                      table.c.title, table.c.record_count).where(table.c.id.in_(ids))
        )
    }  # fmt: skip
    assert tuple(stored[ids[0]])[1:] == (1.0, vocab.Modality.AUDIO, {"a": [1, 2]}, date(2020, 1, 2),
                                         'First, "quoted" {braces}', 2**40)  # fmt: skip
    assert tuple(stored[ids[1]])[1:] == (0.25, None, {}, None, "Second", None)
    assert tuple(stored[ids[2]])[1:] == (0.8, vocab.Modality.TEXT, stored[ids[2]].ai_act, date(2024, 1, 1),
                                         "Row corpus 2", 10)  # fmt: skip
    assert stored[ids[2]].ai_act["design_choices"] == "Balanced classes."


def test_rows_deleted_together_are_those_matching_on_every_key(
    fixed_uow: UnitOfWork, provider, db_session: Session
) -> None:
    ids = _imported(fixed_uow, provider, 2)
    table = DatasetTerm.__table__  # type: ignore[attr-defined]
    connection = db_session.connection()
    delete_rows(
        connection,
        table,
        [
            {"dataset_id": ids[0], "scheme": TermScheme.LANGUAGE},
            {"dataset_id": ids[1], "scheme": TermScheme.TAG},
            {"dataset_id": ids[1], "scheme": TermScheme.SPECIAL_CATEGORY},  # none stored: nothing to delete
        ],
    )
    left = {
        (d, s)
        for d, s in connection.execute(sa.select(table.c.dataset_id, table.c.scheme).where(table.c.dataset_id.in_(ids)))
    }
    assert (ids[0], TermScheme.LANGUAGE) not in left and (ids[1], TermScheme.TAG) not in left
    assert (ids[0], TermScheme.TAG) in left and (ids[1], TermScheme.LANGUAGE) in left


def test_a_value_too_long_for_its_column_is_refused_not_cut(
    fixed_uow: UnitOfWork, provider, db_session: Session
) -> None:
    if db_session.connection().dialect.name != "postgresql":
        pytest.skip("SQLite does not enforce the length of a VARCHAR")
    ids = _imported(fixed_uow, provider, 1)
    with pytest.raises(sa.exc.DBAPIError), db_session.begin_nested():
        update_rows(db_session.connection(), Dataset.__table__, "id", [{"id": ids[0], "title": "x" * 201}])  # type: ignore[attr-defined]


def test_a_look_up_by_many_values_matches_whole_values_only(provider, db_session: Session) -> None:
    """The values of a look-up are compared whole: one longer than the column is not cut to match another."""
    org, _ = provider
    table = Dataset.__table__  # type: ignore[attr-defined]
    stored = "a" * 80
    db_session.add(Dataset(slug=stored, organisation_id=org.id, title="Long slug corpus"))
    db_session.flush()
    connection = db_session.connection()
    found = set()
    for condition in any_of(connection.dialect, table.c.slug, [stored + "-longer", "b" * 3]):
        found.update(connection.execute(sa.select(table.c.slug).where(condition)).scalars())
    assert found == set()
    for condition in any_of(connection.dialect, table.c.slug, [f"x{i}" for i in range(1200)] + [stored]):
        found.update(connection.execute(sa.select(table.c.slug).where(condition)).scalars())
    assert found == {stored}
