"""What a process keeps of the search index between searches, valid for exactly one generation of the index.

Every write to the index sets a new random generation token in the same transaction
(:func:`marketplace.catalog.search_index.new_generation`). A search reads the token its transaction sees first
(one primary-key read) and, under an unchanged token, reuses:

- the facet dictionary (value ids, names and per-value listing counts), read once per generation instead of once
  per search;
- the engine's answer to a recent search (its counts and its page of ids), up to ``entries`` searches per
  database, least recently used first out.

What is kept under a token was read after that token, so it is never older than what the token promises. A newer
token (a write committed since, or this transaction's own write) starts the database's store afresh. Only the
engine's answer is kept: what the page shows of each listing (titles, prices, providers' names) and the facets'
labels are read again on every search.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TypeVar

from marketplace.catalog.search_engine import Counts, Dictionary

T = TypeVar("T")


@dataclass
class _Generation:
    token: int
    dictionary: Dictionary | None = None
    answers: OrderedDict[Hashable, tuple[Counts, tuple[int, ...]]] = field(default_factory=OrderedDict)


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
        run: Callable[[], tuple[Counts, tuple[int, ...]]],
    ) -> tuple[Counts, tuple[int, ...]]:
        """The engine's answer to the search ``key`` under ``token``: kept, or ``run()`` and kept (at most
        ``entries`` answers per database, the least recently used dropped first)."""
        with self._lock:
            answers = self._current(database, token).answers
            known = answers.get(key)
            if known is not None:
                answers.move_to_end(key)
                return known
        fresh = run()
        with self._lock:
            answers = self._current(database, token).answers
            answers[key] = fresh
            while len(answers) > entries:
                answers.popitem(last=False)
        return fresh

    def clear(self) -> None:
        with self._lock:
            self._by_database.clear()


#: The process's cache (each web worker has its own).
CACHE = IndexCache()
