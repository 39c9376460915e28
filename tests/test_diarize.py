"""Diarization: stereo channel turns (fast, synthetic), pyannote on the real sample call (slow)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from pipeline.diarize import (
    DiarizationOptions,
    Diarizer,
    diarization_error_rate,
    StereoOptions,
    read_rttm,
    stereo_diarization,
    stereo_kind,
    talk_time,
    to_rttm,
    trim_silent_edges,
)
from pipeline.types import SAMPLE_RATE, Audio, SpeakerTurn


def make_audio(samples: np.ndarray, path: str = "memory.wav") -> Audio:
    samples = np.atleast_2d(np.asarray(samples, dtype=np.float32))
    return Audio(path=path, samples=samples, source_rate=SAMPLE_RATE, source_channels=samples.shape[0],
                 source_format="WAV", source_subtype="PCM_16", sha256="")


def der(reference, hypothesis, collar: float = 0.0) -> float:
    return diarization_error_rate(reference, hypothesis, collar=collar, duration_s=max(t.end for t in reference) + 1)


def _voice(seconds: float, f0: float, rng: np.random.Generator) -> np.ndarray:
    """A harmonic, syllable-modulated tone: speech-like energy without a synthesiser."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    x = sum(np.sin(2 * np.pi * f0 * k * t + rng.uniform(0, 6)) / k for k in range(1, 12))
    return x * (0.35 + 0.65 * np.abs(np.sin(2 * np.pi * 2.5 * t + rng.uniform(0, 3))))


def stereo_call(seed: int, crosstalk_db: float = -20.0, noise_db: float = -50.0, hum: float = 0.01):
    """Agent on channel 0 (loud), customer on channel 1 (11 dB quieter), alternating turns with a few overlaps,
    each channel leaking into the other at `crosstalk_db`, plus white line noise and 60 Hz hum."""
    rng = np.random.default_rng(seed)
    turns, t, speaker = [], 0.5, 0
    for i in range(12):
        d = rng.uniform(0.8, 4.0)
        turns.append(SpeakerTurn(t, t + d, ("agent", "customer")[speaker]))
        t += d + (rng.uniform(-0.4, -0.1) if i % 4 == 3 else rng.uniform(0.15, 0.9))
        speaker = 1 - speaker
    n = int((t + 1.0) * SAMPLE_RATE)
    clean = np.zeros((2, n))
    for turn in turns:
        channel = 0 if turn.speaker == "agent" else 1
        voice = _voice(turn.end - turn.start, (110.0, 210.0)[channel], rng) * (0.3, 0.08)[channel]
        i = int(turn.start * SAMPLE_RATE)
        clean[channel, i : i + len(voice)] += voice
    leak = 10 ** (crosstalk_db / 20)
    mixed = np.stack([clean[0] + leak * clean[1], clean[1] + leak * clean[0]])
    time = np.arange(n) / SAMPLE_RATE
    mixed += 10 ** (noise_db / 20) * rng.standard_normal((2, n)) + hum * np.sin(2 * np.pi * 60 * time)
    return mixed.astype(np.float32), turns


@pytest.mark.parametrize("crosstalk_db,noise_db", [(-90.0, -90.0), (-20.0, -50.0), (-15.0, -40.0)])
def test_stereo_turns_match_reference(crosstalk_db, noise_db):
    for seed in range(3):
        samples, reference = stereo_call(seed, crosstalk_db, noise_db, hum=0.0 if noise_db < -80 else 0.01)
        result = Diarizer().diarize(make_audio(samples))
        assert result.method == "stereo_channels"
        assert set(result.speakers) == {"agent", "customer"}
        assert result.channel_roles == {"agent": "agent", "customer": "customer"}
        assert der(reference, result.turns) <= 0.03
        assert der(reference, result.turns, collar=0.25) <= 0.01


def test_stereo_channel_map_swapped_and_auto():
    samples, reference = stereo_call(7)
    swapped = stereo_diarization(samples, DiarizationOptions(channel_map={"agent": 1, "customer": 0}))
    assert swapped.channel_of == {"agent": 1, "customer": 0}
    flipped = [SpeakerTurn(t.start, t.end, "customer" if t.speaker == "agent" else "agent") for t in reference]
    assert der(flipped, swapped.turns) <= 0.03
    auto = stereo_diarization(samples, DiarizationOptions(channel_map="auto"))
    assert auto.channel_of == {"ch0": 0, "ch1": 1} and auto.channel_roles == {}
    # The customer channel holds about as much talk as the reference says.
    reference_customer = talk_time(reference, "customer")
    assert abs(auto.speakers["ch1"] - reference_customer) < 0.05 * reference_customer


