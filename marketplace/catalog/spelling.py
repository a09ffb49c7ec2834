"""Typo tolerance on titles: the words of a search that found nothing, corrected to the closest title words.

When a text search finds no listing, each typed word that is not a word of a published title ("speach",
"recogniton") is replaced by the title word closest to it by trigram similarity ("speech", "recognition"), if one
is close enough; the caller then runs the corrected search and tells the buyer what it searched for instead.
Quoted phrases are left as typed (the buyer asked for those words exactly), and so are short words and numbers.

Similarity is ``pg_trgm``'s: each word is lower-cased and padded (two spaces before, one after), its distinct
3-character sequences are its trigrams, and the similarity of two words is the trigrams they share over the
trigrams either has. It is computed here, in Python, for both databases, so they agree; the databases only find
the candidates, through the index of title words made by migration ``0024_title_trigrams`` (a trigram GIN index
with ``pg_trgm``'s ``%`` operator on PostgreSQL, a table of each title word's trigrams on SQLite). The cost does
not grow with the number of listings, only (slowly) with the number of distinct title words: one indexed lookup
per word that matched nothing.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from marketplace.catalog import search
from marketplace.catalog.search import SearchQuery

#: How close a title word must be to replace a typed word (pg_trgm's own default threshold is 0.3; "speach" and
#: "speech" are 0.4 apart, "radiolgy" and "radiology" 0.58).
MIN_SIMILARITY = 0.35
#: Candidates read from the index per word, closest first, before the exact similarity picks the best.
CANDIDATES = 20
#: Words shorter than this are never corrected: too few trigrams to tell a typo from another word (and a three-letter
#: word is mostly an acronym), and the more title words share their few trigrams, the longer a lookup takes.
MIN_WORD_CHARS = 4
#: At most this many unknown words of one search are looked up (the others stay as typed): the cost is bounded.
MAX_LOOKUPS = 4


def trigrams(word: str) -> frozenset[str]:
    """``pg_trgm``'s trigrams of one word: lower-cased, padded with two spaces before and one after."""
    padded = "  " + unicodedata.normalize("NFKC", word).lower() + " "
    return frozenset(padded[i : i + 3] for i in range(len(padded) - 2))


def similarity(a: str, b: str) -> float:
    """``pg_trgm``'s ``similarity`` of two words: shared trigrams over all trigrams (0 to 1)."""
    first, second = trigrams(a), trigrams(b)
    shared = len(first & second)
    return shared / (len(first) + len(second) - shared) if first or second else 0.0


@dataclass(frozen=True)
class Correction:
    """A search that found nothing (``original``) and the search with its words corrected (``corrected``)."""

    original: SearchQuery
    corrected: SearchQuery
    words: tuple[tuple[str, str], ...]  # (typed, replaced by), in the query's order

    def as_dict(self) -> dict[str, Any]:
        """What the API shows: both texts and each replaced word."""
        return {
            "text": self.corrected.text,
            "original_text": self.original.text,
            "words": [{"typed": typed, "corrected": corrected} for typed, corrected in self.words],
        }


def _correctable(word: str) -> bool:
    return len(word) >= MIN_WORD_CHARS and not word.isdigit()


def _known(session: Session, words: list[str]) -> set[str]:
    table = sa.table("title_word", sa.column("word", sa.String()))
    statement = sa.select(table.c.word).where(table.c.word.in_(words))
    return {str(row[0]) for row in session.execute(statement)}


def _candidates(session: Session, word: str) -> list[tuple[str, int]]:
    """Title words at least :data:`MIN_SIMILARITY` close to ``word``, closest first, with their listing counts."""
    if session.get_bind().dialect.name == "postgresql":
        # ``%`` is true from pg_trgm.similarity_threshold on, through the trigram GIN index: at our threshold (for
        # this transaction), the index drops the far words itself; its default (0.3) lets many more through.
        threshold = sa.text("SELECT set_config('pg_trgm.similarity_threshold', :t, true)")
        session.execute(threshold, {"t": str(MIN_SIMILARITY)})
        statement = sa.text(
            "SELECT word, listings FROM title_word WHERE word % :word "
            "ORDER BY similarity(word, :word) DESC, listings DESC, word LIMIT :n"
        )
        rows = session.execute(statement, {"word": word, "n": CANDIDATES})
        return [(str(found), int(listings)) for found, listings in rows]
    grams = sorted(trigrams(word))
    # A word at least t similar shares at least t × (the typed word's trigrams) of them: count only those.
    needed = max(1, math.ceil(MIN_SIMILARITY * len(grams)))
    statement = sa.text(
        "SELECT title_word.word, title_word.listings, shared.n * 1.0 / (:total + title_word.grams - shared.n) AS score "
        "FROM (SELECT word_id, count(*) AS n FROM title_word_gram "
        "WHERE gram IN :grams GROUP BY word_id HAVING count(*) >= :needed) "
        "AS shared JOIN title_word ON title_word.id = shared.word_id "
        "WHERE shared.n * 1.0 / (:total + title_word.grams - shared.n) >= :threshold "
        "ORDER BY score DESC, title_word.listings DESC, title_word.word LIMIT :n"
    ).bindparams(sa.bindparam("grams", expanding=True))
    params = {"grams": grams, "total": len(grams), "needed": needed, "threshold": MIN_SIMILARITY, "n": CANDIDATES}
    return [(str(found), int(listings)) for found, listings, _ in session.execute(statement, params)]


def closest_title_word(session: Session, word: str) -> str | None:
    """The published title word closest to ``word`` (at least :data:`MIN_SIMILARITY`), or ``None``.

    Ties go to the word more listings have, then to the first in alphabetical order, so both databases agree.
    """
    ranked = sorted(
        (-similarity(word, candidate), -listings, candidate)
        for candidate, listings in _candidates(session, word)
        if candidate != word and search.tokenise(candidate)[0] == (candidate,)
    )
    return ranked[0][2] if ranked and -ranked[0][0] >= MIN_SIMILARITY else None


def correct(session: Session, query: SearchQuery) -> Correction | None:
    """``query`` with each word that is no published title word replaced by the closest one (the first
    :data:`MAX_LOOKUPS` such words), or ``None`` when no word could be corrected. The caller runs the corrected
    search (and shows it only if it finds something)."""
    typed = [term for term in query.terms if _correctable(term)]
    if not typed:
        return None
    known = _known(session, typed)
    if session.get_bind().dialect.name == "postgresql":
        # The index then drops the words below the threshold itself (its default, 0.3, lets far more through).
        session.execute(
            sa.text("SELECT set_config('pg_trgm.similarity_threshold', :t, true)"), {"t": str(MIN_SIMILARITY)}
        )
    replaced: dict[str, str] = {}
    for term in [term for term in typed if term not in known][:MAX_LOOKUPS]:
        closest = closest_title_word(session, term)
        if closest is not None:
            replaced[term] = closest
    if not replaced:
        return None
    terms = list(dict.fromkeys(replaced.get(term, term) for term in query.terms))
    text = " ".join([*terms, *('"' + " ".join(phrase) + '"' for phrase in query.phrases)])
    corrected = search.build_query(text=text, filters=query.filters, sort=query.sort, page=query.page)
    words = tuple((term, replaced[term]) for term in query.terms if term in replaced)
    return Correction(original=query, corrected=corrected, words=words)
