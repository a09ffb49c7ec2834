"""Facet counts from the in-memory bitmaps equal the SQL counts, and bitmaps kept by a process follow every kind of
write to the index (from the change log) as a fresh build would; a rolled-back write never advances them; a pruned
log or a rebuild makes them build afresh. On SQLite and PostgreSQL (and, on PostgreSQL, writers committing out of
the order they started in)."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.engine import Connection
from sqlmodel import Session, select

from marketplace import create_app, migrate
from marketplace.catalog import search, search_bitmaps, search_cache, search_counts, search_engine, search_index
from marketplace.catalog.models import Dataset
from marketplace.catalog.vocab import DatasetStatus, Modality, PersonalData
from marketplace.db import UnitOfWork, unit_of_work
from tests.conftest import base_settings, drop_scratch_database, is_postgres, scratch_database_url
from tests.functional.catalog import search_fixture
from tests.functional.catalog.test_search_counts import QUERIES

DATABASE = "test-bitmaps"


@pytest.fixture(autouse=True)
def empty_store() -> Iterator[None]:
    search_bitmaps.STORE.clear()
    search_cache.CACHE.clear()
    yield
    search_bitmaps.STORE.clear()
    search_cache.CACHE.clear()


def _request(args: dict[str, Any]) -> search_engine.Request:
    query = search.parse_search({k: v if isinstance(v, list) else [v] for k, v in args.items()})
    return search._request(query, 1_000_000)


def _same(found: search_bitmaps.Bitmaps | None, fresh: search_bitmaps.Bitmaps) -> None:
    assert found is not None
    assert found.change == fresh.change
    assert found.everything == fresh.everything
    assert {v: b for v, b in found.values.items() if b} == {v: b for v, b in fresh.values.items() if b}


def _fresh(conn: Connection) -> search_bitmaps.Bitmaps:
    label = search_bitmaps.read_label(conn)
    assert label is not None
    return search_bitmaps.build(conn, label)


def _selections(words: search_engine.Dictionary, count: int) -> list[dict[str, Any]]:
    """Random facet selections (one to three facets, one or two values each) over the dictionary's values."""
    by_facet: dict[str, list[str]] = {}
    for facet, value in words.names.values():
        by_facet.setdefault(facet, []).append(value)
    chosen = random.Random(15)
    facets = sorted(by_facet)
    found = []
    for _ in range(count):
        args: dict[str, Any] = {}
        for facet in chosen.sample(facets, chosen.randint(1, min(3, len(facets)))):
            args[facet] = chosen.sample(sorted(by_facet[facet]), min(len(by_facet[facet]), chosen.randint(1, 2)))
        args["sort"] = chosen.choice(["newest", "price"])
        args["page"] = str(chosen.randint(1, 2))
        found.append(args)
    return found


@pytest.fixture()
def searchable(app: Flask, uow: UnitOfWork) -> UnitOfWork:
    with app.app_context():
        search_fixture.build(uow)
    search_index.sync(uow.session)
    return uow


def test_counts_from_bitmaps_equal_the_sql_counts(searchable: UnitOfWork, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search, "PAGE_SIZE", 3)  # several pages, and page 2 is not empty
    session = searchable.session
    dialect = session.get_bind().dialect.name
    words = search_engine.read_dictionary(session)
    bitmaps = _fresh(session.connection())
    browsing = [{k: v for k, v in args.items() if k != "q"} for args in QUERIES]
    compared = 0
    for args in [*browsing, *_selections(words, 60)]:
        request = _request(args)
        counted = search_bitmaps.count(bitmaps, request, words, with_facets=True)
        if counted is None:  # no filter: the dictionary's counts
            assert not request.filters
            continue
        from_bitmaps, matched = counted
        from_sql = search_counts.count(session, dialect, request, words, with_facets=True)
        assert not from_sql.total_estimated
        assert (from_bitmaps.total, from_bitmaps.facets) == (from_sql.total, from_sql.facets), args
        assert not from_bitmaps.total_estimated and not from_bitmaps.estimated
        # The page ordered over the matches' ids is the page the SQL path gives.
        by_sql = search_engine.page_ids(session, dialect, request, words, from_sql.total, from_sql.matches)
        assert search_bitmaps.page(session.connection(), matched, request) == by_sql, args
        compared += 1
    assert compared > 60


