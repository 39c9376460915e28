"""Render planned calls to audio: two voices, pauses, holds, backchannels and overtalk, mono or stereo, optional
telephone channel. Utterance start/end are set from the sample positions the clips are mixed at, so the ground
truth matches the audio exactly (to the sample)."""

from __future__ import annotations

import multiprocessing
import random
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from pipeline.corpus.telephone import TELEPHONE_RATE, TelephoneOptions, telephone_channel
from pipeline.corpus.voices import RATE, PersonVoice, missing_engines, person_voice, synthesize
from pipeline.corpus.world import CallPlan


@dataclass(frozen=True)
class RenderOptions:
    stereo: bool = False                 # agent left (channel 0), customer right (channel 1)
    telephone: bool = False              # 8 kHz G.711 mu-law, band-pass, noise, level changes
    crosstalk_db: float | None = None    # stereo: each party leaks into the other channel at this level
    level_dbfs: tuple[float, float] = (-24.0, -17.0)   # per-speaker speech level range
    lead_in_s: tuple[float, float] = (0.3, 0.9)
    tail_s: tuple[float, float] = (0.3, 0.8)
    room_tone_dbfs: float = -72.0         # noise floor of non-telephone renders
    voices: tuple[str, ...] | None = None  # restrict the voice pool (names from voices.VOICES)
    telephone_options: TelephoneOptions = TelephoneOptions()


class _ClipCache:
    """Per-process cache of synthesised clips: re-rendering a call (another channel layout, a re-run) and the
    stock phrases every call shares ("Thank you, goodbye.") cost no synthesis. Bounded, oldest out first."""

    def __init__(self, max_clips: int = 4096):
        self.max_clips = max_clips
        self.clips: OrderedDict[tuple[PersonVoice, str], np.ndarray] = OrderedDict()

    def fill(self, voice: PersonVoice, texts: list[str]) -> None:
        missing = list(dict.fromkeys(t for t in texts if (voice, t) not in self.clips))
        if missing:   # one batch per voice: festival loads its voice once per batch
            for text, clip in zip(missing, synthesize(voice, missing)):
                self.clips[(voice, text)] = clip
        for text in texts:
            self.clips.move_to_end((voice, text))
        while len(self.clips) > self.max_clips:
            self.clips.popitem(last=False)

    def get(self, voice: PersonVoice, text: str) -> np.ndarray:
        return self.clips[(voice, text)]


_CLIP_CACHE = _ClipCache()


def voices_for(plan: CallPlan, options: RenderOptions) -> dict[str, PersonVoice]:
    return {
        "agent": person_voice(plan.agent.voice_seed, plan.agent.gender, options.voices),
        "customer": person_voice(plan.customer.voice_seed, plan.customer.gender, options.voices),
    }


