"""Who spoke when: speaker turns for a call.

- Stereo calls (agent and customer on separate channels): turns come from the channels themselves,
  no model needed (per-channel energy against each channel's own noise floor, with hysteresis).
- Mono calls, and stereo files whose two channels carry the same signal: pyannote.audio's
  SpeakerDiarization with the packaged segmentation-3.0 and the CAM++ embedding adapter.

`Diarizer(options).diarize(audio)` is the entry point; models load once per Diarizer, on first mono call.
"""

from __future__ import annotations

import contextlib
import re
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from pipeline.types import SAMPLE_RATE, Audio, SpeakerTurn

ChannelMap = dict[str, int]  # role ("agent"/"customer") -> channel index
AUTO = "auto"


@dataclass(frozen=True)
class StereoOptions:
    """Channel-energy voice activity for stereo recordings. Levels in dB."""

    frame_s: float = 0.03             # analysis window
    hop_s: float = 0.01
    floor_percentile: float = 10.0    # a channel's noise floor: this percentile of its frame levels
    level_percentile: float = 95.0    # a channel's speech level
    onset_db: float = 12.0            # above the floor to start a turn ...
    offset_db: float = 7.0            # ... and to keep it going (hysteresis)
    max_below_level_db: float = 40.0  # thresholds never sit further than this below the speech level
    min_dynamic_db: float = 15.0      # a channel whose level barely clears its floor has no speech
    crosstalk_margin_db: float = 6.0  # own speech must rise this far above the leak expected from the other channel
    min_speech_s: float = 0.2         # drop blips shorter than this
    min_silence_s: float = 0.5        # bridge pauses shorter than this within a channel's turn
    pad_s: float = 0.0               # widen turns a little: the energy gate clips soft word edges
    same_signal_correlation: float = 0.95  # channels this correlated are one signal: diarize as mono
    silent_channel_rms: float = 1e-4  # a channel below this RMS carries nothing


