from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from conftest import write_tone
from pipeline.audio import AudioOptions, file_sha256, load_audio
from pipeline.errors import (
    AudioDecodeError,
    AudioTooLongError,
    EmptyAudioError,
    InvalidSamplesError,
    SilentAudioError,
)
from pipeline.types import SAMPLE_RATE


@pytest.mark.parametrize(
    "name,rate,subtype,fmt",
    [
        ("pcm16.wav", 16000, "PCM_16", None),
        ("pcm24.wav", 44100, "PCM_24", None),
        ("pcm32.wav", 48000, "PCM_32", None),
        ("float.wav", 22050, "FLOAT", None),
        ("ulaw.wav", 8000, "ULAW", None),
        ("alaw.wav", 8000, "ALAW", None),
        ("call.flac", 16000, "PCM_16", None),
        ("call.ogg", 16000, "VORBIS", None),
        ("call.mp3", 16000, "MPEG_LAYER_III", "MP3"),
    ],
)
def test_formats_decode_to_16k(tmp_path, name, rate, subtype, fmt):
    path = write_tone(tmp_path / name, seconds=1.0, rate=rate, subtype=subtype, fmt=fmt)
    audio = load_audio(str(path))
    assert audio.samples.dtype == np.float32
    assert audio.channels == 1
    assert audio.source_rate == rate
    assert abs(audio.duration_s - 1.0) < 0.1  # MP3 adds encoder padding
    assert audio.sha256 == file_sha256(str(path))
    # the 220 Hz tone survives decoding and resampling
    spectrum = np.abs(np.fft.rfft(audio.samples[0]))
    peak_hz = np.argmax(spectrum) * SAMPLE_RATE / len(audio.samples[0])
    assert abs(peak_hz - 220) < 5


def test_stereo_channels_are_kept(tmp_path):
    path = write_tone(tmp_path / "stereo.wav", channels=2, rate=8000)
    audio = load_audio(str(path))
    assert audio.channels == 2 and audio.source_channels == 2
    assert audio.samples.shape[1] == pytest.approx(SAMPLE_RATE, abs=2)
    assert audio.mono().shape == (audio.samples.shape[1],)


def test_not_audio(tmp_path):
    path = tmp_path / "notes.wav"
    path.write_text("this is not a recording\n" * 50)
    with pytest.raises(AudioDecodeError, match=r"notes.wav: not a readable audio file"):
        load_audio(str(path))


def test_zero_byte_file(tmp_path):
    path = tmp_path / "zero.wav"
    path.write_bytes(b"")
    with pytest.raises(AudioDecodeError, match="zero.wav"):
        load_audio(str(path))


def test_missing_file(tmp_path):
    with pytest.raises(AudioDecodeError, match="gone.wav"):
        load_audio(str(tmp_path / "gone.wav"))


def test_header_only_wav_is_empty(tmp_path):
    path = write_tone(tmp_path / "full.wav", seconds=1.0)
    header_only = tmp_path / "header.wav"
    header_only.write_bytes(path.read_bytes()[:44])
    with pytest.raises(EmptyAudioError, match=r"header.wav: no audio samples"):
        load_audio(str(header_only))


def test_truncated_wav_keeps_what_is_there(tmp_path):
    path = write_tone(tmp_path / "full.wav", seconds=2.0)
    cut = tmp_path / "cut.wav"
    cut.write_bytes(path.read_bytes()[: 44 + 2 * 16000])  # header + 1 s of 16-bit samples
    audio = load_audio(str(cut))
    assert audio.duration_s == pytest.approx(1.0, abs=0.01)


def test_too_short_is_empty(tmp_path):
    path = write_tone(tmp_path / "blip.wav", seconds=0.1)
    with pytest.raises(EmptyAudioError, match=r"blip.wav: only 0.10 s"):
        load_audio(str(path))


def test_silent(tmp_path):
    path = tmp_path / "silent.wav"
    sf.write(path, np.zeros(16000, dtype=np.float32), 16000)
    with pytest.raises(SilentAudioError, match=r"silent.wav: silent recording \(digital silence"):
        load_audio(str(path))
    quiet = write_tone(tmp_path / "quiet.wav", amplitude=1e-4)
    with pytest.raises(SilentAudioError, match=r"quiet.wav: silent recording \(peak -7\d\.\d dBFS"):
        load_audio(str(quiet))


def test_nan_samples(tmp_path):
    data = np.full(16000, 0.1, dtype=np.float32)
    data[100:110] = np.nan
    path = tmp_path / "nan.wav"
    sf.write(path, data, 16000, subtype="FLOAT")
    with pytest.raises(InvalidSamplesError, match=r"nan.wav: 10 NaN or infinite samples"):
        load_audio(str(path))


def test_too_long_is_refused_from_the_header(tmp_path):
    path = write_tone(tmp_path / "long.wav", seconds=3.0)
    with pytest.raises(AudioTooLongError, match=r"long.wav: 3 s is longer than the limit of 2 s"):
        load_audio(str(path), AudioOptions(max_duration_s=2.0))


def test_options_validate():
    with pytest.raises(ValueError):
        AudioOptions(silence_dbfs=3.0)
    with pytest.raises(ValueError):
        AudioOptions(min_duration_s=10, max_duration_s=5)


def test_long_audio_is_cut_into_chunks_at_quiet_moments():
    from pipeline.asr import chunk_bounds

    rng = np.random.default_rng(0)
    samples = rng.normal(0, 0.1, SAMPLE_RATE * 700).astype(np.float32)
    quiet = SAMPLE_RATE * 295  # a pause inside the search window before the 300 s mark
    samples[quiet : quiet + SAMPLE_RATE // 2] *= 0.001
    bounds = chunk_bounds(samples, chunk_s=300)
    assert bounds[0][0] == 0 and bounds[-1][1] == len(samples)
    assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:]))  # contiguous, nothing lost
    assert quiet <= bounds[0][1] <= quiet + SAMPLE_RATE // 2
    assert all(end - start <= SAMPLE_RATE * 330 for start, end in bounds)
    assert chunk_bounds(samples[: SAMPLE_RATE * 60], chunk_s=300) == [(0, SAMPLE_RATE * 60)]
