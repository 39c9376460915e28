"""Speech recognition with faster-whisper (CTranslate2), word timestamps, packaged Silero VAD."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from pipeline.registry import resolve_model
from pipeline.types import SAMPLE_RATE, Segment, Transcript, Word

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AsrOptions:
    model: str = "tiny.en"
    hub_id: str = ""
    device: str = "cpu"
    compute_type: str = "int8"
    cpu_threads: int = 2
    beam_size: int = 1
    language: str = "en"
    vad_filter: bool = True
    vad_min_silence_ms: int = 500
    word_timestamps: bool = True
    condition_on_previous_text: bool = False
    initial_prompt: str = ""
    chunk_s: float = 300.0   # long calls are transcribed in pieces of about this length (bounded memory)

    def __post_init__(self) -> None:
        if self.chunk_s and self.chunk_s < 30:
            raise ValueError(f"chunk_s must be 0 (off) or >= 30 s, got {self.chunk_s}")
        if self.beam_size < 1:
            raise ValueError(f"beam_size must be >= 1, got {self.beam_size}")
        if self.cpu_threads < 0:
            raise ValueError(f"cpu_threads must be >= 0 (0 = library default), got {self.cpu_threads}")
        if self.compute_type not in ("int8", "int8_float32", "float32", "float16", "int8_float16", "default", "auto"):
            raise ValueError(f"compute_type {self.compute_type!r} is not a CTranslate2 compute type")
        if self.device not in ("cpu", "cuda", "auto"):
            raise ValueError(f"device must be cpu, cuda or auto, got {self.device!r}")


class Transcriber:
    """Holds one loaded Whisper model; call it on many 16 kHz mono arrays."""

    def __init__(self, options: AsrOptions = AsrOptions()):
        from faster_whisper import WhisperModel  # heavy import, only when a transcriber is built

        self.options = options
        self.model_path = str(resolve_model(options.model, options.hub_id))
        log.info("loading Whisper %s from %s", options.model, self.model_path)
        self._model = WhisperModel(
            self.model_path,
            device=options.device,
            compute_type=options.compute_type,
            cpu_threads=options.cpu_threads,
            local_files_only=True,
        )

    def transcribe(self, samples: np.ndarray) -> Transcript:
        """Transcribe 16 kHz mono audio; long audio goes in chunks cut at quiet moments, times stay absolute."""
        samples = np.ascontiguousarray(samples, dtype=np.float32)
        segments: list[Segment] = []
        language, language_probability = self.options.language or "", 0.0
        for start, end in chunk_bounds(samples, self.options.chunk_s):
            chunk_segments, language, language_probability = self._transcribe_chunk(samples[start:end], start / SAMPLE_RATE)
            segments += chunk_segments
        return Transcript(tuple(segments), language, language_probability)

    def _transcribe_chunk(self, samples: np.ndarray, offset_s: float) -> tuple[list[Segment], str, float]:
        opts = self.options
        segments, info = self._model.transcribe(
            samples,
            language=opts.language or None,
            beam_size=opts.beam_size,
            vad_filter=opts.vad_filter,
            vad_parameters={"min_silence_duration_ms": opts.vad_min_silence_ms},
            word_timestamps=opts.word_timestamps,
            condition_on_previous_text=opts.condition_on_previous_text,
            initial_prompt=opts.initial_prompt or None,
        )
        out = []
        for seg in segments:  # a lazy generator: decoding happens here
            words = tuple(
                Word(
                    start=round(offset_s + float(w.start), 3),
                    end=round(offset_s + float(w.end), 3),
                    text=w.word.strip(),
                    probability=round(float(w.probability), 4),
                )
                for w in (seg.words or ())
            )
            out.append(
                Segment(
                    start=round(offset_s + float(seg.start), 3),
                    end=round(offset_s + float(seg.end), 3),
                    text=seg.text.strip(),
                    words=words,
                    avg_logprob=round(float(seg.avg_logprob), 4),
                    no_speech_prob=round(float(seg.no_speech_prob), 4),
                )
            )
        return out, info.language, round(float(info.language_probability), 4)


def chunk_bounds(samples: np.ndarray, chunk_s: float, search_s: float = 10.0) -> list[tuple[int, int]]:
    """Sample ranges of about chunk_s each, every cut placed at the quietest 100 ms in the last search_s."""
    n = len(samples)
    size = int(chunk_s * SAMPLE_RATE)
    if not chunk_s or n <= size * 1.1:
        return [(0, n)]
    hop = SAMPLE_RATE // 10
    bounds, start = [], 0
    while n - start > size * 1.1:
        lo = start + size - int(search_s * SAMPLE_RATE)
        frames = samples[lo : lo + (int(search_s * SAMPLE_RATE) // hop) * hop].reshape(-1, hop)
        cut = lo + int(np.argmin(np.mean(frames**2, axis=1))) * hop + hop // 2
        bounds.append((start, cut))
        start = cut
    bounds.append((start, n))
    return bounds
