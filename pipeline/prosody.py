"""Prosody per utterance (loudness, pitch level and variability, speaking rate) and conversation measures per call
(talk ratio, overtalk, interruptions, silence and hold, customer sentiment trajectory, time to first cue).

Pitch uses librosa.yin on audio decimated to 8 kHz (telephone band; pyin is ~50x slower), voiced frames chosen by
energy, so a 10 s utterance costs a few milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from pipeline.sentiment import valence
from pipeline.types import SAMPLE_RATE, Utterance, Word
from pipeline.vocab import AGENT_PREVENTIVE_CUES, AGENT_RISK_CUES, CUSTOMER_RISK_CUES

PITCH_RATE = 8_000
FRAME = 512          # 64 ms at 8 kHz: two periods of a 60 Hz voice, as yin needs
HOP = 160            # 20 ms
SILENT_DBFS = -100.0


@dataclass(frozen=True)
class ProsodyOptions:
    fmin_hz: float = 60.0
    fmax_hz: float = 400.0
    voiced_floor_dbfs: float = -50.0   # frames quieter than this are not voiced speech
    voiced_below_peak_db: float = 25.0  # ... nor frames this far below the utterance's loudest frame
    hold_min_s: float = 8.0             # a silence at least this long (nobody speaking) counts as hold

    def __post_init__(self) -> None:
        if not 0 < self.fmin_hz < self.fmax_hz <= PITCH_RATE / 2:
            raise ValueError(f"cues.pitch range must satisfy 0 < fmin < fmax <= {PITCH_RATE / 2}")
        if self.hold_min_s <= 0:
            raise ValueError(f"cues.hold_min_s must be > 0, got {self.hold_min_s}")


def dbfs(x: np.ndarray) -> float:
    if x.size == 0:
        return SILENT_DBFS
    rms = float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))
    return round(max(SILENT_DBFS, 20.0 * float(np.log10(rms + 1e-12))), 2)


def pitch_track(x: np.ndarray, options: ProsodyOptions = ProsodyOptions(), sr: int = SAMPLE_RATE) -> np.ndarray:
    """F0 (Hz) of the voiced frames of a mono signal; empty when nothing is voiced."""
    import librosa
    from scipy.signal import resample_poly

    if sr != PITCH_RATE:
        x = resample_poly(x.astype(np.float32), PITCH_RATE, sr)
    if len(x) < FRAME:
        return np.zeros(0, dtype=np.float32)
    f0 = librosa.yin(x, fmin=options.fmin_hz, fmax=options.fmax_hz, sr=PITCH_RATE, frame_length=FRAME, hop_length=HOP)
    rms = librosa.feature.rms(y=x, frame_length=FRAME, hop_length=HOP)[0]
    level = 20 * np.log10(rms + 1e-12)
    n = min(len(f0), len(level))
    f0, level = f0[:n], level[:n]
    voiced = (level >= max(options.voiced_floor_dbfs, level.max() - options.voiced_below_peak_db))
    voiced &= (f0 > options.fmin_hz * 1.05) & (f0 < options.fmax_hz * 0.95)  # yin pins unvoiced frames to the bounds
    return f0[voiced].astype(np.float32)


def utterance_prosody(
    samples: np.ndarray, start: float, end: float, words: Sequence[Word] = (), options: ProsodyOptions = ProsodyOptions()
) -> dict[str, float | None]:
    """Loudness (dBFS), pitch median (Hz) and spread (semitones), speaking rate (words/s) of one utterance."""
    x = _channel_for(samples, start, end)
    f0 = pitch_track(x, options)
    pitch = float(np.median(f0)) if len(f0) >= 3 else None
    spread = float(np.std(12 * np.log2(f0 / pitch))) if pitch else None
    talk = (words[-1].end - words[0].start) if words else end - start
    rate = len(words) / talk if words and talk > 0.2 else None
    return {
        "loudness_dbfs": dbfs(x) if x.size else None,   # no audio under it (zero length, past the end)
        "pitch_hz": None if pitch is None else round(pitch, 1),
        "pitch_var_st": None if spread is None else round(spread, 2),
        "voiced_s": round(len(f0) * HOP / PITCH_RATE, 2),
        "speaking_rate_wps": None if rate is None else round(rate, 2),
    }


def _channel_for(samples: np.ndarray, start: float, end: float) -> np.ndarray:
    """The utterance's audio; for stereo calls the louder channel (each party is loudest on their own line)."""
    a, b = max(0, int(start * SAMPLE_RATE)), max(0, int(end * SAMPLE_RATE))
    if samples.ndim == 1:
        return samples[a:b]
    pieces = samples[:, a:b]
    if pieces.shape[0] == 1 or pieces.shape[1] == 0:  # mono, or ASR times past the end of the audio
        return pieces[0]
    return pieces[int(np.argmax(np.mean(np.square(pieces, dtype=np.float64), axis=1)))]


# ---------------------------------------------------------------- call-level measures

