"""What the catalog's pages and the API show: search results (the one search entry point), the dataset page,
the provider's dashboard."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, TypeVar, cast

import sqlalchemy as sa
from sqlmodel import Session, col, select

from marketplace.accounts.models import Organisation
from marketplace.aiact.models import AiActSignOff
from marketplace.aiact.status import complete_versions
from marketplace.catalog import search, search_cache, search_index, spelling, vocab
from marketplace.catalog.croissant import store as croissant_store
from marketplace.catalog.models import (
    Dataset,
    DatasetFile,
    DatasetVersion,
)
from marketplace.catalog.search import SearchQuery, SearchResults
from marketplace.catalog.services import discovery
from marketplace.catalog.services.reading import (
    completeness,
    events_of,
    organisation_of,
    samples_of,
    versions_of,
)
from marketplace.catalog.services.records import dataset_record, terms_of
from marketplace.catalog.services.samples import sample_kind
from marketplace.catalog.vocab import DatasetStatus, Modality, StorageRegion, VersionStatus
from marketplace.db import UnitOfWork

# --- page data ---------------------------------------------------------------------------------------------------

MANIFEST_PREVIEW_FILES = 50
SAMPLE_TEXT_PREVIEW_BYTES = 4096


def search_hits(session: Session, dataset_ids: Sequence[int]) -> list[dict[str, Any]]:
    """What a result card shows for each id, in the given order: dataset, provider, list fields, latest version,
    the versions whose AI Act documentation is complete, and its price, licenses, size and AI-training facts
    (``facts``, :class:`~marketplace.catalog.services.discovery.CardFacts`). A fixed number of queries for the
    whole page, however many cards."""
    if not dataset_ids:
        return []
    ids = list(dataset_ids)
    rows = session.exec(
        select(Dataset, Organisation)
        .join(Organisation, col(Organisation.id) == Dataset.organisation_id)
        .where(col(Dataset.id).in_(ids))
    ).all()
    by_id = {dataset.id: (dataset, org) for dataset, org in rows}
    terms = terms_of(session, ids)
    latest, documented = _published_versions(session, ids)
    facts = discovery.card_facts(session, [dataset for dataset, _ in rows])
    return [
        {
            "dataset": by_id[i][0],
            "org": by_id[i][1],
            "terms": terms[i],
            "latest_version": latest.get(i),
            # The published versions whose AI Act documentation is complete (signed off), newest first.
            "ai_act_complete": documented.get(i, []),
            "facts": facts[i],
        }
        for i in ids
        if i in by_id
    ]


def _published_versions(session: Session, ids: Sequence[int]) -> tuple[dict[int, str], dict[int, list[str]]]:
    """For each of ``ids``: its latest published version's label, and the labels of its published versions whose
    AI Act documentation is signed off, newest first (as :func:`~marketplace.aiact.status.complete_versions`).
    One query of two columns and a flag per published version."""
    rows = session.execute(
        sa.select(col(DatasetVersion.dataset_id), col(DatasetVersion.version), col(AiActSignOff.id).is_not(None))
        .outerjoin(AiActSignOff, col(AiActSignOff.version_id) == DatasetVersion.id)
        .where(col(DatasetVersion.dataset_id).in_(ids), col(DatasetVersion.status) == VersionStatus.PUBLISHED)
    )
    latest: dict[int, str] = {}
    signed: dict[int, list[str]] = {}
    for dataset_id, label, signed_off in rows:
        known = latest.get(dataset_id)
        if known is None or vocab.semver_key(label) > vocab.semver_key(known):
            latest[dataset_id] = label
        if signed_off:
            signed.setdefault(dataset_id, []).append(label)
    return latest, {i: sorted(labels, key=vocab.semver_key, reverse=True) for i, labels in signed.items()}


def home_page(session: Session, now: datetime) -> dict[str, Any]:
    """The home page: the newest and the most popular published listings as cards (popular: most licenses issued
    in the last 90 days, topped up with the newest, see :func:`discovery.popular_ids`), and the modality and
    industry tiles with their counts from the search index's facet dictionary."""
    newest, popular = discovery.newest_ids(session), discovery.popular_ids(session, now)
    # One batch of card data for both lists (they often share listings).
    cards = {hit["dataset"].id: hit for hit in search_hits(session, list(dict.fromkeys([*popular, *newest])))}
    return {
        "new": [cards[i] for i in newest if i in cards],
        "popular": [cards[i] for i in popular if i in cards],
        "tiles": discovery.facet_tiles(session),
    }