def test_a_search_answers_the_same_with_and_without_bitmaps(searchable: UnitOfWork) -> None:
    """Through search(): the bitmaps held are brought up to this transaction's own writes (privately)."""
    database = search.database_key(searchable.session)
    search_bitmaps.STORE._keep(database, _fresh(searchable.session.connection()))
    dataset = searchable.session.exec(select(Dataset).where(Dataset.slug == "dutch-radio")).one()
    dataset.modality = Modality.VIDEO
    searchable.session.add(dataset)
    args = {"modality": ["video", "audio"], "personal_data": "yes"}
    with_bitmaps = search_fixture.run(searchable, args)
    held = search_bitmaps.STORE.held(database)
    assert held is not None and held.change < search_bitmaps.read_change(searchable.session.connection())  # type: ignore[operator]
    search_bitmaps.STORE.clear()
    assert search_fixture.run(searchable, args) == with_bitmaps
    assert with_bitmaps["facets"]["modality"]["video"] == 1


def _write(session: Session, kind: str) -> None:
    """One kind of index write, through the ORM (flushed) or a Core write that is touched, as an import does."""
    if kind == "rebuild":
        search_index.rebuild(session.connection())
        return
    slug = {"publish": "speech-draft", "edit": "dutch-radio", "withdraw": "call-centre", "reimport": "legal-contracts"}
    dataset = session.exec(select(Dataset).where(Dataset.slug == slug[kind])).one()
    if kind == "reimport":
        session.connection().execute(
            sa.update(Dataset)
            .where(Dataset.id == dataset.id)
            .values(personal_data=PersonalData.UNKNOWN, modality=Modality.IMAGE)  # type: ignore[arg-type]
        )
        search_index.touch(session, [int(dataset.id or 0)])
    elif kind == "publish":
        dataset.status = DatasetStatus.PUBLISHED
    elif kind == "withdraw":
        dataset.status = DatasetStatus.WITHDRAWN
    else:
        dataset.modality = Modality.TABULAR
    session.add(dataset)
    search_index.sync(session)


@pytest.mark.parametrize("kind", ["publish", "edit", "withdraw", "reimport"])
def test_bitmaps_brought_up_from_the_log_equal_a_fresh_build(searchable: UnitOfWork, kind: str) -> None:
    conn = searchable.session.connection()
    held = _fresh(conn)
    _write(searchable.session, kind)
    after = _fresh(conn)
    assert after.change == held.change + 1
    assert after.everything != held.everything or after.values != held.values  # the write changed something
    _same(search_bitmaps.advanced(conn, held, after.label), after)


def test_a_rebuild_or_a_pruned_log_cannot_be_followed(searchable: UnitOfWork, monkeypatch: pytest.MonkeyPatch) -> None:
    conn = searchable.session.connection()
    held = _fresh(conn)
    _write(searchable.session, "rebuild")
    assert search_bitmaps.advanced(conn, held, _fresh(conn).label) is None
    held = _fresh(conn)
    monkeypatch.setattr(search_index, "CHANGES_KEPT", 1)
    _write(searchable.session, "edit")
    _write(searchable.session, "withdraw")
    assert search_bitmaps.advanced(conn, held, _fresh(conn).label) is None


# --- a database of its own: real commits, several connections ------------------------------------------------------


@pytest.fixture()
def committed(tmp_path: Path) -> Iterator[Flask]:
    url = scratch_database_url(tmp_path, "bitmaps")
    migrate.upgrade(url)
    application = create_app(base_settings(tmp_path, url))
    with (
        application.app_context(),
        unit_of_work(application.extensions["marketplace.db"], application.extensions["marketplace.context"]) as uow,
    ):
        search_fixture.build(uow)
    yield application
    application.extensions["marketplace.db"].dispose()
    drop_scratch_database(url)


def _engine(app: Flask) -> sa.Engine:
    engine: sa.Engine = app.extensions["marketplace.db"].engine
    return engine


def _reader_agrees(app: Flask) -> search_bitmaps.Bitmaps:
    """A reader's bitmaps (the process's, brought up to date) equal a fresh build, and its search's answer equals
    the SQL path's; returns them."""
    with Session(_engine(app)) as session:
        database = search.database_key(session)
        conn = session.connection()
        found = search_bitmaps.STORE.current(conn, database)
        _same(found, _fresh(conn))
        request = _request({"modality": ["audio", "text", "video", "tabular", "image"], "personal_data": "yes"})
        words = search_engine.read_dictionary(session)
        assert found is not None
        counted = search_bitmaps.count(found, request, words, with_facets=True)
        from_sql = search_counts.count(session, conn.dialect.name, request, words, with_facets=True)
        assert counted is not None
        from_bitmaps = counted[0]
        assert (from_bitmaps.total, from_bitmaps.facets) == (from_sql.total, from_sql.facets)
        return found


