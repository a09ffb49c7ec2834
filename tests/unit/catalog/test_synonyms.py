"""Synonyms: how a query's words are grouped with the terms that mean the same, and what the vocabulary covers."""

from __future__ import annotations

import pytest

from marketplace.catalog import synonyms
from marketplace.catalog.search import tokenise
from marketplace.catalog.synonyms import SYNONYMS, Alternative, TermGroup, expand
from marketplace.catalog.vocab import Modality, Task


def alternatives(group: TermGroup) -> set[tuple[str, ...]]:
    return {alternative.words for alternative in group.alternatives}


def words_of(text: str) -> tuple[str, ...]:
    terms, phrases = tokenise(text)
    assert not phrases
    return terms


def test_an_acronym_expands_to_its_multi_word_terms_as_phrases() -> None:
    (group,) = expand(("asr",))
    assert group.typed == Alternative(("asr",), phrase=False)
    assert Alternative(("speech", "recognition"), phrase=True) in group.alternatives
    assert Alternative(("stt",), phrase=False) in group.alternatives


def test_a_multi_word_term_is_one_group_and_finds_its_acronym() -> None:
    groups = expand(words_of("speech recognition corpus"))
    assert len(groups) == 2
    assert groups[0].typed == Alternative(("speech", "recognition"), phrase=False)
    assert ("asr",) in alternatives(groups[0])
    assert groups[1].alternatives == (Alternative(("corpus",)),)


def test_the_longest_known_term_wins() -> None:
    (group,) = expand(words_of("automatic speech recognition"))
    assert group.typed.words == ("automatic", "speech", "recognition")
    assert ("asr",) in alternatives(group)
    # "image classification" is its own term, not "image" followed by "classification".
    (group,) = expand(words_of("image classification"))
    assert ("image", "recognition") in alternatives(group)
    assert ("photos",) not in alternatives(group)


def test_a_term_is_never_its_own_synonym() -> None:
    for term_set in SYNONYMS:
        for term in term_set:
            (group,) = expand(tuple(term.split()))
            others = [a.words for a in group.alternatives[1:]]
            assert tuple(term.split()) not in others, term
            assert len(others) == len(term_set) - 1, term


def test_stop_words_are_already_gone_when_the_words_arrive() -> None:
    assert words_of("text to speech") == ("text", "speech")
    (group,) = expand(words_of("text to speech"))
    assert ("tts",) in alternatives(group) and ("speech", "synthesis") in alternatives(group)
    (group,) = expand(words_of("reinforcement learning from human feedback"))
    assert ("rlhf",) in alternatives(group)
    (group,) = expand(words_of("speech-to-text"))
    assert ("asr",) in alternatives(group)


def test_words_without_synonyms_stay_alone_and_in_order() -> None:
    groups = expand(("dutch", "tts", "radio"))
    assert [g.typed.words for g in groups] == [("dutch",), ("tts",), ("radio",)]
    assert len(groups[0].alternatives) == 1 and len(groups[2].alternatives) == 1
    assert expand(()) == ()


def test_every_term_is_written_as_the_tokeniser_writes_it_and_belongs_to_one_set() -> None:
    seen: dict[str, int] = {}
    for index, term_set in enumerate(SYNONYMS):
        assert len(term_set) >= 2
        for term in term_set:
            assert " ".join(words_of(term)) == term, f"{term!r} is not normalised (case, stop words, punctuation)"
            assert term not in seen, f"{term!r} is in two sets"
            seen[term] = index


@pytest.mark.parametrize("value", [*Modality, *Task], ids=lambda v: f"{type(v).__name__}.{v.name}")
def test_every_modality_and_task_has_synonyms(value: Modality | Task) -> None:
    if value is Task.OTHER:
        return
    # The stored value ("point_cloud", "asr") or its label's words ("Object detection") is a known term.
    candidates = {" ".join(words_of(value.value.replace("_", " "))), " ".join(words_of(value.label))}
    label = value.label
    if "(" in label:  # "Speech recognition (ASR)": the words before the brackets, and the acronym inside them
        candidates |= {" ".join(words_of(label.split("(")[0])), " ".join(words_of(label.split("(")[1]))}
    known = {term for term_set in SYNONYMS for term in term_set}
    assert candidates & known, f"none of {sorted(candidates)} has synonyms"


def test_the_longest_term_bounds_the_look_ahead() -> None:
    assert max(len(term.split()) for term_set in SYNONYMS for term in term_set) == synonyms._LONGEST