def test_stereo_kind_detects_duplicated_and_silent_channels():
    samples, _ = stereo_call(1)
    options = StereoOptions()
    assert stereo_kind(samples, options) == "two_speakers"
    mono = samples[0]
    assert stereo_kind(np.stack([mono, 0.7 * mono + 1e-4 * np.random.default_rng(0).standard_normal(len(mono))]),
                       options) == "same_signal"
    assert stereo_kind(np.stack([mono, np.zeros_like(mono)]), options) == "one_silent"


def test_quiet_channel_without_speech_gives_no_turns():
    samples, _ = stereo_call(2, crosstalk_db=-25.0)
    samples[1] = 10 ** (-25 / 20) * samples[0] + 1e-3 * np.random.default_rng(3).standard_normal(samples.shape[1])
    result = stereo_diarization(samples.astype(np.float32), DiarizationOptions())
    assert result.speakers.get("customer", 0.0) < 0.5  # pure leakage is not the customer talking


def test_trim_silent_edges_pulls_edges_out_of_silence_only():
    """A voice from 1.0 to 2.0 s in line noise: a turn smeared 0.05 s into the silence each side comes back to
    the voice; a turn edge inside speech stays; no edge moves more than the limit; silence past it is kept."""
    rng = np.random.default_rng(3)
    wave = 10 ** (-60 / 20) * rng.standard_normal(3 * SAMPLE_RATE)
    wave[SAMPLE_RATE : 2 * SAMPLE_RATE] += 0.2 * _voice(1.0, 140.0, rng)
    smeared, inside, far = SpeakerTurn(0.95, 2.05, "S0"), SpeakerTurn(1.2, 1.8, "S1"), SpeakerTurn(0.5, 2.5, "S0")
    trimmed, kept, limited = trim_silent_edges([smeared, inside, far], wave, 6.0, 0.1, StereoOptions())
    assert abs(trimmed.start - 1.0) <= 0.035 and abs(trimmed.end - 2.0) <= 0.035   # one 30 ms analysis frame
    assert kept == inside
    assert limited.start == pytest.approx(0.6) and limited.end == pytest.approx(2.4)
    silence = SpeakerTurn(0.2, 0.7, "S1")
    (short,) = trim_silent_edges([silence], wave, 6.0, 1.0, StereoOptions())
    assert short.end - short.start >= 0.1 - 1e-9


def test_options_are_validated():
    with pytest.raises(ValueError):
        DiarizationOptions(channel_map={"agent": 0, "customer": 0})
    with pytest.raises(ValueError):
        DiarizationOptions(channel_map={"agent": 0})
    with pytest.raises(ValueError):
        DiarizationOptions(segmentation_step=0.0)
    with pytest.raises(ValueError):
        DiarizationOptions(num_speakers=0)


def test_rttm_round_trip_and_talk_time(tmp_path):
    samples, _ = stereo_call(3)
    result = stereo_diarization(samples, DiarizationOptions())
    path = tmp_path / "call.rttm"
    path.write_text(to_rttm(result, "call 1"))
    assert path.read_text().startswith("SPEAKER call_1 1 ")
    back = read_rttm(str(path))
    assert len(back) == len(result.turns)
    assert [t.speaker for t in back] == [t.speaker for t in result.turns]
    assert all(abs(a.start - b.start) < 1e-3 and abs(a.end - b.end) < 1e-3 for a, b in zip(back, result.turns))
    overlapping = [SpeakerTurn(0.0, 2.0, "A"), SpeakerTurn(1.0, 3.0, "A"), SpeakerTurn(5.0, 6.0, "A")]
    assert talk_time(overlapping, "A") == pytest.approx(4.0)


@pytest.fixture(scope="module")
def diarizer():
    return Diarizer(DiarizationOptions())


@pytest.mark.slow
def test_mono_der_on_pyannote_sample(diarizer, sample_call):
    samples, rate = sf.read(sample_call["wav"], dtype="float32")
    assert rate == SAMPLE_RATE
    result = diarizer.diarize(make_audio(samples))
    reference = read_rttm(str(sample_call["rttm"]))
    assert result.method == "pyannote"
    assert set(result.speakers) == {"S0", "S1"}
    assert der(reference, result.turns) <= 0.08
    assert der(reference, result.turns, collar=0.25) <= 0.03