def dataset_page(session: Session, dataset: Dataset) -> dict[str, Any]:
    """Everything the public dataset page shows: the data card, published versions with manifests, samples."""
    org = organisation_of(session, dataset)
    record = dataset_record(session, dataset)
    versions = versions_of(session, dataset)
    manifests = {}
    for version in versions:
        files = session.exec(
            select(DatasetFile)
            .where(DatasetFile.version_id == version.id)
            .order_by(col(DatasetFile.path))
            .limit(MANIFEST_PREVIEW_FILES)
        ).all()
        manifests[version.id] = list(files)
    samples = samples_of(session, dataset)
    kinds = {s.id: sample_kind(s) for s in samples}
    texts = {
        s.id: s.content[:SAMPLE_TEXT_PREVIEW_BYTES].decode("utf-8", errors="replace")
        for s in samples
        if kinds[s.id] == "text"
    }
    return {
        "dataset": dataset,
        "org": org,
        "record": record,
        "versions": versions,
        "manifests": manifests,
        "samples": samples,
        "sample_kinds": kinds,
        "sample_texts": texts,
        "preview_limit": MANIFEST_PREVIEW_FILES,
        "ai_act_complete": complete_versions(session, [dataset.id]).get(dataset.id, []) if dataset.id else [],
        # Versions withdrawn from (files or records taken out): still listed, marked, with their patched version.
        "withdrawals": _withdrawals_shown(session, dataset, versions),
        **croissant_parts(session, dataset),
    }


def _withdrawals_shown(session: Session, dataset: Dataset, versions: list[DatasetVersion]) -> dict[int, dict[str, Any]]:
    from marketplace.withdrawals.lookup import withdrawals_by_version  # withdrawals builds on the catalog

    if dataset.id is None:
        return {}
    labels = {v.id: v.version for v in versions}
    shown = {}
    for version_id, withdrawal in withdrawals_by_version(session, dataset.id).items():
        patched = labels.get(withdrawal.patched_version_id) if withdrawal.patch_published_at else None
        shown[version_id] = {"reason": withdrawal.reason.label, "on": withdrawal.filed_at, "patched": patched}
    return shown


def manage_page(session: Session, dataset: Dataset) -> dict[str, Any]:
    """The provider's dashboard: status, what is missing, every version (drafts too), samples and history."""
    return {
        "dataset": dataset,
        "org": organisation_of(session, dataset),
        "versions": versions_of(session, dataset, include_drafts=True),
        "samples": samples_of(session, dataset),
        "events": events_of(session, dataset),
        "missing": completeness(session, dataset) if dataset.status is DatasetStatus.DRAFT else [],
        **croissant_parts(session, dataset),
    }


def croissant_parts(session: Session, dataset: Dataset) -> dict[str, Any]:
    """What a listing keeps of its Croissant description, for its pages: the record sets as readable tables
    (``schema``) and the declared files with what uploads fulfil them (``declared``)."""
    profile = croissant_store.profile_of(session, dataset)
    return {
        "schema": croissant_store.schema_tables(profile.record_sets) if profile else [],
        "declared": croissant_store.declared_files(session, dataset),
    }


class CatalogSearch(NamedTuple):
    """A search's results, each hit's card data in order, and the spelling correction it was run with, if any."""

    results: SearchResults
    hits: list[dict[str, Any]]
    correction: spelling.Correction | None = None


def search_catalog(
    uow: UnitOfWork, query: SearchQuery, *, with_facets: bool = True, correct_spelling: bool = False
) -> CatalogSearch:
    """The one way the catalog is searched, by the page and by the API: run ``query`` (counts exact up to the
    ``SEARCH_EXACT_COUNT_LIMIT`` setting) and return the results with each hit's card data in order.

    With ``correct_spelling``, a text search that finds nothing is run again with its words corrected to the
    closest title words (:func:`marketplace.catalog.spelling.correct`); when that finds listings, they are the
    results, and ``correction`` says what was searched for instead. Otherwise the empty results stand.

    With the ``SEARCH_CACHE_ENTRIES`` setting, the engine's answers and the cards are kept while the search index is
    unchanged (:mod:`marketplace.catalog.search_cache`).
    """
    results = _run(uow, query, with_facets)
    if correct_spelling and results.total == 0 and query.terms:
        correction = spelling.correct(uow.session, query)
        if correction is not None:
            corrected = _run(uow, correction.corrected, with_facets)
            if corrected.total > 0:
                return CatalogSearch(corrected, _cards(uow, corrected), correction)
    return CatalogSearch(results, _cards(uow, results))


