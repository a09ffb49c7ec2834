"""Relevance: the top three listings of buyers' searches over the demo catalog and a generated one.

The catalog is the demo seed (``marketplace seed``) plus :data:`relevance_corpus.GENERATED`, built once per run in
a database of its own (SQLite, or PostgreSQL with ``TEST_DATABASE_URL``). Each query runs through the same service
as the search page (spelling correction on) and must return its expected top three (fewer when fewer match), in
order unless the case says the order is open. A failure names the query and shows what came back.

Cases that need a part of the search engine not built yet are marked ``xfail(strict=True)`` with the reason: once
that part lands they pass, and the strict mark makes the run fail until the mark is removed. The other cases
use no word that has synonyms, or only synonyms that add no listing, so they pass before and after.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from marketplace import create_app, migrate
from marketplace.accounts.models import Membership, Organisation, OrgKind, Role, User
from marketplace.catalog import search, services
from marketplace.db import UnitOfWork, unit_of_work
from marketplace.seed import seed_demo
from tests.conftest import base_settings, drop_scratch_database, scratch_database_url
from tests.functional.catalog.conftest import ALL_FIELDS, manifest, record
from tests.functional.catalog.relevance_corpus import GENERATED


@dataclass(frozen=True)
class Case:
    """A search and the slugs expected first; ``ordered=False`` when any order of them is right."""

    args: dict[str, Any]
    top: tuple[str, ...]
    ordered: bool = True
    corrected: str | None = None  # the text the search must say it ran instead, when the words are corrected


CASES: dict[str, Case] = {
    # --- one word --------------------------------------------------------------------------------------------------
    "one word in titles": Case(
        {"q": "radiology"}, ("g-chest-xray-reports", "g-ct-organ-masks", "g-mammography-screening")
    ),
    "one word, rare": Case({"q": "dermatology"}, ("g-skin-lesion-photos",)),
    "one word, seed": Case({"q": "parliament"}, ("parliament-speech-de-fr",)),
    "one word, acronym in the title": Case({"q": "ECG"}, ("g-ecg-arrhythmia",)),
    "one word, tags": Case({"q": "telephony"}, ("call-centre-speech-en-es-us",)),
    "one word, title above summary above description": Case(
        {"q": "speech"}, ("custom-clinical-speech-collection", "parliament-speech-de-fr", "call-centre-speech-en-es-us")
    ),
    # --- several words -------------------------------------------------------------------------------------------
    "two words, all must match": Case({"q": "hindi speech"}, ("g-hindi-speech-recognition",)),
    "two words across fields": Case({"q": "lidar warehouses"}, ("warehouse-lidar-point-clouds",)),
    "three words": Case({"q": "court judgments summaries"}, ("g-court-judgment-summaries",)),
    "two words, title and tags": Case({"q": "legal entities"}, ("g-german-legal-entities",)),
    "clinical notes": Case(
        {"q": "clinical notes"}, ("clinical-notes-deidentified-en", "custom-clinical-speech-collection")
    ),
    # --- weighting: title over summary over description ----------------------------------------------------------
    "translation: title above description": Case(
        {"q": "translation"}, ("g-en-fr-parallel", "g-news-entities-multilingual")
    ),
    "recordings: title above description, stems": Case(
        {"q": "recordings"},
        ("g-ecg-arrhythmia", "custom-clinical-speech-collection", "call-centre-speech-en-es-us"),
    ),
    "forecasting: title above description": Case({"q": "forecasting"}, ("g-store-sales", "g-household-load")),
    # --- phrases -------------------------------------------------------------------------------------------------
    "a phrase in quotes": Case({"q": '"point clouds"'}, ("warehouse-lidar-point-clouds", "g-office-point-clouds")),
    "a phrase is adjacent words": Case({"q": '"speech recognition"'}, ("g-hindi-speech-recognition",)),
    "a phrase and a word": Case({"q": '"sign language" video'}, ("g-sign-language-clips",)),
    # --- stemming and plurals ------------------------------------------------------------------------------------
    "plural finds singular": Case({"q": "summaries judgment"}, ("g-court-judgment-summaries",)),
    "singular finds plural": Case({"q": "receipt"}, ("g-receipts-ocr",)),
    "inflections": Case({"q": "annotated recordings"}, ("custom-clinical-speech-collection",)),
    "voices and voice": Case({"q": "voice studio"}, ("g-german-studio-voices",)),
    # --- typos in titles (spelling correction) -------------------------------------------------------------------
    "typos in two words": Case(
        {"q": "speach recogniton"},
        ("g-hindi-speech-recognition", "g-swahili-conversations", "parliament-speech-de-fr"),
        corrected="speech recognition",
    ),
    "a typo in one word": Case(
        {"q": "radiolgy"},
        ("g-chest-xray-reports", "g-ct-organ-masks", "g-mammography-screening"),
        corrected="radiology",
    ),
    "a typo next to a right word": Case(
        {"q": "satelite imagery"}, ("g-satellite-land-cover",), corrected="satellite imagery"
    ),
    "a transposition": Case({"q": "mammogrpahy"}, ("g-mammography-screening",), corrected="mammography"),
    "a typo in a seed title": Case(
        {"q": "turbin vibraton"}, ("wind-turbine-vibration",), corrected="turbine vibration"
    ),
    # --- facet filters with text ---------------------------------------------------------------------------------
    "text and modality": Case(
        {"q": "speech", "modality": "audio", "language": "de"},
        ("parliament-speech-de-fr", "g-german-studio-voices"),
    ),
    "text and task": Case(
        {"q": "images", "task": "segmentation"},
        ("g-satellite-land-cover", "g-ct-organ-masks", "urban-street-scenes-boxes"),
        ordered=False,
    ),
    "text and language": Case({"q": "reviews", "language": "fr"}, ("g-product-reviews-sentiment",)),
    "text, task and modality": Case(
        {"q": "driving", "task": "detection", "modality": "point_cloud"}, ("g-automotive-lidar",)
    ),
    "a typo and a filter": Case(
        {"q": "recogniton", "language": "hi"}, ("g-hindi-speech-recognition",), corrected="recognition"
    ),
    # --- prefixes: the start of a word, as a buyer types it ------------------------------------------------------
    "a prefix": Case(
        {"q": "segm"},
        ("g-ct-organ-masks", "g-satellite-land-cover", "urban-street-scenes-boxes"),
        ordered=False,
    ),
    "a prefix after a word": Case({"q": "speech recog"}, ("g-hindi-speech-recognition",)),
    "a prefix of a seed word": Case({"q": "warehou"}, ("warehouse-lidar-point-clouds",)),
    # --- synonyms ------------------------------------------------------------------------------------------------
    "ASR finds speech recognition": Case(
        {"q": "ASR"},
        ("g-hindi-speech-recognition", "g-swahili-conversations", "parliament-speech-de-fr"),
        ordered=False,
    ),
    "speech recognition finds ASR": Case(
        {"q": "speech recognition"},
        ("g-hindi-speech-recognition", "g-swahili-conversations", "parliament-speech-de-fr"),
        ordered=False,
    ),
    "text to speech finds TTS": Case(
        {"q": "text to speech"},
        ("g-german-studio-voices", "parliament-speech-de-fr"),
        ordered=False,
    ),
    "NER finds named entity recognition": Case(
        {"q": "NER"},
        ("g-german-legal-entities", "g-news-entities-multilingual", "clinical-notes-deidentified-en"),
        ordered=False,
    ),
    "OCR finds optical character recognition": Case(
        {"q": "OCR"}, ("g-receipts-ocr", "g-handwritten-forms"), ordered=False
    ),
    "large language models finds LLM": Case(
        {"q": "large language models"},
        ("g-reasoning-benchmark", "instruction-pairs-starter", "consented-voice-prompts"),
        ordered=False,
    ),
    "point cloud finds lidar": Case(
        {"q": "lidar"},
        ("warehouse-lidar-point-clouds", "g-automotive-lidar", "g-office-point-clouds"),
        ordered=False,
    ),
    "object detection finds bounding boxes": Case(
        {"q": "object detection"},
        ("g-shelf-object-detection", "g-aerial-vehicle-boxes", "urban-street-scenes-boxes"),
        ordered=False,
    ),
}


@pytest.fixture(scope="module")
def relevance_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Any, Any]]:
    """The demo catalog and the generated listings, committed once in a database of their own."""
    tmp_path = tmp_path_factory.mktemp("relevance")
    url = scratch_database_url(tmp_path, "relevance")
    migrate.upgrade(url)
    app = create_app(base_settings(tmp_path, url))
    database, context = app.extensions["marketplace.db"], app.extensions["marketplace.context"]
    try:
        with app.app_context(), unit_of_work(database, context) as uow:
            seed_demo(uow)
            _generate(uow)
        yield app, database, context
    finally:
        database.dispose()
        drop_scratch_database(url)


def _generate(uow: UnitOfWork) -> None:
    session = uow.session
    now = uow.now()
    admin = session.exec(select(User).where(User.is_platform_admin == True)).first()  # noqa: E712
    assert admin is not None
    org = Organisation(slug="generated-labs", name="Generated Labs", kind=OrgKind.PROVIDER)
    user = User(email="generated@example.org", password_hash="x", email_verified_at=now)
    session.add_all([org, user])
    session.flush()
    session.add(Membership(organisation_id=org.id, user_id=user.id, role=Role.OWNER))  # type: ignore[arg-type]
    session.flush()
    for index, listing in enumerate(GENERATED):
        data = record(
            title=listing.title,
            summary=listing.summary,
            tags=list(listing.tags),
            description=listing.description,
            modality=listing.modality,
            modality_details={},
            tasks=list(listing.tasks),
            languages=list(listing.languages),
        )
        dataset = services.new_dataset(uow, user, org, title=data["title"], slug=listing.slug)
        services.apply_record(uow, dataset, data, ALL_FIELDS)
        services.add_version(uow, user, dataset, version="1.0.0", files=manifest(listing.slug))
        services.submit_for_review(uow, user, dataset)
        services.approve(uow, admin, dataset)
        dataset.published_at = now - timedelta(days=100 + index)  # older than the demo catalog, a day apart
        session.add(dataset)
    session.flush()


def _run(relevance_db: tuple[Any, Any, Any], args: dict[str, Any]) -> tuple[list[str], int, str | None]:
    app, database, context = relevance_db
    query = search.parse_search({name: [value] for name, value in args.items()})
    with app.app_context(), unit_of_work(database, context) as uow:
        found = services.search_catalog(uow, query, with_facets=False, correct_spelling=True)
        slugs = [hit["dataset"].slug for hit in found.hits]
        corrected = found.correction.corrected.text if found.correction else None
        return slugs, found.results.total, corrected


def _params() -> list[Any]:
    return [pytest.param(case, id=name) for name, case in CASES.items()]


@pytest.mark.parametrize("case", _params())
def test_top_three(relevance_db: tuple[Any, Any, Any], case: Case) -> None:
    slugs, total, corrected = _run(relevance_db, case.args)
    top = tuple(slugs[:3])
    shown = f"search {case.args!r} returned {total} listing(s), first {slugs[:6]} (corrected to {corrected!r})"
    assert len(case.top) == min(3, total), f"expected {len(case.top)} result(s) at the top; {shown}"
    if case.ordered:
        assert top == case.top, f"expected top {list(case.top)}; {shown}"
    else:
        assert set(top) == set(case.top), f"expected top {sorted(case.top)} in any order; {shown}"
    assert corrected == case.corrected, f"expected the words corrected to {case.corrected!r}; {shown}"


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 30
    assert all(len(case.top) <= 3 for case in CASES.values())
