"""What a process keeps of the search index between searches, valid for exactly one generation of the index.

Every write to the index sets a new random generation token in the same transaction
(:func:`marketplace.catalog.search_index.new_generation`). A search reads the token its transaction sees first
(one primary-key read) and, under an unchanged token, reuses:

- the facet dictionary (value ids, names and per-value listing counts), read once per generation instead of once
  per search;
- the answer to a recent search (its page of ids, its counts and the facets as shown, labels included), up to
  ``entries`` searches per database, least recently used first out;
- what a result card shows of a listing (:func:`marketplace.catalog.services.pages.search_hits`), for up to
  as many listings. Everything a card shows is read from what feeds the index (the listing, its terms, its
  provider, its offers, its published versions and their AI Act sign-offs: each a source of the index or of a
  facet), so a write to any of it sets a new token too;
- what a search shows as a whole, made from one of those answers and its cards (the search page's rendered
  results, the API's serialised answer), for up to as many searches. The caller's key must hold everything it was
  made from besides the index: only what is the same for every viewer may be kept so.

What is kept under a token was read after that token, so it is never older than what the token promises. A newer
token (a write committed since, or this transaction's own write) starts the database's store afresh. A facet's
labels must come from what feeds the index too (today: vocabularies, and providers' names for the provider facet,
whose source is the organisation).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from marketplace.catalog.search_engine import Dictionary

T = TypeVar("T")


@dataclass
class _Generation:
    token: int
    dictionary: Dictionary | None = None
    answers: OrderedDict[Hashable, Any] = field(default_factory=OrderedDict)
    cards: OrderedDict[int, dict[str, Any]] = field(default_factory=OrderedDict)
    shown: OrderedDict[Hashable, Any] = field(default_factory=OrderedDict)


class IndexCache:
    """The dictionaries and recent answers of every database this process searches, by database and token."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_database: dict[str, _Generation] = {}

    def _current(self, database: str, token: int) -> _Generation:
        kept = self._by_database.get(database)
        if kept is None or kept.token != token:
            kept = self._by_database[database] = _Generation(token)
        return kept

    def dictionary(self, database: str, token: int, read: Callable[[], Dictionary]) -> Dictionary:
        """The dictionary of ``database`` under ``token``: kept, or ``read()`` and kept."""
        with self._lock:
            known = self._current(database, token).dictionary
        if known is not None:
            return known
        fresh = read()
        with self._lock:
            self._current(database, token).dictionary = fresh
        return fresh

    def answer(
        self,
        database: str,
        token: int,
        key: Hashable,
        entries: int,
        run: Callable[[], T],
    ) -> T:
        """The answer to the search ``key`` under ``token``: kept, or ``run()`` and kept (at most ``entries``
        answers per database, the least recently used dropped first)."""
        with self._lock:
            answers = self._current(database, token).answers
            if key in answers:
                answers.move_to_end(key)
                return cast(T, answers[key])
        fresh = run()
        with self._lock:
            answers = self._current(database, token).answers
            answers[key] = fresh
            while len(answers) > entries:
                answers.popitem(last=False)
        return fresh

    def kept_shown(self, database: str, token: int, key: Hashable) -> Any | None:
        """What was kept by :meth:`keep_shown` under ``token`` and ``key``, or None."""
        with self._lock:
            kept = self._by_database.get(database)
            if kept is None or kept.token != token or key not in kept.shown:
                return None
            kept.shown.move_to_end(key)
            return kept.shown[key]

    def keep_shown(self, database: str, token: int, key: Hashable, entries: int, value: Any) -> None:
        """Keep ``value``, made from what the index held under ``token``, as what ``key`` shows (at most ``entries``
        per database, the least recently used dropped first)."""
        with self._lock:
            shown = self._current(database, token).shown
            shown[key] = value
            while len(shown) > entries:
                shown.popitem(last=False)

    def cards(
        self,
        database: str,
        token: int,
        ids: Sequence[int],
        entries: int,
        load: Callable[[list[int]], tuple[dict[int, dict[str, Any]], set[int]]],
    ) -> list[dict[str, Any]]:
        """The cards of ``ids`` in order (those that exist) under ``token``: kept ones, and the others from
        ``load(missing)``, which returns them by id and which of them may be kept (at most ``entries`` cards are
        kept per database, the least recently used dropped first)."""
        with self._lock:
            kept = self._current(database, token).cards
            found = {i: kept[i] for i in ids if i in kept}
            for i in found:
                kept.move_to_end(i)
        missing = [i for i in ids if i not in found]
        if missing:
            loaded, keep = load(missing)
            found.update(loaded)
            with self._lock:
                kept = self._current(database, token).cards
                for i in keep:
                    kept[i] = loaded[i]
                while len(kept) > entries:
                    kept.popitem(last=False)
        return [found[i] for i in ids if i in found]

    def clear(self) -> None:
        with self._lock:
            self._by_database.clear()


#: The process's cache (each web worker has its own).
CACHE = IndexCache()