T = TypeVar("T")


def shown_search(
    uow: UnitOfWork,
    query: SearchQuery,
    show: Callable[[CatalogSearch], T],
    *,
    variant: Hashable,
    with_facets: bool = True,
    correct_spelling: bool = False,
) -> T:
    """``show`` of :func:`search_catalog`'s answer to ``query``: with the ``SEARCH_CACHE_ENTRIES`` setting, what it
    made is kept while the search index is unchanged, and given again for the same search (its text as typed, which
    its words and phrases come from; its filters in order, sort, page, ``with_facets``, ``correct_spelling``) and
    ``variant``, without searching or showing again (:mod:`marketplace.catalog.search_cache`).

    ``show`` must make the same for every viewer: ``variant`` holds everything it depends on besides the search and
    what the index holds (the site's base path, a signing key), and nothing about a viewer may go into it.
    """
    entries = int(uow.settings.get("SEARCH_CACHE_ENTRIES") or 0)

    def fresh() -> tuple[T, int | None]:
        found = search_catalog(uow, query, with_facets=with_facets, correct_spelling=correct_spelling)
        return show(found), found.results.generation

    session = uow.session
    search_index.sync(session)  # this session's own changes first, as the search itself does
    token = search_index.generation(session.connection()) if entries > 0 else None
    if token is None:
        return fresh()[0]
    database = search.database_key(session)
    filters = tuple((name, tuple(values)) for name, values in query.filters.items())
    key = (query.text, filters, query.sort, query.page, with_facets, correct_spelling, variant)
    kept = search_cache.CACHE.kept_shown(database, token, key)
    if kept is not None:
        return cast(T, kept)
    made, generation = fresh()
    if generation is not None:  # kept under the token its answer holds for (a write may have come in between)
        search_cache.CACHE.keep_shown(database, generation, key, entries, made)
    return made


def _cards(uow: UnitOfWork, results: SearchResults) -> list[dict[str, Any]]:
    """:func:`search_hits` of the results, through the cache when it is on (as many cards as answers)."""
    entries = int(uow.settings.get("SEARCH_CACHE_ENTRIES") or 0)
    if results.generation is None or entries <= 0 or not results.dataset_ids:
        return search_hits(uow.session, results.dataset_ids)
    session = uow.session
    return search_cache.CACHE.cards(
        search.database_key(session),
        results.generation,
        results.dataset_ids,
        entries,
        lambda missing: _detached_hits(session, missing),
    )


@dataclass(frozen=True, slots=True)
class CardListing:
    """What a result card (``catalog/_macros.html``) and the API's search hit read of a listing: a kept card holds
    this instead of the database row (no session, and a few objects for the garbage collector to walk instead of
    the hundreds of a row with its JSON fields)."""

    id: int
    slug: str
    title: str
    summary: str
    status: DatasetStatus
    modality: Modality | None
    storage_region: StorageRegion | None
    published_at: datetime | None


@dataclass(frozen=True, slots=True)
class CardProvider:
    """What a result card and the API's search hit read of the provider."""

    slug: str
    name: str


def _detached_hits(session: Session, ids: list[int]) -> tuple[dict[int, dict[str, Any]], set[int]]:
    """The cards of ``ids`` by id, as plain values (:class:`CardListing`, :class:`CardProvider`, tuples), all of
    them to be kept."""
    cards: dict[int, dict[str, Any]] = {}
    for hit in search_hits(session, ids):
        dataset, org = hit["dataset"], hit["org"]
        listing = CardListing(
            id=dataset.id,
            slug=dataset.slug,
            title=dataset.title,
            summary=dataset.summary,
            status=dataset.status,
            modality=dataset.modality,
            storage_region=dataset.storage_region,
            published_at=dataset.published_at,
        )
        cards[dataset.id] = {
            **hit,
            "dataset": listing,
            "org": CardProvider(slug=org.slug, name=org.name),
            "terms": {name: tuple(values) for name, values in hit["terms"].items()},
            "ai_act_complete": tuple(hit["ai_act_complete"]),
        }
    return cards, set(cards)


def _run(uow: UnitOfWork, query: SearchQuery, with_facets: bool) -> SearchResults:
    limit = int(uow.settings.get("SEARCH_EXACT_COUNT_LIMIT") or search.DEFAULT_EXACT_COUNT_LIMIT)
    entries = int(uow.settings.get("SEARCH_CACHE_ENTRIES") or 0)
    return search.search(uow.session, query, with_facets=with_facets, exact_count_limit=limit, cache_entries=entries)