@pytest.mark.slow
def test_shipped_config_on_pyannote_sample(sample_call):
    """What `callrisk score` runs by default (configs/default.yaml: step 0.2, silent-edge trim): measured 7.3%."""
    from pipeline.config import load_config
    from pipeline.process import diarization_options

    options = diarization_options(load_config())
    assert options.edge_trim_db > 0
    samples, _ = sf.read(sample_call["wav"], dtype="float32")
    result = Diarizer(options).diarize(make_audio(samples))
    reference = read_rttm(str(sample_call["rttm"]))
    assert der(reference, result.turns) <= 0.08
    assert der(reference, result.turns, collar=0.25) <= 0.04


@pytest.mark.slow
def test_duplicated_stereo_is_diarized_as_mono(diarizer, sample_call):
    samples, _ = sf.read(sample_call["wav"], dtype="float32")
    samples = samples[: 12 * SAMPLE_RATE]
    result = diarizer.diarize(make_audio(np.stack([samples, 0.8 * samples])))
    assert result.method == "pyannote"
    assert any("same signal" in note for note in result.notes)


# -- synthesised two-voice calls (pipeline.corpus), end to end: decode -> diarize -> words -> utterances -> roles
@pytest.fixture(scope="module")
def rendered_calls(tmp_path_factory):
    """The corpus smoke calls (4 short calls, ~157 s in all), rendered mono 16 kHz, mono 8 kHz G.711 telephone,
    and stereo 8 kHz G.711 telephone with -22 dB crosstalk. Returns {variant: [(path, reference turns, reference role turns)]}."""
    from pipeline.corpus.build import RECIPES
    from pipeline.corpus.generate import generate_calls
    from pipeline.corpus.render import RenderOptions, render_call

    out = tmp_path_factory.mktemp("calls")
    plans = generate_calls(RECIPES["smoke"].corpus)[:4]
    variants = {"mono16k": RenderOptions(), "mono_telephone": RenderOptions(telephone=True),
                "telephone": RenderOptions(stereo=True, telephone=True, crosstalk_db=-22.0)}
    calls: dict[str, list] = {name: [] for name in variants}
    for name, options in variants.items():
        for plan in plans:
            mix, rate, _ = render_call(plan, options)
            path = out / f"{plan.call_id}-{name}.wav"
            sf.write(path, mix.T, rate, subtype="ULAW" if options.telephone else "PCM_16")
            speaker = {"agent": plan.agent.id, "customer": plan.customer.id}
            calls[name].append((
                str(path),
                [SpeakerTurn(u.start, u.end, speaker[u.role]) for u in plan.utterances],
                [SpeakerTurn(u.start, u.end, u.role) for u in plan.utterances],
            ))
    return calls


@pytest.fixture(scope="module")
def transcriber():
    from pipeline.asr import Transcriber

    return Transcriber()


def _evaluate(calls, diarizer, transcriber, mixdown: bool = False) -> tuple[float, float, list[float]]:
    """Time-weighted DER and role accuracy over the calls, with the real chain (ASR words for the roles;
    `transcriber=None` when the roles come from the stereo channel map and need no words)."""
    from dataclasses import replace

    from pipeline.audio import load_audio
    from pipeline.roles import assign_roles, role_accuracy, role_map, role_turns
    from pipeline.utterances import build_utterances

    total = der_sum = role_sum = 0.0
    ders = []
    for path, reference, reference_roles in calls:
        audio = load_audio(path)
        if mixdown:
            audio = replace(audio, samples=audio.samples.mean(axis=0, keepdims=True))
        result = diarizer.diarize(audio)
        words = transcriber.transcribe(audio.mono()).words if transcriber else []
        roles = role_map(assign_roles(build_utterances(words, result.turns), result))
        call_der = diarization_error_rate(reference, result.turns, 0.0, audio.duration_s)
        ders.append(call_der)
        der_sum += call_der * audio.duration_s
        role_sum += role_accuracy(reference_roles, role_turns(result.turns, roles)) * audio.duration_s
        total += audio.duration_s
    return der_sum / total, role_sum / total, ders


