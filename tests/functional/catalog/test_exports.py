"""Metadata exports: Croissant (checked by ``mlcroissant validate``), the DCAT feed (parsed with rdflib), and the
schema.org markup in the page."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from rdflib import Namespace
from sqlmodel import Session, col, select

from marketplace.catalog import services
from marketplace.catalog.models import Dataset
from marketplace.catalog.vocab import PUBLIC_STATUSES, OfferingType
from marketplace.seed import seed_demo
from tests.functional.catalog.conftest import sha

DCAT = Namespace("http://www.w3.org/ns/dcat#")
MLCROISSANT = Path(sys.executable).with_name("mlcroissant")


@pytest.fixture()
def seeded(app, uow, db_session: Session) -> list[str]:
    with app.app_context():
        seed_demo(uow)
        db_session.flush()
    # The listings with files: a custom-collection service has none for Croissant to describe.
    return list(
        db_session.exec(
            select(Dataset.slug).where(
                col(Dataset.status).in_(PUBLIC_STATUSES), Dataset.offering_type == OfferingType.OFF_THE_SHELF
            )
        )
    )


def _validate(path: Path) -> tuple[Path, int, str]:
    # The real command line, in its own process: mlcroissant never runs inside the web process.
    done = subprocess.run(
        [str(MLCROISSANT), "validate", "--jsonld", str(path)], capture_output=True, text=True, timeout=120, check=False
    )
    return path, done.returncode, done.stdout + done.stderr


def test_every_seeded_dataset_passes_mlcroissant_validate(
    client, seeded: list[str], db_session: Session, tmp_path
) -> None:
    assert len(seeded) >= 8
    paths = []
    for slug in seeded:
        response = client.get(f"/datasets/{slug}/croissant.json")
        assert response.status_code == 200 and response.mimetype == "application/ld+json"
        document = response.get_json(force=True)
        dataset = services.get_published_dataset(db_session, slug)
        files = services.version_files(db_session, services.get_version(db_session, dataset, None))
        objects = [d for d in document["distribution"] if d["@type"] == "cr:FileObject"]
        assert [(o["name"], o["sha256"]) for o in objects] == [(f.path, f.sha256) for f in files]
        assert document["conformsTo"] == [
            "http://mlcommons.org/croissant/1.1",
            "http://mlcommons.org/croissant/RAI/1.0",
        ]
        for key in (
            "rai:dataCollection",
            "rai:dataCollectionType",
            "rai:personalSensitiveInformation",
            "rai:dataBiases",
            "rai:dataLimitations",
        ):
            assert document.get(key), f"{slug} lacks {key}"
        path = tmp_path / f"{slug}.json"
        path.write_text(response.get_data(as_text=True))
        paths.append(path)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(_validate, paths))
    failures = [(path.name, output[-2000:]) for path, code, output in results if code != 0]
    assert not failures, failures


def test_mlcroissant_rejects_a_broken_document(tmp_path) -> None:
    # The check above can fail: a document that is not a Dataset is refused.
    path = tmp_path / "broken.json"
    path.write_text(json.dumps({"@context": {}, "@type": "sc:Thing", "name": "broken"}))
    assert _validate(path)[1] != 0


def test_croissant_of_an_older_version(app, client, catalog, uow) -> None:
    dataset = catalog.published(title="Versioned corpus")
    _, user = catalog.provider()
    newer = services.add_version(
        uow,
        user,
        dataset,
        version="1.1.0",
        files=[{"path": "v2.csv", "size_bytes": 3, "sha256": sha("v2"), "media_type": "text/csv"}],
    )
    with app.app_context():
        services.publish_version(uow, user, dataset, newer)
        uow.session.flush()
    latest = client.get(f"/datasets/{dataset.slug}/croissant.json").get_json(force=True)
    older = client.get(f"/datasets/{dataset.slug}/croissant.json?version=1.0.0").get_json(force=True)
    assert latest["version"] == "1.1.0" and [d["name"] for d in latest["distribution"]] == ["v2.csv"]
    assert older["version"] == "1.0.0" and len(older["distribution"]) == 2
    assert client.get(f"/datasets/{dataset.slug}/croissant.json?version=9.9.9").status_code == 404
    draft = catalog.draft(title="Unpublished")
    assert client.get(f"/datasets/{draft.slug}/croissant.json").status_code == 404


def test_schema_org_markup_is_a_safe_data_block(client, catalog) -> None:
    title = "Tricky </script><script>alert(1)</script> & co"
    dataset = catalog.published(title=title, summary="Summary with <b>tags</b> & ampersands")
    body = client.get(f"/datasets/{dataset.slug}").get_data(as_text=True)
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', body, re.S)
    assert block is not None
    raw = block.group(1)
    assert "<" not in raw and ">" not in raw and "&" not in raw
    data = json.loads(raw)
    assert data["@type"] == "Dataset" and data["name"] == title
    assert data["url"] == f"http://localhost/datasets/{dataset.slug}"
    assert data["subjectOf"]["url"].endswith("/croissant.json")
    assert "<script>alert(1)" not in body  # the visible title is escaped too
