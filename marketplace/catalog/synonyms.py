"""Search synonyms: the modality and task words buyers use for the same thing ("ASR", "speech recognition").

A query's words are grouped by :func:`expand`: each :class:`TermGroup` covers one word the buyer typed (or a run
of words that make a known multi-word term) and lists the alternatives that match it. The first alternative is
always what was typed (its words must all occur, anywhere); the others come from :data:`SYNONYMS` and are phrases
(their words must occur together, in order). A listing matches the query when it matches one alternative of every
group. The search engine builds its full-text conditions and its relevance from these groups, the same way on
SQLite and PostgreSQL.

Entries are written lower-case, after the tokeniser's normalisation (NFKC, stop words dropped), so "text to
speech" is written ``text speech``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Alternative:
    """Words that together match a group: adjacent and in order when ``phrase``, anywhere otherwise."""

    words: tuple[str, ...]
    phrase: bool = False


@dataclass(frozen=True)
class TermGroup:
    """One unit of the query: the typed words first, then their synonyms."""

    alternatives: tuple[Alternative, ...]

    @property
    def typed(self) -> Alternative:
        return self.alternatives[0]


# Each set lists terms that mean the same thing; a term is its words separated by spaces. A term belongs to one set
# only. Every modality and task of :mod:`marketplace.catalog.vocab` is covered (the test checks it), under its
# label's words or the jargon buyers type for it; acronyms are listed with their plural where buyers write one.
SYNONYMS: tuple[frozenset[str], ...] = (
    # --- tasks ---------------------------------------------------------------------------------------------------
    frozenset({"asr", "stt", "speech recognition", "automatic speech recognition", "speech text"}),
    frozenset({"tts", "text speech", "speech synthesis", "voice synthesis"}),
    frozenset({"ner", "named entity recognition", "entity recognition", "entity extraction"}),
    frozenset({"classification", "categorisation", "categorization"}),
    frozenset({"image classification", "image categorisation", "image categorization", "image recognition"}),
    frozenset({"text classification", "text categorisation", "text categorization", "document classification"}),
    frozenset({"sentiment analysis", "sentiment classification", "opinion mining"}),
    frozenset({"object detection", "bounding boxes", "bounding box", "2d boxes", "object localisation"}),
    frozenset({"segmentation", "segmentation masks", "pixel masks", "pixel labels"}),
    frozenset({"instruction tuning", "instruction following", "sft", "supervised fine tuning"}),
    frozenset({"preference", "preference pairs", "rlhf", "reinforcement learning human feedback", "human feedback"}),
    frozenset({"dpo", "direct preference optimisation", "direct preference optimization"}),
    frozenset({"evaluation benchmark", "benchmark", "benchmarks", "eval set", "evaluation set", "test set"}),
    frozenset({"retrieval", "information retrieval", "semantic search", "dense retrieval"}),
    frozenset({"rag", "retrieval augmented generation"}),
    frozenset({"translation", "machine translation", "mt", "parallel corpus", "parallel corpora", "bitext"}),
    frozenset({"summarisation", "summarization", "summarising", "summarizing"}),
    frozenset({"question answering", "qa", "questions answers"}),
    frozenset({"vqa", "visual question answering"}),
    frozenset({"forecasting", "time series prediction", "demand forecasting"}),
    frozenset({"anomaly detection", "outlier detection", "novelty detection", "fault detection"}),
    frozenset({"tracking", "object tracking", "multi object tracking", "mot"}),
    frozenset({"captioning", "image captioning", "caption generation"}),
    frozenset({"speaker identification", "speaker recognition", "speaker verification", "speaker id"}),
    # --- modalities ----------------------------------------------------------------------------------------------
    frozenset({"text", "textual"}),
    frozenset({"image", "images", "photo", "photos", "photograph", "photographs", "picture", "pictures"}),
    frozenset({"video", "videos", "footage"}),
    frozenset({"audio", "sound recordings", "audio recordings"}),
    frozenset({"multimodal", "multi modal", "vision language", "image text pairs"}),
    frozenset({"tabular", "structured data", "tables"}),
    frozenset({"time series", "timeseries", "temporal sequences"}),
    frozenset({"sensor", "sensors", "iot", "telemetry"}),
    frozenset({"point cloud", "point clouds", "lidar", "3d scans", "laser scans"}),
    # --- common jargon -------------------------------------------------------------------------------------------
    frozenset({"llm", "llms", "large language model", "large language models"}),
    frozenset({"nlp", "natural language processing"}),
    frozenset({"cv", "computer vision"}),
    frozenset({"ocr", "optical character recognition", "text recognition"}),
    frozenset({"pii", "personal data", "personally identifiable information"}),
    frozenset({"ehr", "emr", "electronic health records", "electronic health record", "medical records"}),
    frozenset({"autonomous driving", "self driving", "driverless"}),
    frozenset({"e commerce", "ecommerce", "online retail"}),
    frozenset({"chatbot", "chatbots", "conversational ai", "dialogue systems"}),
)

_BY_TERM: dict[tuple[str, ...], tuple[tuple[str, ...], ...]] = {
    tuple(term.split()): tuple(sorted(tuple(other.split()) for other in group if other != term))
    for group in SYNONYMS
    for term in group
}
_LONGEST = max((len(words) for words in _BY_TERM), default=1)


def expand(terms: Sequence[str]) -> tuple[TermGroup, ...]:
    """Group ``terms`` (the tokeniser's words, in order) with their synonyms; longest known terms first."""
    groups: list[TermGroup] = []
    index = 0
    while index < len(terms):
        for size in range(min(_LONGEST, len(terms) - index), 0, -1):
            words = tuple(terms[index : index + size])
            others = _BY_TERM.get(words)
            if others is not None or size == 1:
                typed = Alternative(words, phrase=False)
                synonyms = tuple(Alternative(other, phrase=len(other) > 1) for other in others or ())
                groups.append(TermGroup((typed, *synonyms)))
                index += size
                break
    return tuple(groups)