@pytest.mark.parametrize("kind", ["publish", "edit", "withdraw", "reimport", "rebuild"])
def test_a_process_holding_old_bitmaps_follows_each_committed_write(committed: Flask, kind: str) -> None:
    before = _reader_agrees(committed)
    with Session(_engine(committed)) as session:
        _write(session, kind)
        session.commit()
    after = _reader_agrees(committed)
    assert after.change == before.change + 1


def test_a_large_catalog_builds_in_the_background_and_counts_by_sql_meanwhile(
    committed: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_bitmaps, "SYNC_BUILD_MAX", 0)
    args = {"modality": ["audio", "text"], "personal_data": "yes"}
    with Session(_engine(committed)) as session:
        uow = UnitOfWork(session, committed.extensions["marketplace.context"])
        by_sql = search_fixture.run(uow, args)
        database = search.database_key(session)
    for _ in range(200):  # the build's thread keeps them when done
        if search_bitmaps.STORE.held(database) is not None:
            break
        time.sleep(0.05)
    assert search_bitmaps.STORE.held(database) is not None
    _reader_agrees(committed)
    with Session(_engine(committed)) as session:
        assert search_fixture.run(UnitOfWork(session, committed.extensions["marketplace.context"]), args) == by_sql


def test_a_pruned_log_makes_the_process_build_afresh(committed: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    before = _reader_agrees(committed)
    monkeypatch.setattr(search_index, "CHANGES_KEPT", 1)
    for kind in ("edit", "withdraw"):
        with Session(_engine(committed)) as session:
            _write(session, kind)
            session.commit()
    assert _reader_agrees(committed).change == before.change + 2


def test_bitmaps_of_another_history_are_neither_served_nor_brought_forward(committed: Flask) -> None:
    """A change number of another history (a database restored from a backup, or made again under the same URL)
    carries another token: bitmaps labelled so are not served at that number, nor patched from this log later."""
    before = _reader_agrees(committed)
    database = search.database_key(Session(_engine(committed)))
    other = search_bitmaps.Label(before.change, before.label.token ^ 1)
    search_bitmaps.STORE.clear()
    search_bitmaps.STORE._keep(database, search_bitmaps.Bitmaps(other, before.everything, {}))
    _reader_agrees(committed)  # the same number, another token: built afresh
    search_bitmaps.STORE.clear()
    search_bitmaps.STORE._keep(database, search_bitmaps.Bitmaps(other, before.everything, {}))
    with Session(_engine(committed)) as session:
        _write(session, "edit")
        session.commit()
    assert _reader_agrees(committed).change == before.change + 1  # not brought forward from the wrong state


def test_a_rolled_back_write_never_advances_the_kept_bitmaps(committed: Flask) -> None:
    before = _reader_agrees(committed)
    with Session(_engine(committed)) as session:
        _write(session, "withdraw")
        args = {"modality": ["audio", "text"], "personal_data": "yes"}
        during = search_fixture.run(UnitOfWork(session, committed.extensions["marketplace.context"]), args)
        assert "call-centre" not in during["slugs"]
        session.rollback()
    held = search_bitmaps.STORE.held(search.database_key(Session(_engine(committed))))
    assert held is not None and held.change == before.change
    with Session(_engine(committed)) as session:  # another write takes the same change number
        _write(session, "edit")
        session.commit()
    _reader_agrees(committed)


@pytest.mark.skipif(not is_postgres(), reason="PostgreSQL only: concurrent writers")
def test_writers_committing_out_of_their_starting_order_leave_a_reader_right(committed: Flask) -> None:
    before = _reader_agrees(committed)
    first, second = Session(_engine(committed)), Session(_engine(committed))
    try:
        second.execute(sa.text("SELECT 1"))  # second starts its transaction first
        _write(first, "withdraw")  # first takes the change row's lock ...
        done = threading.Event()

        def later() -> None:
            _write(second, "edit")  # ... second waits for it, then takes the next number
            second.commit()
            done.set()

        waiting = threading.Thread(target=later)
        waiting.start()
        assert not done.wait(0.5)  # blocked on the row first holds
        _reader_agrees(committed)  # neither is visible yet
        first.commit()
        waiting.join(10)
        assert done.is_set()
        assert _reader_agrees(committed).change == before.change + 2
    finally:
        first.close()
        second.close()
