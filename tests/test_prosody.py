"""Prosody on synthetic signals with known pitch and loudness; call measures on hand-made utterances."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.prosody import ProsodyOptions, call_measures, dbfs, utterance_prosody
from pipeline.types import Cue, Utterance, Word

SR = 16_000


def voice(f0_hz: float, seconds: float = 2.0, rms_dbfs: float = -20.0, vibrato: float = 0.0) -> np.ndarray:
    """A harmonic, voice-like signal at a known pitch (+- vibrato, as a fraction) and RMS level."""
    t = np.arange(int(seconds * SR)) / SR
    f = f0_hz * (1 + vibrato * np.sin(2 * np.pi * 3 * t))
    phase = 2 * np.pi * np.cumsum(f) / SR
    x = sum(np.sin(k * phase) / k for k in range(1, 6))
    x *= 10 ** (rms_dbfs / 20) / np.sqrt(np.mean(x**2))
    return x.astype(np.float32)


def test_loudness():
    assert dbfs(voice(150, rms_dbfs=-20)) == pytest.approx(-20, abs=0.1)
    assert dbfs(voice(150, rms_dbfs=-40)) == pytest.approx(-40, abs=0.1)
    assert dbfs(np.zeros(100, dtype=np.float32)) == -100.0
    assert dbfs(np.zeros(0, dtype=np.float32)) == -100.0


@pytest.mark.slow  # librosa.yin is JIT-compiled by numba on first use (~30 s once; cached after)
@pytest.mark.parametrize("f0", [90.0, 140.0, 220.0, 300.0])
def test_pitch_level(f0):
    p = utterance_prosody(voice(f0), 0.0, 2.0)
    assert p["pitch_hz"] == pytest.approx(f0, rel=0.03)
    assert p["pitch_var_st"] < 0.2
    assert p["voiced_s"] > 1.5


@pytest.mark.slow
def test_pitch_variability_and_silence():
    flat = utterance_prosody(voice(180, vibrato=0.0), 0, 2)["pitch_var_st"]
    lively = utterance_prosody(voice(180, vibrato=0.12), 0, 2)["pitch_var_st"]
    # +-12% vibrato is +-1.96 semitones: a sine's standard deviation is amplitude / sqrt(2) ~ 1.4 st
    assert flat < 0.2 and lively == pytest.approx(1.4, abs=0.25)
    quiet = utterance_prosody(np.zeros(SR, dtype=np.float32), 0, 1)
    assert quiet["pitch_hz"] is None and quiet["loudness_dbfs"] == -100.0


@pytest.mark.slow
def test_stereo_uses_the_speakers_own_channel():
    agent, customer = voice(100, 4.0, -20), voice(250, 4.0, -20)
    agent[2 * SR :] *= 0.01   # agent talks in the first half, customer in the second (with -40 dB crosstalk)
    customer[: 2 * SR] *= 0.01
    stereo = np.stack([agent, customer])
    assert utterance_prosody(stereo, 0.0, 2.0)["pitch_hz"] == pytest.approx(100, rel=0.03)
    assert utterance_prosody(stereo, 2.0, 4.0)["pitch_hz"] == pytest.approx(250, rel=0.03)


def test_speaking_rate_from_words():
    words = [Word(1.0 + 0.4 * i, 1.3 + 0.4 * i, "w", 0.9) for i in range(10)]  # 10 words in 3.9 s
    p = utterance_prosody(np.zeros(6 * SR, dtype=np.float32), 1.0, 5.0, words)
    assert p["speaking_rate_wps"] == pytest.approx(10 / 3.9, abs=0.01)


def utt(speaker, role, start, end, sentiment=None, cues=(), interruption=False):
    return Utterance(speaker, role, start, end, "x", (-1, -1), interruption=interruption, cues=list(cues),
                     sentiment=sentiment)


def cue(label, start):
    return Cue(label, 0.9, 0, 1, start, start + 0.5, "x", "pattern")


def test_call_measures():
    happy, angry = {"positive": 0.9, "neutral": 0.1}, {"frustrated": 0.8, "negative": 0.2}
    utts = [
        utt("A", "agent", 0.0, 4.0),
        utt("C", "customer", 3.0, 8.0, angry, [cue("prior_contact", 5.0)], interruption=True),  # 1 s overtalk
        utt("A", "agent", 8.5, 10.0),
        # 12 s of hold
        utt("A", "agent", 22.0, 26.0, cues=[cue("reference_number", 23.0)]),
        utt("C", "customer", 26.5, 30.0, happy),
    ]
    m = call_measures(utts, duration_s=31.0, options=ProsodyOptions(hold_min_s=8.0))
    assert m["talk_s"] == {"agent": 9.5, "customer": 8.5}
    assert m["talk_ratio_agent"] == pytest.approx(9.5 / 18.0, abs=1e-3)
    assert m["overtalk_s"] == pytest.approx(1.0)
    assert m["overtalk_s_by_role"] == {"agent": 0.0, "customer": 1.0}
    assert m["interruptions_by_role"] == {"agent": 0, "customer": 1}
    assert m["silence_total_s"] == pytest.approx(0.5 + 12.0 + 0.5)
    assert m["silence_longest_s"] == pytest.approx(12.0)
    assert (m["hold_count"], m["hold_total_s"], m["hold_longest_s"]) == (1, 12.0, 12.0)
    assert m["customer_valence_opening"] == pytest.approx(-1.0)
    assert m["customer_valence_closing"] == pytest.approx(0.9)
    assert m["customer_valence_delta"] == pytest.approx(1.9)
    assert m["first_cue_s"] == {"prior_contact": 5.0, "reference_number": 23.0}
    assert m["time_to_first_risk_cue_s"] == 5.0 and m["time_to_first_preventive_cue_s"] == 23.0
    assert m["duration_s"] == 31.0


def test_call_measures_empty_and_unknown_roles():
    m = call_measures([], duration_s=5.0)
    assert m["talk_ratio_agent"] is None and m["hold_count"] == 0 and m["customer_valence_mean"] is None
    m = call_measures([utt("S0", "unknown", 0, 2, {"negative": 1.0})], duration_s=2.0)
    assert m["talk_ratio_agent"] is None and m["customer_valence_mean"] == -1.0  # non-agent speech counts


def test_utterance_past_the_end_of_stereo_audio_is_unmeasured_not_an_error():
    """ASR word times can run past the last sample; such an utterance has no audio to measure."""
    import warnings

    stereo = np.zeros((2, 16000), dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "mean of empty slice"
        result = utterance_prosody(stereo, 1.2, 1.5)
    assert result["loudness_dbfs"] is None and result["pitch_hz"] is None   # nothing measured, not -100 dBFS


def test_no_audio_under_an_utterance_gives_no_loudness():
    x = (0.1 * np.sin(np.arange(3 * 16000) / 10)).astype(np.float32)
    assert utterance_prosody(x, 1.0, 1.0)["loudness_dbfs"] is None        # zero length
    assert utterance_prosody(x, 5.0, 6.0)["loudness_dbfs"] is None        # past the end of the audio
    assert utterance_prosody(x, 0.5, 1.5)["loudness_dbfs"] == pytest.approx(-23.0, abs=0.5)
