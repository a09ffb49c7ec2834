"""Croissant round trips over a corpus of documents shaped like the ones dataset hosts publish.

Every document of ``tests/data/croissant`` imports as a draft listing; its export (Croissant 1.1) imports again
into the same listing without changing anything stored, keeps its record sets and distribution, and passes
mlcroissant's validation with no more warnings than the document had.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from marketplace.accounts.models import Role
from marketplace.catalog import exports, importer, services
from marketplace.catalog.croissant import store
from marketplace.catalog.croissant.vocabulary import CROISSANT_1_1, RAI_1_0
from marketplace.catalog.models import Dataset
from marketplace.catalog.vocab import DatasetStatus
from tests.factories import OrganisationFactory, member

CORPUS = Path(__file__).parents[2] / "data" / "croissant"
DOCUMENTS = sorted(CORPUS.glob("*.json"))
CHECK = Path(__file__).with_name("croissant_check.py")
BASE_URL = "http://localhost"


def mlcroissant_report(paths: list[Path]) -> dict[str, dict[str, list[str]]]:
    """mlcroissant's errors and warnings for each file (one process for all of them)."""
    done = subprocess.run(
        [sys.executable, str(CHECK), *map(str, paths)], capture_output=True, text=True, timeout=300, check=True
    )
    report: dict[str, dict[str, list[str]]] = json.loads(done.stdout)
    return report


def stored(session: Session, dataset: Dataset) -> dict[str, Any]:
    """Everything kept of a listing that an import writes: its record, versions, declared files and profile."""
    session.flush()
    session.refresh(dataset)
    profile = store.profile_of(session, dataset)
    assert profile is not None
    versions = services.versions_of(session, dataset, include_drafts=True)
    return {
        "record": services.dataset_record(session, dataset),
        "status": dataset.status,
        "versions": [
            (
                v.version,
                v.changelog,
                [(f.path, f.sha256, f.size_bytes, f.media_type) for f in services.version_files(session, v)],
            )
            for v in versions
        ],
        "declared": [store._row_of(entry) for entry in store.declared_of(session, dataset)],
        "profile": {
            "url": profile.url,
            "properties": profile.properties,
            "record_sets": profile.record_sets,
            "listing_snapshot": profile.listing_snapshot,
            "version_label": profile.version_label,
        },
    }


@pytest.fixture()
def provider(db_session: Session):  # type: ignore[no-untyped-def]
    org = OrganisationFactory(slug="hub-mirror", name="Hub Mirror")
    return org, member(org, Role.ADMIN, email="mirror@example.org")


def import_document(uow, provider, document: dict[str, Any]) -> importer.ImportReport:  # type: ignore[no-untyped-def]
    org, user = provider
    return importer.import_catalog(
        uow, user, organisation=org.slug, data=json.dumps(document).encode(), filename="metadata.json"
    )


def same_shape(value: Any) -> Any:
    """A distribution as JSON-LD reads it: one value and a list of one value are the same."""
    if isinstance(value, list):
        items = [same_shape(v) for v in value]
        return items[0] if len(items) == 1 else items
    if isinstance(value, dict):
        return {key: same_shape(item) for key, item in value.items()}
    return value


def listing(session: Session, slug: str) -> Dataset:
    return session.exec(select(Dataset).where(Dataset.slug == slug)).one()


def test_the_corpus_is_varied() -> None:
    documents = [json.loads(path.read_text()) for path in DOCUMENTS]
    assert len(documents) >= 15
    text = json.dumps(documents)
    for needle in (
        '"git+https"',
        '"containedIn"',
        '"includes"',
        '"excludes"',
        '"md5"',
        '"references"',
        '"data"',
        '"subField"',
        '"fileProperty"',
        '"jsonPath"',
        '"regex"',
        '"format"',
        '"cr:Split"',
        "croissant/1.1",
        "croissant/1.0",
        '"rai:dataBiases"',
        '"text/plain"',
    ):
        assert needle in text, needle
    assert sum(len(d.get("recordSet", [])) > 1 for d in documents) >= 5


@pytest.mark.parametrize("path", DOCUMENTS, ids=[p.stem for p in DOCUMENTS])
def test_import_export_import_keeps_the_listing(uow, provider, db_session: Session, path: Path) -> None:
    document = json.loads(path.read_text())
    first = import_document(uow, provider, document)
    assert len(first.created) == 1
    dataset = listing(db_session, first.created[0])
    assert dataset.status is DatasetStatus.DRAFT
    before = stored(db_session, dataset)
    assert before["profile"]["record_sets"] == document.get("recordSet", [])
    assert len(before["declared"]) == len(document.get("distribution", []))

    exported = exports.croissant_export(db_session, dataset, None, base_url=BASE_URL, draft=True)
    assert exported["conformsTo"] == [CROISSANT_1_1, RAI_1_0] and "rai" in exported["@context"]
    assert exported.get("recordSet", []) == document.get("recordSet", [])
    assert [d["@id"] for d in exported.get("distribution", [])] == [
        d.get("@id") or d.get("name") for d in document.get("distribution", [])
    ]
    for term, value in document["@context"].items():
        assert exported["@context"][term] == value or term in ("name", "description"), term  # 1.1 redefines those
    for name, value in document.items():
        if name not in ("@context", "conformsTo") and value != []:
            assert same_shape(exported[name]) == same_shape(value), name

    again = import_document(uow, provider, exported)
    assert stored(db_session, dataset) == before
    assert again.unchanged == [dataset.slug], again.summary()


def test_every_export_passes_mlcroissant_with_no_more_warnings(uow, provider, db_session: Session, tmp_path) -> None:
    pairs = []
    for path in DOCUMENTS:
        report = import_document(uow, provider, json.loads(path.read_text()))
        dataset = listing(db_session, report.created[0])
        out = tmp_path / path.name
        out.write_text(json.dumps(exports.croissant_export(db_session, dataset, None, base_url=BASE_URL, draft=True)))
        pairs.append((path, out))
    report = mlcroissant_report([p for pair in pairs for p in pair])
    for source, exported in pairs:
        given, made = report[str(source)], report[str(exported)]
        assert given["errors"] == [], (source.name, given["errors"])
        assert made["errors"] == [], (source.name, made["errors"])
        assert len(made["warnings"]) <= len(given["warnings"]), (source.name, made["warnings"])
