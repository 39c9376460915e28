"""ASR words + speaker turns -> utterances (runs of one speaker's words), with overlap and interruption flags."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pipeline.types import SpeakerTurn, Utterance, Word

FALLBACK_SPEAKER = "S0"  # when diarization found no turns at all, every word belongs to one speaker


@dataclass(frozen=True)
class UtteranceOptions:
    max_pause_s: float = 1.5         # a longer silence between one speaker's words starts a new utterance
    min_overlap_s: float = 0.25      # another speaker must talk this long inside an utterance to flag overlap
    interruption_lead_s: float = 0.3  # ... and have started this long before it for an interruption

    def __post_init__(self) -> None:
        if self.max_pause_s <= 0 or self.min_overlap_s < 0 or self.interruption_lead_s < 0:
            raise ValueError("utterance options must be positive")


def assign_speakers(words: Sequence[Word], turns: Sequence[SpeakerTurn]) -> list[str]:
    """The speaker of each word: the one whose turns overlap the word most; the nearest turn's speaker when the
    word falls in no turn (diarization gaps, ASR timing drift)."""
    if not turns:
        return [FALLBACK_SPEAKER] * len(words)
    ordered = sorted(turns, key=lambda t: t.start)
    speakers = []
    for word in words:
        overlap: dict[str, float] = {}
        latest_start: dict[str, float] = {}
        for turn in ordered:
            if turn.start >= word.end:
                break
            shared = min(word.end, turn.end) - max(word.start, turn.start)
            if shared > 0 or (word.end <= word.start and turn.start <= word.start < turn.end):  # zero-length words
                overlap[turn.speaker] = overlap.get(turn.speaker, 0.0) + shared
                latest_start[turn.speaker] = turn.start
        if overlap:
            # Ties (a word inside overlapped speech): the speaker whose turn began most recently, since the
            # words heard at the start of an overlap are usually the newcomer's.
            speakers.append(max(overlap, key=lambda s: (round(overlap[s], 3), latest_start[s])))
        else:
            speakers.append(min(ordered, key=lambda t: _distance(word, t)).speaker)
    return speakers


def build_utterances(
    words: Sequence[Word],
    turns: Sequence[SpeakerTurn],
    roles: Mapping[str, str] | None = None,
    options: UtteranceOptions | None = None,
) -> list[Utterance]:
    """Utterances in time order. `roles` maps speaker -> role (missing speakers get "unknown")."""
    options = options or UtteranceOptions()
    roles = roles or {}
    speakers = assign_speakers(words, turns)
    utterances: list[Utterance] = []
    first = 0
    for i in range(1, len(words) + 1):
        boundary = (
            i == len(words)
            or speakers[i] != speakers[first]
            or words[i].start - words[i - 1].end > options.max_pause_s
        )
        if boundary:
            utterances.append(_utterance(words, first, i - 1, speakers[first], roles, turns, options))
            first = i
    return utterances


def apply_roles(utterances: Sequence[Utterance], roles: Mapping[str, str]) -> None:
    """Set each utterance's role from a speaker -> role map (in place)."""
    for utterance in utterances:
        utterance.role = roles.get(utterance.speaker, "unknown")


def join_words(words: Sequence[Word]) -> str:
    # faster-whisper words carry their leading space (" hello"); hand-made words may not.
    return "".join(w.text if w.text[:1].isspace() else " " + w.text for w in words).strip()


def _utterance(words, first, last, speaker, roles, turns, options) -> Utterance:
    start, end = words[first].start, words[last].end
    others = [t for t in turns if t.speaker != speaker]
    overlap = any(min(end, t.end) - max(start, t.start) >= options.min_overlap_s for t in others)
    # An interruption is an overlap whose other turn began well before: what this utterance shares with it counts.
    interruption = any(
        t.start <= start - options.interruption_lead_s and min(end, t.end) - start >= options.min_overlap_s
        for t in others
    )
    return Utterance(
        speaker=speaker,
        role=roles.get(speaker, "unknown"),
        start=start,
        end=end,
        text=join_words(words[first : last + 1]),
        word_indices=(first, last),
        overlap=overlap,
        interruption=interruption,
    )


def _distance(word: Word, turn: SpeakerTurn) -> float:
    if word.end <= turn.start:
        return turn.start - word.end
    return max(0.0, word.start - turn.end)

