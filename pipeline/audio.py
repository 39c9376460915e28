"""Decode any supported call recording to 16 kHz float32, channels kept.

WAV (PCM 8/16/24/32-bit, float, G.711 µ-law / A-law), FLAC, OGG and MP3 are read by libsndfile (bundled
with the soundfile wheel); resampling uses soxr. Every failure is a CallError naming the file and the cause.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import soundfile as sf
import soxr

from pipeline.errors import (
    AudioDecodeError,
    AudioTooLongError,
    EmptyAudioError,
    InvalidSamplesError,
    SilentAudioError,
)
from pipeline.types import SAMPLE_RATE, Audio


@dataclass(frozen=True)
class AudioOptions:
    max_duration_s: float = 7200.0
    min_duration_s: float = 0.5
    silence_dbfs: float = -60.0

    def __post_init__(self) -> None:
        if self.max_duration_s <= 0 or self.min_duration_s < 0 or self.min_duration_s >= self.max_duration_s:
            raise ValueError("need 0 <= min_duration_s < max_duration_s")
        if self.silence_dbfs >= 0:
            raise ValueError(f"silence_dbfs must be negative dBFS, got {self.silence_dbfs}")


def file_sha256(path: str) -> str:
    """Content hash of the file as stored: identifies a recording for resume and downstream linking."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def load_audio(path: str, options: AudioOptions = AudioOptions()) -> Audio:
    """Read, validate and resample one file. Raises a CallError subclass on any bad input."""
    try:
        with sf.SoundFile(path) as handle:
            rate, channels = handle.samplerate, handle.channels
            fmt, subtype = handle.format, handle.subtype
            declared = handle.frames / rate if rate > 0 else 0.0
            if declared > options.max_duration_s:
                raise AudioTooLongError(
                    path, f"{declared:.0f} s is longer than the limit of {options.max_duration_s:.0f} s (audio.max_duration_s)"
                )
            data = handle.read(dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise AudioDecodeError(path, f"not a readable audio file ({exc})") from exc
    except OSError as exc:
        raise AudioDecodeError(path, f"cannot open ({exc.strerror or exc})") from exc
    if rate <= 0:
        raise AudioDecodeError(path, f"invalid sample rate {rate}")
    if data.shape[0] == 0:
        raise EmptyAudioError(path, "no audio samples (empty or truncated file)")
    if not np.all(np.isfinite(data)):
        bad = int(np.count_nonzero(~np.isfinite(data)))
        raise InvalidSamplesError(path, f"{bad} NaN or infinite samples")
    duration = data.shape[0] / rate
    if duration < options.min_duration_s:
        raise EmptyAudioError(path, f"only {duration:.2f} s of audio (audio.min_duration_s={options.min_duration_s})")
    if duration > options.max_duration_s:  # header lied (e.g. streamed formats without a frame count)
        raise AudioTooLongError(path, f"{duration:.0f} s is longer than the limit of {options.max_duration_s:.0f} s")
    peak = float(np.max(np.abs(data)))
    if peak <= 0 or 20 * np.log10(peak) < options.silence_dbfs:
        level = "digital silence" if peak <= 0 else f"peak {20 * np.log10(peak):.1f} dBFS"
        raise SilentAudioError(path, f"silent recording ({level}, threshold audio.silence_dbfs={options.silence_dbfs})")

    samples = data.T  # (channels, n); a stereo file carrying one signal twice is diarization's call (diarize.py)
    if rate != SAMPLE_RATE:
        samples = soxr.resample(samples.T, rate, SAMPLE_RATE, quality="HQ").T
    samples = np.ascontiguousarray(samples, dtype=np.float32)
    return Audio(
        path=path,
        samples=samples,
        source_rate=rate,
        source_channels=channels,
        source_format=fmt,
        source_subtype=subtype,
        sha256=file_sha256(path),
    )
