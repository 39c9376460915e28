"""Small typed records passed between stages. Times are seconds from the start of the call."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

SAMPLE_RATE = 16_000  # every stage works on 16 kHz float32 audio


@dataclass(frozen=True)
class CallInput:
    """One call to process: where its audio is and the metadata passed through to the output."""

    call_id: str
    path: str
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass
class Audio:
    """Decoded audio: `samples` is (channels, n) float32 at 16 kHz; channels are kept for diarization."""

    path: str
    samples: np.ndarray
    source_rate: int
    source_channels: int
    source_format: str
    source_subtype: str
    sha256: str

    @property
    def duration_s(self) -> float:
        return self.samples.shape[1] / SAMPLE_RATE

    @property
    def channels(self) -> int:
        return self.samples.shape[0]

    def mono(self) -> np.ndarray:
        return self.samples[0] if self.channels == 1 else self.samples.mean(axis=0)

    def info(self) -> dict[str, Any]:
        return {
            "duration_s": round(self.duration_s, 3),
            "sample_rate": self.source_rate,
            "channels": self.source_channels,
            "format": self.source_format,
            "subtype": self.source_subtype,
            "sha256": self.sha256,
        }


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    text: str
    probability: float


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    text: str
    words: tuple[Word, ...]
    avg_logprob: float
    no_speech_prob: float


@dataclass(frozen=True)
class Transcript:
    segments: tuple[Segment, ...]
    language: str
    language_probability: float

    @property
    def words(self) -> list[Word]:
        return [w for s in self.segments for w in s.words]

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments).strip()


@dataclass(frozen=True)
class SpeakerTurn:
    """A stretch of time in which one speaker talks (from diarization or a stereo channel)."""

    start: float
    end: float
    speaker: str


@dataclass(frozen=True)
class Cue:
    """A callback-relevant signal found in one utterance, with its evidence."""

    label: str            # one of pipeline.vocab.CUE_LABELS
    score: float          # 0..1 confidence
    char_start: int       # span in the utterance text
    char_end: int
    start: float          # time span in the call
    end: float
    evidence: str         # the matched text
    method: str           # "pattern" or "semantic"


@dataclass
class Utterance:
    """A run of one speaker's words. Stages after diarization fill the optional fields."""

    speaker: str
    role: str                          # pipeline.vocab.ROLES
    start: float
    end: float
    text: str
    word_indices: tuple[int, int]      # first and last index into the call's word list, inclusive
    overlap: bool = False              # another speaker talks during part of this utterance
    interruption: bool = False         # starts while the other speaker is still talking
    cues: list[Cue] = field(default_factory=list)
    sentiment: dict[str, float] | None = None   # class -> probability (pipeline.vocab.SENTIMENT_LABELS)
    prosody: dict[str, float] | None = None