def render_call(plan: CallPlan, options: RenderOptions) -> tuple[np.ndarray, int, dict]:
    """Synthesise and mix one call; fills each utterance's start/end. Returns (channels x samples, rate, info)."""
    rng = random.Random(f"callrisk-render:{plan.seed}")
    voices = voices_for(plan, options)
    clips: list[np.ndarray] = []
    started = time.perf_counter()
    for role in ("agent", "customer"):
        _CLIP_CACHE.fill(voices[role], [u.text for u in plan.utterances if u.role == role])
    clips = [_CLIP_CACHE.get(voices[u.role], u.text) for u in plan.utterances]
    synth_seconds = time.perf_counter() - started
    gains = {role: 10 ** (rng.uniform(*options.level_dbfs) / 20) for role in ("agent", "customer")}

    # Place the turns (in samples) on one timeline.
    starts: list[int] = []
    cursor = int(rng.uniform(*options.lead_in_s) * RATE)       # end of the latest speech so far
    last_end = {"agent": 0, "customer": 0}
    host = None                                                 # last full turn, for backchannels
    for i, (utt, clip) in enumerate(zip(plan.utterances, clips)):
        n = len(clip)
        if utt.backchannel and host is not None and plan.utterances[host].role != utt.role \
                and n < 0.4 * len(clips[host]):
            h0 = starts[host]
            start = h0 + int(rng.uniform(0.35, 0.6) * len(clips[host]))
        else:
            start = cursor + int((utt.hold_before + utt.gap_before) * RATE)
            if i > 0:   # overtalk never starts before the previous turn does
                start = max(start, starts[i - 1] + int(0.4 * RATE))
            if not utt.backchannel:
                host = i
        start = max(start, last_end[utt.role] + int(0.1 * RATE))   # nobody talks over themselves
        starts.append(start)
        last_end[utt.role] = start + n
        cursor = max(cursor, start + n)
    total = cursor + int(rng.uniform(*options.tail_s) * RATE)

    tracks = {"agent": np.zeros(total, np.float32), "customer": np.zeros(total, np.float32)}
    for utt, clip, start in zip(plan.utterances, clips, starts):
        rms = float(np.sqrt(np.mean(clip ** 2))) + 1e-9
        scaled = clip * (gains[utt.role] / rms)
        peak = float(np.abs(scaled).max())
        if peak > 0.9:
            scaled *= 0.9 / peak
        tracks[utt.role][start:start + len(clip)] += scaled
        utt.start = round(start / RATE, 4)
        utt.end = round((start + len(clip)) / RATE, 4)

    if options.stereo:
        mix = np.stack([tracks["agent"], tracks["customer"]])
        if options.crosstalk_db is not None:
            leak = 10 ** (options.crosstalk_db / 20)
            mix = np.stack([mix[0] + leak * mix[1], mix[1] + leak * mix[0]])
    else:
        mix = (tracks["agent"] + tracks["customer"])[None, :]
    rate = RATE
    if options.telephone:
        mix = telephone_channel(mix, RATE, rng, options.telephone_options)
        rate = TELEPHONE_RATE
    else:   # a recording is never digital zero: a faint room-tone floor
        mix = mix + np.random.default_rng(rng.getrandbits(63)).standard_normal(mix.shape).astype(np.float32) \
            * np.float32(10 ** (options.room_tone_dbfs / 20))
    mix = np.clip(mix, -0.99, 0.99).astype(np.float32)
    info = {
        "voices": {role: {"voice": v.voice.name, "pitch": v.pitch, "rate": v.rate} for role, v in voices.items()},
        "synth_seconds": round(synth_seconds, 3),
    }
    return mix, rate, info


def write_call_audio(plan: CallPlan, options: RenderOptions, out_dir: str | Path) -> tuple[dict, float]:
    """Render one call to out_dir/audio/<call_id>.wav; returns the record's `audio` block (no timings, so the
    ground truth stays byte-identical across runs) and the seconds spent synthesising."""
    mix, rate, info = render_call(plan, options)
    rel = f"audio/{plan.call_id}.wav"
    subtype = "ULAW" if options.telephone else "PCM_16"
    sf.write(Path(out_dir) / rel, mix.T, rate, subtype=subtype)
    return {
        "path": rel,
        "sample_rate": rate,
        "channels": mix.shape[0],
        "channel_roles": ["agent", "customer"] if options.stereo else None,
        "subtype": subtype,
        "telephone": options.telephone,
        "duration_s": round(mix.shape[1] / rate, 4),
        "voices": info["voices"],
    }, info["synth_seconds"]


def _render_job(args):
    plan, options, out_dir = args
    audio, synth_seconds = write_call_audio(plan, options, out_dir)
    return [(u.start, u.end) for u in plan.utterances], audio, synth_seconds


def render_all(plans: list[CallPlan], options: RenderOptions, out_dir, writer, jobs: int = 1,
               progress=None) -> dict:
    """Render every call (in `jobs` processes; each loads Piper once) and hand the records to `writer`."""
    missing = missing_engines(options.voices)
    if missing:
        raise RuntimeError("audio mode needs " + "; ".join(missing.values())
                           + " (or RenderOptions.voices limited to the voices this machine has)")
    started = time.perf_counter()
    audio_seconds = synth_seconds = 0.0
    work = [(plan, options, str(out_dir)) for plan in plans]
    if jobs > 1:
        pool = multiprocessing.get_context("spawn").Pool(jobs)
        results = pool.imap(_render_job, work)
    else:
        pool, results = None, map(_render_job, work)
    try:
        for done, (plan, (times, audio, synth)) in enumerate(zip(plans, results), 1):
            for utt, (start, end) in zip(plan.utterances, times):   # times come back from the worker
                utt.start, utt.end = start, end
            writer.add(plan, audio)
            audio_seconds += audio["duration_s"]
            synth_seconds += synth
            if progress:
                progress(done, len(plans))
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    wall = time.perf_counter() - started
    return {
        "audio_seconds": round(audio_seconds, 2),
        "wall_seconds": round(wall, 2),
        "synth_seconds": round(synth_seconds, 2),
        "jobs": jobs,
        "seconds_per_audio_second": round(wall / max(audio_seconds, 1e-9), 4),
    }