@pytest.fixture(scope="module")
def fast_diarizer():
    # A coarser segmentation step (0.2 of the 10 s window) halves the time; DER on these calls is unchanged.
    return Diarizer(DiarizationOptions(segmentation_step=0.2))


@pytest.mark.slow
def test_synthetic_calls_mono_16k(rendered_calls, fast_diarizer, transcriber):
    der_mean, roles, ders = _evaluate(rendered_calls["mono16k"], fast_diarizer, transcriber)
    assert der_mean <= 0.05, ders
    assert max(ders) <= 0.10, ders
    assert roles >= 0.95


@pytest.mark.slow
def test_synthetic_calls_mono_telephone(rendered_calls, fast_diarizer, transcriber):
    """One 8 kHz G.711 telephone line (both parties on it) through the model path and the silent-edge trim."""
    der_mean, roles, ders = _evaluate(rendered_calls["mono_telephone"], fast_diarizer, transcriber)
    assert der_mean <= 0.05, ders
    assert roles >= 0.95


@pytest.mark.slow
def test_synthetic_calls_stereo_telephone(rendered_calls, fast_diarizer):
    der_mean, roles, ders = _evaluate(rendered_calls["telephone"], fast_diarizer, None)
    assert der_mean <= 0.05, ders
    assert roles >= 0.95


@pytest.mark.slow
def test_synthetic_calls_telephone_mixed_to_mono(rendered_calls, fast_diarizer, transcriber):
    """The stereo telephone calls mixed to one channel (both lines' noise and crosstalk on it) through the model
    path: measured 4.8% on these calls (6.1% before the silent-edge trim); the bound is looser on purpose, one
    short customer turn after an overlap goes to the agent (docs/diarization.md)."""
    der_mean, roles, ders = _evaluate(rendered_calls["telephone"], fast_diarizer, transcriber, mixdown=True)
    assert der_mean <= 0.06, ders
    assert roles >= 0.95


def test_a_pause_with_the_other_speaker_in_it_is_a_hand_over_even_when_turns_touch():
    from pipeline.diarize import merge_pauses

    touching = [SpeakerTurn(0, 1.0, "A"), SpeakerTurn(1.0, 1.25, "B"), SpeakerTurn(1.25, 2, "A")]
    assert merge_pauses(touching, 0.3) == touching
    spanning = [SpeakerTurn(0, 1.0, "A"), SpeakerTurn(0.8, 1.3, "B"), SpeakerTurn(1.2, 2, "A")]
    assert len([t for t in merge_pauses(spanning, 0.3) if t.speaker == "A"]) == 2
    alone = [SpeakerTurn(0, 1.0, "A"), SpeakerTurn(1.2, 2, "A"), SpeakerTurn(3, 4, "B")]
    assert merge_pauses(alone, 0.3)[0] == SpeakerTurn(0, 2, "A")


def test_rttm_fields_never_hold_whitespace(tmp_path):
    from pipeline.diarize import Diarization

    d = Diarization(turns=(SpeakerTurn(0, 1, "S 0"),), method="pyannote", speakers={"S 0": 1.0}, duration_s=1.0)
    path = tmp_path / "x.rttm"
    path.write_text(to_rttm(d, "call\xa0one\tx"))
    assert read_rttm(str(path)) == [SpeakerTurn(0.0, 1.0, "S_0")]
    assert path.read_text().split()[1] == "call_one_x"


def test_a_party_talking_through_almost_the_whole_call_still_gets_turns():
    """Channel 0 talks 95% of the time (three short pauses), channel 1 answers once: the 10th-percentile floor
    would sit in channel 0's speech and leave it without turns."""
    rng = np.random.default_rng(5)
    n = 12 * SAMPLE_RATE
    samples = 10 ** (-60 / 20) * rng.standard_normal((2, n))
    talk = [(0.0, 3.8), (4.0, 7.8), (8.0, 11.8)]           # 0.2 s pauses only
    for start, end in talk:
        a, b = int(start * SAMPLE_RATE), int(end * SAMPLE_RATE)
        samples[0, a:b] += 0.2 * _voice(end - start, 120.0, rng)[: b - a]
    samples[1, 5 * SAMPLE_RATE : 6 * SAMPLE_RATE] += 0.1 * _voice(1.0, 210.0, rng)
    result = stereo_diarization(samples.astype(np.float32), DiarizationOptions())
    assert result.speakers["agent"] > 10.0 and 0.8 < result.speakers["customer"] < 1.3