@dataclass(frozen=True)
class DiarizationOptions:
    """Knobs for `Diarizer`. Speaker count: `num_speakers` (exactly), else `min_speakers`/`max_speakers`
    bounds, else automatic (all three None)."""

    num_speakers: int | None = 2
    min_speakers: int | None = None
    max_speakers: int | None = None
    segmentation_step: float = 0.1    # window step, share of segmentation-3.0's 10 s window (pyannote's); 0.2 ~2x faster
    clustering_threshold: float = 0.6
    clustering_method: str = "centroid"
    min_cluster_size: int = 12
    min_duration_off: float = 0.0     # pyannote's own gap filling (0: off; merge_gap_s does it for both paths)
    merge_gap_s: float = 0.3          # a speaker's pauses shorter than this stay inside the turn (NIST-style)
    # pyannote's turn edges overrun into silence by a few frames: move each edge (by at most edge_trim_max_s)
    # past frames less than edge_trim_db above the call's noise floor. 0 turns it off.
    edge_trim_db: float = 6.0
    edge_trim_max_s: float = 0.1
    exclude_overlap: bool = False     # embeddings from non-overlapped speech only
    batch_size: int = 32              # segmentation and embedding batches
    channel_map: ChannelMap | Literal["auto"] = field(default_factory=lambda: {"agent": 0, "customer": 1})
    stereo: StereoOptions = field(default_factory=StereoOptions)

    def __post_init__(self) -> None:
        if self.channel_map != AUTO:
            if not isinstance(self.channel_map, dict) or set(self.channel_map) != {"agent", "customer"}:
                raise ValueError("channel_map must be 'auto' or {'agent': <channel>, 'customer': <channel>}")
            if sorted(self.channel_map.values()) != [0, 1]:
                raise ValueError("channel_map must give agent and customer different channels, 0 and 1")
        for name in ("num_speakers", "min_speakers", "max_speakers"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be >= 1 or null")
        if not 0.0 < self.segmentation_step <= 1.0:
            raise ValueError("segmentation_step must be in (0, 1]")


@dataclass(frozen=True)
class Diarization:
    """Speaker turns of one call (turns may overlap), sorted by start."""

    turns: tuple[SpeakerTurn, ...]
    method: Literal["stereo_channels", "pyannote"]
    speakers: dict[str, float]          # speaker -> talk time (s), overlaps counted for each speaker
    duration_s: float
    channel_of: dict[str, int] = field(default_factory=dict)   # stereo: speaker -> channel
    channel_roles: dict[str, str] = field(default_factory=dict)  # stereo with a fixed map: speaker -> role
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {
            "method": self.method,
            "speakers": [{"speaker": s, "talk_time_s": round(t, 3)} for s, t in self.speakers.items()],
            "turns": [{"speaker": t.speaker, "start": round(t.start, 3), "end": round(t.end, 3)} for t in self.turns],
            "channel_of": dict(self.channel_of),
            "notes": list(self.notes),
        }


class Diarizer:
    """Holds the diarization models for a batch; `diarize(audio)` per call."""

    def __init__(self, options: DiarizationOptions | None = None):
        self.options = options or DiarizationOptions()
        self._pipeline = None

    def load(self) -> None:
        """Load the mono models now (otherwise on the first mono call); stereo calls never need them."""
        self._load_pipeline()

    def diarize(self, audio: Audio) -> Diarization:
        samples = np.asarray(audio.samples, dtype=np.float32)
        if samples.ndim != 2 or samples.shape[0] not in (1, 2):
            raise ValueError(f"expected (1 or 2 channels, n) audio, got shape {samples.shape}")
        if samples.shape[0] == 2:
            kind = stereo_kind(samples, self.options.stereo)
            if kind == "two_speakers":
                return stereo_diarization(samples, self.options)
            note = {
                "same_signal": "stereo channels carry the same signal: diarized as mono",
                "one_silent": "one stereo channel is silent: diarized the other as mono",
            }[kind]
            live = samples[int(np.argmax(np.sqrt(np.mean(samples**2, axis=1))))] if kind == "one_silent" \
                else samples.mean(axis=0)
            return self._diarize_mono(live, notes=(note,))
        return self._diarize_mono(samples[0])

    # -- mono -------------------------------------------------------------------------------------------
    def _diarize_mono(self, waveform: np.ndarray, notes: tuple[str, ...] = ()) -> Diarization:
        import torch

        pipeline = self._load_pipeline()
        opts = self.options
        file = {"waveform": torch.from_numpy(np.ascontiguousarray(waveform))[None], "sample_rate": SAMPLE_RATE,
                "uri": "call"}
        kwargs: dict[str, int] = {}
        if opts.num_speakers is not None:
            kwargs["num_speakers"] = opts.num_speakers
        else:
            if opts.min_speakers is not None:
                kwargs["min_speakers"] = opts.min_speakers
            if opts.max_speakers is not None:
                kwargs["max_speakers"] = opts.max_speakers
        with warnings.catch_warnings():
            # "detected number of speakers outside the bounds" on calls where one party barely talks.
            warnings.simplefilter("ignore", UserWarning)
            output = pipeline(file, **kwargs)
        annotation = output.speaker_diarization
        raw = [(seg.start, seg.end, str(label)) for seg, _, label in annotation.itertracks(yield_label=True)]
        # Human-readable labels in order of first appearance: S0 speaks first.
        order: dict[str, str] = {}
        for _, _, label in sorted(raw):
            order.setdefault(label, f"S{len(order)}")
        turns = merge_pauses([SpeakerTurn(float(s), float(e), order[label]) for s, e, label in raw], opts.merge_gap_s)
        if opts.edge_trim_db > 0:
            turns = trim_silent_edges(turns, waveform, opts.edge_trim_db, opts.edge_trim_max_s, opts.stereo)
        return _build("pyannote", turns, waveform.shape[0] / SAMPLE_RATE, notes=notes)

    def _load_pipeline(self):
        if self._pipeline is None:
            self._pipeline = build_pyannote_pipeline(self.options)
        return self._pipeline


def build_pyannote_pipeline(options: DiarizationOptions):
    """pyannote SpeakerDiarization from packaged weights only (no hub access)."""
    from pipeline.offline import enforce_offline

    enforce_offline()  # telemetry off before pyannote is imported
    from pyannote.audio import Model
    from pyannote.audio.pipelines import speaker_diarization as sd

    from pipeline.embedding import CamPlusPlusEmbedding, segmentation_dir

    segmentation = Model.from_pretrained(segmentation_dir())
    with _plda_none_allowed(sd):
        pipeline = sd.SpeakerDiarization(
            segmentation=segmentation,
            segmentation_step=options.segmentation_step,
            embedding=CamPlusPlusEmbedding.packaged(),
            embedding_exclude_overlap=options.exclude_overlap,
            plda=None,
            clustering="AgglomerativeClustering",
            embedding_batch_size=options.batch_size,
            segmentation_batch_size=options.batch_size,
        )
    pipeline.instantiate(
        {
            "segmentation": {"min_duration_off": options.min_duration_off},
            "clustering": {
                "method": options.clustering_method,
                "min_cluster_size": options.min_cluster_size,
                "threshold": options.clustering_threshold,
            },
        }
    )
    return pipeline


@contextlib.contextmanager
def _plda_none_allowed(module) -> Iterator[None]:
    """pyannote.audio 4.0.7 calls get_plda(plda) unconditionally and get_plda(None) raises; a PLDA is only
    used by VBx clustering, so while the pipeline is built, None passes through as None."""
    original = module.get_plda

    def get_plda(plda, *args, **kwargs):
        return None if plda is None else original(plda, *args, **kwargs)

    module.get_plda = get_plda
    try:
        yield
    finally:
        module.get_plda = original


# -- stereo -----------------------------------------------------------------------------------------------
def stereo_kind(samples: np.ndarray, options: StereoOptions) -> Literal["two_speakers", "same_signal", "one_silent"]:
    """Whether a 2-channel recording holds one party per channel."""
    # A strided subset (<= ~2M samples) is plenty for a correlation and keeps long calls cheap.
    subset = samples[:, :: max(1, samples.shape[1] // 2_000_000)].astype(np.float64)
    rms = np.sqrt(np.mean(subset**2, axis=1))
    if rms.min() < options.silent_channel_rms:
        return "one_silent"
    a, b = subset[0] - subset[0].mean(), subset[1] - subset[1].mean()
    correlation = float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))
    return "same_signal" if correlation >= options.same_signal_correlation else "two_speakers"


def stereo_diarization(samples: np.ndarray, options: DiarizationOptions) -> Diarization:
    active = channel_activity(samples, options.stereo)
    hop = options.stereo.hop_s
    if options.channel_map == AUTO:
        names = {0: "ch0", 1: "ch1"}
        roles: dict[str, str] = {}
    else:
        names = {channel: role for role, channel in options.channel_map.items()}
        roles = {role: role for role in options.channel_map}
    turns = [
        SpeakerTurn(float(start), float(end), names[channel])
        for channel in (0, 1)
        for start, end in _runs_to_spans(active[channel], hop, options.stereo)
    ]
    duration = samples.shape[1] / SAMPLE_RATE
    turns = [SpeakerTurn(max(0.0, t.start), min(duration, t.end), t.speaker) for t in turns]
    turns = merge_pauses(turns, options.merge_gap_s)
    return _build(
        "stereo_channels", turns, duration,
        channel_of={names[c]: c for c in (0, 1)}, channel_roles=roles,
    )


def channel_activity(samples: np.ndarray, options: StereoOptions) -> np.ndarray:
    """(2, frames) boolean speech activity per channel, on a `hop_s` grid."""
    levels = np.stack([_frame_levels_db(ch, options) for ch in samples])
    floor = np.percentile(levels, options.floor_percentile, axis=1, keepdims=True)
    level = np.percentile(levels, options.level_percentile, axis=1, keepdims=True)
    # A party who talks through >= 90% of the call puts that percentile inside speech; its quietest 1% of
    # frames (the pauses it does take) are still its line's floor.
    quietest = np.percentile(levels, 1.0, axis=1, keepdims=True)
    floor = np.where(level - floor < options.min_dynamic_db, quietest, floor)
    onset = np.maximum(floor + options.onset_db, level - options.max_below_level_db)
    offset = np.maximum(floor + options.offset_db, level - options.max_below_level_db - 5.0)
    has_speech = (level - floor) >= options.min_dynamic_db
    leakage = _leakage(levels, onset, options.crosstalk_margin_db)
    active = np.zeros_like(levels, dtype=bool)
    for c in (0, 1):
        if has_speech[c, 0]:
            active[c] = _hysteresis(levels[c], onset[c, 0], offset[c, 0]) & ~leakage[c]
    return active


def _leakage(levels: np.ndarray, onset: np.ndarray, margin_db: float) -> np.ndarray:
    """(2, frames) True where a channel's level is explained by crosstalk from the other channel.

    Crosstalk is an attenuated copy: while the other party talks alone, this channel sits a fixed number of
    dB below it. That gain is estimated per direction as the median level difference over frames where the
    other channel is active and dominant; a frame counts as this channel's own speech only when it rises
    `margin_db` above the expected leak.
    """
    leak = np.zeros_like(levels, dtype=bool)
    for c, o in ((0, 1), (1, 0)):
        other_talks = (levels[o] >= onset[o, 0]) & (levels[o] > levels[c])
        if other_talks.sum() < 10:
            continue
        gain = float(np.median(levels[c][other_talks] - levels[o][other_talks]))
        leak[c] = levels[c] < levels[o] + gain + margin_db
    return leak


def trim_silent_edges(turns: Sequence[SpeakerTurn], waveform: np.ndarray, above_floor_db: float, max_shift_s: float,
                      frames: StereoOptions) -> list[SpeakerTurn]:
    """Move each turn's start later and end earlier past frames within `above_floor_db` of the recording's
    noise floor (its `floor_percentile` level), by at most `max_shift_s` per edge; a turn keeps >= 0.1 s.

    pyannote's segmentation frames smear a turn's edges into the silence around it (by ~0.04 s on synthetic
    telephone calls); a turn does not start or end in silence. Frames come from `_frame_levels_db` with the
    stereo path's frame and hop."""
    db = _frame_levels_db(np.asarray(waveform, dtype=np.float32), frames)
    silent = db < np.percentile(db, frames.floor_percentile) + above_floor_db
    hop, limit, keep = frames.hop_s, int(round(max_shift_s / frames.hop_s)), 0.1
    out = []
    for turn in turns:
        first, last = int(round(turn.start / hop)), int(round(turn.end / hop)) - 1
        moved = 0
        while moved < limit and 0 <= first < len(silent) and silent[first] and (first + 1) * hop < turn.end - keep:
            first, moved = first + 1, moved + 1
        start = max(turn.start, first * hop) if moved else turn.start
        moved = 0
        while moved < limit and 0 < last < len(silent) and silent[last] and last * hop > start + keep:
            last, moved = last - 1, moved + 1
        end = min(turn.end, (last + 1) * hop) if moved else turn.end
        out.append(SpeakerTurn(start, end, turn.speaker))
    return out


def _frame_levels_db(x: np.ndarray, options: StereoOptions) -> np.ndarray:
    frame = int(round(options.frame_s * SAMPLE_RATE))
    hop = int(round(options.hop_s * SAMPLE_RATE))
    n_frames = max(1, 1 + (len(x) - frame) // hop) if len(x) >= frame else 1
    padded = np.pad(x.astype(np.float64), (0, max(0, (n_frames - 1) * hop + frame - len(x))))
    padded = _highpass(padded)
    # Mean power of each frame from a running sum: O(n), where a `frame`-tap convolution is O(n * frame).
    energy = np.concatenate([[0.0], np.cumsum(padded**2)])
    starts = np.arange(n_frames) * hop
    power = np.maximum((energy[starts + frame] - energy[starts]) / frame, 0.0)
    # Frame k covers [k*hop, k*hop+frame): shift so the level sits at the frame centre on the hop grid.
    shift = int(round((frame / 2) / hop))
    power = np.concatenate([np.full(shift, power[0]), power])[:n_frames]
    return 10.0 * np.log10(power + 1e-12)


def _highpass(x: np.ndarray, cutoff_hz: float = 80.0) -> np.ndarray:
    """Remove DC and mains hum below the voice band so line noise does not open the gate."""
    from scipy.signal import butter, sosfilt

    return sosfilt(butter(4, cutoff_hz, btype="highpass", fs=SAMPLE_RATE, output="sos"), x)


def _hysteresis(levels: np.ndarray, onset: float, offset: float) -> np.ndarray:
    above_on, above_off = levels >= onset, levels >= offset
    out = np.zeros(len(levels), dtype=bool)
    on = False
    for i in range(len(levels)):
        on = above_on[i] or (on and above_off[i])
        out[i] = on
    # Extend backwards too, so a turn starts where the level first crossed the offset threshold.
    for i in range(len(levels) - 2, -1, -1):
        if out[i + 1] and not out[i] and above_off[i]:
            out[i] = True
    return out


def _runs_to_spans(active: np.ndarray, hop: float, options: StereoOptions) -> list[tuple[float, float]]:
    spans: list[list[float]] = []
    edges = np.flatnonzero(np.diff(np.concatenate([[0], active.astype(np.int8), [0]])))
    for start, end in zip(edges[::2], edges[1::2]):
        s, e = start * hop - options.pad_s, end * hop + options.pad_s
        if spans and s - spans[-1][1] < options.min_silence_s:
            spans[-1][1] = e
        else:
            spans.append([s, e])
    return [(s, e) for s, e in spans if e - s >= options.min_speech_s]


# -- shared ----------------------------------------------------------------------------------------------
def _build(method, turns: list[SpeakerTurn], duration: float, *, channel_of=None, channel_roles=None,
           notes: tuple[str, ...] = ()) -> Diarization:
    turns = sorted(turns, key=lambda t: (t.start, t.end, t.speaker))
    speakers = {s: talk_time(turns, s) for s in sorted({t.speaker for t in turns})}
    return Diarization(
        turns=tuple(turns), method=method, speakers=speakers, duration_s=duration,
        channel_of=dict(channel_of or {}), channel_roles=dict(channel_roles or {}), notes=notes,
    )


def merge_pauses(turns: Sequence[SpeakerTurn], max_gap_s: float) -> list[SpeakerTurn]:
    """Join a speaker's consecutive turns separated by a pause shorter than `max_gap_s`, unless another speaker
    talks in that pause (then it was a hand-over, not a pause), including a turn that starts exactly as the
    pause does or began before it."""
    if max_gap_s <= 0:
        return sorted(turns, key=lambda t: (t.start, t.end, t.speaker))
    merged: list[SpeakerTurn] = []
    for speaker in sorted({t.speaker for t in turns}):
        others = [t for t in turns if t.speaker != speaker]
        for turn in sorted((t for t in turns if t.speaker == speaker), key=lambda t: t.start):
            last = merged[-1] if merged and merged[-1].speaker == speaker else None
            pause = last is not None and turn.start - last.end < max_gap_s
            if pause and not (turn.start > last.end and any(o.start < turn.start and o.end > last.end
                                                            for o in others)):   # nobody else talks in it
                merged[-1] = SpeakerTurn(last.start, max(last.end, turn.end), speaker)
            else:
                merged.append(turn)
    return sorted(merged, key=lambda t: (t.start, t.end, t.speaker))


def talk_time(turns: list[SpeakerTurn] | tuple[SpeakerTurn, ...], speaker: str) -> float:
    """Seconds in which `speaker` talks (union of its turns)."""
    total, current_end = 0.0, -np.inf
    for t in sorted((t for t in turns if t.speaker == speaker), key=lambda t: t.start):
        if t.end <= current_end:
            continue
        total += t.end - max(t.start, current_end)
        current_end = t.end
    return total


def to_rttm(diarization: Diarization, uri: str) -> str:
    """RTTM lines (one per turn) for scoring with standard tools."""
    field = lambda text: re.sub(r"\s+", "_", text) or "_"   # RTTM fields are split on any whitespace
    return "".join(
        f"SPEAKER {field(uri)} 1 {t.start:.3f} {t.end - t.start:.3f} <NA> <NA> {field(t.speaker)} <NA> <NA>\n"
        for t in diarization.turns
    )


def write_rttm(diarization: Diarization, uri: str, path: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(to_rttm(diarization, uri))


def read_rttm(path: str) -> list[SpeakerTurn]:
    turns = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            parts = line.split()
            if len(parts) >= 8 and parts[0] == "SPEAKER":
                start, dur = float(parts[3]), float(parts[4])
                turns.append(SpeakerTurn(start, start + dur, parts[7]))
    return sorted(turns, key=lambda t: (t.start, t.end))


def diarization_error_rate(reference: Sequence[SpeakerTurn], hypothesis: Sequence[SpeakerTurn],
                           collar: float = 0.0, duration_s: float | None = None) -> float:
    """pyannote.metrics DER (optimal speaker mapping) over [0, duration_s] (default: the reference's extent)."""
    from pyannote.core import Segment
    from pyannote.metrics.diarization import DiarizationErrorRate

    end = duration_s if duration_s is not None else max([t.end for t in reference] + [0.0])
    metric = DiarizationErrorRate(collar=collar)
    return float(metric(_annotation(reference), _annotation(hypothesis), uem=Segment(0.0, end)))


def _annotation(turns: Sequence[SpeakerTurn]):
    from pyannote.core import Annotation, Segment

    annotation = Annotation()
    for i, t in enumerate(turns):
        if t.end > t.start:
            annotation[Segment(t.start, t.end), i] = t.speaker
    return annotation