def _union(intervals: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for a, b in sorted(intervals):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        elif b > a:
            merged.append((a, b))
    return merged


def _length(intervals: list[tuple[float, float]]) -> float:
    return sum(b - a for a, b in intervals)


def _intersect(x: list[tuple[float, float]], y: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out, i, j = [], 0, 0
    while i < len(x) and j < len(y):
        a, b = max(x[i][0], y[j][0]), min(x[i][1], y[j][1])
        if b > a:
            out.append((a, b))
        if x[i][1] < y[j][1]:
            i += 1
        else:
            j += 1
    return out


def call_measures(
    utterances: Sequence[Utterance], duration_s: float | None = None, options: ProsodyOptions = ProsodyOptions()
) -> dict[str, Any]:
    """Conversation measures of one call from its annotated utterances (roles, sentiment, cues)."""
    utts = sorted(utterances, key=lambda u: u.start)
    end_of_call = max([duration_s or 0.0] + [u.end for u in utts])
    roles = sorted({u.role for u in utts})
    speech_by_role = {r: _union([(u.start, u.end) for u in utts if u.role == r]) for r in roles}
    talk = {r: round(_length(v), 2) for r, v in speech_by_role.items()}
    two_party = talk.get("agent", 0.0) + talk.get("customer", 0.0)

    by_speaker = {s: _union([(u.start, u.end) for u in utts if u.speaker == s]) for s in {u.speaker for u in utts}}
    speakers = sorted(by_speaker)
    overlap = _union([iv for i, a in enumerate(speakers) for b in speakers[i + 1 :] for iv in _intersect(by_speaker[a], by_speaker[b])])
    overtalk_by_role = {r: 0.0 for r in roles}
    for u in utts:  # overtalk is charged to whoever started talking over the other
        others = [o for o in utts if o.speaker != u.speaker and o.start < u.start < o.end]
        if others:
            overtalk_by_role[u.role] += max(0.0, min(u.end, max(o.end for o in others)) - u.start)

    speech = _union([(u.start, u.end) for u in utts])
    gaps = [(a[1], b[0]) for a, b in zip(speech, speech[1:]) if b[0] > a[1]]
    gap_lengths = [b - a for a, b in gaps]
    holds = [g for g in gap_lengths if g >= options.hold_min_s]

    measures: dict[str, Any] = {
        "duration_s": round(end_of_call, 2),
        "utterances": len(utts),
        "talk_s": talk,
        "talk_ratio_agent": round(talk.get("agent", 0.0) / two_party, 3) if two_party > 0 else None,
        "talk_share_of_call": round(_length(speech) / end_of_call, 3) if end_of_call > 0 else None,
        "overtalk_s": round(_length(overlap), 2),
        "overtalk_s_by_role": {r: round(v, 2) for r, v in overtalk_by_role.items()},
        "interruptions_by_role": {r: sum(1 for u in utts if u.role == r and u.interruption) for r in roles},
        "silence_total_s": round(sum(gap_lengths), 2),
        "silence_longest_s": round(max(gap_lengths, default=0.0), 2),
        "hold_count": len(holds),
        "hold_total_s": round(sum(holds), 2),
        "hold_longest_s": round(max(holds, default=0.0), 2),
    }
    measures.update(sentiment_trajectory(utts))
    measures.update(cue_timing(utts))
    return measures


def sentiment_trajectory(utts: Sequence[Utterance]) -> dict[str, Any]:
    """Customer valence (P(positive) - P(negative) - P(frustrated)) in the opening and closing third of the
    conversation; with no customer role known, every non-agent speaker counts."""
    customer = [u for u in utts if u.role == "customer" and u.sentiment] or [
        u for u in utts if u.role != "agent" and u.sentiment
    ]
    out: dict[str, Any] = {"customer_valence_opening": None, "customer_valence_closing": None, "customer_valence_delta": None,
                           "customer_valence_mean": None}
    if not customer or not utts:
        return out
    begin, end = min(u.start for u in utts), max(u.end for u in utts)
    third = (end - begin) / 3
    opening = [valence(u.sentiment) for u in customer if (u.start + u.end) / 2 <= begin + third]
    closing = [valence(u.sentiment) for u in customer if (u.start + u.end) / 2 >= end - third]
    out["customer_valence_mean"] = round(float(np.mean([valence(u.sentiment) for u in customer])), 3)
    if opening:
        out["customer_valence_opening"] = round(float(np.mean(opening)), 3)
    if closing:
        out["customer_valence_closing"] = round(float(np.mean(closing)), 3)
    if opening and closing:
        out["customer_valence_delta"] = round(out["customer_valence_closing"] - out["customer_valence_opening"], 3)
    return out


def cue_timing(utts: Sequence[Utterance]) -> dict[str, Any]:
    """Seconds from the call start to the first cue of each label, and to the first risk / preventive cue."""
    first: dict[str, float] = {}
    counts: dict[str, int] = {}
    for u in utts:
        for cue in u.cues:
            counts[cue.label] = counts.get(cue.label, 0) + 1
            first[cue.label] = min(first.get(cue.label, cue.start), cue.start)
    risk = [first[label] for label in CUSTOMER_RISK_CUES + AGENT_RISK_CUES if label in first]
    preventive = [first[label] for label in AGENT_PREVENTIVE_CUES if label in first]
    return {
        "cue_counts": counts,
        "first_cue_s": {k: round(v, 2) for k, v in sorted(first.items())},
        "time_to_first_risk_cue_s": round(min(risk), 2) if risk else None,
        "time_to_first_preventive_cue_s": round(min(preventive), 2) if preventive else None,
    }
