"""Shared fixtures. Offline settings are applied before any model library is imported."""

from __future__ import annotations

from pipeline.offline import enforce_offline

enforce_offline()

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import soundfile as sf  # noqa: E402

from pipeline.config import load_config  # noqa: E402
from pipeline.evaluation import pyannote_sample  # noqa: E402


@pytest.fixture(scope="session")
def sample_call() -> dict[str, Path]:
    """pyannote.audio's real two-party phone recording and its RTTM / STM references."""
    return pyannote_sample()


@pytest.fixture(scope="session")
def processor():
    """One CallProcessor with real models for the whole session (loading is the slow part)."""
    from pipeline.process import CallProcessor

    proc = CallProcessor(load_config())
    proc.load_models()
    return proc


def write_tone(path: Path, seconds: float = 1.0, rate: int = 16000, channels: int = 1, subtype: str = "PCM_16",
               fmt: str | None = None, amplitude: float = 0.3) -> Path:
    """A short tone file, for format and bad-input tests (no speech needed)."""
    t = np.arange(int(seconds * rate)) / rate
    data = amplitude * np.sin(2 * np.pi * 220 * t)
    if channels > 1:
        data = np.stack([data * (1 + 0.5 * c) * np.sin(2 * np.pi * (1 + c) * t) for c in range(channels)], axis=1)
    sf.write(path, data.astype(np.float32), rate, subtype=subtype, format=fmt)
    return path


@pytest.fixture(scope="session")
def short_call(tmp_path_factory, sample_call) -> Path:
    """12 s of the real sample call (both speakers talk): keeps batch tests quick with real models."""
    speech, rate = sf.read(sample_call["wav"], dtype="float32")
    path = tmp_path_factory.mktemp("short") / "short_call.wav"
    sf.write(path, speech[5 * rate : 17 * rate], rate)
    return path
