"""A telephone channel: 8 kHz, 300-3400 Hz band-pass, slow level changes, line noise; written as G.711 mu-law.

The band-pass runs forwards and backwards (zero phase), so turn times stay where the renderer put them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
import soxr
from scipy.signal import butter, sosfiltfilt

TELEPHONE_RATE = 8_000


@dataclass(frozen=True)
class TelephoneOptions:
    low_hz: float = 300.0
    high_hz: float = 3400.0
    noise_dbfs: tuple[float, float] = (-58.0, -46.0)   # line hiss level range
    level_swing_db: float = 4.0                         # slow gain changes, +/- this much
    level_step_s: tuple[float, float] = (4.0, 12.0)


def telephone_channel(audio: np.ndarray, rate: int, rng: random.Random,
                      options: TelephoneOptions = TelephoneOptions()) -> np.ndarray:
    """(channels, n) float32 at `rate` -> (channels, m) float32 at 8 kHz, ready for mu-law encoding."""
    out = []
    np_rng = np.random.default_rng(rng.getrandbits(63))
    sos = butter(4, [options.low_hz, options.high_hz], btype="bandpass", fs=TELEPHONE_RATE, output="sos")
    for channel in audio:
        x = np.asarray(soxr.resample(channel.astype(np.float32), rate, TELEPHONE_RATE, quality="HQ"))
        x = sosfiltfilt(sos, x)
        x = x * _level_curve(len(x), rng, options)
        noise_rms = 10 ** (rng.uniform(*options.noise_dbfs) / 20)
        hiss = sosfiltfilt(sos, np_rng.standard_normal(len(x))) * noise_rms
        out.append(np.clip(x + hiss, -0.99, 0.99).astype(np.float32))
    return np.stack(out)


def _level_curve(n: int, rng: random.Random, options: TelephoneOptions) -> np.ndarray:
    """Piecewise-linear gain in dB: the far end moves the handset, the line's level wanders."""
    knots_t, knots_db, t = [0], [rng.uniform(-options.level_swing_db, options.level_swing_db)], 0
    while t < n:
        t += int(rng.uniform(*options.level_step_s) * TELEPHONE_RATE)
        knots_t.append(t)
        knots_db.append(rng.uniform(-options.level_swing_db, options.level_swing_db))
    db = np.interp(np.arange(n), knots_t, knots_db)
    return (10 ** (db / 20)).astype(np.float32)
