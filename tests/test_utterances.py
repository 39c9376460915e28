"""Words -> speakers -> utterances, on hand-made words and turns."""

from __future__ import annotations

import pytest

from pipeline.types import SpeakerTurn, Word
from pipeline.utterances import UtteranceOptions, apply_roles, assign_speakers, build_utterances, join_words


def words_at(*spans: tuple[float, float, str]) -> list[Word]:
    return [Word(start, end, f" {text}", 0.9) for start, end, text in spans]


TURNS = [SpeakerTurn(0.0, 3.0, "S0"), SpeakerTurn(3.2, 6.0, "S1"), SpeakerTurn(6.5, 9.0, "S0")]


def test_each_word_gets_the_speaker_it_overlaps_most():
    # "straddles" has 0.3 s in S0's turn and 0.1 s in S1's.
    words = words_at((0.5, 0.9, "hello"), (2.7, 3.3, "straddles"), (3.3, 3.5, "yes"), (7.0, 7.4, "ok"))
    assert assign_speakers(words, TURNS) == ["S0", "S0", "S1", "S0"]


def test_word_outside_every_turn_goes_to_the_nearest_turn():
    words = words_at((6.1, 6.3, "gap-near-S1"), (6.3, 6.45, "gap-near-S0"), (12.0, 12.5, "after-the-end"))
    assert assign_speakers(words, TURNS) == ["S1", "S0", "S0"]


def test_word_inside_overlapped_speech_goes_to_the_newcomer():
    turns = [SpeakerTurn(0.0, 4.0, "S0"), SpeakerTurn(3.0, 6.0, "S1")]
    assert assign_speakers(words_at((3.2, 3.8, "wait")), turns) == ["S1"]


def test_no_turns_means_one_speaker():
    assert assign_speakers(words_at((0, 1, "a"), (1, 2, "b")), []) == ["S0", "S0"]


def test_utterances_are_runs_split_at_speaker_changes_and_long_pauses():
    words = words_at(
        (0.1, 0.4, "thank"), (0.4, 0.6, "you"), (0.6, 0.9, "for"), (0.9, 1.3, "calling"),
        (3.3, 3.6, "hi"), (3.6, 4.0, "there"),
        (6.6, 6.9, "one"), (8.7, 9.0, "two"),  # 1.8 s pause within S0's turn
    )
    utterances = build_utterances(words, TURNS, roles={"S0": "agent"}, options=UtteranceOptions(max_pause_s=1.5))
    assert [(u.speaker, u.text, u.word_indices) for u in utterances] == [
        ("S0", "thank you for calling", (0, 3)),
        ("S1", "hi there", (4, 5)),
        ("S0", "one", (6, 6)),
        ("S0", "two", (7, 7)),
    ]
    assert [u.role for u in utterances] == ["agent", "unknown", "agent", "agent"]
    assert utterances[0].start == 0.1 and utterances[0].end == 1.3
    # A longer pause limit keeps the last two words together.
    merged = build_utterances(words, TURNS, options=UtteranceOptions(max_pause_s=2.0))
    assert merged[-1].text == "one two" and merged[-1].word_indices == (6, 7)


def test_overlap_and_interruption_flags():
    turns = [SpeakerTurn(0.0, 4.0, "S0"), SpeakerTurn(3.0, 6.0, "S1"), SpeakerTurn(7.0, 8.0, "S0"),
             SpeakerTurn(8.05, 9.0, "S1")]
    words = words_at((0.2, 1.0, "so"), (1.0, 3.5, "anyway"), (3.5, 3.9, "wait"), (4.0, 5.5, "stop"),
                     (7.1, 7.9, "right"), (8.1, 8.9, "fine"))
    utterances = build_utterances(words, turns)
    by_text = {u.text: u for u in utterances}
    assert set(by_text) == {"so anyway", "wait stop", "right", "fine"}
    # S1 starts at 3.0 while S0 still talks until 4.0: S1 interrupts, and both utterances overlap.
    assert by_text["wait stop"].interruption and by_text["wait stop"].overlap
    assert by_text["so anyway"].overlap and not by_text["so anyway"].interruption
    # A quick hand-over (50 ms gap) is neither.
    assert not by_text["fine"].overlap and not by_text["fine"].interruption
    assert not by_text["right"].overlap


def test_apply_roles_and_join_words():
    utterances = build_utterances(words_at((0, 1, "hello")), [SpeakerTurn(0, 1, "S1")])
    apply_roles(utterances, {"S1": "customer"})
    assert utterances[0].role == "customer"
    apply_roles(utterances, {})
    assert utterances[0].role == "unknown"
    assert join_words([Word(0, 1, "no", 1.0), Word(1, 2, " space", 1.0), Word(2, 3, "here", 1.0)]) == "no space here"


def test_empty_words_give_no_utterances():
    assert build_utterances([], TURNS) == []


def test_options_validated():
    with pytest.raises(ValueError):
        UtteranceOptions(max_pause_s=0)


def test_a_short_reply_inside_the_other_turn_is_an_overlap_as_well_as_an_interruption():
    turns = [SpeakerTurn(0, 10, "A"), SpeakerTurn(5, 5.3, "B")]
    utts = build_utterances(words_at((0.5, 1, "hello"), (5.0, 5.3, "no"), (6, 7, "ok")), turns)
    reply = next(u for u in utts if u.speaker == "B")
    assert reply.interruption and reply.overlap


def test_a_zero_length_word_inside_overlap_goes_to_the_newer_speaker():
    turns = [SpeakerTurn(0, 10, "A"), SpeakerTurn(4, 6, "B")]
    assert assign_speakers(words_at((5, 5, "x"), (5, 5.1, "y")), turns) == ["B", "B"]
